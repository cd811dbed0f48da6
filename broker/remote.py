"""A Dispatcher that sends jobs to a farm over gRPC (`acefarm score --server`)."""

from __future__ import annotations

import json
import queue
import threading
from concurrent.futures import Future
from typing import Any

from executor import Job, JobResult
from executor.fair import Flow

from . import languages
from .batching import STOP, next_batch
from .client import Client
from .dispatcher import FarmStatus, OnStart

FIRST_STREAM = 32  # jobs in a stream while none are in flight; each later one up to those in flight


class RemoteDispatcher:
    """Batches submitted jobs into streaming ExecuteBatch calls on a few threads. Streams start
    small and grow (each at most the jobs already in flight, at least FIRST_STREAM, at most
    `chunk`): the farm starts on a run's first jobs while its client still reads the rest,
    and a long run still travels in few, large streams."""

    def __init__(
        self, target: str, token: str | None = None, tls: bool | str | None = None, chunk: int = 256, parallel: int = 4
    ) -> None:
        # A stream of `chunk` jobs may wait its turn on a busy farm: a deadline of an hour.
        self.client = Client(target, token=token, tls=tls, timeout_s=3600.0)
        # The first contact retries briefly: a wrong address is said at once, not after the
        # minute the SDK waits for a farm that restarts (its later calls do).
        with Client(target, token=token, tls=tls, timeout_s=30.0, retries=3) as first:
            info = first.info()
        self.runtime = info.runtime
        self.capacity = max(1, info.slots)
        # What the farm offered when this client connected (a cluster's may change later: the
        # server refuses then what it no longer has).
        self.languages = {name: info.toolchains.get(name, "") for name in languages.ordered(info.languages)}
        self.chunk = chunk
        self._lock = threading.Lock()
        self._in_flight = 0  # jobs in streams not answered yet
        self._queue: queue.Queue[object] = queue.Queue()
        self._threads = [threading.Thread(target=self._work, daemon=True) for _ in range(parallel)]
        for t in self._threads:
            t.start()

    def submit(self, job: Job, on_start: OnStart | None = None, flow: Flow = None) -> Future[JobResult]:
        # No `flow` of its own: the server takes this client's connection for one.
        fut: Future[JobResult] = Future()
        self._queue.put((job, fut))
        return fut

    def cancel(self, fut: Future[JobResult]) -> bool:
        return fut.cancel()

    def status(self) -> FarmStatus:
        return FarmStatus(workers=1, slots=self.capacity, busy=0)

    def close(self) -> None:
        self._queue.put(STOP)
        for t in self._threads:
            t.join()
        self.client.close()

    def __enter__(self) -> RemoteDispatcher:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _stream_size(self) -> int:
        with self._lock:
            return min(self.chunk, max(FIRST_STREAM, self._in_flight))

    def _work(self) -> None:
        while True:
            live = next_batch(self._queue, self._stream_size, 0.005)
            if live is None:
                return
            with self._lock:
                self._in_flight += len(live)
            try:
                self._stream(live)
            finally:
                with self._lock:
                    self._in_flight -= len(live)

    def _stream(self, live: list[tuple[Job, Future[JobResult]]]) -> None:
        """Score `live` in one or more ExecuteBatch calls (MAX_REQUEST_BYTES each) and resolve
        each job's future (`infra_error` for a call the farm did not answer)."""
        for part in _by_size(live, MAX_REQUEST_BYTES):
            try:
                results = self.client.execute_many([job for job, _ in part])
            except Exception as exc:
                details = getattr(exc, "details", None)
                detail = details() if callable(details) else exc
                message = f"the farm did not score this job: {detail}"
                results = [JobResult.infra_error(job.id, len(job.tests), str(message)) for job, _ in part]
            for (_, fut), result in zip(part, results):
                fut.set_result(result)


MAX_REQUEST_BYTES = 16 << 20  # well under the server's 64 MiB message limit


def _by_size(items: list[tuple[Job, Any]], limit: int) -> list[list[tuple[Job, Any]]]:
    """Split (job, future) pairs into requests of at most ~`limit` bytes of program and tests."""
    parts: list[list[tuple[Job, Any]]] = [[]]
    size = 0
    for job, fut in items:
        n = len(job.program) + sum(len(json.dumps(t, default=str)) for t in job.to_dict()["tests"])
        n += len(job.checker.program) if job.checker is not None else 0
        if parts[-1] and size + n > limit:
            parts.append([])
            size = 0
        parts[-1].append((job, fut))
        size += n
    return parts
