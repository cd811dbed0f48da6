"""A result cache by content hash in front of a Dispatcher (the embedded server's; cluster mode
keeps its cache in Redis). A repeated job is answered without running, marked `cached`."""

from __future__ import annotations

import threading
from collections import OrderedDict
from concurrent.futures import Future
from dataclasses import replace

from executor import Job, JobResult, Verdict

from .dispatcher import Dispatcher, FarmStatus, OnStart


class CachingDispatcher:
    def __init__(self, inner: Dispatcher, max_entries: int = 100_000) -> None:
        self.inner = inner
        self.runtime = inner.runtime
        self.capacity = inner.capacity
        self.max_entries = max_entries
        self._results: OrderedDict[str, JobResult] = OrderedDict()
        self._lock = threading.Lock()
        self.hits = 0

    def submit(self, job: Job, on_start: OnStart | None = None) -> Future[JobResult]:
        key = job.content_hash(self.runtime)
        with self._lock:
            hit = self._results.get(key)
            if hit is not None:
                self._results.move_to_end(key)
                self.hits += 1
        if hit is not None:
            fut: Future[JobResult] = Future()
            fut.set_result(replace(hit, id=job.id, cached=True))
            return fut
        fut = self.inner.submit(job, on_start)
        fut.add_done_callback(lambda f: self._store(key, f))
        return fut

    def _store(self, key: str, fut: Future[JobResult]) -> None:
        if fut.cancelled() or fut.exception() is not None or fut.result().verdict is Verdict.INFRA_ERROR:
            return
        with self._lock:
            self._results[key] = fut.result()
            while len(self._results) > self.max_entries:
                self._results.popitem(last=False)

    def cancel(self, fut: Future[JobResult]) -> bool:
        return self.inner.cancel(fut)

    def status(self) -> FarmStatus:
        return self.inner.status()

    def close(self) -> None:
        self.inner.close()
