"""A result cache by content hash in front of a Dispatcher (the embedded server's; cluster mode
keeps its cache in Redis). A repeated job is answered without running, marked `cached`. Only
repeatable results are kept (JobResult.repeatable): never an infra_error or a timeout, which a
loaded machine may have caused."""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Mapping
from concurrent.futures import Future
from dataclasses import replace

from executor import Job, JobResult
from executor.fair import Flow

from .dispatcher import Dispatcher, FarmStatus, OnStart


def result_size(result: JobResult) -> int:
    """About what a result costs to keep: a base, each test's record and its texts."""
    size = 400 + len(result.message or "")
    for t in result.tests:
        size += 120 + len(t.message or "")
        if t.output is not None:
            size += len(t.output.stdout) + len(t.output.stderr) + sum(len(v) for _, v in t.output.files)
    return size


class CachingDispatcher:
    """Results by content hash, least recently used out first past `max_bytes` (their
    approximate size, `result_size`)."""

    def __init__(self, inner: Dispatcher, max_bytes: int = 512 << 20) -> None:
        self.inner = inner
        self.runtime = inner.runtime
        self.capacity = inner.capacity
        self.max_bytes = max_bytes
        self.bytes = 0
        self._results: OrderedDict[str, tuple[JobResult, int]] = OrderedDict()
        self._lock = threading.Lock()
        self.hits = 0

    def submit(self, job: Job, on_start: OnStart | None = None, flow: Flow = None) -> Future[JobResult]:
        key = job.content_hash(self.runtime)
        with self._lock:
            hit = self._results.get(key)
            if hit is not None:
                self._results.move_to_end(key)
                self.hits += 1
        if hit is not None:
            fut: Future[JobResult] = Future()
            fut.set_result(replace(hit[0], id=job.id, cached=True))
            return fut
        fut = self.inner.submit(job, on_start, flow)
        fut.add_done_callback(lambda f: self._store(key, f))
        return fut

    def _store(self, key: str, fut: Future[JobResult]) -> None:
        if fut.cancelled() or fut.exception() is not None or not fut.result().repeatable:
            return
        result = fut.result()
        size = result_size(result)
        with self._lock:
            old = self._results.pop(key, None)
            if old is not None:
                self.bytes -= old[1]
            self._results[key] = (result, size)
            self.bytes += size
            while self.bytes > self.max_bytes and self._results:
                _, (_, gone) = self._results.popitem(last=False)
                self.bytes -= gone

    @property
    def languages(self) -> Mapping[str, str]:
        return self.inner.languages

    def cancel(self, fut: Future[JobResult]) -> bool:
        return self.inner.cancel(fut)

    def status(self) -> FarmStatus:
        return self.inner.status()

    def close(self) -> None:
        self.inner.close()
