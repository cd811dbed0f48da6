"""Cluster mode: jobs travel as Celery tasks over Redis to `acefarm worker`s.

Rules (DESIGN section 5):

- A task carries a chunk of jobs (tens), as JSON, never pickle.
- `acks_late`, prefetch 1, `reject_on_worker_lost`, a hard time limit and a
  Redis visibility timeout: a worker killed mid-chunk loses nothing, its task
  is delivered again (the dispatcher restores unacknowledged chunks past the
  visibility timeout) and finished elsewhere. Deliveries are counted per task
  and bounded: past MAX_DELIVERIES the remaining jobs get `infra_error`.
- Tasks are idempotent: each result is published through one Redis script
  that records (batch, job id) with SET NX and only then pushes the result to
  the dispatcher's reply list, so a job is answered at most once however often
  its task runs; a redelivered task skips jobs already answered.
- Results are cached by content hash (runtime, language, program, tests,
  limits) in Redis; a hit is answered without running, marked `cached`.
- Cancellation (a client that went away, a deadline that passed) travels
  through a Redis set the worker polls; it stops the job in its sandbox.
- A job without an answer long after it was sent (its result lost with a
  Redis that restarted without persistence, say) is sent again, twice at
  most, then answered `infra_error`.

Keys (prefix `acefarm:`): `reply:<dispatcher>` (list of result JSON),
`seen:<batch>:<job id>`, `cancel:<batch>` (set), `cache:<hash>`,
`deliveries:<task id>`, `worker:<name>` and the hash `workers` (heartbeats: slots,
runtime, expiry),
`stats:jobs` (hash: jobs published per worker).
"""

from __future__ import annotations

import concurrent.futures
import json
import logging
import os
import queue
import socket
import threading
import time
import uuid
from collections.abc import Callable
from concurrent.futures import Future
from dataclasses import replace
from typing import Any

import redis
from celery import Celery

from executor import ExecutorConfig, Job, JobResult, Pool, Verdict

from .batching import STOP, next_batch

log = logging.getLogger(__name__)

PREFIX = "acefarm:"
TASK = "acefarm.run_chunk"
QUEUE = "acefarm"
CHUNK = 32
WORKERS = PREFIX + "workers"  # hash: worker name -> {"slots", "runtime", "until"}
MAX_DELIVERIES = 3
RESULT_TTL_S = 3600
CACHE_TTL_S = 7 * 24 * 3600
HEARTBEAT_S = 5
CANCEL_POLL_S = 0.25
PUBLISH_LINGER_S = 0.01

# Publish a result at most once per (batch, job): SET NX, then RPUSH; and, in
# the same round trip, fill the result cache (KEYS[3], unless empty).
_PUBLISH = """
if KEYS[3] ~= '' then
  redis.call('SET', KEYS[3], ARGV[3], 'EX', ARGV[4])
end
if redis.call('SET', KEYS[1], '1', 'NX', 'EX', ARGV[2]) then
  redis.call('RPUSH', KEYS[2], ARGV[1])
  redis.call('EXPIRE', KEYS[2], ARGV[2])
  return 1
end
return 0
"""


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
    )
    if worker is not None:

        def run_chunk_task(task: Any, payload: dict[str, Any]) -> int:
            return worker.run_chunk(payload, task.request.id)

        app.task(name=TASK, bind=True, acks_late=True)(run_chunk_task)
    return app


# -- the worker side --------------------------------------------------------------------


class Worker:
    """One `acefarm worker` process: its name, its started Pool and its Redis client. Made once
    by run_worker; the chunk task reaches it through the Celery app (make_app's `worker`)."""

    def __init__(self, name: str, pool: Pool, r: redis.Redis[bytes]) -> None:
        self.name = name
        self.pool = pool
        self.redis = r

    def run_chunk(self, payload: dict[str, Any], task_id: str) -> int:
        """Run one chunk on this worker's pool (see run_chunk)."""
        return run_chunk(payload, self.pool, self.redis, task_id, self.name)


def run_chunk(payload: dict[str, Any], pool: Pool, r: redis.Redis[bytes], task_id: str, worker_name: str = "") -> int:
    """Run one chunk on a worker's pool; publish each result once, counting them under
    `worker_name` in the stats. Returns jobs published."""
    batch, reply = payload["batch"], payload["reply"]
    publish = r.register_script(_PUBLISH)

    def check() -> list[Any]:  # one round trip: count this delivery, see what is already answered
        with r.pipeline() as p:
            p.incr(f"{PREFIX}deliveries:{task_id}")
            p.expire(f"{PREFIX}deliveries:{task_id}", RESULT_TTL_S)
            for d in payload["jobs"]:
                p.exists(f"{PREFIX}seen:{batch}:{d['id']}")
            return p.execute()

    deliveries, _, *seen = _retrying(check)
    todo = [d for d, done in zip(payload["jobs"], seen) if not done]
    if deliveries > MAX_DELIVERIES:
        log.error("task %s delivered %d times; giving up on %d jobs", task_id, deliveries, len(todo))
        for d in todo:
            res = JobResult.infra_error(d["id"], len(d["tests"]), f"task redelivered {deliveries} times")
            publish(
                keys=[f"{PREFIX}seen:{batch}:{d['id']}", reply, ""],
                args=[json.dumps(res.to_dict() | {"batch": batch}), RESULT_TTL_S, "", 0],
            )
        return len(todo)
    jobs = [Job.from_dict({k: v for k, v in d.items() if k != "hash"}) for d in todo]
    futures = {pool.submit(job): (job, d.get("hash")) for job, d in zip(jobs, todo)}
    stop = threading.Event()
    watcher = threading.Thread(target=_watch_cancellations, args=(r, batch, futures, pool, stop), daemon=True)
    watcher.start()
    published = 0
    pending = set(futures)
    try:
        while pending:
            # Publish what is done, a few at a time: one round trip for several results, and
            # one wake-up of the dispatcher for them, at the cost of PUBLISH_LINGER_S latency.
            done, pending = concurrent.futures.wait(pending, return_when=concurrent.futures.FIRST_COMPLETED)
            if pending:
                more, pending = concurrent.futures.wait(pending, timeout=PUBLISH_LINGER_S)
                done |= more
            # A cancelled job (its client went away) is not answered at all.
            ready = [
                (futures[f][0], futures[f][1], f.result()) for f in done if not f.cancelled() and f.exception() is None
            ]
            published += _retrying(lambda: _publish(publish, r, batch, reply, ready))  # noqa: B023  called at once
    finally:
        stop.set()
        watcher.join()
    if published:
        r.hincrby(f"{PREFIX}stats:jobs", worker_name or "unnamed", published)
    return published


def _publish(
    publish: Any, r: redis.Redis[bytes], batch: str, reply: str, ready: list[tuple[Job, str | None, JobResult]]
) -> int:
    """Publish finished results (and fill the cache) in one pipelined round trip."""
    with r.pipeline(transaction=False) as p:
        for job, content_hash, result in ready:
            cache_key, cached = "", ""
            if content_hash and result.verdict is not Verdict.INFRA_ERROR:
                cache_key = f"{PREFIX}cache:{content_hash}"
                cached = json.dumps(replace(result, id="").to_dict() | {"cached": True})
            publish(
                keys=[f"{PREFIX}seen:{batch}:{job.id}", reply, cache_key],
                args=[json.dumps(result.to_dict() | {"batch": batch}), RESULT_TTL_S, cached, CACHE_TTL_S],
                client=p,
            )
        return sum(p.execute())


def _retrying(call: Callable[[], Any], attempts: int = 8) -> Any:
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


def _watch_cancellations(
    r: redis.Redis[bytes], batch: str, futures: dict[Future[Any], Any], pool: Pool, stop: threading.Event
) -> None:
    """Stop jobs the dispatcher cancelled (its client went away or its deadline passed)."""
    by_id = {job.id: fut for fut, (job, _) in futures.items()}
    while not stop.wait(CANCEL_POLL_S):
        try:
            cancelled = {m.decode() for m in r.smembers(f"{PREFIX}cancel:{batch}")}
        except redis.RedisError:
            cancelled = set()
        for job_id, fut in by_id.items():
            if not fut.done() and job_id in cancelled:
                pool.cancel(fut)


def heartbeat(r: redis.Redis[bytes], name: str, slots: int, runtime: str, stop: threading.Event) -> None:
    """Advertise this worker (slots, runtime) until `stop` is set."""
    key = f"{PREFIX}worker:{name}"
    while True:
        info = {"slots": slots, "runtime": runtime, "until": time.time() + HEARTBEAT_S * 3}
        try:
            with r.pipeline() as p:
                p.set(key, json.dumps(info), ex=HEARTBEAT_S * 3)
                p.hset(WORKERS, name, json.dumps(info))  # one read for the dispatchers, no SCAN
                p.execute()
        except redis.RedisError as exc:
            log.warning("heartbeat failed: %s", exc)
        if stop.wait(HEARTBEAT_S):
            r.delete(key)
            r.hdel(WORKERS, name)
            return


def run_worker(
    broker_url: str, config: ExecutorConfig, threads: int = 2, visibility_timeout_s: int = 600, name: str | None = None
) -> None:
    """The body of `acefarm worker`: a Pool, a heartbeat, and a Celery consumer."""
    r = redis.Redis.from_url(broker_url)
    pool = Pool(config).start()
    name = name or f"{socket.gethostname()}-{os.getpid()}"
    app = make_app(broker_url, visibility_timeout_s, worker=Worker(name, pool, r))
    stop = threading.Event()
    beat = threading.Thread(target=heartbeat, args=(r, name, config.slots, pool.runtime, stop), daemon=True)
    beat.start()
    try:
        app.worker_main(
            [
                "worker",
                "--pool=threads",
                f"--concurrency={threads}",
                "--loglevel=WARNING",
                f"--hostname={name}@%h",
                "-Q",
                QUEUE,
                "--without-gossip",
                "--without-mingle",
                "--without-heartbeat",
            ]
        )
    finally:
        stop.set()
        pool.close()


# -- the server side ----------------------------------------------------------------------


class CeleryDispatcher:
    """Sends jobs to workers in chunks and resolves futures from the reply list."""

    def __init__(
        self,
        broker_url: str,
        config: ExecutorConfig,
        visibility_timeout_s: int = 600,
        chunk: int = CHUNK,
        resend_after_s: float | None = None,
    ) -> None:
        self.app = make_app(broker_url, visibility_timeout_s)
        self.redis = redis.Redis.from_url(broker_url)
        self.config = config
        self.chunk = chunk
        self._workers_cache: list[dict[str, Any]] = []
        self._workers_at = float("-inf")
        self.resend_after_s = resend_after_s or 2 * visibility_timeout_s + 30
        self.reply = f"{PREFIX}reply:{uuid.uuid4().hex}"
        # (batch, job id) -> (future, job, sent at, attempt)
        self._pending: dict[tuple[str, str], tuple[Future[JobResult], Job, float, int]] = {}
        self._lock = threading.Lock()
        self._outbox: queue.Queue[Any] = queue.Queue()
        self._closed = threading.Event()
        self.visibility_timeout_s = visibility_timeout_s
        self._threads = [
            threading.Thread(target=self._send_loop, daemon=True),
            threading.Thread(target=self._receive_loop, daemon=True),
            threading.Thread(target=self._resend_loop, daemon=True),
            threading.Thread(target=self._restore_loop, daemon=True),
        ]
        for t in self._threads:
            t.start()

    # The runtime and capacity come from the workers' heartbeats (re-read every 2 s).
    def _workers(self) -> list[dict[str, Any]]:
        now = time.monotonic()
        if now - self._workers_at > 2.0:
            try:
                raw = self.redis.hgetall(WORKERS)
                wall = time.time()
                self._workers_cache = [w for w in map(json.loads, raw.values()) if w.get("until", 0) > wall]
                self._workers_at = now
            except redis.RedisError:
                pass
        return self._workers_cache

    @property
    def runtime(self) -> str:
        runtimes = sorted({w["runtime"] for w in self._workers()})
        return runtimes[0] if len(runtimes) == 1 else ",".join(runtimes) or "python-unknown"

    @property
    def capacity(self) -> int:
        return max(1, sum(int(w["slots"]) for w in self._workers()))

    def submit(self, job: Job, on_start: Callable[[], None] | None = None) -> Future[JobResult]:
        fut: Future[JobResult] = Future()
        self._outbox.put((job, fut))
        return fut

    def cancel(self, fut: Future[JobResult]) -> bool:
        if fut.cancel():
            return True
        with self._lock:
            keys = [k for k, v in self._pending.items() if v[0] is fut]
            for key in keys:
                self._pending.pop(key, None)
        for batch, job_id in keys:
            try:
                self.redis.sadd(f"{PREFIX}cancel:{batch}", job_id)
                self.redis.expire(f"{PREFIX}cancel:{batch}", RESULT_TTL_S)
            except redis.RedisError:
                pass
        if keys:
            fut.set_exception(_cancelled())
        return bool(keys)

    def close(self) -> None:
        self._closed.set()
        self._outbox.put(STOP)
        for t in self._threads:
            t.join(timeout=5)
        with self._lock:
            for fut, *_ in self._pending.values():
                if not fut.done():
                    fut.set_exception(_cancelled())
            self._pending.clear()

    def _send_loop(self) -> None:
        while not self._closed.is_set():
            live = next_batch(self._outbox, self.chunk, 0.003)
            if live is None:
                return
            try:
                if live:
                    self._send(live)
            except Exception as exc:
                log.exception("cannot send a chunk")
                for job, fut in live:
                    if not fut.done():
                        fut.set_result(JobResult.infra_error(job.id, len(job.tests), f"dispatch failed: {exc}"))

    def _send(self, items: list[tuple[Job, Future[JobResult]]], attempt: int = 1) -> None:
        runtime = self.runtime
        hashes = [job.content_hash(runtime) for job, _ in items]
        try:
            cached = self.redis.mget([f"{PREFIX}cache:{h}" for h in hashes])
        except redis.RedisError:
            cached = [None] * len(items)
        batch = uuid.uuid4().hex
        jobs = []
        for n, ((job, fut), h, hit) in enumerate(zip(items, hashes, cached)):
            if hit:
                fut.set_result(replace(JobResult.from_dict(json.loads(hit)), id=job.id, cached=True))
                continue
            # On the wire a job is known by its place in the chunk: callers' ids need not be
            # unique across requests (two GRPO groups may both say "group/0").
            wire = str(n)
            with self._lock:
                self._pending[(batch, wire)] = (fut, job, time.monotonic(), attempt)
            jobs.append(job.to_dict() | {"id": wire, "hash": h})
        if not jobs:
            return
        payload = {"batch": batch, "reply": self.reply, "jobs": jobs}
        for tries in range(8):
            try:
                self.app.send_task(TASK, args=[payload], queue=QUEUE)
                return
            except Exception as exc:
                log.warning("cannot send a chunk (try %d): %s", tries + 1, exc)
                time.sleep(min(5.0, 0.1 * 2**tries))
        for d in jobs:
            self._resolve(JobResult.infra_error(d["id"], len(d["tests"]), "cannot reach the broker"), batch)

    def _resolve(self, result: JobResult, batch: str) -> None:
        with self._lock:
            entry = self._pending.pop((batch, result.id), None)
        if entry is not None and not entry[0].done():
            entry[0].set_result(replace(result, id=entry[1].id))

    def _restore_loop(self) -> None:
        """Put chunks whose worker died (unacked past the visibility timeout) back on the queue.

        kombu does this itself only inside an event loop, which Celery's thread
        pool does not run, so the dispatcher does it (under kombu's own mutex).
        """
        period = max(1.0, self.visibility_timeout_s / 2)
        while not self._closed.wait(period):
            try:
                with self.app.connection_for_write() as conn:
                    conn.default_channel.qos.restore_visible(num=100, interval=1)
            except Exception as exc:
                log.warning("cannot restore unacknowledged chunks: %s", exc)

    def _resend_loop(self) -> None:
        while not self._closed.wait(1.0):
            now = time.monotonic()
            with self._lock:
                late = [(k, v) for k, v in self._pending.items() if now - v[2] > self.resend_after_s]
                for k, _ in late:
                    del self._pending[k]
            for _key, (fut, job, _, attempt) in late:
                if attempt > 2:
                    fut.set_result(JobResult.infra_error(job.id, len(job.tests), "no answer from any worker"))
                else:
                    log.warning("job %s unanswered after %.0fs; sending it again", job.id, self.resend_after_s)
                    self._send([(job, fut)], attempt + 1)

    def _receive_loop(self) -> None:
        conn = redis.Redis.from_url(self.app.conf.broker_url)
        while not self._closed.is_set():
            try:
                item = conn.blpop([self.reply], timeout=1)
                more = conn.lpop(self.reply, 256) if item is not None else None  # drain in one trip
            except redis.RedisError as exc:  # Redis restarting: keep trying
                log.warning("reply list unavailable: %s", exc)
                time.sleep(0.5)
                continue
            if item is None:
                continue
            for raw in [item[1], *(more or [])]:
                try:
                    data = json.loads(raw)
                    self._resolve(JobResult.from_dict(data), data.get("batch", ""))
                except Exception:
                    log.exception("unreadable reply on %s", self.reply)


def _cancelled() -> BaseException:
    from concurrent.futures import CancelledError

    return CancelledError("cancelled")
