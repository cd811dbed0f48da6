"""How the trainer reaches the farm: an embedded sandbox pool, or a farm server (client SDK)."""

from __future__ import annotations

from typing import Any, Protocol

from broker.client import Client
from executor import ExecutorConfig, Job, JobResult, Limits, Pool
from executor.job import parse_tests


class Farm(Protocol):
    def score(self, programs: list[str], tests: list[Any], group_id: str) -> list[JobResult]:
        """One result per program, all against the same tests."""
        ...

    def close(self) -> None: ...


class EmbeddedFarm:
    def __init__(self, config: ExecutorConfig | None = None) -> None:
        self.pool = Pool(config or ExecutorConfig()).start()
        self.limits = self.pool.config.limits

    def score(self, programs: list[str], tests: list[Any], group_id: str) -> list[JobResult]:
        suite = parse_tests(tests)  # once for the whole group
        jobs = [Job.from_parts(f"{group_id}/{i}", p, suite, limits=self.limits) for i, p in enumerate(programs)]
        return list(self.pool.map(jobs))

    def close(self) -> None:
        self.pool.close()


class RemoteFarm:
    def __init__(
        self, target: str, token: str | None = None, tls: str | None = None, limits: Limits | None = None
    ) -> None:
        self.client = Client(target, token=token, tls=tls)
        self.limits = limits

    def score(self, programs: list[str], tests: list[Any], group_id: str) -> list[JobResult]:
        return self.client.score(programs, tests, group_id=group_id, limits=self.limits).results

    def close(self) -> None:
        self.client.close()


def open_farm(
    server: str | None = None, token: str | None = None, tls: str | None = None, config: ExecutorConfig | None = None
) -> Farm:
    """The farm at `server`, or an embedded pool when there is none."""
    if server:
        return RemoteFarm(server, token, tls, config.limits if config else None)
    return EmbeddedFarm(config)
