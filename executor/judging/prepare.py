"""A job prepared to run: each test planned once, in the process that runs the job.

Front ends validate a job's fields only (job.py); the trusted plans of its asserts are made
here, once, just before the sandbox runs it (and kept in a bounded cache across jobs: a
GRPO group's samples share one suite).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from ..job import Job
from ..limits import BOUNDS
from .cache import BoundedLRU
from .kind import STDIO, Plan
from .registry import kind_of, to_raw


@dataclass(frozen=True)
class PreparedJob:
    """`job` with the plan of each of its tests, in order (`specs`: what the sandbox runs
    for each, when the suite's plans keep them; else made on demand)."""

    job: Job
    plans: tuple[Plan, ...]
    specs: tuple[dict[str, Any], ...] | None = field(default=None, compare=False, repr=False)

    @property
    def mode(self) -> str:
        """How the sandbox runs the job: kind.TESTS or kind.STDIO (all its tests share one)."""
        return self.plans[0].kind.mode

    def sandbox_request(self) -> dict[str, Any]:
        """The job as the zygote sees it: no expected outputs, no literals, no test text the
        test process runs (`tester_sources`)."""
        job = self.job
        request = {
            "program": job.program,
            "mode": self.mode,
            "first_failure": job.first_failure,
            "limits": _run_limits(job, self.plans) if self.mode == STDIO else job.limits.to_dict(),
            "tests": list(self.specs) if self.specs is not None else _sandbox_specs(self.plans),
        }
        if job.prelude:
            request["prelude"] = job.prelude
        return request

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


OUTPUT_ROOM = 4  # times the longest expected output a run may print (_run_limits)
# Bytes more per expected token where the checker compares numbers ("float", "lines"): a right
# answer printed to other places takes far more than 4 times its expected text ("0" as
# "0.000000000000", "0.5" as "0.500000000000000", 1e15 to 20 places: 36 bytes).
NUMBER_ROOM = 40
_NUMERIC_CHECKERS = frozenset({"float", "lines"})


def prepare(job: Job) -> PreparedJob:
    """Plan each of `job`'s tests (each kind's `plan`, with the plans before it). Plans depend
    on the tests only: jobs that share one parsed suite (a GRPO group through Score, the
    trainer's farm) share its plans, however large its tests are."""
    return PreparedJob(job, *_SUITES.plans(job.tests))


def _run_limits(job: Job, plans: tuple[Plan, ...]) -> dict[str, Any]:
    """The job's limits for its runs: `output_kb` at least what its longest expected (or
    accepted) output needs, four times over and 1 KiB more for what checkers forgive (a
    trailing space on every line of a one-column answer, `\r\n`), and NUMBER_ROOM bytes more
    per token where the checker compares numbers (`0.500000000000000` for `0.5`).
    Datasets' outputs can be larger than the default (CodeContests': 349 KB against 256 KiB):
    a limit that cuts a right answer would fail every program."""
    limits = job.limits.to_dict()
    most = 0
    for plan in plans:
        test = plan.test
        outputs = getattr(test, "accepted", None) or (getattr(test, "expected_stdout", ""),)
        numeric = getattr(test, "checker", None) in _NUMERIC_CHECKERS
        for out in outputs:  # isascii is O(1): a UTF-8 length is counted only for other text
            size = (len(out) if out.isascii() else len(out.encode("utf-8", "surrogatepass"))) * OUTPUT_ROOM
            if numeric:  # tokens, at most: one more than the separators (C-level counts, no list)
                size += (out.count(" ") + out.count("\n") + out.count("\t") + 1) * NUMBER_ROOM
            most = max(most, size)
    need_kb = -(-(most + 1024) // 1024)
    limits["output_kb"] = max(limits["output_kb"], min(need_kb, int(BOUNDS["output_kb"][1])))
    return limits


def _sandbox_specs(plans: tuple[Plan, ...]) -> list[dict[str, Any]]:
    return [p.kind.sandbox_spec(p) for p in plans]


_Kept = tuple[tuple[Any, ...], tuple[Plan, ...], tuple[dict[str, Any], ...]]


class _SuitePlans:
    """The plans of the suites planned last, and what the sandbox runs for each test (their
    specs, never to be changed: every job of the suite sends them), by the identity of their
    tests tuple (kept alive with them, so an id is never reused while cached). Bounded by the
    bytes of the tests kept; the latest suite is kept whatever its size: its jobs are in flight."""

    def __init__(self, max_bytes: int) -> None:
        self._kept: BoundedLRU[int, _Kept] = BoundedLRU(max_bytes)

    def plans(self, tests: tuple[Any, ...]) -> tuple[tuple[Plan, ...], tuple[dict[str, Any], ...] | None]:
        """(the plans, their specs or None when the suite is not kept)."""
        hit = self._kept.get(id(tests))
        if hit is not None and hit[0][0] is tests:
            return hit[0][1], hit[0][2]
        planned: list[Plan] = []
        for test in tests:
            planned.append(kind_of(test).plan(test, planned))
        plans = tuple(planned)
        if any(p.detail is not None for p in plans):  # else nothing worth keeping the suite alive for
            specs = tuple(_sandbox_specs(plans))
            self._kept.put(id(tests), (tests, plans, specs), sum(_size(t) for t in tests))
            return plans, specs
        return plans, None


def _size(test: Any) -> int:
    """Bytes a kept test holds, about: its JSON form's length."""
    raw = to_raw(test)
    return 64 + (len(raw) if isinstance(raw, str) else len(json.dumps(raw, ensure_ascii=False, default=repr)))


_SUITES = _SuitePlans(32 << 20)
