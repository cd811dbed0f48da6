"""When a worker takes its next chunk from the queue: just before its slots run out of work.

A worker that takes a chunk only once the previous one is acknowledged leaves its slots idle
between chunks for the hand-over (publish the last results, acknowledge, fetch, decode, check
what is answered, submit). One that always holds a second chunk hides that, but keeps jobs
waiting that another worker could run now, and a batch's last chunks then end unevenly.

`FetchGate` takes the next chunk in between: the Celery consumer may hold two chunks
(`--concurrency 2`, prefetch 2), and the gate lets it ask for the second only while

- no chunk it received is still on its way into the pool (received, not yet submitted), and
- no more than `low_water` jobs wait in the pool's queue for a slot.

So the next chunk arrives while the current one's last jobs run, and is never held longer
than those jobs take. The pool's count of waiting jobs includes those parked behind a build
in flight and excludes cancelled ones (Pool.waiting). A fetch is only started with the gate
open, and while it is out that count only falls (jobs are added only from chunks already
received), so the gate shuts only once the fetch has returned: a chunk popped from Redis is
received, and recorded as held, at once. (The exception is an instant: a compiled language's
job leaving the queue to park behind its build. A fetch that slips through then is read as
soon as the next job starts; kombu keeps it meanwhile.)

The gate is a predicate on the consumer channel's QoS (kombu asks `can_consume()` on each turn
of the event loop before it issues the next BRPOP), installed by a consumer bootstep. A job
starting in a pool thread, a chunk's jobs submitted, or queued jobs cancelled can open the
gate; each wakes the loop (`Hub.call_soon`). The bootstep also keeps one idle reader in the
loop: with no socket to watch (no BRPOP out), kombu's hub naps 0.1 s at a time instead of
polling, and a wake-up from another thread (the gate, an acknowledgement) would wait for the
nap to end.
"""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Callable
from typing import Any

from celery import bootsteps

STUCK_S = 60.0  # a chunk received this long ago and never submitted no longer shuts the gate


class FetchGate:
    """Opens the consumer to one more chunk while none is on its way into the pool and at most
    `low_water` jobs wait there.

    `waiting()` counts the jobs queued for a slot and not started. The worker calls
    `received(task)` when the consumer takes a chunk, `submitted(task)` once its jobs are in
    the pool (or it has none to run), and `poke()` each time a job starts or queued jobs are
    cancelled."""

    def __init__(self, waiting: Callable[[], int], low_water: int) -> None:
        self.waiting = waiting
        self.low_water = low_water
        self._pending: dict[str, float] = {}  # task id -> when received
        self._wake: Callable[[], None] | None = None
        self._lock = threading.Lock()
        self._shut = False  # the consumer found the gate shut and sleeps until told otherwise
        self._idle_fd: int | None = None

    def _is_open(self) -> bool:
        if self._pending:
            stale = time.monotonic() - STUCK_S
            if any(at > stale for at in self._pending.values()):
                return False
        return self.waiting() <= self.low_water

    def open(self) -> bool:
        """Whether the consumer may fetch now (asked by the consumer's loop)."""
        with self._lock:
            ok = self._is_open()
            self._shut = not ok
            return ok

    def received(self, task_id: str) -> None:
        with self._lock:
            self._pending[task_id] = time.monotonic()

    def submitted(self, task_id: str) -> None:
        """`task_id`'s jobs are in the pool, or it ended without any (idempotent)."""
        with self._lock:
            if self._pending.pop(task_id, None) is None:
                return
        self.poke()

    def poke(self) -> None:
        """Wake the consumer if the gate it found shut is open now. (Under the lock: a change
        between the consumer's look and its sleep still wakes it.)"""
        with self._lock:
            if not self._shut or not self._is_open():
                return
            self._shut = False
            wake = self._wake
        if wake is not None:
            wake()

    def attach(self, consumer: Any) -> None:
        """Gate `consumer`'s task channel (a Celery Consumer, once its Tasks step started)."""
        qos = consumer.task_consumer.channel.qos
        original = qos.can_consume

        def can_consume() -> bool:
            return bool(original()) and self.open()

        qos.can_consume = can_consume
        hub = consumer.hub
        if hub is None:  # no event loop (not the Redis transport's async mode): nothing to wake
            self._wake = None
            return
        if self._idle_fd is None:
            self._idle_fd, _ = os.pipe()  # never written: readable never
        hub.add_reader(self._idle_fd, _nothing)
        self._wake = lambda: hub.call_soon(_nothing)

    def bootstep(self) -> type[bootsteps.StartStopStep]:
        """A consumer bootstep that attaches this gate (again after each reconnection)."""
        gate = self

        class Gate(bootsteps.StartStopStep):  # type: ignore[misc]  # celery is untyped
            requires = ("celery.worker.consumer.tasks:Tasks",)

            def start(self, c: Any) -> None:
                gate.attach(c)

        return Gate


def _nothing(*_: Any) -> None:
    """A callback whose only effect is one turn of the event loop."""
