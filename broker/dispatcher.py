"""Where jobs run: one seam, several implementations (the way httpx swaps transports).

The CLI and (later) the gRPC server only see `Dispatcher`: submit a job, get a
future of its result. `LocalDispatcher` runs jobs on an in-process executor
Pool (embedded mode).
"""

from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import Future
from typing import Protocol

from executor import ExecutorConfig, Job, JobResult, Pool


class Dispatcher(Protocol):
    """Runs jobs somewhere and resolves each future with its JobResult."""

    @property
    def runtime(self) -> str:
        """Identity of the runtime that produced results (part of cache keys)."""
        ...

    @property
    def capacity(self) -> int:
        """How many jobs it can usefully run at once."""
        ...

    def submit(self, job: Job, on_start: Callable[[], None] | None = None) -> Future[JobResult]: ...

    def cancel(self, fut: Future[JobResult]) -> bool: ...

    def close(self) -> None: ...


class LocalDispatcher:
    """Embedded mode: a local Pool of sandboxed slots in this process."""

    def __init__(self, config: ExecutorConfig) -> None:
        self.pool = Pool(config).start()
        self.runtime = self.pool.runtime
        self.capacity = config.slots

    def submit(self, job: Job, on_start: Callable[[], None] | None = None) -> Future[JobResult]:
        return self.pool.submit(job, on_start)

    def cancel(self, fut: Future[JobResult]) -> bool:
        return self.pool.cancel(fut)

    def close(self) -> None:
        self.pool.close()

    def __enter__(self) -> LocalDispatcher:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
