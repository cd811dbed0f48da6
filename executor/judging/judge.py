"""The trusted side's verdicts: a zygote's raw answer + the prepared job -> JobResult.

Everything the sandbox reports is treated as a claim about what the program did (a value,
an exception, some stdout); whether that passes is decided by each test's kind, against
expectations that never entered the sandbox. This module holds what is common to every
kind: a program that failed to load, the job's modes, skips, and the job's verdict.
"""

from __future__ import annotations

from typing import Any

from ..result import BuildInfo, JobResult, TestResult
from ..sandbox import statuses
from ..verdict import Verdict
from . import checkers
from .asserts import TrustedSnippet
from .budget import Budget
from .kind import STATUS_VERDICTS, JudgeContext, Phase, Plan
from .prepare import PreparedJob
from .snippet import AssertPlan
from .special import judge as judge_checked


def judge(
    prepared: PreparedJob, answer: dict[str, Any], early: EarlyStop | None = None, bounded: bool = True
) -> JobResult:
    """Turn the zygote's answer for `prepared` into a JobResult. `early`: the EarlyStop that
    saw the job's streamed values; the asserts it judged passed are not judged again.
    `bounded`: a test too costly to judge in this process is judged again under the job's
    limits in a process of its own (judging/bounded.py); without it, such a test fails."""
    job = prepared.job
    load = answer.get("load")
    phases = answer.get("tests") or []
    if len(phases) != len(prepared.plans):
        raise ValueError("answer has %d test phases for %d tests" % (len(phases), len(prepared.plans)))
    if load is not None and load.get("s") != statuses.OK:
        verdict = STATUS_VERDICTS.get(load.get("s"), Verdict.RUNTIME_ERROR)
        message = load.get("m")
        if verdict is Verdict.COMPILE_ERROR:
            message = f"the program does not compile: {message}" if message else "the program does not compile"
        else:
            message = f"{message} (while loading the program)" if message else None
        tests = tuple(TestResult(verdict, message) for _ in prepared.plans)
        job_verdict = verdict if verdict in (Verdict.SYNTAX_ERROR, Verdict.COMPILE_ERROR) else Verdict.FAILED
        return _result(job.id, job_verdict, tests, answer, message)
    # What judging this job's asserts may build, all together: what the EarlyStop that judged
    # its streamed values left, or a whole budget.
    work = early.work if early else Budget.for_job()
    numbers = [checkers.IN_PROCESS_NUMBERS]  # the job's, all its tests' stdout checks together
    limits = job.limits if bounded else None
    if job.checker is not None:  # the job's checker decides each test (special.py)
        results = [judge_checked(phase) for phase in phases]
    else:
        results = [
            judge_test(
                plan, phase, JudgeContext(work, early.passed(i, phase.get("v")) if early else 0, limits, numbers)
            )
            for i, (plan, phase) in enumerate(zip(prepared.plans, phases))
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
        message = "a test could not be judged within the job's limits (no reward)"
        if job.checker is not None:
            message = "the checker could not judge a test (no reward)"
        return _result(job.id, Verdict.INFRA_ERROR, tuple(results), answer, message)
    verdict = Verdict.PASSED if all(r.verdict is Verdict.PASSED for r in results) else Verdict.FAILED
    return _result(job.id, verdict, tuple(results), answer, None)


def judge_test(plan: Plan, phase: Phase, ctx: JudgeContext) -> TestResult:
    """One test's verdict by its kind. A value the program chose must never turn its failure
    into an infra_error (no reward): what cannot be judged fails the test."""
    try:
        return plan.kind.judge(plan, phase, ctx)
    except Exception as exc:
        message = f"the program's value could not be judged ({type(exc).__name__})"
        return TestResult(Verdict.FAILED, message, phase.get("cpu_ms"))


class EarlyStop:
    """Decides, from the values a slow phase streams out, when to stop it: as soon as an
    assert of a trusted snippet has failed, where stopping changes no other test's verdict
    (the job's last test, or any test when the job stops at its first failure)."""

    def __init__(self, prepared: PreparedJob) -> None:
        last = len(prepared.plans) - 1
        first_failure = prepared.job.first_failure
        self._checks: dict[int, TrustedSnippet] = {}
        for i, plan in enumerate(prepared.plans):
            check = plan.detail.check if isinstance(plan.detail, AssertPlan) else None
            if check is not None and len(check.asserts) > 1 and (i == last or first_failure):
                self._checks[i] = check
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
        except Exception:  # a value that cannot be judged here: let the phase finish,
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


def _explain_skips(results: list[TestResult]) -> None:
    for i, r in enumerate(results):
        if r.verdict is Verdict.SKIPPED and not r.message and i:
            cause = next((p for p in reversed(results[:i]) if p.verdict is not Verdict.SKIPPED), None)
            why = f"the program died in an earlier test ({cause.verdict.value})" if cause else "not run"
            results[i] = TestResult(Verdict.SKIPPED, f"not run: {why}")


def _result(
    job_id: str, verdict: Verdict, tests: tuple[TestResult, ...], answer: dict[str, Any], message: str | None
) -> JobResult:
    build = answer.get("build")
    return JobResult(
        job_id,
        verdict,
        tests,
        float(answer.get("cpu_ms", 0.0)),
        int(answer.get("peak_kb", 0)),
        message=message,
        build=BuildInfo.from_dict(build) if isinstance(build, dict) else None,
    )
