"""SandboxFusion's /run_code models and their mapping onto a raw run (broker/runcode.py)."""

from dataclasses import replace

import pytest
from pydantic import ValidationError

from broker import runcode
from executor import InvalidJob, JobResult, JobRules, Limits, RunOutput, Verdict
from executor.result import BuildInfo
from executor.result import TestResult as Outcome


def req(**fields):
    return runcode.RunCodeRequest(**{"code": "print(1)", "language": "python", **fields})


def test_the_request_is_sandboxfusions():
    r = runcode.RunCodeRequest.model_validate({"code": "x", "language": "python", "unknown": 1})
    assert (r.compile_timeout, r.run_timeout, r.memory_limit_MB, r.stdin, r.files, r.fetch_files) == (
        10,
        10,
        -1,
        None,
        {},
        [],
    )
    with pytest.raises(ValidationError) as err:
        runcode.RunCodeRequest.model_validate({"code": "x", "language": "cobol"})
    assert err.value.errors()[0]["type"] == "literal_error"


@pytest.mark.parametrize(
    "fields, limits",
    [
        ({}, {"cpu_s": 10, "wall_s": 10, "memory_mb": 512, "output_kb": 2048, "processes": 16}),
        (
            {"run_timeout": 0.001, "memory_limit_MB": 1},
            {"cpu_s": 0.05, "wall_s": 0.1, "memory_mb": 32, "output_kb": 2048, "processes": 16},
        ),
        (
            {"run_timeout": 1e9, "memory_limit_MB": 1 << 40},
            {"cpu_s": 60, "wall_s": 300, "memory_mb": 16384, "output_kb": 2048, "processes": 16},
        ),
        (
            {"run_timeout": 2.5, "memory_limit_MB": 0},
            {"cpu_s": 2.5, "wall_s": 2.5, "memory_mb": 512, "output_kb": 2048, "processes": 16},
        ),
    ],
)
def test_limits_are_mapped_and_clamped(fields, limits):
    assert runcode.limits_for(req(**fields), Limits()) == limits


def test_the_servers_larger_output_cap_wins():
    assert runcode.limits_for(req(), Limits(output_kb=8192))["output_kb"] == 8192


def test_the_job_is_one_raw_run():
    job = runcode.job_for(req(stdin="5\n", files={"a": "aGk=", "skip": None}, fetch_files=["o"]), Limits(), JobRules())
    assert job.to_dict()["tests"] == [{"raw": {"stdin": "5\n", "files": {"a": "aGk="}, "fetch_files": ["o"]}}]
    assert runcode.job_for(req(), Limits(), JobRules()).tests[0].stdin == ""


@pytest.mark.parametrize(
    "fields, loc",
    [
        ({"files": {"../a": ""}}, ["body", "files", "../a"]),
        ({"fetch_files": ["ok", "/abs"]}, ["body", "fetch_files", 1]),
        ({"code": "x" * (300 << 10)}, ["body", "code"]),
    ],
)
def test_refusals_name_the_requests_field(fields, loc):
    with pytest.raises(InvalidJob) as err:
        runcode.job_for(req(**fields), Limits(), JobRules())
    assert runcode.invalid(err.value)["detail"][0]["loc"] == loc


def _result(output, verdict=Verdict.PASSED):
    return JobResult("run_code", verdict, (Outcome(verdict, None, 1.0, output),))


def test_answers_for_each_end():
    ok = runcode.response_for(_result(RunOutput("3\n", "", 0, None, 12.0, 5.0, files=(("f", "aGk="),))))
    assert ok.status == "Success" and ok.message == "" and ok.compile_result is None and ok.files == {"f": "aGk="}
    assert ok.run_result.model_dump() == {
        "status": "Finished",
        "execution_time": 0.012,
        "cpu_time": 0.005,
        "return_code": 0,
        "stdout": "3\n",
        "stderr": "",
    }
    failed = runcode.response_for(_result(RunOutput("", "boom", 3), Verdict.FAILED))
    assert failed.status == "Failed" and failed.run_result.return_code == 3 and failed.run_result.stderr == "boom"
    tle = runcode.response_for(_result(RunOutput("p", "", None, "SIGKILL", 500.0, limit="timeout"), Verdict.FAILED))
    assert (
        tle.status == "Failed" and tle.run_result.status == "TimeLimitExceeded" and tle.run_result.return_code is None
    )
    assert tle.run_result.stdout == "p"
    oom = runcode.response_for(_result(RunOutput("", "", None, "SIGKILL", limit="memory"), Verdict.FAILED))
    assert oom.run_result.status == "Finished" and oom.run_result.return_code == -9
    segv = runcode.response_for(_result(RunOutput("", "", None, "SIGSEGV"), Verdict.FAILED))
    assert segv.run_result.return_code == -11


def test_a_farm_failure_is_a_sandbox_error():
    infra = runcode.response_for(JobResult.infra_error("run_code", 1, "slot crashed twice"))
    assert infra.status == "SandboxError" and infra.message == "slot crashed twice" and infra.run_result is None
    no = runcode.unsupported("rust", ["python", "cpp", "javascript"])
    assert no.status == "SandboxError" and no.message == (
        "language 'rust' is not available on this farm (it runs: python, cpp, nodejs)"
    )


@pytest.mark.parametrize(
    "asked, language",
    [("python", "python"), ("cpp", "cpp"), ("nodejs", "javascript"), ("go", "go"), ("java", "java")]
    + [("rust", "rust"), ("bash", "bash"), ("c", "c"), ("javascript", "javascript"), ("cpp20", "cpp20")],
)
def test_sandboxfusions_names_and_the_farms_own_map_to_its_languages(asked, language):
    raw = {"raw": {"stdin": ""}}
    job = runcode.job_for(req(language=asked), Limits(), JobRules())
    assert job.language == language and job.to_dict()["tests"] == [raw]


def test_a_compiled_program_answers_its_build_as_the_compile_result():
    build = BuildInfo(cpu_ms=250.0, wall_ms=400.0)
    ran = replace(_result(RunOutput("3\n", "", 0, None, 12.0, 5.0)), build=build)
    ok = runcode.response_for(ran)
    assert ok.status == "Success" and ok.run_result.stdout == "3\n"
    assert ok.compile_result.model_dump() == {
        "status": "Finished",
        "execution_time": 0.4,
        "cpu_time": 0.25,
        "return_code": 0,
        "stdout": "",
        "stderr": "",
    }
    message = "the program does not compile: main.cpp:1:1: error: x"
    failed = JobResult(
        "run_code", Verdict.COMPILE_ERROR, (Outcome(Verdict.COMPILE_ERROR, message),), message=message, build=build
    )
    answer = runcode.response_for(failed)
    assert answer.status == "Failed" and answer.message == "" and answer.run_result is None
    assert (answer.compile_result.return_code, answer.compile_result.stderr) == (1, "main.cpp:1:1: error: x")
