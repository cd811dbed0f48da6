"""The code-RL datasets' test shape, expanded into the farm's own tests when a job is validated.

APPS, TACO, CodeContests and LiveCodeBench give a problem's tests as one object, or as its
JSON text:

    {"inputs": [...], "outputs": [...], "fn_name"?: "name"}   APPS, TACO, LiveCodeBench
    {"input_output": <that object, or its JSON text>}         LiveCodeBench's evaluation sample
    {"input": [...], "output": [...]}                         CodeContests' test lists
    [{"input": str, "output": str, "testtype": "stdin" | "functional",
      "metadata"?: {"func_name": name}}, ...]                 LiveCodeBench's test-case lists
                                                              (public/private_test_cases; the
                                                              DeepCoder and verl datasets' tests;
                                                              without testtype, DeepCoder's
                                                              codeforces and primeintellect
                                                              pairs: stdin cases with "float",
                                                              calls where they name fn_name)
    [{"input", "output", "type": "stdin_stdout" | "function_call",
      "fn_name"?: name}, ...]                                 PrimeIntellect's and SYNTHETIC-1's
                                                              cases (rllm reads them as TACO's:
                                                              a call's input may be the argument
                                                              list itself, as APPS gives it)

It is accepted as a job's whole `tests` value (never as one element of a tests list), and
expanded here into the tests of judging/registry.py, pair by pair (a case list as the pairs
of its cases, each "functional" case naming its function in its metadata or a `fn_name`):

- Without `fn_name` (null or absent): one stdin/stdout test per pair. An input or output may
  be a string or a list of lines (joined with newlines, as APPS does). The checker is "float"
  (whitespace-separated tokens, integers exactly, other numbers within 1e-6: APPS's and TACO's
  evaluator, which verl's prime_code runs, accepts a float answer within its tolerance and
  ignores blank lines and line breaks), but "lines" (LiveCodeBench's exact comparison,
  checkers.py) for LiveCodeBench's case lists, unless the object names another in "checker"
  (with "tolerance" for "float").
- With `fn_name`: one call test per pair, calling the method `fn_name` of a fresh
  `Solution()` where that instance has one (as the datasets' evaluators do: a
  global of that name is then a helper), else the program's global function `fn_name`. An input
  that is a string is LiveCodeBench's encoding: one JSON value per line, one line per
  argument, and the output is JSON text. An input that is a list is APPS's: the arguments
  themselves, and the output is the result, or the result in a list: both `outputs[i]` and,
  when it is a list of one item, `outputs[i][0]` are accepted, as APPS's evaluator accepts
  them (which also takes the first of a longer list: a program returning 3 for [3, 1, 2]).

A job whose tests come in this shape runs with the "lcb" prelude (sandbox/preludes.py) unless
it names its own: LiveCodeBench's and APPS's evaluators put such imports before every program.
"""

from __future__ import annotations

import functools
import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from ..errors import InvalidJob
from ..text import check_writable
from .stdio import parse_checker

PRELUDE = "lcb"  # the prelude of a job whose tests come in this shape
CHECKER = "float"  # the checker of its stdin/stdout tests (APPS's, TACO's, CodeContests')
CASES_CHECKER = "lines"  # LiveCodeBench's, for its case lists
METHOD_OF = "Solution"  # the class whose method a call test falls back to
FIELDS = ("inputs", "outputs", "fn_name", "checker", "tolerance")
CODECONTESTS = {"input": "inputs", "output": "outputs"}


@dataclass(frozen=True)
class Expanded:
    """The farm's tests (their JSON forms), the field each came from (for errors), and the
    prelude the job runs with unless it names one."""

    tests: list[Any]
    fields: list[str]
    prelude: str = PRELUDE


def is_shape(raw: Any) -> bool:
    """Is `raw` a tests value in this shape (an object with its fields, a case list, or a
    string, which can only be its JSON text)?"""
    if isinstance(raw, str):
        return True
    if _is_case_list(raw):
        return True
    return isinstance(raw, Mapping) and any(k in raw for k in ("inputs", "outputs", "input", "output", "input_output"))


CASE_FIELDS = ("input", "output", "testtype", "metadata", "fn_name", "type")
# PrimeIntellect's (and SYNTHETIC-1's) `type` of a case, as LiveCodeBench's testtype.
CASE_TYPES = {"stdin_stdout": "stdin", "function_call": "functional"}


def _is_case_list(raw: Any) -> bool:
    """LiveCodeBench's case list: a non-empty list of objects that all say their `testtype`,
    or that are all `{"input", "output"}` pairs with none (DeepCoder's codeforces and
    primeintellect rows, which rllm reads as stdin cases, and PrimeIntellect's cases, which
    say their `type`)."""
    if not isinstance(raw, list) or not raw or not all(isinstance(c, Mapping) for c in raw):
        return False
    return all("testtype" in c for c in raw) or all(_pair(c) for c in raw)


def _pair(case: Mapping[str, Any]) -> bool:
    """An `{"input", "output"}` pair with no testtype: a stdin case, or a call where it names its
    function or its PrimeIntellect `type` says so."""
    return "input" in case and "output" in case and set(case) <= set(CASE_FIELDS) - {"testtype"}


def _case_kind(case: Mapping[str, Any]) -> Any:
    if "testtype" in case:
        return case["testtype"]
    if "type" in case:
        return CASE_TYPES.get(case["type"]) if isinstance(case["type"], str) else None
    return "functional" if case.get("fn_name") else "stdin"


def _from_cases(cases: list[Any], where: str) -> dict[str, Any]:
    """A case list as the object of this shape it stands for: all "stdin" cases, or all
    "functional" ones of one function."""
    kinds = [_case_kind(c) for c in cases]
    for i, kind in enumerate(kinds):
        if kind not in ("stdin", "functional"):
            if "testtype" in cases[i]:
                raise InvalidJob(f"{where}[{i}].testtype", 'must be "stdin" or "functional"')
            raise InvalidJob(f"{where}[{i}].type", 'must be "stdin_stdout" or "function_call"')
    if len(set(kinds)) > 1:
        raise InvalidJob(where, "mixes stdin and functional cases")
    functional = kinds[0] == "functional"
    for i, case in enumerate(cases):
        unknown = sorted(set(case) - set(CASE_FIELDS), key=str)
        if unknown:
            raise InvalidJob(f"{where}[{i}].{unknown[0]}", f"unknown field (known: {', '.join(CASE_FIELDS)})")
        # A stdin case's text, or its lines; a call's JSON lines (LiveCodeBench's), or APPS's own
        # values as PrimeIntellect's calls give them: the argument list, and the result.
        inp, out = case.get("input"), case.get("output")
        if functional and isinstance(inp, list):
            if "output" not in case:
                raise InvalidJob(f"{where}[{i}].output", "missing")
            continue
        for key, value in zip(("input", "output"), (inp, out), strict=True):
            lines = not functional and isinstance(value, list) and all(isinstance(x, str) for x in value)
            if not (isinstance(value, str) or lines):
                what = "an argument list or its JSON text" if functional and key == "input" else "a string"
                raise InvalidJob(f"{where}[{i}].{key}", f"missing or not {what}")
    data: dict[str, Any] = {"inputs": [c["input"] for c in cases], "outputs": [c["output"] for c in cases]}
    if not functional and all("testtype" in c for c in cases):
        data["checker"] = CASES_CHECKER  # LiveCodeBench's; DeepCoder's pairs are TACO's (float)
    if functional:
        names = set()
        for i, case in enumerate(cases):
            meta = case.get("metadata")
            if isinstance(meta, str):  # some exports keep it as JSON text
                meta = _json(meta, f"{where}[{i}].metadata") if meta.strip() else {}
            name = case.get("fn_name") or (meta.get("func_name") if isinstance(meta, Mapping) else None)
            if not isinstance(name, str) or not name:
                raise InvalidJob(
                    f"{where}[{i}].metadata",
                    "a functional case needs its func_name (LiveCodeBench rows keep it in the row's "
                    "metadata: `acefarm convert livecodebench` writes jobs with it)",
                )
            names.add(name)
        if len(names) > 1:
            raise InvalidJob(where, f"functional cases of different functions: {', '.join(sorted(names))}")
        data["fn_name"] = names.pop()
    return data


def expand(raw: Any, where: str = "tests", max_tests: int | None = None) -> Expanded | None:
    """The farm's tests for `raw` in this shape; None when `raw` is not (a list of tests).
    Raises InvalidJob naming the field (`tests.inputs[3]`)."""
    if not is_shape(raw):
        return None
    if isinstance(raw, str):
        loaded = _loads(raw, where, "the tests")
        raw = loaded if _is_case_list(loaded) else raw
    if _is_case_list(raw):
        if max_tests is not None and len(raw) > max_tests:
            raise InvalidJob(where, f"has {len(raw)} tests; at most {max_tests} allowed")
        raw = _from_cases(raw, where)
    data = _object(raw, where, "the tests")
    if "input_output" in data:
        extra = sorted(set(data) - {"input_output"}, key=str)
        if extra:
            raise InvalidJob(f"{where}.{extra[0]}", "unknown field beside input_output")
        where = f"{where}.input_output"
        data = _object(data["input_output"], where, "input_output")
    # A null checker or tolerance is an absent one, as a null fn_name is (a column of a
    # dataset that only some rows fill).
    data = {k: v for k, v in data.items() if not (v is None and k in ("checker", "tolerance"))}
    names = {k: CODECONTESTS.get(k, k) for k in data}
    unknown = sorted((k for k, name in names.items() if name not in FIELDS), key=str)
    if unknown:
        raise InvalidJob(f"{where}.{unknown[0]}", "unknown field (known: inputs, outputs, fn_name, checker, tolerance)")
    fields = {name: (k, data[k]) for k, name in names.items()}
    if len(fields) != len(data):
        raise InvalidJob(where, "give inputs/outputs or input/output, not both")
    in_key, inputs = fields.get("inputs", ("inputs", None))
    out_key, outputs = fields.get("outputs", ("outputs", None))
    for key, values in ((in_key, inputs), (out_key, outputs)):
        if not isinstance(values, list):
            raise InvalidJob(f"{where}.{key}", "missing or not a list")
    if not inputs:
        raise InvalidJob(f"{where}.{in_key}", "is empty")
    if len(outputs) != len(inputs):
        raise InvalidJob(f"{where}.{out_key}", f"has {len(outputs)} outputs for {len(inputs)} inputs")
    if max_tests is not None and len(inputs) > max_tests:  # before building a test per pair
        raise InvalidJob(f"{where}.{in_key}", f"has {len(inputs)} tests; at most {max_tests} allowed")
    fn_name = data.get("fn_name")
    at_in = [f"{where}.{in_key}[{i}]" for i in range(len(inputs))]
    at_out = [f"{where}.{out_key}[{i}]" for i in range(len(inputs))]
    if fn_name is None or fn_name == "":
        parse_checker(data, where)  # names tests.checker, before it is copied into each test
        checker: dict[str, Any] = {k: data[k] for k in ("checker", "tolerance") if k in data}
        tests = [_stdio(i, o, checker, a, b) for i, o, a, b in zip(inputs, outputs, at_in, at_out, strict=True)]
    else:
        if not isinstance(fn_name, str) or not fn_name.isidentifier():
            raise InvalidJob(f"{where}.fn_name", "must be a function name")
        for key in ("checker", "tolerance"):
            if key in data:
                raise InvalidJob(f"{where}.{key}", "applies to stdin/stdout tests, not to fn_name's call tests")
        tests = [_call(fn_name, i, o, a, b) for i, o, a, b in zip(inputs, outputs, at_in, at_out, strict=True)]
    return Expanded(tests, at_in)


_BASE64 = re.compile(r"[A-Za-z0-9+/=\s]+")


def _loads(text: str, where: str, what: str) -> Any:
    try:
        raw = json.loads(text)
    except ValueError as exc:
        hint = ""
        if _BASE64.fullmatch(text[:256]):  # LiveCodeBench's private cases: base64 of zlib of pickle
            hint = " (compressed LiveCodeBench test cases? `acefarm convert livecodebench` reads them)"
        raise InvalidJob(
            where, f"a string must be the JSON text of the tests' object ({what}): not valid JSON: {exc}{hint}"
        ) from None
    except RecursionError:
        raise InvalidJob(where, "JSON nested too deeply") from None
    check_writable(raw, where)  # a "\ud800" escape: no sandbox request could carry it
    return raw


def _object(raw: Any, where: str, what: str) -> Mapping[str, Any]:
    if isinstance(raw, str):
        raw = _loads(raw, where, what)
    if not isinstance(raw, Mapping):
        raise InvalidJob(where, f"{what} must be an object with inputs and outputs (or its JSON text)")
    return raw


def _text(value: Any, where: str) -> str:
    """A stdin or an expected stdout: a string, or a list of lines."""
    if isinstance(value, str):
        return value
    if isinstance(value, list) and all(isinstance(line, str) for line in value):
        return "\n".join(value)
    raise InvalidJob(where, "must be a string or a list of lines")


def _stdio(inp: Any, out: Any, checker: dict[str, Any], at_in: str, at_out: str) -> dict[str, Any]:
    test = {"stdin": _text(inp, at_in), "expected_stdout": _text(out, at_out), "checker": CHECKER}
    test.update(checker)
    return test


def _call(fn_name: str, inp: Any, out: Any, at_in: str, at_out: str) -> dict[str, Any]:
    test: dict[str, Any] = {"call": fn_name, "method_of": METHOD_OF}
    if isinstance(inp, str):  # LiveCodeBench: one JSON value per line, the output as JSON
        test["args"] = [_json(line, at_in, f"line {n}: ") for n, line in enumerate(inp.split("\n"), 1)]
        if not isinstance(out, str):
            raise InvalidJob(at_out, "must be JSON text when the input is (one JSON value per line)")
        test["expected"] = _json(out, at_out)
    elif isinstance(inp, list):  # APPS: the arguments; the result, or [the result]
        test["args"] = inp
        if isinstance(out, list) and len(out) == 1:  # a wrapper holds one result; past one
            test["accepted"] = [out, out[0]]  # item, its first is no answer ([3, 1, 2], not 3)
        else:
            test["expected"] = out
    else:
        raise InvalidJob(at_in, "must be a list of arguments, or their JSON text (one value per line)")
    return test


def _json(text: str, where: str, what: str = "") -> Any:
    try:
        return json.loads(text)
    except ValueError as exc:
        raise InvalidJob(where, f"{what}not valid JSON: {exc}") from None
    except RecursionError:
        raise InvalidJob(where, f"{what}JSON nested too deeply") from None


def subset(raw: Any, keep: list[int]) -> Any:
    """`raw` (this shape, valid) with only the pairs at the indexes `keep`, in the form it came
    in: JSON text stays JSON text."""
    if isinstance(raw, str):
        return json.dumps(subset(json.loads(raw), keep))
    if _is_case_list(raw):
        return [raw[i] for i in keep]
    data = dict(raw)
    if "input_output" in data:
        data["input_output"] = subset(data["input_output"], keep)
        return data
    for key in ("inputs", "outputs", "input", "output"):
        if isinstance(data.get(key), list):
            data[key] = [data[key][i] for i in keep]
    return data


def function_name(raw: Any) -> str | None:
    """The `fn_name` of tests in this shape (None when it has none or `raw` is not it)."""
    data = _cached_loads(raw) if isinstance(raw, str) else raw
    if _is_case_list(data):
        try:
            data = _from_cases(data, "tests")
        except InvalidJob:
            return None
    if isinstance(data, Mapping) and "input_output" in data:
        inner = data["input_output"]
        data = _cached_loads(inner) if isinstance(inner, str) else inner
    name = data.get("fn_name") if isinstance(data, Mapping) else None
    return name if isinstance(name, str) and name else None


@functools.lru_cache(maxsize=8)
def _cached_loads(text: str) -> Any:
    """JSON text read once for the completions of one problem (read only), None if it is not."""
    try:
        return json.loads(text)
    except (ValueError, RecursionError):
        return None
