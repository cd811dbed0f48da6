"""The stdin/stdout test with several right answers: pass when stdout matches any of them.

Problems that accept more than one output ("print YES or NO in any case", "any valid
ordering" where the valid ones are few) are checked against the list of accepted outputs,
each with the same checker. JSON form:
{"stdin": "4\\n", "accepted_stdout": ["YES\\n", "Yes\\n", "yes\\n"], "checker": "tokens"}.
It runs in the sandbox exactly as a stdin/stdout test does: only the stdin enters it.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, ClassVar

from ..errors import InvalidJob
from ..result import TestResult
from ..sandbox import statuses
from .asserts import short_repr
from .kind import STDIO, JudgeContext, Phase, Plan, ended
from .stdio import checker_from_pb, judge_output, parse_checker, parse_stdin, stdout_of, unknown_fields

FIELDS = ("stdin", "accepted_stdout", "checker", "tolerance")
MAX_ACCEPTED = 64


@dataclass(frozen=True)
class AcceptedStdioTest:
    """Run the program with `stdin`; pass when its stdout matches any of `accepted`."""

    stdin: str
    accepted: tuple[str, ...]
    checker: str = "tokens"
    tolerance: float = 1e-6


class Accepted:
    name: ClassVar[str] = "accepted_stdout"
    pb_field: ClassVar[str] = "accepted"
    mode: ClassVar[str] = STDIO
    test_type: ClassVar[type] = AcceptedStdioTest

    def parse(self, raw: Any, where: str) -> AcceptedStdioTest | None:
        if not isinstance(raw, Mapping) or "accepted_stdout" not in raw:
            return None
        unknown_fields(raw, FIELDS, where, "an accepted-outputs test")
        accepted = raw["accepted_stdout"]
        if not isinstance(accepted, list) or not accepted or not all(isinstance(a, str) for a in accepted):
            raise InvalidJob(f"{where}.accepted_stdout", "must be a non-empty list of strings")
        if len(accepted) > MAX_ACCEPTED:
            raise InvalidJob(f"{where}.accepted_stdout", f"has {len(accepted)} outputs; at most {MAX_ACCEPTED}")
        checker, tolerance = parse_checker(raw, where)
        return AcceptedStdioTest(parse_stdin(raw, where), tuple(accepted), checker, tolerance)

    def to_raw(self, test: AcceptedStdioTest) -> dict[str, Any]:
        return {
            "stdin": test.stdin,
            "accepted_stdout": list(test.accepted),
            "checker": test.checker,
            "tolerance": test.tolerance,
        }

    def from_pb(self, msg: Any, where: str) -> dict[str, Any]:
        raw: dict[str, Any] = {
            "stdin": msg.stdin,
            "accepted_stdout": list(msg.accepted_stdout),
        }
        return raw | checker_from_pb(msg)

    def to_pb(self, test: AcceptedStdioTest) -> dict[str, Any]:
        return self.to_raw(test)

    def plan(self, test: AcceptedStdioTest, earlier: Sequence[Plan]) -> Plan:
        return Plan(test, self)

    def sandbox_spec(self, plan: Plan) -> dict[str, Any]:
        return {"stdin": plan.test.stdin}

    def judge(self, plan: Plan, phase: Phase, ctx: JudgeContext) -> TestResult:
        if phase.get("s") != statuses.OK:
            return ended(phase)
        test: AcceptedStdioTest = plan.test
        got = stdout_of(phase)
        message = (
            f"output matches none of {len(test.accepted)} accepted ({test.checker} checker): got {short_repr(got, 200)}"
        )
        return judge_output(test.checker, test.tolerance, test.accepted, got, phase, ctx, message)


KIND = Accepted()
