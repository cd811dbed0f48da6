"""Results: per-test verdicts and the job's aggregate, in the DESIGN section 4 shape."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from functools import cached_property
from typing import Any, ClassVar

from .text import JOB_MESSAGES_MAX, MESSAGE_MAX, MESSAGE_SHARE_MIN, writable
from .verdict import Verdict

_VERDICTS: dict[str, Verdict] = {v.value: v for v in Verdict}  # a lookup, not an Enum call per test


def verdict_of(value: Any) -> Verdict:
    """The Verdict named by its wire string (ValueError for any other value)."""
    found = _VERDICTS.get(value) if isinstance(value, str) else None
    return found if found is not None else Verdict(value)


@dataclass(frozen=True)
class RunOutput:
    """What a raw run did (judging/raw.py): its stdout and stderr (the program's bytes as UTF-8,
    invalid bytes replaced; together at most the job's output_kb, `truncated` when the output
    limit cut them), its exit status or the signal that ended it (`signal`, e.g. "SIGKILL";
    then `exit_code` is None), its wall and CPU time, the limit that ended it (`limit`: "timeout",
    "memory", "output", "disk", or None), and the files fetched back after it (path -> base64 content)."""

    stdout: str = ""
    stderr: str = ""
    exit_code: int | None = None
    signal: str | None = None
    wall_ms: float = 0.0
    cpu_ms: float = 0.0
    limit: str | None = None
    truncated: bool = False
    files: tuple[tuple[str, str], ...] = ()

    def to_dict(self) -> dict[str, Any]:
        return {
            "stdout": self.stdout,
            "stderr": self.stderr,
            "exit_code": self.exit_code,
            "signal": self.signal,
            "wall_ms": round(self.wall_ms, 3),
            "cpu_ms": round(self.cpu_ms, 3),
            "limit": self.limit,
            "truncated": self.truncated,
            "files": dict(self.files),
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> RunOutput:
        return cls(
            data.get("stdout", ""),
            data.get("stderr", ""),
            data.get("exit_code"),
            data.get("signal"),
            data.get("wall_ms", 0.0),
            data.get("cpu_ms", 0.0),
            data.get("limit"),
            bool(data.get("truncated", False)),
            tuple(sorted((data.get("files") or {}).items())),
        )


@dataclass(frozen=True)
class TestResult:
    """One test's verdict; `output`: what the program did, for a raw run (None otherwise)."""

    __test__: ClassVar[bool] = False  # not a pytest class, whatever its name
    verdict: Verdict
    message: str | None = None
    cpu_ms: float | None = None
    output: RunOutput | None = None

    def __post_init__(self) -> None:  # what a program chose is writable by every front end (text.py)
        if self.message is not None:
            object.__setattr__(self, "message", writable(self.message, MESSAGE_MAX))

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"verdict": self.verdict.value}
        if self.cpu_ms is not None:
            out["cpu_ms"] = round(self.cpu_ms, 3)
        if self.message:
            out["message"] = self.message
        if self.output is not None:
            out["output"] = self.output.to_dict()
        return out

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> TestResult:
        output = data.get("output")
        return cls(
            verdict_of(data["verdict"]),
            data.get("message"),
            data.get("cpu_ms"),
            RunOutput.from_dict(output) if output is not None else None,
        )


@dataclass(frozen=True)
class BuildInfo:
    """A compiled program's build: its CPU and wall time, whether a kept build was reused
    (`cached`: its times are those of the build that made it), and whether a wall-clock limit
    stopped it (`stopped`: a loaded machine may have; such a build is not kept, nor its result)."""

    cpu_ms: float
    wall_ms: float
    cached: bool = False
    stopped: bool = False

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "cpu_ms": round(self.cpu_ms, 3),
            "wall_ms": round(self.wall_ms, 3),
            "cached": self.cached,
        }
        if self.stopped:
            out["stopped"] = True
        return out

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> BuildInfo:
        return cls(
            float(data.get("cpu_ms", 0.0)),
            float(data.get("wall_ms", 0.0)),
            bool(data.get("cached", False)),
            bool(data.get("stopped", False)),
        )


_UNREPEATABLE = frozenset({Verdict.TIMEOUT, Verdict.INFRA_ERROR})


@dataclass(frozen=True)
class JobResult:
    """The outcome of one job. `pass_rate = passed / total` (AceCoder's rule). `build`: the
    program's build, for a language with a compiler (None otherwise); `cpu_ms` is the runs'
    and a fresh build's together."""

    id: str
    verdict: Verdict
    tests: tuple[TestResult, ...]
    cpu_ms: float = 0.0
    peak_kb: int = 0
    cached: bool = False
    message: str | None = None
    attempts: int = field(default=1, compare=False)
    build: BuildInfo | None = field(default=None, compare=False)

    def __post_init__(self) -> None:  # writable by every front end, bounded in size (text.py)
        object.__setattr__(self, "id", writable(self.id))
        if self.message is not None:
            object.__setattr__(self, "message", writable(self.message, MESSAGE_MAX))
        if sum(len(t.message or "") for t in self.tests) > JOB_MESSAGES_MAX:
            share = max(MESSAGE_SHARE_MIN, JOB_MESSAGES_MAX // len(self.tests))
            object.__setattr__(
                self,
                "tests",
                tuple(replace(t, message=writable(t.message, share)) if t.message else t for t in self.tests),
            )

    @cached_property
    def passed(self) -> int:  # once: every front end asks for it and for pass_rate
        return sum(t.verdict is Verdict.PASSED for t in self.tests)

    @property
    def total(self) -> int:
        return len(self.tests)

    @property
    def repeatable(self) -> bool:
        """Would the job, run again, get this result on a machine under any load? Not with an
        infra_error (the farm's fault, or a test not judgeable within the job's limits), nor with
        a test that ran out of time, nor after a build a wall-clock limit stopped: the wall-clock
        backstop is reached sooner on a loaded machine, and CPU time near the limit moves with
        it too. The result caches keep repeatable results only."""
        return (
            self.verdict is not Verdict.INFRA_ERROR
            and not any(t.verdict in _UNREPEATABLE for t in self.tests)
            and not (self.build is not None and self.build.stopped)
        )

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
        if self.attempts > 1:  # retried after an infrastructure fault
            out["attempts"] = self.attempts
        if self.build is not None:
            out["build"] = self.build.to_dict()
        return out

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> JobResult:
        """The inverse of `to_dict` (the one dict form: JSONL output, Celery, the result cache)."""
        test = TestResult.from_dict
        return cls(
            data["id"],
            verdict_of(data["verdict"]),
            tuple([test(t) for t in data["tests"]]),
            data.get("cpu_ms", 0.0),
            data.get("peak_kb", 0),
            data.get("cached", False),
            data.get("message"),
            data.get("attempts", 1),
            BuildInfo.from_dict(data["build"]) if isinstance(data.get("build"), Mapping) else None,
        )

    @classmethod
    def infra_error(cls, job_id: str, n_tests: int, message: str, attempts: int = 1) -> JobResult:
        tests = tuple(TestResult(Verdict.INFRA_ERROR) for _ in range(n_tests))
        return cls(job_id, Verdict.INFRA_ERROR, tests, message=message, attempts=attempts)
