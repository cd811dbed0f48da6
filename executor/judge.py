"""The trusted side's verdicts: a zygote's raw answer + the job -> JobResult.

Everything the sandbox reports is treated as a claim about what the program
did (a value, an exception, some stdout); whether that passes is decided
here, against expectations that never entered the sandbox.
"""

from __future__ import annotations

import json
from typing import Any

from . import checkers
from .asserts import TooCostly, TrustedSnippet, short_repr
from .job import AssertTest, CallTest, Job, StdioTest
from .judging import bounded
from .judging.budget import Budget
from .limits import Limits
from .result import JobResult, TestResult
from .sandbox import statuses
from .sandbox.codec import DecodeError, OpaqueCompared, TooCostlyToDecode, decode_bounded
from .verdict import Verdict

# Phase status (sandbox/statuses.py) -> verdict, for everything but OK.
_STATUS = {
    statuses.FAIL: Verdict.FAILED,
    statuses.ERROR: Verdict.RUNTIME_ERROR,
    statuses.CRASH: Verdict.RUNTIME_ERROR,
    statuses.MEMORY: Verdict.MEMORY_EXCEEDED,
    statuses.TIMEOUT: Verdict.TIMEOUT,
    statuses.OUTPUT: Verdict.OUTPUT_EXCEEDED,
    statuses.DISK: Verdict.OUTPUT_EXCEEDED,
    statuses.SYNTAX: Verdict.SYNTAX_ERROR,
    statuses.PROTOCOL: Verdict.FAILED,
    statuses.STOPPED: Verdict.FAILED,  # the host stopped a test whose earlier assert had failed
    statuses.SKIPPED: Verdict.SKIPPED,
}


def judge(job: Job, answer: dict[str, Any], early: EarlyStop | None = None, bounded: bool = True) -> JobResult:
    """Turn the zygote's answer for `job` into a JobResult. `early`: the EarlyStop that saw
    the job's streamed values; the asserts it judged passed are not judged again. `bounded`:
    a test too costly to judge in this process is judged again under the job's limits in a
    process of its own (judging/bounded.py); without it, such a test fails."""
    load = answer.get("load")
    phases = answer.get("tests") or []
    if len(phases) != len(job.tests):
        raise ValueError("answer has %d test phases for %d tests" % (len(phases), len(job.tests)))
    if load is not None and load.get("s") != statuses.OK:
        verdict = _STATUS.get(load.get("s"), Verdict.RUNTIME_ERROR)
        message = _message(load, "while loading the program")
        tests = tuple(TestResult(verdict, message) for _ in job.tests)
        job_verdict = Verdict.SYNTAX_ERROR if verdict is Verdict.SYNTAX_ERROR else Verdict.FAILED
        return _result(job, job_verdict, tests, answer, message)
    # What judging this job's asserts may build, all together: what the EarlyStop that judged
    # its streamed values left, or a whole budget.
    work = early.work if early else Budget.for_job()
    limits = job.limits if bounded else None
    results = [
        _judge_safely(test, phase, work, early, i, limits) for i, (test, phase) in enumerate(zip(job.tests, phases))
    ]
    if job.first_failure:
        for i, r in enumerate(results):
            if r.verdict is not Verdict.PASSED:
                results[i + 1 :] = [
                    TestResult(Verdict.SKIPPED, "not run: an earlier test failed") for _ in results[i + 1 :]
                ]
                break
    _explain_skips(results)
    if any(r.verdict is Verdict.INFRA_ERROR for r in results):  # a test the job's limits cannot judge
        return _result(
            job,
            Verdict.INFRA_ERROR,
            tuple(results),
            answer,
            "a test could not be judged within the job's limits (no reward)",
        )
    verdict = Verdict.PASSED if all(r.verdict is Verdict.PASSED for r in results) else Verdict.FAILED
    return _result(job, verdict, tuple(results), answer, None)


def judge_one(test: Any, phase: dict[str, Any], work: Budget) -> TestResult:
    """One test's verdict from its phase, with a budget of its own (judging/bounded.py)."""
    return _judge_test(test, phase, 0, work)


def _judge_safely(
    test: Any,
    phase: dict[str, Any],
    work: Budget,
    early: EarlyStop | None = None,
    index: int = 0,
    limits: Limits | None = None,
) -> TestResult:
    """A value the program chose must never turn its failure into an infra_error (no reward).
    `early`: the job's EarlyStop, which may have judged this test's (number `index`) first
    asserts already; `work`: the job's budget for what its asserts build (asserts.py);
    `limits`: the job's, under which a test too costly to judge here is judged again."""
    try:
        start = early.passed(index, phase.get("v")) if early else 0
        return _judge_test(test, phase, start, work)
    except TooCostly as exc:
        if limits is None or not isinstance(test, AssertTest):
            return TestResult(Verdict.FAILED, f"too costly to judge here ({exc})", phase.get("cpu_ms"))
        result = bounded.judge(test.code, phase, limits, program_pays=test.check.cheap_text)
        return TestResult(result.verdict, result.message, phase.get("cpu_ms"))
    except Exception as exc:
        return TestResult(
            Verdict.FAILED, f"the program's value could not be judged ({type(exc).__name__})", phase.get("cpu_ms")
        )


def _judge_test(test: Any, phase: dict[str, Any], start: int, work: Budget) -> TestResult:
    status = phase.get("s")
    cpu_ms = phase.get("cpu_ms")
    if status != statuses.OK:
        failure = _earlier_failure(test, phase, start, work)
        if failure is not None:  # as the check itself would: it stops at its first failed assert
            return TestResult(Verdict.FAILED, failure, cpu_ms)
        return TestResult(_STATUS.get(status, Verdict.RUNTIME_ERROR), _message(phase, None), cpu_ms)
    if isinstance(test, StdioTest):
        ok = checkers.get(test.checker, test.tolerance)(test.expected_stdout, phase.get("stdout", ""))
        msg = None if ok else f"wrong output ({test.checker} checker): got {short_repr(phase.get('stdout', ''), 200)}"
        return TestResult(Verdict.PASSED if ok else Verdict.FAILED, msg, cpu_ms)
    if isinstance(test, CallTest):
        try:
            value = decode_bounded(phase.get("v"), Budget.for_call_value())
        except DecodeError as exc:
            return TestResult(Verdict.FAILED, f"unreadable value from the sandbox: {exc}", cpu_ms)
        except TooCostlyToDecode:  # nothing JSON expects costs that much to rebuild
            return TestResult(Verdict.FAILED, "the returned value is too costly to judge", cpu_ms)
        try:
            ok = _as_json(value) == _as_json(test.expected)
        except (RecursionError, OpaqueCompared):
            ok = False
        msg = None if ok else f"{test.func}(...) returned {short_repr(value)}; expected {short_repr(test.expected)}"
        return TestResult(Verdict.PASSED if ok else Verdict.FAILED, msg, cpu_ms)
    assert isinstance(test, AssertTest)
    if test.check is None:  # snippet ran to its end
        return TestResult(Verdict.PASSED, None, cpu_ms)
    if isinstance(test.check, TrustedSnippet):
        ok, msg = test.check.judge(phase.get("v"), start, work)
    else:
        ok, msg = test.check.judge(phase.get("v"), work)
    return TestResult(Verdict.PASSED if ok else Verdict.FAILED, msg, cpu_ms)


def _earlier_failure(test: Any, phase: dict[str, Any], start: int, work: Budget) -> str | None:
    """The failure message of an assert that the values sent before a phase ended cover."""
    values = phase.get("v")
    if isinstance(test, AssertTest) and isinstance(test.check, TrustedSnippet) and isinstance(values, list):
        return test.check.first_failure(values, start, work)[1]
    return None


class EarlyStop:
    """Decides, from the values a slow phase streams out, when to stop it: as soon as an
    assert of a trusted snippet has failed, where stopping changes no other test's verdict
    (the job's last test, or any test when the job stops at its first failure)."""

    def __init__(self, job: Job) -> None:
        last = len(job.tests) - 1
        self._checks = {
            i: t.check
            for i, t in enumerate(job.tests)
            if isinstance(t, AssertTest)
            and isinstance(t.check, TrustedSnippet)
            and len(t.check.asserts) > 1
            and (i == last or job.first_failure)
        }
        self._values: dict[int, list[Any]] = {}
        self._judged: dict[int, int] = {}
        self.work = Budget.for_job()  # the job's budget; judge() goes on with what is left

    def __bool__(self) -> bool:
        return bool(self._checks)

    def __call__(self, test_index: Any, values: Any) -> bool:
        """Take the next values of test `test_index`; True means stop it now."""
        check = self._checks.get(test_index) if isinstance(test_index, int) else None
        if check is None or not isinstance(values, list):
            return False
        seen = self._values.setdefault(test_index, [])
        seen.extend(values)
        try:
            judged, failure = check.first_failure(seen, self._judged.get(test_index, 0), self.work)
        except Exception:
            del self._checks[test_index]  # and judge it once at the end, not again at every part
            self._judged.pop(test_index, None)
            return False
        self._judged[test_index] = judged
        return failure is not None

    def passed(self, test_index: int, values: Any) -> int:
        """How many asserts of test `test_index` were judged passed here on exactly the first
        of `values` (the phase's final values, which begin with those it streamed): judge()
        starts after them instead of decoding and judging large values twice."""
        check, judged = self._checks.get(test_index), self._judged.get(test_index, 0)
        if check is None or not judged or not isinstance(values, list):
            return 0
        at = check.values_before(judged)
        # Plain JSON data on both sides: a C-level comparison, far cheaper than judging again.
        return judged if values[:at] == self._values[test_index][:at] else 0


def _as_json(value: Any) -> Any:
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
        return ("array", [_as_json(v) for v in value])
    if isinstance(value, dict):
        return ("object", {_json_key(k): _as_json(v) for k, v in value.items()})
    return ("not JSON", object())  # equal to nothing, itself included


def _json_key(key: Any) -> Any:
    if isinstance(key, str):
        return str(key)
    if key is None or isinstance(key, (bool, int, float)):
        return json.dumps(key)  # how JSON writes a non-string key: 1 -> "1", True -> "true"
    return object()


def _explain_skips(results: list[TestResult]) -> None:
    for i, r in enumerate(results):
        if r.verdict is Verdict.SKIPPED and not r.message and i:
            cause = next((p for p in reversed(results[:i]) if p.verdict is not Verdict.SKIPPED), None)
            why = f"the program died in an earlier test ({cause.verdict.value})" if cause else "not run"
            results[i] = TestResult(Verdict.SKIPPED, f"not run: {why}")


def _message(phase: dict[str, Any], context: str | None) -> str | None:
    msg = phase.get("m")
    if msg and context:
        return f"{msg} ({context})"
    return msg


def _result(
    job: Job, verdict: Verdict, tests: tuple[TestResult, ...], answer: dict[str, Any], message: str | None
) -> JobResult:
    return JobResult(
        job.id, verdict, tests, float(answer.get("cpu_ms", 0.0)), int(answer.get("peak_kb", 0)), message=message
    )
