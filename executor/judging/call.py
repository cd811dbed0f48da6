"""The function-call test: call `func(*args)` from the program, compare the result as JSON.

JSON form: {"call": "add", "args": [1, 2], "expected": 3}. Only the call (the function's
name and its arguments) enters the sandbox; the result comes back as a value (codec.py) and
is compared here, type-strict as JSON types are: `True` is not `1`, a tuple equals a list,
a complex, a set or a program object equals nothing (DESIGN section 9).

Optional fields: "method_of": "Solution" - call the method `func` of a fresh `Solution()`
where it has one, else the global `func` (LeetCode-style programs, as the datasets'
evaluators call them); "accepted": [v1, v2]
in place of "expected" - the result may equal any of them (at most 64; APPS accepts a
call's result as `outputs[i]` or `outputs[i][0]`).
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, ClassVar

from ..errors import InvalidJob
from ..result import TestResult
from ..sandbox import statuses
from ..sandbox.codec import (
    MAX_DEPTH,
    MAX_ENCODED_NODES,
    DecodeError,
    OpaqueCompared,
    TooCostlyToDecode,
    decode_bounded,
    exceeds,
)
from ..verdict import Verdict
from .asserts import short_repr, size_bound, wire_larger_than
from .budget import Budget
from .kind import TESTS, JudgeContext, Phase, Plan, ended, verdict_of

FIELDS = ("call", "args", "expected", "accepted", "method_of")
MAX_ACCEPTED = 64


@dataclass(frozen=True)
class CallTest:
    """Call `func(*args)` from the program; pass when the result == expected (or any of
    `also`). `method_of`: a class whose fresh instance's method `func` is called where it has
    one, else the global `func`."""

    func: str
    args: tuple[Any, ...]
    expected: Any
    method_of: str | None = None
    also: tuple[Any, ...] = ()


class Call:
    name: ClassVar[str] = "call"
    pb_field: ClassVar[str] = "call"
    mode: ClassVar[str] = TESTS
    test_type: ClassVar[type] = CallTest

    def parse(self, raw: Any, where: str) -> CallTest | None:
        if not isinstance(raw, Mapping) or "call" not in raw:
            return None
        unknown = sorted(set(raw) - set(FIELDS))
        if unknown:
            raise InvalidJob(f"{where}.{unknown[0]}", "unknown field in a call test")
        if not isinstance(raw["call"], str) or not raw["call"].isidentifier():
            raise InvalidJob(f"{where}.call", "must be a function name")
        args = raw.get("args", [])
        if not isinstance(args, list):
            raise InvalidJob(f"{where}.args", "must be a list")
        method_of = raw.get("method_of")
        if method_of is not None and (not isinstance(method_of, str) or not method_of.isidentifier()):
            raise InvalidJob(f"{where}.method_of", "must be a class name")
        if "accepted" in raw:
            if "expected" in raw:
                raise InvalidJob(f"{where}.accepted", "give either expected or accepted, not both")
            accepted = raw["accepted"]
            if not isinstance(accepted, list) or not accepted:
                raise InvalidJob(f"{where}.accepted", "must be a non-empty list of results")
            if len(accepted) > MAX_ACCEPTED:
                raise InvalidJob(f"{where}.accepted", f"has {len(accepted)} results; at most {MAX_ACCEPTED}")
            return CallTest(raw["call"], tuple(args), accepted[0], method_of, tuple(accepted[1:]))
        if "expected" not in raw:
            raise InvalidJob(f"{where}.expected", "missing")
        return CallTest(raw["call"], tuple(args), raw["expected"], method_of)

    def to_raw(self, test: CallTest) -> dict[str, Any]:
        raw: dict[str, Any] = {"call": test.func, "args": list(test.args)}
        if test.also:
            raw["accepted"] = [test.expected, *test.also]
        else:
            raw["expected"] = test.expected
        if test.method_of is not None:
            raw["method_of"] = test.method_of
        return raw

    def from_pb(self, msg: Any, where: str) -> dict[str, Any]:
        raw: dict[str, Any] = {"call": msg.func, "args": _json(msg.args_json or "[]", f"{where}.call.args_json")}
        if msg.accepted_json:
            raw["accepted"] = _json(msg.accepted_json, f"{where}.call.accepted_json")
        else:
            raw["expected"] = _json(msg.expected_json or "null", f"{where}.call.expected_json")
        if msg.method_of:
            raw["method_of"] = msg.method_of
        return raw

    def to_pb(self, test: CallTest) -> dict[str, Any]:
        pb: dict[str, Any] = {"func": test.func, "args_json": json.dumps(list(test.args))}
        if test.also:
            pb["accepted_json"] = json.dumps([test.expected, *test.also])
        else:
            pb["expected_json"] = json.dumps(test.expected)
        if test.method_of is not None:
            pb["method_of"] = test.method_of
        return pb

    def plan(self, test: CallTest, earlier: Sequence[Plan]) -> Plan:
        # detail: True when no value the sandbox carries back could match (codec.exceeds), else
        # the most nodes a value's wire form may have and still equal one (size_bound); worked
        # out once per suite, not per program.
        wants = (test.expected, *test.also)
        if all(exceeds(want) for want in wants):
            return Plan(test, self, True)
        return Plan(test, self, size_bound(max(json_nodes(want) for want in wants)))

    def sandbox_spec(self, plan: Plan) -> dict[str, Any]:
        spec: dict[str, Any] = {"kind": "call", "func": plan.test.func, "args": list(plan.test.args)}
        if plan.test.method_of is not None:
            spec["method_of"] = plan.test.method_of
        return spec

    def judge(self, plan: Plan, phase: Phase, ctx: JudgeContext) -> TestResult:
        if phase.get("s") != statuses.OK:
            return ended(phase)
        test: CallTest = plan.test
        if plan.detail is True:  # not judgeable, whatever the program returned
            return TestResult(
                Verdict.INFRA_ERROR,
                f"not judgeable: the expected value has more than {MAX_ENCODED_NODES} items or is nested "
                f"more than {MAX_DEPTH} deep, more than the sandbox carries back",
                phase.get("cpu_ms"),
            )
        if wire_larger_than(phase.get("v"), plan.detail):
            return TestResult(
                Verdict.FAILED,
                f"{test.func}(...) returned a value far larger than the expected one",
                phase.get("cpu_ms"),
            )
        try:
            value = decode_bounded(phase.get("v"), Budget.for_call_value())
        except DecodeError as exc:
            return TestResult(Verdict.FAILED, f"unreadable value from the sandbox: {exc}", phase.get("cpu_ms"))
        except TooCostlyToDecode:  # nothing JSON expects costs that much to rebuild
            return TestResult(Verdict.FAILED, "the returned value is too costly to judge", phase.get("cpu_ms"))
        try:
            got = as_json(value)
            ok = any(got == as_json(want) for want in (test.expected, *test.also))
        except (RecursionError, OpaqueCompared):
            ok = False
        wanted = short_repr(test.expected) if not test.also else f"one of {short_repr([test.expected, *test.also])}"
        message = f"{test.func}(...) returned {short_repr(value)}; expected {wanted}"
        return verdict_of(ok, message, phase)


def json_nodes(value: Any) -> int:
    """How many values, items and keys `value` (JSON data) holds, itself included."""
    count, todo = 0, [value]
    while todo:
        v = todo.pop()
        count += 1
        if isinstance(v, dict):
            count += len(v)  # its keys
            todo.extend(v.values())
        elif isinstance(v, (list, tuple)):
            todo.extend(v)
    return count


def as_json(value: Any) -> Any:
    """A call test's value as JSON sees it, tagged by JSON type (the expected side came from
    JSON): tuples are lists, dict keys are their JSON text, ints and floats are numbers, and
    the comparison is type-strict - `True` is not `1`, `None` is not `0`, a complex, a set or
    a program object equals nothing."""
    if value is None:
        return ("null",)
    if isinstance(value, bool):
        return ("bool", bool(value))
    if isinstance(value, float) and value != value:
        return ("number", "NaN")  # Python's JSON writes NaN; an expected NaN is met by one
    if isinstance(value, (int, float)):
        return ("number", value)
    if isinstance(value, str):
        return ("string", str(value))
    if isinstance(value, (list, tuple)):
        return ("array", [as_json(v) for v in value])
    if isinstance(value, dict):
        items = {_json_key(k): as_json(v) for k, v in value.items()}
        if len(items) < len(value):  # keys alike as JSON text (1 and "1"): no JSON object holds both
            return ("not JSON", object())
        return ("object", items)
    return ("not JSON", object())  # equal to nothing, itself included


def _json_key(key: Any) -> Any:
    if isinstance(key, str):
        return str(key)
    if key is None or isinstance(key, (bool, int, float)):
        return json.dumps(key)  # how JSON writes a non-string key: 1 -> "1", True -> "true"
    return object()


def _json(text: str, field: str) -> Any:
    try:
        return json.loads(text)
    except ValueError as exc:
        raise InvalidJob(field, f"not valid JSON: {exc}") from None
    except RecursionError:
        raise InvalidJob(field, "JSON nested too deeply") from None


KIND = Call()
