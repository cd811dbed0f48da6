"""The raw-run kind (executor/judging/raw.py): its forms, its checks, and its judging."""

import json

import pytest

from broker import convert
from executor import InvalidJob, Job, JobResult, RawRun, RunOutput, Verdict
from executor.judging import registry
from executor.judging.budget import Budget
from executor.judging.judge import judge
from executor.judging.kind import STDIO, JudgeContext
from executor.judging.prepare import prepare
from executor.result import TestResult as Outcome

FULL = {"raw": {"stdin": "1 2\n", "files": {"in/a.txt": "aGk=", "b": ""}, "fetch_files": ["out.txt"]}}


@pytest.mark.parametrize("raw", [{"raw": {}}, {"raw": {"stdin": "x"}}, FULL])
def test_json_and_protobuf_forms_round_trip(raw):
    test = registry.parse(raw, "tests[0]")
    assert isinstance(test, RawRun) and registry.kind_of(test).mode == STDIO
    assert registry.parse(json.loads(json.dumps(registry.to_raw(test))), "t") == test
    assert [registry.parse(r, "t") for r in convert.tests_from_pb(convert.tests_to_pb([test]))] == [test]


def test_the_sandbox_gets_the_stdin_files_and_paths_and_nothing_else():
    job = prepare(Job.from_dict({"id": "a", "program": "x", "tests": [FULL]}))
    assert job.sandbox_request()["tests"] == [
        {"stdin": "1 2\n", "capture": {"files": {"b": "", "in/a.txt": "aGk="}, "fetch": ["out.txt"]}}
    ]


@pytest.mark.parametrize(
    "raw, field",
    [
        ({"raw": "x"}, "tests[0].raw"),
        ({"raw": {}, "stdin": ""}, "tests[0].stdin"),
        ({"raw": {"stdin": 1}}, "tests[0].raw.stdin"),
        ({"raw": {"argv": []}}, "tests[0].raw.argv"),
        ({"raw": {"files": []}}, "tests[0].raw.files"),
        ({"raw": {"files": {"a": "not base64!"}}}, "tests[0].raw.files.a"),
        ({"raw": {"files": {"a": 1}}}, "tests[0].raw.files.a"),
        ({"raw": {"files": {"../a": ""}}}, "tests[0].raw.files.../a"),
        ({"raw": {"files": {"/etc/passwd": ""}}}, "tests[0].raw.files./etc/passwd"),
        ({"raw": {"files": {"a//b": ""}}}, "tests[0].raw.files.a//b"),
        ({"raw": {"files": {f"f{i}": "" for i in range(65)}}}, "tests[0].raw.files"),
        ({"raw": {"fetch_files": "out"}}, "tests[0].raw.fetch_files"),
        ({"raw": {"fetch_files": ["ok", "a/../../b"]}}, "tests[0].raw.fetch_files[1]"),
        ({"raw": {"fetch_files": [""]}}, "tests[0].raw.fetch_files[0]"),
    ],
)
def test_bad_fields_are_refused_by_name(raw, field):
    with pytest.raises(InvalidJob) as err:
        Job.from_dict({"id": "a", "program": "x", "tests": [raw]})
    assert err.value.field == field


def test_raw_runs_share_stdio_mode_and_not_assert_mode():
    with pytest.raises(InvalidJob, match="cannot be mixed"):
        Job.from_dict({"id": "a", "program": "x", "tests": ["assert 1", {"raw": {}}]})
    job = Job.from_dict({"id": "a", "program": "x", "tests": [{"raw": {}}, {"stdin": "", "expected_stdout": ""}]})
    assert prepare(job).mode == STDIO


def _judged(phase, test=FULL):
    job = prepare(Job.from_dict({"id": "a", "program": "x", "tests": [test]}))
    return judge(job, {"load": None, "tests": [phase]}).tests[0]


def test_a_clean_exit_passes_and_carries_its_output():
    phase = {"s": "ok", "stdout": "3\n", "stderr": "w", "exit": 0, "cpu_ms": 1.5, "wall_ms": 2.0, "files": {}}
    r = _judged(phase)
    assert r.verdict is Verdict.PASSED and r.message is None and r.cpu_ms == 1.5
    assert r.output == RunOutput("3\n", "w", 0, None, 2.0, 1.5, None, False, ())


@pytest.mark.parametrize(
    "status, verdict, limit",
    [
        ("error", Verdict.RUNTIME_ERROR, None),
        ("crash", Verdict.RUNTIME_ERROR, None),
        ("timeout", Verdict.TIMEOUT, "timeout"),
        ("memory", Verdict.MEMORY_EXCEEDED, "memory"),
        ("output", Verdict.OUTPUT_EXCEEDED, "output"),
        ("disk", Verdict.OUTPUT_EXCEEDED, "disk"),
        ("syntax", Verdict.SYNTAX_ERROR, None),
    ],
)
def test_every_other_end_fails_and_names_its_limit(status, verdict, limit):
    r = _judged({"s": status, "m": "why", "stdout": "partial", "stderr": "", "sig": "SIGKILL", "wall_ms": 9.0})
    assert r.verdict is verdict and r.message == "why"
    assert r.output.limit == limit and r.output.truncated == (status == "output")
    assert r.output.stdout == "partial" and r.output.exit_code is None and r.output.signal == "SIGKILL"


def test_fetched_files_are_only_those_asked_for_and_base64():
    files = {"out.txt": "aGk=", "other": "aGk=", "in/a.txt": "aGk="}
    assert _judged({"s": "ok", "exit": 0, "files": files}).output.files == (("out.txt", "aGk="),)
    assert _judged({"s": "ok", "exit": 0, "files": {"out.txt": "%%%"}}).output.files == ()
    assert _judged({"s": "ok", "exit": 0, "files": ["out.txt"]}).output.files == ()


def test_a_forged_phase_cannot_crash_judging():
    phase = {"s": "ok", "stdout": 5, "stderr": None, "exit": True, "cpu_ms": "x", "wall_ms": [], "files": {}}
    r = _judged(phase)
    assert r.verdict is Verdict.PASSED
    assert r.output == RunOutput("", "", None, None, 0.0, 0.0, None, False, ())


def test_a_skipped_run_has_no_output():
    job = prepare(Job.from_dict({"id": "a", "program": "x", "tests": [FULL, FULL], "mode": "first_failure"}))
    result = judge(job, {"load": None, "tests": [{"s": "error", "m": "x", "exit": 1}, {"s": "skipped"}]})
    assert [t.verdict for t in result.tests] == [Verdict.RUNTIME_ERROR, Verdict.SKIPPED]
    assert result.tests[0].output.exit_code == 1 and result.tests[1].output is None
    plan = job.plans[1]
    assert plan.kind.judge(plan, {"s": "skipped"}, JudgeContext(Budget.for_job())).output is None


def test_results_carry_the_output_through_every_form():
    out = RunOutput("o\x00\n", "e", None, "SIGKILL", 1.25, 2.5, "timeout", False, (("f", "aGk="),))
    result = JobResult("j", Verdict.FAILED, (Outcome(Verdict.TIMEOUT, "t", 2.5, out), Outcome(Verdict.SKIPPED)))
    assert JobResult.from_dict(json.loads(json.dumps(result.to_dict()))) == result
    assert convert.result_from_pb(convert.result_to_pb(result)) == result
    assert result.to_dict()["tests"][0]["output"] == {
        "stdout": "o\x00\n",
        "stderr": "e",
        "exit_code": None,
        "signal": "SIGKILL",
        "wall_ms": 1.25,
        "cpu_ms": 2.5,
        "limit": "timeout",
        "truncated": False,
        "files": {"f": "aGk="},
    }
    assert "output" not in result.to_dict()["tests"][1] and not convert.result_to_pb(result).tests[1].HasField("output")
