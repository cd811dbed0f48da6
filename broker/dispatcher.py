"""Where jobs run: one seam, several implementations (the way httpx swaps transports).

The CLI and (later) the gRPC server only see `Dispatcher`: submit a job, get a
future of its result. `LocalDispatcher` runs jobs on an in-process executor
Pool (embedded mode).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from concurrent.futures import Future
from dataclasses import dataclass
from typing import Protocol

from executor import ExecutorConfig, Job, JobResult, Pool
from executor.fair import Flow

from . import languages

OnStart = Callable[[float], None]
"""Called once a job starts running, with the `time.monotonic()` at which it started."""


@dataclass(frozen=True)
class FarmStatus:
    """What a dispatcher knows of the farm behind it, for operators (metrics, GetInfo).

    workers/slots/busy: the live workers (the embedded pool counts as one), their sandbox
    slots and how many run a job now. chunks_waiting/chunks_taken: cluster mode's queue,
    chunks not yet taken and taken but not acknowledged. failovers: chunks requeued from dead
    workers; cancellations: jobs cancelled before their answer. jobs_waiting/flows_waiting:
    jobs waiting for their turn (executor/fair.py: not started by a slot, or in cluster mode
    not sent yet) and how many flows (clients) they are of."""

    workers: int
    slots: int
    busy: int
    chunks_waiting: int = 0
    chunks_taken: int = 0
    failovers: int = 0
    cancellations: int = 0
    jobs_waiting: int = 0
    flows_waiting: int = 0


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

    @property
    def languages(self) -> Mapping[str, str]:
        """The languages it runs now -> what runs each ("" when not known), Python first
        (languages.py)."""
        ...

    def submit(self, job: Job, on_start: OnStart | None = None, flow: Flow = None) -> Future[JobResult]:
        """Run `job`. `flow`: whose job it is (a client's connection): queued jobs start one
        flow at a time in turn (executor/fair.py), so no client's burst starves another's."""
        ...

    def cancel(self, fut: Future[JobResult]) -> bool: ...

    def status(self) -> FarmStatus: ...

    def close(self) -> None: ...


class LocalDispatcher:
    """Embedded mode: a local Pool of sandboxed slots in this process."""

    def __init__(self, config: ExecutorConfig) -> None:
        self.pool = Pool(config).start()
        self.runtime = self.pool.runtime
        self.capacity = config.slots
        self.languages = languages.of_pool(self.pool)

    def submit(self, job: Job, on_start: OnStart | None = None, flow: Flow = None) -> Future[JobResult]:
        return self.pool.submit(job, None if on_start is None else lambda: on_start(time.monotonic()), flow)

    def cancel(self, fut: Future[JobResult]) -> bool:
        return self.pool.cancel(fut)

    def status(self) -> FarmStatus:
        return FarmStatus(
            workers=1,
            slots=self.capacity,
            busy=self.pool.busy,
            jobs_waiting=self.pool.waiting,
            flows_waiting=self.pool.flows_waiting,
        )

    def close(self) -> None:
        self.pool.close()

    def __enter__(self) -> LocalDispatcher:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
