"""Cluster mode: jobs travel as Celery tasks over Redis to `acefarm worker`s.

Rules (DESIGN section 5):

- A task carries a chunk of jobs (tens), as JSON, never pickle; the jobs of a `Score` share
  their test suite, which travels once per chunk, or once per group through Redis when it is
  large (chunks.py).
- A chunk holds jobs of one language. Python's chunks go to the default queue, which every
  worker consumes; another language's go to that language's queue (`acefarm.lang.<name>`),
  which only the workers that run it consume (languages.py). A job in a language other than
  Python that no live worker offers is refused before it is sent (gateway.py); one already
  sent when the last such worker died waits for one, like a Python job with no worker at all,
  up to the resend backstop below. Everything else here holds for every queue alike: the
  queue a chunk was sent to is the one failover puts it back on (kombu's routing key).
- `acks_late`, prefetch 1, `reject_on_worker_lost`, a hard time limit: a worker killed
  mid-chunk loses nothing. Workers beat every 2 s and list the chunks they hold; a dispatcher
  that sees a worker's liveness key lapse puts its chunks back at the front of the queue at
  once (registry.py), so a dead worker delays its jobs by seconds. The Redis visibility
  timeout stays as the backstop for what heartbeats cannot see. Deliveries are counted per
  task and bounded: past MAX_DELIVERIES the remaining jobs get `infra_error`.
- Tasks are idempotent: each result is published through one Redis script that records
  (batch, job id) with HSETNX and only then pushes the result to the dispatcher's reply list,
  so a job is answered at most once however often its task runs; a redelivered task skips
  jobs already answered.
- Results are cached by content hash (runtime, language, program, tests, limits) in Redis, in
  a cache bounded by the workers' `--cache-mb` (least recently used out first); a hit is
  answered without running, marked `cached`.
- Cancellation (a client that went away, a deadline that passed) travels through a Redis set
  per batch: a worker skips cancelled jobs before they run and stops running ones.
- A job without an answer long after it was sent (its result lost with a Redis that
  restarted without persistence, say) is sent again, twice at most, then answered
  `infra_error`.

Every key the farm writes expires, or is bounded as UNEXPIRING_KEYS says.
"""

from __future__ import annotations

import collections
import json
import logging
import queue
import threading
import time
import uuid
from collections.abc import Callable
from concurrent.futures import CancelledError, Future
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any

import redis
from celery import Celery

from executor import ExecutorConfig, Job, JobResult
from executor.languages import PYTHON

from . import languages, registry
from .batching import STOP, next_batch
from .chunks import ChunkEncoder
from .dispatcher import FarmStatus, OnStart

if TYPE_CHECKING:
    from .worker import Worker

log = logging.getLogger(__name__)

PREFIX = registry.PREFIX
QUEUE = registry.QUEUE
TASK = "acefarm.run_chunk"
CHUNK = 32
MAX_DELIVERIES = 3
SEEN_TTL_S = 3600  # seen:<batch>; deleted as soon as the dispatcher has every answer
CANCEL_TTL_S = 3600
REPLY_TTL_S = 120  # reply:<dispatcher>; renewed by the live dispatcher, so a dead one's goes
STATS_TTL_S = 24 * 3600
CANCEL_POLL_S = 0.25
PUBLISH_LINGER_S = 0.05  # a chunk's last result never waits: it ends the linger (worker.py)
UPKEEP_S = 1.0
DONE_TTL_S = 900  # done:<batch>: a finished batch's late redeliveries publish nothing
CLAIM_GRACE_S = 5.0  # a chunk taken from the queue is recorded as held within this
DEFAULT_CACHE_MB = 512
CACHE_INDEX = PREFIX + "cache-index"  # sorted set: cache key -> last use (unix time)
CACHE_BYTES = PREFIX + "cache-bytes"  # the cache's size as the farm counts it
CACHE_CAP = PREFIX + "cache-cap"  # a server's --cache-mb in bytes: caps every worker's bound
CACHE_ENTRY_OVERHEAD = 400  # bytes Redis spends per entry beyond its value (key, index member), measured

UNEXPIRING_KEYS = {
    QUEUE: "the Celery queue (chunks waiting): bounded by the servers' --max-queue",
    languages.LANGUAGE_QUEUE + "*": "the other languages' Celery queues: the same bound, all queues together",
    registry.UNACKED: "kombu: chunks taken and not acknowledged; at most workers x --threads",
    registry.UNACKED_INDEX: "kombu: the same chunks by the time they were taken",
    "_kombu.binding*": "kombu: one set per queue, one member per binding",
    registry.WORKERS: "one entry per registered worker; dead ones removed within seconds by failover",
    PREFIX + "cache*": "the result cache (cache:<hash>, cache-index, cache-bytes, cache-cap): --cache-mb",
}

# Publish finished results of one batch, each at most once per (batch, job): HSETNX, then
# RPUSH (nothing once the batch's server has every answer: its done marker); and, in the same
# call, fill the result cache with the answers pushed, evicting its least recently used entries
# past the bound.
#   KEYS: seen hash, reply list, cache index, cache byte count, cache cap, done marker
#   ARGV: reply TTL, seen TTL, now, cache bound, overhead, then per result:
#         job id, cache key or '', result JSON (the cache keeps the same text)
#   Returns 1 or 0 per result: pushed now, or answered before.
PUBLISH = """
local overhead = tonumber(ARGV[5])
local bound = tonumber(ARGV[4])
local cap = tonumber(redis.call('GET', KEYS[5]) or '')
if cap and cap < bound then bound = cap end
local finished = redis.call('EXISTS', KEYS[6]) == 1
local out = {}
local pushed, cached = 0, 0
for i = 6, #ARGV, 3 do
  local id, key, value = ARGV[i], ARGV[i + 1], ARGV[i + 2]
  if not finished and redis.call('HSETNX', KEYS[1], id, '1') == 1 then
    redis.call('RPUSH', KEYS[2], value)
    pushed = pushed + 1
    out[#out + 1] = 1
    -- Only the answer the client gets fills the cache (a late rerun's never overwrites it).
    if key ~= '' then
      local old = redis.call('STRLEN', key)
      local size = string.len(value) + overhead
      if old > 0 then size = size - old - overhead end
      redis.call('SET', key, value)
      redis.call('ZADD', KEYS[3], ARGV[3], key)
      redis.call('INCRBY', KEYS[4], size)
      cached = cached + 1
    end
  else
    out[#out + 1] = 0
  end
end
if pushed > 0 then
  redis.call('EXPIRE', KEYS[1], ARGV[2])
  redis.call('EXPIRE', KEYS[2], ARGV[1])
end
if cached > 0 then
  local total = tonumber(redis.call('GET', KEYS[4]) or '0')
  local n = 0
  while total > bound and n < 64 * cached do
    local oldest = redis.call('ZPOPMIN', KEYS[3])
    if #oldest == 0 then
      redis.call('SET', KEYS[4], 0)
      break
    end
    local len = redis.call('STRLEN', oldest[1])
    redis.call('DEL', oldest[1])
    total = redis.call('DECRBY', KEYS[4], len + overhead)
    n = n + 1
  end
end
return out
"""


def seen_key(batch: str) -> str:
    return f"{PREFIX}seen:{batch}"


def done_key(batch: str) -> str:
    return f"{PREFIX}done:{batch}"


def cancel_key(batch: str) -> str:
    return f"{PREFIX}cancel:{batch}"


def deliveries_key(task_id: str) -> str:
    return f"{PREFIX}deliveries:{task_id}"


def make_app(
    broker_url: str, visibility_timeout_s: int = 600, task_time_limit_s: int = 900, worker: Worker | None = None
) -> Celery:
    """The Celery app shared by `acefarm serve --broker` and `acefarm worker`. A worker's app
    (`worker` given) runs the chunk task on that Worker; a dispatcher's only sends it."""
    app = Celery("acefarm", broker=broker_url)
    app.conf.update(
        task_serializer="json",
        accept_content=["json"],
        result_serializer="json",
        task_ignore_result=True,  # results travel through our own reply lists
        task_acks_late=True,
        task_reject_on_worker_lost=True,
        worker_prefetch_multiplier=1,
        task_time_limit=task_time_limit_s,
        task_default_queue=QUEUE,
        broker_transport_options={"visibility_timeout": visibility_timeout_s},
        broker_connection_retry_on_startup=True,
        worker_hijack_root_logger=False,
        worker_send_task_events=False,
        worker_enable_remote_control=False,  # no pidbox queues and bindings left behind per worker
    )
    if worker is not None:

        def run_chunk_task(task: Any, payload: dict[str, Any]) -> int:
            try:
                return worker.run_chunk(payload, task.request.id)
            finally:
                worker.release(task.request.id)

        app.task(name=TASK, bind=True, acks_late=True)(run_chunk_task)
    return app


def _popper(conn: redis.Redis[bytes], key: str, most: int = 256) -> Callable[[], list[bytes]]:
    """A call that waits up to a second for replies on `key` and returns up to `most` of
    them: one BLMPOP round trip (Redis 7), or BLPOP then LPOP where Redis lacks it."""
    modern = True

    def pop() -> list[bytes]:
        nonlocal modern
        if modern:
            try:
                found = conn.execute_command("BLMPOP", 1, 1, key, "LEFT", "COUNT", most)
                return list(found[1]) if found else []
            except redis.exceptions.ResponseError as exc:
                if "unknown command" not in str(exc).lower():
                    raise
                modern = False
        item = conn.blpop([key], timeout=1)
        if item is None:
            return []
        return [item[1], *(conn.lpop(key, most - 1) or [])]

    return pop


def retrying(call: Callable[[], Any], attempts: int = 8) -> Any:
    """Run a Redis call, retrying through a short outage (a Redis restart) with backoff."""
    for attempt in range(attempts):
        try:
            return call()
        except redis.RedisError as exc:
            if attempt == attempts - 1:
                raise
            log.warning("redis unavailable (%s); retrying", exc)
            time.sleep(min(5.0, 0.1 * 2**attempt))
    raise AssertionError("unreachable")


# -- the server side ----------------------------------------------------------------------


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
        resend_after_s: float | None = None,
        cache_mb: int | None = None,
    ) -> None:
        self.app = make_app(broker_url, visibility_timeout_s)
        self.redis = redis.Redis.from_url(broker_url)
        if cache_mb is not None:  # a cap on every worker's --cache-mb, for the whole cluster
            retrying(lambda: self.redis.set(CACHE_CAP, cache_mb << 20))
        self.config = config
        self.chunk = chunk
        self.encoder = ChunkEncoder(self.redis)
        self.resend_after_s = resend_after_s or 2 * visibility_timeout_s + 30
        self.visibility_timeout_s = visibility_timeout_s
        self.reply = f"{PREFIX}reply:{uuid.uuid4().hex}"
        self._pending: dict[tuple[str, str], _Sent] = {}  # (batch, wire id) -> the job
        self._where: dict[Future[JobResult], tuple[str, str]] = {}  # its key, for O(1) cancel
        self._open: dict[str, int] = {}  # batch -> jobs not answered yet
        self._batches: dict[str, _Batch] = {}
        self._early_cancels: set[Future[JobResult]] = set()  # cancelled while being sent
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
        return FarmStatus(
            workers=len(self._alive),
            slots=self.capacity,
            busy=sum(w.busy for w in self._alive),
            chunks_waiting=sum(self._waiting.values()),
            chunks_taken=self._taken,
            failovers=self.failovers,
            cancellations=self.cancellations,
        )

    # -- the Dispatcher interface --------------------------------------------------------
    def submit(self, job: Job, on_start: OnStart | None = None) -> Future[JobResult]:
        fut: Future[JobResult] = Future()
        self._outbox.put(((job, on_start), fut))
        return fut

    def cancel(self, fut: Future[JobResult]) -> bool:
        """Cancel one job: O(1) here; its worker learns it from the batch's cancel set (written
        in bulk by the chores thread) and drops it, queued or running."""
        if fut.cancel():  # still in the outbox: never sent
            with self._lock:
                self.cancellations += 1
            return True
        with self._lock:
            key = self._where.pop(fut, None)
            if key is None:
                if fut.running():  # taken from the outbox, not registered yet: _send drops it
                    self._early_cancels.add(fut)
                    self.cancellations += 1
                    return True
                return False
            self._pending.pop(key, None)
            self._answered(key[0])
            self.cancellations += 1
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
            self._pending.clear()
            self._where.clear()

    # -- sending -------------------------------------------------------------------------
    def _send_loop(self) -> None:
        while not self._closed.is_set():
            live = next_batch(self._outbox, self.chunk, 0.003)
            if live is None:
                return
            items = [(job, on_start, fut) for (job, on_start), fut in live]
            for part in languages.split(items, lambda item: item[0].language):
                try:
                    self._send(part)
                except Exception as exc:
                    log.exception("cannot send a chunk")
                    for job, _, fut in part:
                        if not fut.done():
                            fut.set_result(JobResult.infra_error(job.id, len(job.tests), f"dispatch failed: {exc}"))

    def _send(self, items: list[tuple[Job, OnStart | None, Future[JobResult]]], attempt: int = 1) -> None:
        """Send `items`, jobs of one language, as one chunk to that language's queue."""
        language = items[0][0].language
        queue_name = languages.queue_for(language)
        runtime = self._runtime_for(language)
        hashes = [job.content_hash(runtime) for job, _, _ in items]
        keys = [f"{PREFIX}cache:{h}" for h in hashes]
        try:
            cached = self.redis.mget(keys)
        except redis.RedisError:
            cached = [None] * len(items)
        batch = uuid.uuid4().hex
        wire: list[tuple[str, Job, str]] = []
        hits = []
        now = time.monotonic()
        for n, ((job, _, fut), h, hit) in enumerate(zip(items, hashes, cached)):
            if hit:
                hits.append(keys[n])
                fut.set_result(replace(JobResult.from_dict(json.loads(hit)), id=job.id, cached=True))
                continue
            # On the wire a job is known by its place in the chunk: callers' ids need not be
            # unique across requests (two GRPO groups may both say "group/0").
            wire.append((str(n), job, h))
        if hits:
            self._touch(hits)
            with self._lock:
                self._early_cancels.difference_update(items[int(k)][2] for k in range(len(items)) if cached[k])
        if not wire:
            return
        dropped = []
        with self._lock:
            kept = []
            for w, job, h in wire:
                _, on_start, fut = items[int(w)]
                if fut in self._early_cancels:
                    self._early_cancels.discard(fut)
                    dropped.append(fut)
                    continue
                self._pending[(batch, w)] = _Sent(fut, job, on_start, now, attempt)
                self._where[fut] = (batch, w)
                kept.append((w, job, h))
            wire = kept
            if wire:
                self._open[batch] = len(wire)
        for fut in dropped:
            if not fut.done():
                fut.set_exception(CancelledError("cancelled"))
        if not wire:
            return
        for tries in range(8):
            try:
                payload = self.encoder.encode(batch, self.reply, wire, refresh=attempt > 1)
                with self._lock:
                    if batch in self._open:
                        self._batches[batch] = _Batch(time.monotonic(), queue=queue_name)
                # argsrepr given: Celery would otherwise walk the whole payload to log its repr.
                desc = f"chunk of {len(wire)} jobs"
                self.app.send_task(TASK, args=[payload], queue=queue_name, task_id=batch, argsrepr=desc, kwargsrepr="")
                return
            except Exception as exc:
                log.warning("cannot send a chunk (try %d): %s", tries + 1, exc)
                time.sleep(min(5.0, 0.1 * 2**tries))
        for w, job, _ in wire:
            self._resolve(JobResult.infra_error(w, len(job.tests), "cannot reach the broker"), batch, None)

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
        """One job of `batch` is answered or cancelled (called under the lock)."""
        left = self._open.get(batch, 0) - 1
        if left > 0:
            self._open[batch] = left
            return
        self._open.pop(batch, None)
        self._batches.pop(batch, None)
        self._chores.put(("done", batch, ""))

    def _take(self, batch: str, wire: str) -> _Sent | None:
        """The job `wire` of `batch`, no longer pending (None: answered or withdrawn before)."""
        with self._lock:
            sent = self._pending.pop((batch, wire), None)
            if sent is None:
                return None
            self._where.pop(sent.fut, None)
            self._claimed(batch, time.monotonic())
            self._answered(batch)
            return sent

    def _resolve(self, result: JobResult, batch: str, started: float | None) -> None:
        sent = self._take(batch, result.id)
        if sent is not None:
            self._settle(sent, replace(result, id=sent.job.id), started)

    def _settle(self, sent: _Sent, result: JobResult, started: float | None) -> None:
        """Answer a taken job with `result` (which carries the caller's id)."""
        if sent.fut.done():
            return
        with self._lock:
            self._early_cancels.discard(sent.fut)  # a cancel that raced this answer
        if sent.on_start is not None and started is not None:
            # The worker's clock says when it started; placed on ours, within what we saw.
            now = time.monotonic()
            sent.on_start(min(now, max(sent.sent_at, now - (time.time() - started))))
        sent.fut.set_result(result)

    def _receive(self, raw: bytes) -> None:
        """One reply. Its job is taken first, so that the result is built once, with the
        caller's id; a reply for a job answered or withdrawn before is dropped unbuilt."""
        data = json.loads(raw)
        batch, started = data.pop("batch", ""), data.pop("started", None)
        sent = self._take(batch, data["id"])
        if sent is not None:
            data["id"] = sent.job.id
            self._settle(sent, JobResult.from_dict(data), started)

    def _receive_loop(self) -> None:
        pop = _popper(redis.Redis.from_url(self.app.conf.broker_url), self.reply)
        while not self._closed.is_set():
            try:
                replies = pop()
            except redis.RedisError as exc:  # Redis restarting: keep trying
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
            self._upkeep_once()
            self._resend_late()
            if time.monotonic() - last_restore >= restore_every:
                last_restore = time.monotonic()
                self._restore_visible()

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
        self._resend(self._lost(now), "taken from the queue by a worker that never recorded it")

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
        self._send_again(again)

    def _withdraw(self, which: Callable[[tuple[str, str], _Sent], bool]) -> list[_Sent]:
        """Take the pending jobs `which` selects out of their batches (to send them again)."""
        with self._lock:
            taken = [(k, v) for k, v in self._pending.items() if which(k, v)]
            for k, v in taken:
                del self._pending[k]
                self._where.pop(v.fut, None)
                self._answered(k[0])
        return [v for _, v in taken]

    def _send_again(self, jobs: list[_Sent]) -> None:
        """Send withdrawn jobs as new chunks (CHUNK at a time, one language each), each counting
        one more attempt."""
        for same in languages.split(jobs, lambda s: s.job.language):
            for at in range(0, len(same), self.chunk):
                part = same[at : at + self.chunk]
                self._send([(s.job, s.on_start, s.fut) for s in part], max(s.attempt for s in part) + 1)

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
        again = []
        for sent in late:
            if sent.attempt > 2:
                sent.fut.set_result(
                    JobResult.infra_error(sent.job.id, len(sent.job.tests), "no answer from any worker")
                )
            else:
                again.append(sent)
        if again:
            log.warning("%d jobs unanswered after %.0fs; sending them again", len(again), self.resend_after_s)
            self._send_again(again)

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
