"""The interface every test kind implements, and the facts a kind judges from.

A test kind is one module of this package: the test's data (a frozen dataclass), how it is
read from its JSON form and written back, its protobuf message, what the sandbox must run
for it, and how its verdict is decided from what the sandbox reported. Nothing else in the
farm knows one kind from another: the job, the front ends, the pool and the judge go through
`registry.py`, so adding a kind is one module here plus its message in the proto.

    parse(raw, where)        the JSON form -> Test, or None when `raw` is another kind's shape;
                             InvalidJob naming the field when it is this kind's and wrong
    to_raw(test)             Test -> the JSON form parse reads back (JSONL, Celery, hashing)
    from_pb(msg) / to_pb     the kind's protobuf message <-> the JSON form
    plan(test, earlier)      trusted-side preparation, once per job, in the process that runs
                             it (earlier: the plans of the job's earlier tests)
    sandbox_spec(plan)       what the sandbox runs for the test: never an expected value
    judge(plan, phase, ctx)  the verdict, from the phase the sandbox reported (`Phase`)
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, ClassVar, Protocol

from ..limits import Limits
from ..result import TestResult
from ..sandbox import statuses
from ..verdict import Verdict
from .budget import Budget

Phase = dict[str, Any]
"""What the sandbox reported for one test (sandbox/zygote.py): `s` (a sandbox/statuses.py
status), `m` (message), `v` (values), `stdout`, `cpu_ms`. Claims about what the program did,
never trusted to say whether it passed."""

TESTS = "tests"  # sandbox mode: one child runs the program once, then every test in order
STDIO = "stdio"  # sandbox mode: one child per test, the program reading the test's stdin


@dataclass(frozen=True)
class Plan:
    """A test prepared for one run: `test` and what its kind worked out ahead of the run
    (`detail`: for an assert, the trusted plan of its comparisons; None when there is
    nothing); `tester_source`: test text the sandbox's test process runs (never the
    program's process: it goes to the sandbox beside the job, not in it)."""

    test: Any
    kind: Kind
    detail: Any = field(default=None, compare=False)
    tester_source: str | None = None


@dataclass
class JudgeContext:
    """What judging one test may use: `work`, the job's budget (judging/budget.py) for what
    its asserts build (shared by its tests); `start`, the asserts of this test already judged passed while
    its values streamed in (judge.EarlyStop); `limits`, the job's, under which a test too
    costly to judge in this process is judged again in a bounded one (None: no fallback);
    `numbers`: what the stdout checkers may still do here for the job (shared by its tests)."""

    work: Budget
    start: int = 0
    limits: Limits | None = None
    numbers: list[int] | None = None  # the job's checkers.IN_PROCESS_NUMBERS left, all its tests'


class Kind(Protocol):
    """One kind of test (the module docstring lists what each method does)."""

    name: ClassVar[str]  # the kind's name in hashes and messages
    pb_field: ClassVar[str]  # its field in the proto's `Test.kind` oneof
    mode: ClassVar[str]  # TESTS or STDIO: how the sandbox runs it
    test_type: ClassVar[type]

    def parse(self, raw: Any, where: str) -> Any | None: ...

    def to_raw(self, test: Any) -> Any: ...

    def from_pb(self, msg: Any, where: str) -> Any: ...

    def to_pb(self, test: Any) -> Any: ...

    def plan(self, test: Any, earlier: Sequence[Plan]) -> Plan: ...

    def sandbox_spec(self, plan: Plan) -> dict[str, Any]: ...

    def judge(self, plan: Plan, phase: Phase, ctx: JudgeContext) -> TestResult: ...


# Phase status (sandbox/statuses.py) -> verdict, for every status but OK.
STATUS_VERDICTS = {
    statuses.FAIL: Verdict.FAILED,
    statuses.ERROR: Verdict.RUNTIME_ERROR,
    statuses.CRASH: Verdict.RUNTIME_ERROR,
    statuses.MEMORY: Verdict.MEMORY_EXCEEDED,
    statuses.TIMEOUT: Verdict.TIMEOUT,
    statuses.OUTPUT: Verdict.OUTPUT_EXCEEDED,
    statuses.DISK: Verdict.OUTPUT_EXCEEDED,
    statuses.SYNTAX: Verdict.SYNTAX_ERROR,
    statuses.COMPILE: Verdict.COMPILE_ERROR,
    statuses.PROTOCOL: Verdict.FAILED,
    statuses.STOPPED: Verdict.FAILED,  # the host stopped a test whose earlier assert had failed
    statuses.SKIPPED: Verdict.SKIPPED,
    statuses.UNJUDGEABLE: Verdict.INFRA_ERROR,  # the test's own cost (the test process says so)
}


def ended(phase: Phase) -> TestResult:
    """The verdict of a phase that did not run to its end (any status but OK)."""
    verdict = STATUS_VERDICTS.get(str(phase.get("s")), Verdict.RUNTIME_ERROR)
    return TestResult(verdict, phase.get("m"), phase.get("cpu_ms"))


def verdict_of(ok: bool, message: str | None, phase: Phase) -> TestResult:
    return TestResult(Verdict.PASSED if ok else Verdict.FAILED, None if ok else message, phase.get("cpu_ms"))
