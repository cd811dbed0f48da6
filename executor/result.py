"""Results: per-test verdicts and the job's aggregate, in the DESIGN section 4 shape."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from .verdict import Verdict


@dataclass(frozen=True)
class TestResult:
    verdict: Verdict
    message: str | None = None
    cpu_ms: float | None = None

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"verdict": self.verdict.value}
        if self.cpu_ms is not None:
            out["cpu_ms"] = round(self.cpu_ms, 3)
        if self.message:
            out["message"] = self.message
        return out


@dataclass(frozen=True)
class JobResult:
    """The outcome of one job. `pass_rate = passed / total` (AceCoder's rule)."""

    id: str
    verdict: Verdict
    tests: tuple[TestResult, ...]
    cpu_ms: float = 0.0
    peak_kb: int = 0
    cached: bool = False
    message: str | None = None
    attempts: int = field(default=1, compare=False)

    @property
    def passed(self) -> int:
        return sum(t.verdict is Verdict.PASSED for t in self.tests)

    @property
    def total(self) -> int:
        return len(self.tests)

    @property
    def pass_rate(self) -> float:
        return self.passed / self.total if self.total else 0.0

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "id": self.id,
            "verdict": self.verdict.value,
            "pass_rate": round(self.pass_rate, 6),
            "passed": self.passed,
            "total": self.total,
            "tests": [t.to_dict() for t in self.tests],
            "cpu_ms": round(self.cpu_ms, 3),
            "peak_kb": self.peak_kb,
            "cached": self.cached,
        }
        if self.message:
            out["message"] = self.message
        return out

    @classmethod
    def infra_error(cls, job_id: str, n_tests: int, message: str, attempts: int = 1) -> "JobResult":
        tests = tuple(TestResult(Verdict.INFRA_ERROR) for _ in range(n_tests))
        return cls(job_id, Verdict.INFRA_ERROR, tests, message=message, attempts=attempts)
