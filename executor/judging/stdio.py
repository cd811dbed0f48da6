"""The stdin/stdout test: run the program with `stdin`, compare its stdout with a checker.

JSON form: {"stdin": "1 2\\n", "expected_stdout": "3\\n", "checker": "tokens", "tolerance": 1e-6}
(`checker` one of checkers.CHECKERS, default "tokens"; `tolerance` for "float"). The expected
output never enters the sandbox: the program's child gets the stdin only.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, ClassVar

from ..errors import InvalidJob
from ..result import TestResult
from ..sandbox import statuses
from ..verdict import Verdict
from . import bounded, checkers
from .asserts import short_repr
from .budget import TooCostly
from .kind import STDIO, JudgeContext, Phase, Plan, ended, verdict_of

FIELDS = ("stdin", "expected_stdout", "checker", "tolerance")


@dataclass(frozen=True)
class StdioTest:
    """Run the program with `stdin`; compare its stdout with `checker`."""

    stdin: str
    expected_stdout: str
    checker: str = "tokens"
    tolerance: float = 1e-6


def parse_checker(item: Mapping[str, Any], where: str) -> tuple[str, float]:
    """The `checker` and `tolerance` fields of a stdout-comparing test (their defaults when absent)."""
    checker = item.get("checker", "tokens")
    if checker not in checkers.CHECKERS:
        raise InvalidJob(f"{where}.checker", f"must be one of {', '.join(checkers.CHECKERS)}")
    tolerance = item.get("tolerance", 1e-6)
    if isinstance(tolerance, bool) or not isinstance(tolerance, (int, float)) or not 0 <= tolerance < 1:
        raise InvalidJob(f"{where}.tolerance", "must be a number in [0, 1)")
    return checker, float(tolerance)


def parse_stdin(item: Mapping[str, Any], where: str) -> str:
    stdin = item.get("stdin", "")
    if not isinstance(stdin, str):
        raise InvalidJob(f"{where}.stdin", "must be a string")
    return stdin


def unknown_fields(item: Mapping[str, Any], known: Sequence[str], where: str, what: str) -> None:
    unknown = sorted(set(item) - set(known))
    if unknown:
        raise InvalidJob(f"{where}.{unknown[0]}", f"unknown field in {what}")


def checker_from_pb(msg: Any) -> dict[str, Any]:
    """The `checker` and `tolerance` of a stdout-comparing test's message, in the JSON form."""
    fields: dict[str, Any] = {"checker": msg.checker or "tokens"}
    if msg.HasField("tolerance"):
        fields["tolerance"] = msg.tolerance
    return fields


def stdout_of(phase: Phase) -> str:
    stdout = phase.get("stdout", "")
    return stdout if isinstance(stdout, str) else ""


class Stdio:
    name: ClassVar[str] = "stdio"
    pb_field: ClassVar[str] = "stdio"
    mode: ClassVar[str] = STDIO
    test_type: ClassVar[type] = StdioTest

    def parse(self, raw: Any, where: str) -> StdioTest | None:
        if not isinstance(raw, Mapping) or ("expected_stdout" not in raw and "stdin" not in raw):
            return None
        unknown_fields(raw, FIELDS, where, "a stdin/stdout test")
        expected = raw.get("expected_stdout")
        if not isinstance(expected, str):
            raise InvalidJob(f"{where}.expected_stdout", "missing or not a string")
        checker, tolerance = parse_checker(raw, where)
        return StdioTest(parse_stdin(raw, where), expected, checker, tolerance)

    def to_raw(self, test: StdioTest) -> dict[str, Any]:
        return {
            "stdin": test.stdin,
            "expected_stdout": test.expected_stdout,
            "checker": test.checker,
            "tolerance": test.tolerance,
        }

    def from_pb(self, msg: Any, where: str) -> dict[str, Any]:
        raw: dict[str, Any] = {
            "stdin": msg.stdin,
            "expected_stdout": msg.expected_stdout,
        }
        return raw | checker_from_pb(msg)

    def to_pb(self, test: StdioTest) -> dict[str, Any]:
        return self.to_raw(test)

    def plan(self, test: StdioTest, earlier: Sequence[Plan]) -> Plan:
        return Plan(test, self)

    def sandbox_spec(self, plan: Plan) -> dict[str, Any]:
        return {"stdin": plan.test.stdin}

    def judge(self, plan: Plan, phase: Phase, ctx: JudgeContext) -> TestResult:
        if phase.get("s") != statuses.OK:
            return ended(phase)
        test: StdioTest = plan.test
        got = stdout_of(phase)
        message = f"wrong output ({test.checker} checker): got {short_repr(got, 200)}"
        return judge_output(test.checker, test.tolerance, (test.expected_stdout,), got, phase, ctx, message)


def judge_output(
    checker: str,
    tolerance: float,
    accepted: tuple[str, ...],
    got: str,
    phase: Phase,
    ctx: JudgeContext,
    message: str,
) -> TestResult:
    """Does the run's stdout `got` match one of `accepted`? Here while it costs little; a test
    whose numbers were printed other than as expected past checkers.IN_PROCESS_NUMBERS is
    judged again in a process of its own under the job's limits (bounded.py), where a limit
    hit is the program's failure: it chose how to print them. `message`: a failure's."""
    try:
        room = ctx.numbers if ctx.numbers is not None else [checkers.IN_PROCESS_NUMBERS]
        ok = checkers.matches_any(checker, tolerance, accepted, got, room)
    except TooCostly as exc:
        if ctx.limits is None:
            return TestResult(Verdict.FAILED, f"too costly to judge here ({exc})", phase.get("cpu_ms"))
        result = bounded.judge_output(checker, tolerance, accepted, got, ctx.limits)
        if result.verdict is Verdict.FAILED and result.message is None:  # the output did not match
            return TestResult(Verdict.FAILED, message, phase.get("cpu_ms"))
        return TestResult(result.verdict, result.message, phase.get("cpu_ms"))
    return verdict_of(ok, message, phase)


KIND = Stdio()
