"""The assert test (AceCoder's and HumanEval's): Python test text run after the program.

JSON form: a string, e.g. "assert add(1, 2) == 3", several asserts, or HumanEval's
`def check(candidate): ...` followed by `check(add)`. It passes when it runs to its end.

Where the text is made only of asserts the trusted side can evaluate (asserts.py), the test
is planned here: only its probes - the expressions that need the program - run in the
program's process, and their values are compared on this side. Any other text runs in the
sandbox's test process (sandbox/tester.py), which reaches the program's objects through a
narrow channel; the program's process never sees it.
"""

from __future__ import annotations

import ast
import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, ClassVar

from ..errors import InvalidJob
from ..result import TestResult
from ..sandbox import statuses
from ..verdict import Verdict
from . import bounded
from .asserts import NotJudgeable, TrustedSnippet, bound_names, free_names, plan_snippet
from .budget import TooCostly
from .kind import TESTS, JudgeContext, Phase, Plan, ended, verdict_of


@dataclass(frozen=True)
class AssertTest:
    """A Python test snippet, AceCoder style (usually one `assert`)."""

    code: str


@dataclass(frozen=True)
class AssertPlan:
    """`check`: the trusted plan of the test's asserts, or None when the text runs as a
    snippet in the test process. `defined`: the names the job's snippets up to this test may
    have bound (None: any name, when one of them binds names dynamically)."""

    check: TrustedSnippet | None
    defined: frozenset[str] | None


def _tests_nothing(code: str) -> bool:
    """Does `code` only state values: a literal (`['assert f(1) == 2', ...]`, a list of tests
    stored as one text) or comparisons without their `assert` (`f(1) == 2`, `f(1) == 2 and
    f(2) == 3`, one a line)? Python runs it and drops the values, so every program would pass
    it. (Only a text that opens as a display or a string, or has no `assert` or `raise`
    statement, is parsed: an AceCoder assert or a HumanEval check is not parsed twice.)"""
    head = code.lstrip()[:1]
    if len(code) > 1 << 16 or (head not in "[{('\"" and _STATEMENT.search(code)):
        return False
    try:
        body = ast.parse(code.strip()).body
    except (SyntaxError, ValueError, MemoryError, RecursionError):
        return False  # the test process reports it, as the program's run of it
    return bool(body) and all(isinstance(s, ast.Expr) and _dropped(s.value) for s in body)


def _dropped(value: ast.expr) -> bool:
    """Is `value`, as a statement, computed only to be dropped: a comparison (its calls run,
    its answer is lost), or a literal display that calls nothing?"""
    if isinstance(value, ast.Compare):
        return True
    if isinstance(value, ast.BoolOp):
        return all(map(_dropped, value.values))
    if isinstance(value, ast.UnaryOp) and isinstance(value.op, ast.Not):
        return _dropped(value.operand)
    if isinstance(value, (ast.List, ast.Tuple, ast.Set)) and value.elts and all(map(_dropped, value.elts)):
        return True  # `[f(1) == 2, f(2) == 3]`: comparisons gathered, then dropped
    if isinstance(value, (ast.Constant, ast.List, ast.Tuple, ast.Dict, ast.Set)):
        return not any(isinstance(n, ast.Call) for n in ast.walk(value))
    return False


# `assert` or `raise` as a statement: at a line's start, or after `;` or a one-line `if x:`
# (not in a comment: `f(1) == 2  # should not raise` states a value all the same).
_STATEMENT = re.compile(r"(?m)(?:^|[;:])[ \t]*(?:assert|raise)\b")


class Snippet:
    name: ClassVar[str] = "assert"
    pb_field: ClassVar[str] = "snippet"
    mode: ClassVar[str] = TESTS
    test_type: ClassVar[type] = AssertTest

    def parse(self, raw: Any, where: str) -> AssertTest | None:
        if not isinstance(raw, str):
            return None
        if not raw.strip():
            raise InvalidJob(where, "empty test")
        if _tests_nothing(raw):
            why = "asserts nothing: a bare value or comparison (a list of tests as one text? `assert` left out?)"
            raise InvalidJob(where, why)
        return AssertTest(raw)

    def to_raw(self, test: AssertTest) -> str:
        return test.code

    def from_pb(self, msg: Any, where: str) -> str:
        return str(msg)

    def to_pb(self, test: AssertTest) -> str:
        return test.code

    def plan(self, test: AssertTest, earlier: Sequence[Plan]) -> Plan:
        """Plan the asserts; but an assert that uses a name an earlier snippet test defined
        runs where that name lives: in the test process, as a snippet, not as probes in the
        program's process."""
        before = next((p.detail for p in reversed(earlier) if isinstance(p.detail, AssertPlan)), None)
        defined = before.defined if before is not None else frozenset()
        check = plan_snippet(test.code)
        if check is not None and (defined is None or (defined and any(defined & free_names(p) for p in check.probes))):
            check = None
        if check is None and defined is not None:
            names = bound_names(test.code)
            defined = None if names is None else defined | names
        return Plan(test, self, AssertPlan(check, defined), None if check is not None else test.code)

    def sandbox_spec(self, plan: Plan) -> dict[str, Any]:
        check = plan.detail.check
        if check is None:  # its source goes to the test process only (Plan.tester_source)
            return {"kind": "snippet"}
        spec: dict[str, Any] = {"kind": "value", "exprs": list(check.probes)}
        if any(check.own):
            spec["own"] = list(check.own)
        if check.consumed_at is not None:
            spec["at"] = list(check.consumed_at)
        return spec

    def judge(self, plan: Plan, phase: Phase, ctx: JudgeContext) -> TestResult:
        try:
            return judge_here(plan, phase, ctx)
        except TooCostly as exc:
            check = plan.detail.check
            if ctx.limits is None or check is None:
                return TestResult(Verdict.FAILED, f"too costly to judge here ({exc})", phase.get("cpu_ms"))
            result = bounded.judge(plan.test.code, phase, ctx.limits, program_pays=check.cheap_text)
            return TestResult(result.verdict, result.message, phase.get("cpu_ms"))


def judge_here(plan: Plan, phase: Phase, ctx: JudgeContext) -> TestResult:
    """The verdict, judged in this process; raises TooCostly past its in-process bounds (the
    kernel-bounded judge, judging/bounded.py, calls this in its child)."""
    check: TrustedSnippet | None = plan.detail.check
    values = phase.get("v")
    try:
        if phase.get("s") != statuses.OK:
            # As the check itself would: it stops at its first failed assert, so values computed
            # before a crash are judged first.
            if check is not None and isinstance(values, list):
                failure = check.first_failure(values, ctx.start, ctx.work)[1]
                if failure is not None:
                    return TestResult(Verdict.FAILED, failure, phase.get("cpu_ms"))
            return ended(phase)
        if check is None:  # the snippet ran to its end in the test process
            return TestResult(Verdict.PASSED, None, phase.get("cpu_ms"))
        ok, message = check.judge(values, ctx.start, ctx.work)
    except NotJudgeable as exc:
        return TestResult(Verdict.INFRA_ERROR, f"not judgeable: {exc}", phase.get("cpu_ms"))
    return verdict_of(ok, message, phase)


KIND = Snippet()
