"""The server side of cluster mode: `acefarm serve --broker` hands jobs to workers through Redis.

CeleryDispatcher is the Dispatcher (dispatcher.py) of a cluster: it answers what it can from
the result cache, holds the rest where clients take turns (executor/fair.py) and sends them
from there as room opens ahead of the workers (pace.py), in chunks (chunks.py) as Celery
tasks, one language per chunk, and resolves each job's future from its reply list; it keeps
the worker registry (failover, registry.py) and the farm's Redis keys in bounds. The rules it
keeps with the workers, and the keys and script they share, are in cluster.py.
"""

from __future__ import annotations

import collections
import functools
import json
import logging
import queue
import threading
import time
import uuid
from collections.abc import Callable
from concurrent.futures import CancelledError, Future
from dataclasses import dataclass
from typing import Any

import redis

from executor import ExecutorConfig, Job, JobResult
from executor.fair import FairQueue, Flow
from executor.languages import PYTHON

from . import languages, registry
from .batching import STOP, WAKE, next_batch
from .chunks import ChunkEncoder, chunk_size
from .cluster import (
    BACKOFF_S,
    CACHE_CAP,
    CACHE_INDEX,
    CANCEL_TTL_S,
    CHUNK,
    CHUNK_MAX,
    CLAIM_GRACE_S,
    DONE_TTL_S,
    MAX_DELIVERIES,
    PREFIX,
    QUEUE,
    REPLY_TTL_S,
    TASK,
    UPKEEP_S,
    cancel_key,
    done_key,
    make_app,
    reply_popper,
    retrying,
    seen_key,
)
from .dispatcher import FarmStatus, OnStart
from .pace import Pace, to_send

log = logging.getLogger(__name__)

# How long the sender gathers jobs that trickle in (each within 3 ms of the last) before it
# sends what it has: it bounds the wait such jobs add, and still sends them several a chunk.
SEND_WINDOW_S = 0.02
# The waits after each failed try to send a chunk (Redis restarting), then its jobs (and the
# rest of what the sender holds) are answered with infra_error: about two minutes, as a Redis
# restart from its append-only file may take (16 s made a routine restart a batch of
# no-reward samples). A caller whose deadline passes first gets DEADLINE_EXCEEDED.
SEND_BACKOFF_S = BACKOFF_S + (5.0,) * 20


def _cached_result(text: bytes, job_id: str) -> JobResult | None:
    """A cache entry as the result of job `job_id`, marked cached; None when it does not read
    (written by another version, say): the job then runs, as on a miss."""
    try:
        data = json.loads(text)
        data["id"], data["cached"] = job_id, True  # built once, as this job's answer
        return JobResult.from_dict(data)
    except Exception as exc:
        log.warning("unreadable cache entry for job %s (%s); running it", job_id, exc)
        return None


_Missed = tuple[Job, "OnStart | None", "Future[JobResult]", str]  # a job to send, with its content hash


@dataclass
class _Lane:
    """One queue's jobs in this dispatcher: `held`, looked up in the cache and missed, waiting
    for room (clients take turns); `in_flight`, sent and not answered (at most `window`, from
    `pace`); `dead`, held jobs cancelled and not swept out of `held` yet."""

    held: FairQueue[_Missed]
    pace: Pace
    in_flight: int = 0
    dead: int = 0
    slots: int = 0  # of the live workers that take its chunks (at the last registry check)
    window: int = 0
    want_room: bool = False  # the sender waits for room: wake it when some opens

    def to_send(self, smallest: int, largest: int) -> int:
        """How many held jobs to send now (pace.to_send; 0: wait for room)."""
        return to_send(self.window, self.in_flight, self.held.qsize(), smallest, largest)


@dataclass
class _Sent:
    """A job out on the cluster, waiting for its answer."""

    fut: Future[JobResult]
    job: Job
    on_start: OnStart | None
    sent_at: float
    attempt: int


@dataclass
class _Batch:
    """A chunk this dispatcher sent to `queue` and has not every answer of. `front`: put back
    at the front of the queue (failover) at `enqueued_at`, rather than at its back."""

    enqueued_at: float
    front: bool = False
    queue: str = QUEUE
    claimed_at: float | None = None  # first seen held by a worker, or first answer
    suspect: bool = False  # looked lost at the previous check


class CeleryDispatcher:
    """Sends jobs to workers in chunks and resolves futures from the reply list; keeps the
    worker registry (failover) and the farm's Redis keys in bounds."""

    def __init__(
        self,
        broker_url: str,
        config: ExecutorConfig,
        visibility_timeout_s: int = 600,
        chunk: int = CHUNK,
        max_chunk: int = CHUNK_MAX,
        resend_after_s: float | None = None,
        cache_mb: int | None = None,
        pace: Callable[[], Pace] = Pace,
    ) -> None:
        """`pace`: makes each queue's Pace (pace.py): how far ahead of the workers to send."""
        self.app = make_app(broker_url, visibility_timeout_s)
        self._new_pace = pace
        self.redis = redis.Redis.from_url(broker_url)
        if cache_mb is not None:  # a cap on every worker's --cache-mb, for the whole cluster
            retrying(lambda: self.redis.set(CACHE_CAP, cache_mb << 20))
        self.config = config
        self.chunk = chunk
        self.max_chunk = max(chunk, max_chunk)
        self.encoder = ChunkEncoder(self.redis)
        self.resend_after_s = resend_after_s or 2 * visibility_timeout_s + 30
        self.visibility_timeout_s = visibility_timeout_s
        self.reply = f"{PREFIX}reply:{uuid.uuid4().hex}"
        self._pending: dict[tuple[str, str], _Sent] = {}  # (batch, wire id) -> the job
        self._where: dict[Future[JobResult], tuple[str, str]] = {}  # its key, for O(1) cancel
        self._open: dict[str, int] = {}  # batch -> jobs not answered yet
        self._batches: dict[str, _Batch] = {}
        self._early_cancels: set[Future[JobResult]] = set()  # cancelled while being sent
        self._lanes: dict[str, _Lane] = {}  # queue -> its jobs here
        self._held_in: dict[Future[JobResult], str] = {}  # a held job's future -> its queue
        self._batch_queue: dict[str, str] = {}  # an open batch -> the queue it went to
        # Each queue is served in order: a chunk enqueued behind another in its queue (or after
        # one was put at its front) that a worker has taken proves the other was taken too. Per
        # queue, the latest such evidence, from chunks taken CLAIM_GRACE_S ago or more:
        # (enqueued_at, claimed_at).
        self._claims: dict[str, collections.deque[tuple[float, float]]] = {}
        self._taken_enqueued: dict[str, float] = {}
        self._taken_at: dict[str, float] = {}
        self._lock = threading.Lock()
        self._outbox: queue.Queue[Any] = queue.Queue()
        self._chores: queue.Queue[tuple[str, str, str]] = queue.Queue()
        self._closed = threading.Event()
        self._alive: list[registry.WorkerInfo] = []
        self._offer: dict[str, str] = languages.merged([])
        self._waiting: dict[str, int] = {}  # queue -> chunks waiting in it
        self._taken = 0  # chunks taken from any queue and not acknowledged
        self.failovers = 0
        self.cancellations = 0
        self._upkeep_once()
        self._threads = [
            threading.Thread(target=self._send_loop, daemon=True, name="acefarm-send"),
            threading.Thread(target=self._receive_loop, daemon=True, name="acefarm-receive"),
            threading.Thread(target=self._upkeep_loop, daemon=True, name="acefarm-upkeep"),
            threading.Thread(target=self._chores_loop, daemon=True, name="acefarm-chores"),
        ]
        for t in self._threads:
            t.start()

    # -- what the farm looks like (from the workers' heartbeats, re-read every UPKEEP_S) --
    @property
    def runtime(self) -> str:
        runtimes = sorted({w.runtime for w in self._alive})
        return runtimes[0] if len(runtimes) == 1 else ",".join(runtimes) or "python-unknown"

    @property
    def capacity(self) -> int:
        return sum(w.slots for w in self._alive)

    @property
    def languages(self) -> dict[str, str]:
        """What the live workers offer together (Python always: its jobs wait for a worker)."""
        return self._offer

    def status(self) -> FarmStatus:
        with self._lock:  # the sender may add a lane meanwhile
            lanes = list(self._lanes.values())
        return FarmStatus(
            workers=len(self._alive),
            slots=self.capacity,
            busy=sum(w.busy for w in self._alive),
            chunks_waiting=sum(self._waiting.values()),
            chunks_taken=self._taken,
            failovers=self.failovers,
            cancellations=self.cancellations,
            jobs_waiting=len(self._held_in),
            flows_waiting=sum(lane.held.flows() for lane in lanes),
        )

    # -- the Dispatcher interface --------------------------------------------------------
    def submit(self, job: Job, on_start: OnStart | None = None, flow: Flow = None) -> Future[JobResult]:
        fut: Future[JobResult] = Future()
        self._outbox.put(((job, on_start, flow), fut))
        return fut

    def cancel(self, fut: Future[JobResult]) -> bool:
        """Cancel one job: O(1) here; its worker learns it from the batch's cancel set (written
        in bulk by the chores thread) and drops it, queued or running."""
        if fut.cancelled():
            return True  # cancelled before, and counted then
        if fut.cancel():  # still in the outbox: never sent
            with self._lock:
                self.cancellations += 1
            return True
        with self._lock:
            key = self._where.pop(fut, None)
            held = None if key is not None else self._held_in.pop(fut, None)
            if held is not None:  # waiting for its turn here: skipped when its turn comes
                self._lanes[held].dead += 1
                self.cancellations += 1
            elif key is None:
                if fut.running():  # taken from the outbox, not held or sent yet: dropped there
                    if fut not in self._early_cancels:
                        self._early_cancels.add(fut)
                        self.cancellations += 1
                    return True
                return False
            else:
                self._pending.pop(key, None)
                self._answered(key[0])
                self.cancellations += 1
        if key is not None:
            self._chores.put(("cancel", *key))
        if not fut.done():
            fut.set_exception(CancelledError("cancelled"))
        return True

    def close(self) -> None:
        self._closed.set()
        self._outbox.put(STOP)
        for t in self._threads:
            t.join(timeout=5)
        with self._lock:
            for sent in self._pending.values():
                if not sent.fut.done():
                    sent.fut.set_exception(CancelledError("cancelled"))
            for fut in self._held_in:
                if not fut.done():
                    fut.set_exception(CancelledError("cancelled"))
            self._pending.clear()
            self._where.clear()
            self._held_in.clear()

    # -- sending -------------------------------------------------------------------------
    def _send_loop(self) -> None:
        while not self._closed.is_set():
            # What waits, up to one largest chunk: looked up in the result cache at once, what
            # is not cached held for its turn, then sent as room opens (_send_held). A burst is
            # here within a few ms; jobs that trickle in go after at most SEND_WINDOW_S. WAKE
            # (room opened) ends the wait with nothing new.
            live = next_batch(self._outbox, self.max_chunk, 0.003, SEND_WINDOW_S)
            if live is None:
                return
            items = [(job, on_start, fut, flow) for (job, on_start, flow), fut in live]
            for part in languages.split(items, lambda item: item[0].language):
                try:
                    flows = {fut: flow for _, _, fut, flow in part}
                    self._hold(self._look_up([(job, on_start, fut) for job, on_start, fut, _ in part]), flows)
                except Exception as exc:
                    log.exception("cannot send a chunk")
                    for job, _, fut, _ in part:
                        if not fut.done():
                            fut.set_result(JobResult.infra_error(job.id, len(job.tests), f"dispatch failed: {exc}"))
            try:  # the one sender: it must outlive any surprise (what it took is answered in _ship)
                self._send_held()
            except Exception:
                log.exception("cannot send held jobs; trying again with the next wake-up")

    def _look_up(self, items: list[tuple[Job, OnStart | None, Future[JobResult]]]) -> list[_Missed]:
        """Answer what the result cache holds of `items`, jobs of one language, in one round
        trip; the rest, with their content hashes."""
        runtime = self._runtime_for(items[0][0].language)
        hashes = [job.content_hash(runtime) for job, _, _ in items]
        keys = [f"{PREFIX}cache:{h}" for h in hashes]
        try:
            cached = self.redis.mget(keys)
        except redis.RedisError:
            cached = [None] * len(items)
        missed: list[_Missed] = []
        hits: list[str] = []
        answered: list[Future[JobResult]] = []
        for n, ((job, on_start, fut), h, hit) in enumerate(zip(items, hashes, cached)):
            found = _cached_result(hit, job.id) if hit else None
            if found is not None:
                hits.append(keys[n])
                answered.append(fut)
                fut.set_result(found)
            else:
                missed.append((job, on_start, fut, h))
        if hits:
            self._touch(hits)
            with self._lock:
                self._early_cancels.difference_update(answered)
        return missed

    def _lane(self, queue_name: str) -> _Lane:
        """The lane of `queue_name` (called under the lock)."""
        lane = self._lanes.get(queue_name)
        if lane is None:
            held: FairQueue[_Missed] = FairQueue(  # a job cancelled while held takes no turn
                live=lambda item: item[2] in self._held_in, on_drop=functools.partial(self._held_dropped, queue_name)
            )
            lane = self._lanes[queue_name] = _Lane(held, self._new_pace(), slots=self._slots_for(queue_name))
            lane.window = lane.pace.window(lane.slots, self.chunk, self.max_chunk)
        return lane

    def _held_dropped(self, queue_name: str, _item: _Missed) -> None:
        """A held job cancelled while it waited left its lane's queue (under the lock: the
        lane's queue is only read from there)."""
        lane = self._lanes[queue_name]
        lane.dead = max(0, lane.dead - 1)

    def _hold(self, missed: list[_Missed], flows: dict[Future[JobResult], Flow]) -> None:
        """Queue `missed` jobs (of one language) for their turns, each under its flow."""
        if not missed:
            return
        queue_name = languages.queue_for(missed[0][0].language)
        dropped = []
        with self._lock:
            lane = self._lane(queue_name)
            for item in missed:
                fut = item[2]
                if fut in self._early_cancels:  # cancelled while it was looked up
                    self._early_cancels.discard(fut)
                    dropped.append(fut)
                    continue
                self._held_in[fut] = queue_name
                lane.held.put(item, flows[fut])
        for fut in dropped:
            if not fut.done():
                fut.set_exception(CancelledError("cancelled"))

    def _send_held(self) -> None:
        """Send held jobs, each lane's in turn by flow, while there is room ahead of its
        workers for a chunk of them (pace.py); a lane without room wakes the sender when some
        opens (_answered)."""
        for queue_name, lane in list(self._lanes.items()):
            while True:
                with self._lock:
                    if lane.dead > max(64, lane.held.qsize() // 2):  # sweep, O(held), now and then
                        lane.held.sweep()  # each one dropped counts down lane.dead
                    n = lane.to_send(self.chunk, self.max_chunk)
                    if not n:
                        lane.want_room = lane.held.qsize() > 0
                        break
                    take = self._take_held(lane, n)
                if take and not self._ship(take, queue_name, 1):
                    # The broker stayed unreachable through a chunk's retries: what this lane
                    # holds fails now too, not after retries of its own (one sender for all).
                    with self._lock:
                        rest = self._take_held(lane, lane.held.qsize())
                    self._unsent(rest, "cannot reach the broker")
                    break

    def _take_held(self, lane: _Lane, n: int) -> list[_Missed]:
        """Up to `n` of `lane`'s held jobs, in turn (those cancelled while held are dropped by
        its queue, not taken), no longer held (called under the lock, which cancel() takes too)."""
        take: list[_Missed] = []
        while len(take) < n:
            try:
                item = lane.held.get_nowait()
            except queue.Empty:
                break
            del self._held_in[item[2]]
            take.append(item)
        return take

    def _send(self, items: list[tuple[Job, OnStart | None, Future[JobResult]]], attempt: int = 1) -> None:
        """Answer `items`, jobs of one language, from the result cache, and send the rest now
        (jobs sent before and sent again: their turn was taken)."""
        missed = self._look_up(items)
        if missed:
            self._ship(missed, languages.queue_for(items[0][0].language), attempt)

    def _ship(self, missed: list[_Missed], queue_name: str, attempt: int) -> bool:
        """Send `missed` jobs of one language to `queue_name` in chunks (chunks.chunk_size).
        False: the broker could not be reached, and they are answered infra_error."""
        lane = self._lanes.get(queue_name)
        # No chunk past half a slot's share of the window: a small window (slow jobs) goes out
        # over every slot, not as one chunk that one slot runs while the others idle.
        largest = self.max_chunk
        if lane is not None:
            largest = max(1, min(largest, lane.window // (2 * max(1, lane.slots))))
        at = 0
        while at < len(missed):
            waiting = self._outbox.qsize() + (lane.held.qsize() if lane is not None else 0)
            size = chunk_size(
                len(missed) - at, waiting, len(self._pending), self.capacity, min(self.chunk, largest), largest
            )
            part = missed[at : at + size]
            at += len(part)
            if not self._send_chunk(part, queue_name, attempt):
                # The broker stayed unreachable through a chunk's retries: the rest of this take
                # fails now, not after retries of its own (the sender is one thread).
                self._unsent(missed[at:], "cannot reach the broker")
                return False
        return True

    def _unsent(self, items: list[tuple[Job, OnStart | None, Future[JobResult], str]], why: str) -> None:
        """Answer taken jobs that were never registered nor sent: infra_error, or cancelled."""
        for job, _, fut, _ in items:
            with self._lock:
                cancelled = fut in self._early_cancels
                self._early_cancels.discard(fut)
            if fut.done():
                continue
            if cancelled:
                fut.set_exception(CancelledError("cancelled"))
            else:
                fut.set_result(JobResult.infra_error(job.id, len(job.tests), why))

    def _send_chunk(
        self, items: list[tuple[Job, OnStart | None, Future[JobResult], str]], queue_name: str, attempt: int
    ) -> bool:
        """Send (job, on_start, future, content hash) `items` as one chunk to `queue_name`.
        False: the broker could not be reached (after SEND_BACKOFF_S), the jobs are answered
        with infra_error."""
        batch = uuid.uuid4().hex
        now = time.monotonic()
        dropped = []
        # On the wire a job is known by its place in the chunk: callers' ids need not be
        # unique across requests (two GRPO groups may both say "group/0").
        wire: list[tuple[str, Job, str]] = []
        with self._lock:
            for n, (job, on_start, fut, h) in enumerate(items):
                if fut in self._early_cancels:
                    self._early_cancels.discard(fut)
                    dropped.append(fut)
                    continue
                self._pending[(batch, str(n))] = _Sent(fut, job, on_start, now, attempt)
                self._where[fut] = (batch, str(n))
                wire.append((str(n), job, h))
            if wire:
                self._open[batch] = len(wire)
                self._batch_queue[batch] = queue_name
                self._lane(queue_name).in_flight += len(wire)
        for fut in dropped:
            if not fut.done():
                fut.set_exception(CancelledError("cancelled"))
        if not wire:
            return True
        for tries, backoff_s in enumerate(SEND_BACKOFF_S):
            try:
                payload = self.encoder.encode(batch, self.reply, wire, refresh=attempt > 1)
                with self._lock:
                    if batch in self._open:
                        self._batches[batch] = _Batch(time.monotonic(), queue=queue_name)
                # argsrepr given: Celery would otherwise walk the whole payload to log its repr.
                desc = f"chunk of {len(wire)} jobs"
                self.app.send_task(TASK, args=[payload], queue=queue_name, task_id=batch, argsrepr=desc, kwargsrepr="")
                return True
            except Exception as exc:
                log.warning("cannot send a chunk (try %d): %s", tries + 1, exc)
                time.sleep(backoff_s)
        for w, job, _ in wire:
            sent = self._take(batch, w)
            if sent is not None:
                self._settle(sent, JobResult.infra_error(job.id, len(job.tests), "cannot reach the broker"), None)
        return False

    def _runtime_for(self, language: str) -> str:
        """What a result of `language` depends on beside the job (part of its cache key):
        Python's runtime, or the toolchain the workers run the language with."""
        if language == PYTHON:
            return self.runtime
        return f"{language}:{self._offer.get(language, '')}"

    def _touch(self, keys: list[str]) -> None:
        """Cache hits become the most recently used entries (best effort)."""
        try:
            self.redis.zadd(CACHE_INDEX, dict.fromkeys(keys, time.time()), xx=True)
        except redis.RedisError:
            pass

    # -- answers ---------------------------------------------------------------------------
    def _answered(self, batch: str) -> None:
        """One job of `batch` is answered, cancelled or withdrawn (called under the lock); the
        sender is woken when that opens the room it waits for."""
        lane = self._lanes.get(self._batch_queue.get(batch, ""))
        if lane is not None:
            lane.in_flight -= 1
            self._wake_for(lane)
        left = self._open.get(batch, 0) - 1
        if left > 0:
            self._open[batch] = left
            return
        self._open.pop(batch, None)
        self._batches.pop(batch, None)
        self._batch_queue.pop(batch, None)
        self._chores.put(("done", batch, ""))

    def _take(self, batch: str, wire: str) -> _Sent | None:
        """The job `wire` of `batch`, no longer pending (None: answered or withdrawn before)."""
        with self._lock:
            sent = self._pending.pop((batch, wire), None)
            if sent is None:
                return None
            self._where.pop(sent.fut, None)
            self._claimed(batch, time.monotonic())
            lane = self._lanes.get(self._batch_queue.get(batch, ""))
            if lane is not None and lane.pace.answered(time.monotonic(), lane.in_flight >= max(1, lane.slots)):
                lane.window = lane.pace.window(lane.slots, self.chunk, self.max_chunk)
            self._answered(batch)
            return sent

    def _settle(self, sent: _Sent, result: JobResult, started: float | None) -> None:
        """Answer a taken job with `result` (which carries the caller's id). Whatever else
        fails here, the future gets its result: the job is off the pending list already."""
        if sent.fut.done():
            return
        if sent.on_start is not None and isinstance(started, (int, float)) and not isinstance(started, bool):
            # The worker's clock says when it started; placed on ours, within what we saw.
            now = time.monotonic()
            try:
                sent.on_start(min(now, max(sent.sent_at, now - (time.time() - started))))
            except Exception:
                log.exception("on_start of job %s failed", sent.job.id)
        sent.fut.set_result(result)
        with self._lock:  # a cancel that raced this answer marked it (cancel() found it taken)
            self._early_cancels.discard(sent.fut)

    def _receive(self, raw: bytes) -> None:
        """One reply. Its job is taken first, so that the result is built once, with the
        caller's id; a reply for a job answered or withdrawn before is dropped unbuilt."""
        data = json.loads(raw)
        batch, started = data.pop("batch", ""), data.pop("started", None)
        sent = self._take(batch, data["id"])
        if sent is None:
            return
        data["id"] = sent.job.id
        try:
            result = JobResult.from_dict(data)
        except Exception as exc:  # taken: it is answered here or never
            log.exception("unreadable result for job %s on %s", sent.job.id, self.reply)
            result = JobResult.infra_error(sent.job.id, len(sent.job.tests), f"unreadable result from a worker: {exc}")
        self._settle(sent, result, started)

    def _receive_loop(self) -> None:
        pop = reply_popper(redis.Redis.from_url(self.app.conf.broker_url), self.reply)
        while not self._closed.is_set():
            try:
                replies = pop()
            except Exception as exc:  # Redis restarting (or any surprise): this thread must live on
                log.warning("reply list unavailable: %s", exc)
                time.sleep(0.5)
                continue
            for raw in replies:
                try:
                    self._receive(raw)
                except Exception:
                    log.exception("unreadable reply on %s", self.reply)

    # -- upkeep: registry, failover, backstops ---------------------------------------------
    def _upkeep_loop(self) -> None:
        restore_every = max(1.0, self.visibility_timeout_s / 2)
        last_restore = time.monotonic()
        while not self._closed.wait(UPKEEP_S):
            try:  # failover and the backstops stop with this thread: it must outlive any surprise
                self._upkeep_once()
                self._resend_late()
                if time.monotonic() - last_restore >= restore_every:
                    last_restore = time.monotonic()
                    self._restore_visible()
            except Exception:
                log.exception("upkeep failed; trying again in %.0f s", UPKEEP_S)

    def _upkeep_once(self) -> None:
        try:
            found = registry.census(self.redis)
            requeued = [task for name in found.dead for task in registry.fail_over(self.redis, name)]
            self._alive = found.alive
            self._offer = languages.merged(w.offer for w in found.alive)
            # The queues' lengths before what workers hold (a chunk moves from one to the other).
            self._waiting, self._taken = registry.queued(self.redis, languages.QUEUES)
            held = registry.held_tasks(self.redis, [w.name for w in found.alive])
            self.redis.expire(self.reply, REPLY_TTL_S)
        except redis.RedisError as exc:
            log.warning("cannot read the worker registry: %s", exc)
            return
        with self._lock:
            self.failovers += len(requeued)
            now = time.monotonic()
            for task in requeued:  # ours among them are at the front of their queue again
                if task in self._batches:
                    self._batches[task] = _Batch(now, front=True, queue=self._batches[task].queue)
            for task in held:
                self._claimed(task, now)
            self._pace()
        self._resend(self._lost(now), "taken from the queue by a worker that never recorded it")

    def _pace(self) -> None:
        """Each lane's room ahead of its workers, from their answer rate (pace.py); wakes the
        sender when a lane it waits on has more now (called under the lock)."""
        for queue_name, lane in self._lanes.items():
            lane.slots = self._slots_for(queue_name)
            lane.pace.fold(least=4)
            lane.window = lane.pace.window(lane.slots, self.chunk, self.max_chunk)
            self._wake_for(lane)

    def _wake_for(self, lane: _Lane) -> None:
        """Wake the sender if it waits for room in `lane` and some has opened (under the lock)."""
        if lane.want_room and lane.to_send(self.chunk, self.max_chunk):
            lane.want_room = False
            self._outbox.put(WAKE)

    def _slots_for(self, queue_name: str) -> int:
        """Slots of the live workers that take chunks from `queue_name`."""
        if queue_name == QUEUE:
            return self.capacity
        return sum(w.slots for w in self._alive if queue_name in languages.queues(w.offer))

    def _claimed(self, batch: str, now: float) -> None:
        """`batch` is seen taken by a worker (called under the lock)."""
        b = self._batches.get(batch)
        if b is not None and b.claimed_at is None:
            b.claimed_at = now
            if not b.front:
                self._claims.setdefault(b.queue, collections.deque()).append((b.enqueued_at, now))

    def _lost(self, now: float) -> list[str]:
        """Batches taken from their queue that no worker holds (lost on the way to one: a
        worker whose network died while it waited for work), seen so at two checks in a row:
        their queue is empty, or a chunk enqueued after them in it was taken CLAIM_GRACE_S ago
        or more. Called under the lock."""
        for queue_name, claims in self._claims.items():
            while claims and claims[0][1] <= now - CLAIM_GRACE_S:
                enqueued, at = claims.popleft()
                self._taken_enqueued[queue_name] = max(self._taken_enqueued.get(queue_name, enqueued), enqueued)
                self._taken_at[queue_name] = max(self._taken_at.get(queue_name, at), at)
        never = float("-inf")
        lost = []
        for batch, b in self._batches.items():
            if b.claimed_at is not None or now - b.enqueued_at < CLAIM_GRACE_S:
                continue
            if b.front:
                behind = self._taken_at.get(b.queue, never) > b.enqueued_at
            else:
                behind = self._taken_enqueued.get(b.queue, never) > b.enqueued_at
            if self._waiting.get(b.queue, 0) == 0 or behind:
                if b.suspect:
                    lost.append(batch)
                b.suspect = True
            else:
                b.suspect = False
        return lost

    def _resend(self, batches: list[str], why: str) -> None:
        """Send the unanswered jobs of lost `batches` again, as new chunks."""
        if not batches:
            return
        gone = set(batches)
        again = self._withdraw(lambda key, _: key[0] in gone)
        with self._lock:
            self.failovers += len(batches)
        log.warning("%d chunks (%d jobs) %s; sending them again", len(batches), len(again), why)
        self._send_again(again, f"lost {MAX_DELIVERIES} times ({why})")

    def _withdraw(self, which: Callable[[tuple[str, str], _Sent], bool]) -> list[_Sent]:
        """Take the pending jobs `which` selects out of their batches (to send them again)."""
        with self._lock:
            taken = [(k, v) for k, v in self._pending.items() if which(k, v)]
            for k, v in taken:
                del self._pending[k]
                self._where.pop(v.fut, None)
                self._answered(k[0])
        return [v for _, v in taken]

    def _send_again(self, jobs: list[_Sent], why: str) -> None:
        """Send withdrawn jobs again (those of one language and attempt at a time, cut into
        chunks as a burst is: `_send`), each counting one more attempt; a job sent
        MAX_DELIVERIES times already is answered with infra_error instead (`why`): a job that
        every worker it reaches dies on must not go round the cluster forever."""
        groups: dict[tuple[str, int], list[_Sent]] = {}
        gave_up = 0
        for sent in jobs:
            if sent.attempt >= MAX_DELIVERIES:
                gave_up += 1
                if not sent.fut.done():
                    sent.fut.set_result(JobResult.infra_error(sent.job.id, len(sent.job.tests), why))
                continue
            groups.setdefault((sent.job.language, sent.attempt), []).append(sent)
        if gave_up:
            log.error("%d jobs sent %d times already: answered infra_error (%s)", gave_up, MAX_DELIVERIES, why)
        for (_, attempt), same in groups.items():
            self._send([(s.job, s.on_start, s.fut) for s in same], attempt + 1)

    def _restore_visible(self) -> None:
        """The backstop: chunks unacknowledged past the visibility timeout and held by no live
        worker go back on the queue (registry.restore_unheld)."""
        try:
            self.failovers += registry.restore_unheld(
                self.redis, self.visibility_timeout_s, [w.name for w in self._alive]
            )
        except redis.RedisError as exc:
            log.warning("cannot restore unacknowledged chunks: %s", exc)

    def _resend_late(self) -> None:
        now = time.monotonic()
        late = self._withdraw(lambda _, v: now - v.sent_at > self.resend_after_s)
        if late:
            log.warning("%d jobs unanswered after %.0fs; sending them again", len(late), self.resend_after_s)
            self._send_again(late, "no answer from any worker")

    def _chores_loop(self) -> None:
        """Write cancellations and forget finished batches, many per round trip."""
        while not self._closed.is_set():
            try:
                first = self._chores.get(timeout=0.5)
            except queue.Empty:
                continue
            items = [first]
            while len(items) < 4096:
                try:
                    items.append(self._chores.get(timeout=0.002))
                except queue.Empty:
                    break
            try:
                retrying(lambda: self._write_chores(items), attempts=4)  # noqa: B023  called at once
            except redis.RedisError as exc:
                log.warning("cannot write %d cancellations/cleanups: %s", len(items), exc)

    def _write_chores(self, items: list[tuple[str, str, str]]) -> None:
        cancels: dict[str, list[str]] = {}
        done = []
        for what, batch, wire in items:
            if what == "cancel":
                cancels.setdefault(batch, []).append(wire)
            else:
                done.append(batch)
        with self.redis.pipeline(transaction=False) as p:
            for batch, wires in cancels.items():
                p.sadd(cancel_key(batch), *wires)
                p.expire(cancel_key(batch), CANCEL_TTL_S)
            for b in done:  # late redeliveries of a finished batch publish nothing more
                p.set(done_key(b), 1, ex=DONE_TTL_S)
            if done:
                p.delete(*[seen_key(b) for b in done])
            p.execute()
