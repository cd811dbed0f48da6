"""A Dispatcher that sends jobs to a farm over gRPC (`acefarm score --server`)."""

from __future__ import annotations

import queue
import threading
from concurrent.futures import Future
from typing import Callable

from executor import Job, JobResult

from .batching import STOP, next_batch
from .client import Client



class RemoteDispatcher:
    """Batches submitted jobs into streaming ExecuteBatch calls on a few threads."""

    def __init__(self, target: str, token: str | None = None, tls: bool | str | None = None,
                 chunk: int = 256, parallel: int = 4) -> None:
        self.client = Client(target, token=token, tls=tls)
        info = self.client.info()
        self.runtime = info.runtime
        self.capacity = max(1, info.slots)
        self.chunk = chunk
        self._queue: queue.Queue[object] = queue.Queue()
        self._threads = [threading.Thread(target=self._work, daemon=True) for _ in range(parallel)]
        for t in self._threads:
            t.start()

    def submit(self, job: Job, on_start: Callable[[], None] | None = None) -> "Future[JobResult]":
        fut: Future[JobResult] = Future()
        self._queue.put((job, fut))
        return fut

    def cancel(self, fut: "Future[JobResult]") -> bool:
        return fut.cancel()

    def close(self) -> None:
        self._queue.put(STOP)
        for t in self._threads:
            t.join()
        self.client.close()

    def __enter__(self) -> "RemoteDispatcher":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _work(self) -> None:
        while True:
            live = next_batch(self._queue, self.chunk, 0.005)
            if live is None:
                return
            if not live:
                continue
            try:
                results = self.client.execute_many([job for job, _ in live])
            except Exception as exc:  # noqa: BLE001 - delivered to every waiting caller
                for _, fut in live:
                    fut.set_exception(exc)
                continue
            for (_, fut), result in zip(live, results):
                fut.set_result(result)
