"""FairQueue: jobs taken in turn across flows, so one client's burst cannot starve another.

A flow is whoever a job came for (a connection to the server, say): each keeps its jobs in
the order they came, and `get` takes one job from each flow with jobs in turn (round robin).
A 16-job request sent while another client's 10,000 jobs wait is done after about 32 jobs,
not 10,016. Items put with `put_last` (a pool's stop markers) come out only once every flow
is empty, so stopping still finishes the queued work first. Items that are no longer `live`
(cancelled while they waited) take no turn: they are dropped when they reach the head of
their line, with all the dead ones behind them, so a client's next request does not wait
behind its cancelled ones, and their memory goes when that flow's turn comes.

The interface is the part of `queue.Queue` the pool uses (`put`, `get`, `get_nowait`,
`qsize`), raising `queue.Empty` the same way.
"""

from __future__ import annotations

import collections
import queue
import threading
import time
from collections.abc import Callable, Hashable
from typing import Generic, TypeVar, cast

T = TypeVar("T")

Flow = Hashable
"""Whose a job is: equal flows share one turn (None, the default flow, is one like any other)."""


class FairQueue(Generic[T]):
    """A thread-safe queue served round robin across flows, in order within each."""

    def __init__(self, live: Callable[[T], bool] | None = None, on_drop: Callable[[T], None] | None = None) -> None:
        """`live(item)`: is it still wanted (None: every item is); `on_drop(item)` is called,
        outside the queue's lock, for each item dropped as dead."""
        self._flows: dict[Flow, collections.deque[T]] = {}  # flows with items, in turn order
        self._last: collections.deque[T] = collections.deque()
        self._size = 0
        self._ready = threading.Condition(threading.Lock())
        self._live = live
        self._on_drop = on_drop

    def put(self, item: T, flow: Flow = None) -> None:
        """Queue `item` at the back of `flow`'s line (a new flow takes its turn after the
        flows already waiting)."""
        with self._ready:
            line = self._flows.get(flow)
            if line is None:
                line = self._flows[flow] = collections.deque()
            line.append(item)
            self._size += 1
            self._ready.notify()

    def put_last(self, item: T) -> None:
        """Queue `item` behind everything, whatever flows come later."""
        with self._ready:
            self._last.append(item)
            self._size += 1
            self._ready.notify()

    def get(self, block: bool = True, timeout: float | None = None) -> T:
        """The next live item in turn; queue.Empty when there is none (within `timeout`)."""
        dropped: list[T] = []
        try:
            with self._ready:
                deadline = None if timeout is None else time.monotonic() + timeout
                while True:
                    if self._size:
                        found, item = self._next(dropped)
                        if found:
                            return cast(T, item)
                    if not block:
                        raise queue.Empty
                    remaining = None if deadline is None else deadline - time.monotonic()
                    if remaining is not None and remaining <= 0:
                        raise queue.Empty
                    self._ready.wait(remaining)
        finally:
            if self._on_drop is not None:
                for item in dropped:
                    self._on_drop(item)

    def _next(self, dropped: list[T]) -> tuple[bool, T | None]:
        """(True, the next live item), its flow sent to the back of the turn order; the dead
        items at the heads of the lines it passed go to `dropped`. (False, None): none left.
        Called under the lock."""
        while self._flows:
            flow = next(iter(self._flows))
            line = self._flows.pop(flow)
            if self._live is not None:
                while line and not self._live(line[0]):
                    dropped.append(line.popleft())
                    self._size -= 1
            if line:
                self._size -= 1
                item = line.popleft()
                if line:
                    self._flows[flow] = line  # to the back of the turn order
                return True, item
        if self._last:
            self._size -= 1
            return True, self._last.popleft()
        return False, None

    def sweep(self) -> int:
        """Drop every item that is no longer live, wherever it waits (`on_drop` sees each),
        keeping the turn order and each flow's order; returns how many. O(items): for an
        occasional sweep, where cancelled items may wait long before their turn comes."""
        live = self._live
        if live is None:
            return 0
        dropped: list[T] = []
        with self._ready:
            for flow, line in list(self._flows.items()):
                kept: collections.deque[T] = collections.deque()
                for item in line:
                    (kept if live(item) else dropped).append(item)
                if kept:
                    self._flows[flow] = kept
                else:
                    del self._flows[flow]
            self._size -= len(dropped)
        if self._on_drop is not None:
            for item in dropped:
                self._on_drop(item)
        return len(dropped)

    def get_nowait(self) -> T:
        return self.get(block=False)

    def qsize(self) -> int:
        """Items queued, those put last included."""
        return self._size

    def flows(self) -> int:
        """Flows with live items waiting (items cancelled and not reached yet do not count).
        O(flows) while the lines' first items are live, O(items) at worst: for a gauge, not for
        every job."""
        with self._ready:
            live = self._live
            if live is None:
                return len(self._flows)
            return sum(any(live(item) for item in line) for line in self._flows.values())
