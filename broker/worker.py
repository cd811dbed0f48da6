"""The worker side of cluster mode: `acefarm worker` runs chunks from Redis on its sandbox pool.

A worker consumes the farm's default queue (Python's chunks) and the queue of each other
language its pool runs (languages.py); it beats every HEARTBEAT_S (registry.py), listing those
languages, and records each chunk it takes, so that a dispatcher can requeue them the moment
it dies; runs a chunk's jobs on its Pool, skipping those already answered or cancelled; and
publishes each result once (cluster.py's script), filling the result cache within its
`--cache-mb` bound.
"""

from __future__ import annotations

import collections
import functools
import gc
import itertools
import json
import logging
import os
import queue
import socket
import threading
import time
from concurrent.futures import Future
from typing import Any

import psutil
import redis
from celery import signals

from executor import ExecutorConfig, Job, JobResult, Pool, Verdict

from . import languages, registry
from .acks import TolerantAcks
from .chunks import WorkerSuites, fetch
from .cluster import (
    CACHE_BYTES,
    CACHE_CAP,
    CACHE_ENTRY_OVERHEAD,
    CACHE_INDEX,
    CANCEL_POLL_S,
    DEFAULT_CACHE_MB,
    MAX_DELIVERIES,
    PREFIX,
    PUBLISH,
    PUBLISH_LINGER_S,
    REPLY_TTL_S,
    SEEN_TTL_S,
    STATS_TTL_S,
    WORKER_ATTEMPTS,
    cancel_key,
    deliveries_key,
    done_key,
    make_app,
    retrying,
    seen_key,
)
from .metrics import WorkerMetrics
from .prefetch import FetchGate

log = logging.getLogger(__name__)
VERDICTS = frozenset(v.value for v in Verdict)


class Worker:
    """One `acefarm worker` process: its name, its started Pool, its Redis client, the suites
    it has parsed, and the bound of the result cache it fills. Made once by run_worker; the
    chunk task reaches it through the Celery app (make_app's `worker`)."""

    def __init__(
        self,
        name: str,
        pool: Pool,
        r: redis.Redis[bytes],
        cache_bytes: int = DEFAULT_CACHE_MB << 20,
        gate: FetchGate | None = None,
    ) -> None:
        self.name = name
        self.pool = pool
        self.gate = gate
        self.redis = r
        self.cache_bytes = cache_bytes
        self.suites = WorkerSuites(pool.config.rules)
        self.languages = languages.of_pool(pool)  # what its heartbeat offers (the pool is started)
        self._script = _load_script(r)
        self._lock = threading.Lock()
        self._held: dict[str, str] = {}  # task id -> kombu delivery tag, of the chunks it holds
        self.jobs: collections.Counter[str] = collections.Counter()  # outcome -> jobs
        self.chunks: collections.Counter[str] = collections.Counter()  # outcome -> chunks

    def info(self) -> registry.WorkerInfo:
        """What this worker's heartbeat says."""
        with self._lock:
            published = sum(n for k, n in self.jobs.items() if k in VERDICTS)
            infra = self.jobs[Verdict.INFRA_ERROR.value]
            chunks = sum(self.chunks.values())
        return registry.WorkerInfo(
            self.name,
            self.pool.config.slots,
            self.pool.busy,
            self.pool.runtime,
            published=published,
            infra_errors=infra,
            chunks=chunks,
            restarts=self.pool.stats["slot_restarts"],
            cpu_percent=psutil.cpu_percent(interval=None),
            memory_percent=psutil.virtual_memory().percent,
            languages=self.languages,
        )

    def held(self) -> list[str]:
        """The delivery tags of the chunks it holds (their age renewed by each heartbeat)."""
        with self._lock:
            return list(self._held.values())

    def tally_jobs(self) -> dict[str, int]:
        with self._lock:
            return dict(self.jobs)

    def tally_chunks(self) -> dict[str, int]:
        with self._lock:
            return dict(self.chunks)

    def count(self, outcome: str, n: int = 1, chunk: bool = False) -> None:
        """Tally jobs (a verdict, "cancelled", "answered_elsewhere") or chunks ("done", "gave_up")."""
        if n:
            with self._lock:
                (self.chunks if chunk else self.jobs)[outcome] += n

    def hold(self, task_id: str, delivery_tag: str) -> None:
        """A chunk was taken from the queue (it may wait in Celery's backlog before it runs)."""
        if self.gate is not None:
            self.gate.received(task_id)
        with self._lock:
            self._held[task_id] = delivery_tag
        try:
            registry.hold(self.redis, self.name, task_id, delivery_tag)
        except redis.RedisError as exc:  # the visibility timeout still covers it
            log.warning("cannot record chunk %s as held: %s", task_id, exc)

    def release(self, task_id: str) -> None:
        if self.gate is not None:
            self.gate.submitted(task_id)  # if it ended before its jobs were submitted
        with self._lock:
            self._held.pop(task_id, None)
        try:
            registry.release(self.redis, self.name, task_id)
        except redis.RedisError as exc:
            log.warning("cannot release chunk %s: %s", task_id, exc)

    def run_chunk(self, payload: dict[str, Any], task_id: str) -> int:
        """Run one chunk on this worker's pool; publish each result once. Returns jobs published."""
        r = self.redis
        batch, reply, wire = payload["batch"], payload["reply"], payload["jobs"]
        need = self.suites.missing(payload)

        def check() -> list[Any]:  # one round trip: count this delivery, what is answered or cancelled
            with r.pipeline() as p:
                p.incr(deliveries_key(task_id))
                p.expire(deliveries_key(task_id), SEEN_TTL_S)
                p.hmget(seen_key(batch), [d["id"] for d in wire])
                p.smembers(cancel_key(batch))
                p.exists(done_key(batch))
                return p.execute()

        deliveries, _, seen, cancelled, finished = retrying(check, WORKER_ATTEMPTS)
        stopped = {m.decode() for m in cancelled}
        if finished:  # its server has every answer already (a late redelivery), or gave up on them
            seen = [None if d["id"] in stopped else b"1" for d in wire]  # those are cancelled, not answered
        todo = [d for d, done in zip(wire, seen) if done is None and d["id"] not in stopped]
        answered = sum(done is not None for done in seen)
        self.count("answered_elsewhere", answered)
        self.count("cancelled", len(wire) - answered - len(todo))  # dropped before they ran
        sizes = [s["n"] for s in payload["suites"]]
        if deliveries > MAX_DELIVERIES:
            log.error("task %s delivered %d times; giving up on %d jobs", task_id, deliveries, len(todo))
            failed = [(d, f"task redelivered {deliveries} times") for d in todo]
            gave_up = self._publish_failures(batch, reply, failed, sizes)
            self.count("gave_up", chunk=True)
            return gave_up
        fetched: dict[str, bytes | None] = {}
        for sha in need if todo else []:
            fetched[sha] = retrying(functools.partial(fetch, r, sha), WORKER_ATTEMPTS)
        built = self.suites.jobs(payload, todo, fetched)
        published = self._publish_failures(batch, reply, [(d, j) for d, j in built if isinstance(j, str)], sizes)
        jobs = [(d, j) for d, j in built if isinstance(j, Job)]
        started: dict[str, float] = {}
        futures: dict[Future[JobResult], tuple[Job, str | None]] = {}
        gate = self.gate

        def on_start(job_id: str) -> None:
            started[job_id] = time.time()
            if gate is not None:
                gate.poke()

        for d, job in jobs:
            fut = self.pool.submit(job, functools.partial(on_start, job.id))
            futures[fut] = (job, d.get("hash"))
        if gate is not None:
            gate.submitted(task_id)
        stop = threading.Event()
        watcher = threading.Thread(
            target=_watch_cancellations, args=(r, batch, futures, self.pool, stop, gate), daemon=True
        )
        watcher.start()
        ended: queue.SimpleQueue[Future[JobResult]] = queue.SimpleQueue()
        all_ended = threading.Event()
        count = itertools.count(1).__next__  # atomic: callbacks run in the slots' threads

        def on_end(fut: Future[JobResult], total: int = len(futures)) -> None:
            ended.put(fut)
            if count() == total:
                all_ended.set()

        for fut in futures:
            fut.add_done_callback(on_end)
        left = len(futures)
        try:
            while left:
                # Publish what is done, a few at a time: one round trip for several results, and
                # one wake-up of the dispatcher for them, at the cost of PUBLISH_LINGER_S latency
                # (none for the chunk's last). This thread wakes for the first and at the end of
                # the linger, not once a result: the slot's thread is not preempted for each.
                done = [ended.get()]
                all_ended.wait(PUBLISH_LINGER_S)
                while len(done) < left:
                    try:
                        done.append(ended.get_nowait())
                    except queue.Empty:
                        break
                left -= len(done)
                # A cancelled job (its client went away) is not answered at all.
                self.count("cancelled", sum(f.cancelled() or f.exception() is not None for f in done))
                ready = [
                    (*futures[f], f.result(), started.get(futures[f][0].id))
                    for f in done
                    if not f.cancelled() and f.exception() is None
                ]
                if ready:
                    publish = functools.partial(self._publish_ready, batch, reply, ready)
                    published += retrying(publish, WORKER_ATTEMPTS)
        finally:
            stop.set()
            watcher.join()
        self._finish(task_id, published)
        self.count("done", chunk=True)
        return published

    def _publish_ready(
        self, batch: str, reply: str, ready: list[tuple[Job, str | None, JobResult, float | None]]
    ) -> int:
        """Publish finished results (and fill the cache) in one call of the publish script."""
        entries = []
        for job, content_hash, result, started in ready:
            cacheable = content_hash and result.repeatable  # not an infra_error, nor a timeout
            cache_key = f"{PREFIX}cache:{content_hash}" if cacheable else ""
            # One text for the reply and the cache: a hit takes its own id and `cached` from the
            # request it answers (the batch and start time it also carries are ignored).
            entries.append(
                (job.id, result.verdict.value, cache_key, result.to_dict() | {"batch": batch, "started": started})
            )
        return self._publish_all(batch, reply, entries)

    def _publish_failures(self, batch: str, reply: str, failed: list[tuple[Any, Any]], sizes: list[int]) -> int:
        """Answer jobs that cannot run here with `infra_error` (never cached)."""
        entries = []
        for d, why in failed:
            res = JobResult.infra_error(d["id"], sizes[d["suite"]], why)
            entries.append((d["id"], res.verdict.value, "", res.to_dict() | {"batch": batch}))
        n: int = retrying(lambda: self._publish_all(batch, reply, entries), WORKER_ATTEMPTS) if entries else 0
        return n

    def _publish_all(self, batch: str, reply: str, entries: list[tuple[str, str, str, dict[str, Any]]]) -> int:
        """Run the publish script on (job id, verdict, cache key or "", message) entries, in one
        call. EVALSHA by the script's hash (redis-py's Script checks SCRIPT EXISTS first: a
        round trip more); a Redis that restarted has forgotten it: it is loaded again and the
        call repeated (nothing of the first ran)."""
        args: list[Any] = [REPLY_TTL_S, SEEN_TTL_S, time.time(), self.cache_bytes, CACHE_ENTRY_OVERHEAD]
        for job_id, _, cache_key, message in entries:
            args += [job_id, cache_key, json.dumps(message)]
        keys = [seen_key(batch), reply, CACHE_INDEX, CACHE_BYTES, CACHE_CAP, done_key(batch)]
        for attempt in range(2):
            try:
                flags = self.redis.evalsha(self._script, len(keys), *keys, *args)  # type: ignore[no-untyped-call]
            except redis.exceptions.NoScriptError:
                if attempt:
                    raise
                self._script = _load_script(self.redis)
                continue
            for (_, verdict, _, _), first in zip(entries, flags):
                self.count(verdict if first else "answered_elsewhere")
            return sum(flags)
        raise AssertionError("unreachable")

    def _finish(self, task_id: str, published: int) -> None:
        try:
            with self.redis.pipeline() as p:
                p.delete(deliveries_key(task_id))  # done: a late redelivery finds every job answered
                if published:
                    p.hincrby(f"{PREFIX}stats:jobs", self.name, published)
                    p.expire(f"{PREFIX}stats:jobs", STATS_TTL_S)
                p.execute()
        except redis.RedisError as exc:
            log.warning("cannot record a finished chunk: %s", exc)


def _wait_for_redis(r: redis.Redis[bytes], every_s: float = 10.0) -> None:
    """Return once Redis answers, saying every `every_s` seconds that it waits."""
    said = 0.0
    while True:
        try:
            r.ping()
            return
        except redis.RedisError as exc:
            now = time.monotonic()
            if now - said >= every_s:
                where = r.connection_pool.connection_kwargs
                log.warning("waiting for Redis at %s:%s (%s)", where.get("host"), where.get("port"), exc)
                said = now
            time.sleep(0.5)


def _load_script(r: redis.Redis[bytes]) -> str:
    """Load the publish script; its sha1 names it in EVALSHA."""
    sha = r.script_load(PUBLISH)  # type: ignore[no-untyped-call]
    return sha.decode() if isinstance(sha, bytes) else str(sha)


def _watch_cancellations(
    r: redis.Redis[bytes],
    batch: str,
    futures: dict[Future[Any], Any],
    pool: Pool,
    stop: threading.Event,
    gate: FetchGate | None = None,
) -> None:
    """Stop jobs the dispatcher cancelled (its client went away or its deadline passed): a
    queued one is dropped before it runs (and no longer waits for a slot: that may open the
    fetch gate), a running one is killed in its sandbox."""
    by_id = {job.id: fut for fut, (job, _) in futures.items()}
    while not stop.wait(CANCEL_POLL_S):
        try:
            cancelled = {m.decode() for m in r.smembers(cancel_key(batch))}
        except redis.RedisError:
            continue
        stopped = 0
        for job_id in cancelled:
            fut = by_id.pop(job_id, None)
            if fut is not None and not fut.done():
                stopped += pool.cancel(fut)
        if stopped and gate is not None:
            gate.poke()


def freeze_startup(**_: Any) -> None:
    """Once the consumer is ready (Celery's worker_ready): what start-up built (Celery's
    bootsteps, kombu, the imports) lives as long as the process; out of the collector's sight,
    a full collection no longer walks it. Unfrozen, one took about 50 ms with every thread
    held, the slot's thread included, a few times a minute under load."""
    gc.collect()
    gc.freeze()


def _heartbeat(worker: Worker, stop: threading.Event) -> None:
    """Advertise the worker (slots, busy slots, runtime) every HEARTBEAT_S until `stop`."""
    while True:
        try:
            registry.beat(worker.redis, worker.info(), worker.held())
        except redis.RedisError as exc:
            log.warning("heartbeat failed: %s", exc)
        if stop.wait(registry.HEARTBEAT_S):
            return


def run_worker(
    broker_url: str,
    config: ExecutorConfig,
    threads: int = 2,
    visibility_timeout_s: int = 600,
    name: str | None = None,
    cache_mb: int = DEFAULT_CACHE_MB,
    metrics_port: int = 0,
    metrics_host: str = "0.0.0.0",
) -> None:
    """The body of `acefarm worker`: a Pool, a heartbeat, and a Celery consumer (and its
    Prometheus metrics on `metrics_port`, unless 0)."""
    r = redis.Redis.from_url(broker_url)
    pool = Pool(config).start()
    _wait_for_redis(r)  # started before its broker (a host's boot, a compose file): it waits
    # With two chunks or more in progress at once, the next is taken only while the current
    # one's last jobs run (prefetch.py): its slots never wait for a hand-over, and it never
    # holds a chunk that another worker could start sooner.
    gate = FetchGate(lambda: pool.waiting, low_water=config.slots) if threads > 1 else None
    name = name or f"{socket.gethostname()}-{os.getpid()}"
    worker = Worker(name, pool, r, cache_mb << 20, gate)
    if metrics_port:
        WorkerMetrics(worker.info, worker.tally_jobs, worker.tally_chunks).serve(metrics_port, metrics_host)
    # A worker started under the name of one that died (a container restarted in place keeps
    # its hostname, maybe its pid) beats before that one's liveness lapses: the dispatchers
    # would never see the death, and what it held would wait for the visibility timeout.
    # Nothing live holds chunks under this name yet: its predecessor's go back on the queue.
    registry.fail_over(r, name)
    registry.beat(r, worker.info())  # registered before it takes any chunk
    app = make_app(broker_url, visibility_timeout_s, worker=worker)
    app.steps["consumer"].add(TolerantAcks)  # an acknowledgement Redis missed frees its slot anyway
    if gate is not None:
        app.steps["consumer"].add(gate.bootstep())

    def on_received(sender: Any = None, request: Any = None, **_: Any) -> None:
        worker.hold(request.id, str(request.message.delivery_tag))

    signals.task_received.connect(on_received, weak=False)
    signals.worker_ready.connect(freeze_startup, weak=False)
    stop = threading.Event()
    beat = threading.Thread(target=_heartbeat, args=(worker, stop), daemon=True)
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
                ",".join(languages.queues(worker.languages)),  # the default queue, and one per other language
                "--without-gossip",
                "--without-mingle",
                "--without-heartbeat",
            ]
        )
    finally:
        stop.set()
        beat.join(timeout=5)
        try:
            registry.leave(r, name)
        except redis.RedisError as exc:
            log.warning("cannot leave the registry (it lapses in %d s): %s", registry.LIVENESS_TTL_S, exc)
        pool.close()
