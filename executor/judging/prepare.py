"""A job prepared to run: each test planned once, in the process that runs the job.

Front ends validate a job's fields only (job.py); the trusted plans of its asserts are made
here, once, just before the sandbox runs it (and kept in a bounded cache across jobs: a
GRPO group's samples share one suite).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from ..job import Job
from .kind import STDIO, Plan
from .registry import kind_of


@dataclass(frozen=True)
class PreparedJob:
    """`job` with the plan of each of its tests, in order."""

    job: Job
    plans: tuple[Plan, ...]

    @property
    def mode(self) -> str:
        """How the sandbox runs the job: kind.TESTS or kind.STDIO (all its tests share one)."""
        return self.plans[0].kind.mode

    def sandbox_request(self) -> dict[str, Any]:
        """The job as the zygote sees it: no expected outputs, no literals, no test text the
        test process runs (`tester_sources`)."""
        job = self.job
        return {
            "program": job.program,
            "mode": self.mode,
            "first_failure": job.first_failure,
            "limits": job.limits.to_dict(),
            "tests": [p.kind.sandbox_spec(p) for p in self.plans],
        }

    def tester_sources(self) -> list[str]:
        """The test texts the sandbox's test process runs, in order (never the zygote's or
        the program's process: they go to the test process beside the job)."""
        return [p.tester_source for p in self.plans if p.tester_source is not None]

    def phases(self) -> int:
        """The phases the sandbox runs: one per test, plus loading the program once in TESTS mode."""
        return len(self.plans) + (0 if self.mode == STDIO else 1)

    def forks(self) -> int:
        """The children the sandbox forks: one per test in STDIO mode, else one."""
        return len(self.plans) if self.mode == STDIO else 1


def prepare(job: Job) -> PreparedJob:
    """Plan each of `job`'s tests (each kind's `plan`, with the plans before it)."""
    plans: list[Plan] = []
    for test in job.tests:
        plans.append(kind_of(test).plan(test, plans))
    return PreparedJob(job, tuple(plans))
