"""Special judges on the trusted side (executor/judging/special.py): the job's `checker` field in
every form, and the verdicts a checker's run makes."""

import pytest

from broker.chunks import ChunkEncoder, WorkerSuites
from broker.convert import job_from_pb, job_to_pb, score_request
from broker.protos import pb
from executor import InvalidJob, Job, JobRules, Limits, Verdict
from executor.judging import special
from executor.judging.judge import judge
from executor.judging.prepare import prepare
from executor.judging.special import Checker

CHECKER = {"language": "python", "program": "import sys\nsys.exit(0)\n"}
TESTS = [{"stdin": "4\n", "expected_stdout": "2 2\n"}, {"stdin": "5\n", "expected_stdout": "1 4\n"}]


def job(**over):
    data = {"id": "j", "program": "print(1)", "tests": TESTS, "checker": CHECKER}
    data.update(over)
    return Job.from_dict(data)


def test_a_checker_round_trips_through_json_protobuf_and_the_cluster_wire():
    j = job(language="cpp", program="int main(){}")
    assert j.checker == Checker("python", CHECKER["program"])
    assert j.to_dict()["checker"] == CHECKER and Job.from_dict(j.to_dict()) == j
    assert job_from_pb(job_to_pb(j), Limits(), JobRules()) == j
    assert job_from_pb(job_to_pb(j.to_dict()), Limits(), JobRules()) == j
    payload = ChunkEncoder(None).encode("b", "reply", [("j", j, "h")])  # a small suite: inline, no Redis
    ((_, again),) = WorkerSuites(JobRules()).jobs(payload, payload["jobs"], {})
    assert again == j


def test_a_job_without_a_checker_says_nothing_of_one_anywhere():
    j = job(checker=None)
    assert j.checker is None and "checker" not in j.to_dict()
    assert not job_to_pb(j).HasField("checker")
    assert "checker" not in ChunkEncoder(None).encode("b", "reply", [("j", j, "h")])["jobs"][0]


def test_a_score_request_carries_its_checker_once():
    msg = pb.ScoreRequest(programs=["print(1)"], checker=pb.Checker(**CHECKER))
    assert score_request(msg)["checker"] == CHECKER
    assert "checker" not in score_request(pb.ScoreRequest(programs=["print(1)"]))


def test_the_checker_decides_the_content_hash_and_absent_leaves_it_as_it_was():
    plain = job(checker=None)
    assert job().content_hash("r") != plain.content_hash("r")
    other = job(checker={"language": "python", "program": "import sys\nsys.exit(1)\n"})
    assert other.content_hash("r") != job().content_hash("r")
    assert job(checker={"language": "cpp", "program": CHECKER["program"]}).content_hash("r") != job().content_hash("r")
    # Without a checker the hash is the one the farm has always computed (cached results keep their keys).
    assert plain.content_hash("r") == Job(plain.id, plain.program, plain.tests, limits=plain.limits).content_hash("r")


@pytest.mark.parametrize(
    "checker, field",
    [
        ("import sys", "checker"),
        ({"language": "java", "program": "x"}, "checker.language"),
        ({"program": "x"}, "checker.language"),
        ({"language": "python"}, "checker.program"),
        ({"language": "python", "program": "  \n"}, "checker.program"),
        ({"language": "python", "program": "x", "files": {}}, "checker.files"),
    ],
)
def test_a_malformed_checker_is_refused_naming_its_field(checker, field):
    with pytest.raises(InvalidJob) as err:
        job(checker=checker)
    assert err.value.field == field


def test_a_checker_as_large_as_a_program_may_be_and_no_larger():
    rules = JobRules(max_program_bytes=100)
    data = {"id": "j", "program": "print(1)", "tests": TESTS}
    Job.from_dict(data | {"checker": {"language": "cpp", "program": "x" * 100}}, rules=rules)
    with pytest.raises(InvalidJob, match="larger than 100 bytes"):
        Job.from_dict(data | {"checker": {"language": "cpp", "program": "x" * 101}}, rules=rules)


@pytest.mark.parametrize(
    "test",
    [
        "assert f() == 1",
        {"call": "f", "args": [], "expected": 1},
        {"stdin": "", "accepted_stdout": ["a", "b"]},
        {"raw": {"stdin": ""}},
    ],
)
def test_a_checker_judges_stdin_stdout_tests_only(test):
    with pytest.raises(InvalidJob) as err:
        job(tests=[test])
    assert err.value.field == "tests[0]" and "checker" in err.value.message


def test_the_code_rl_shape_takes_a_checker_when_it_expands_to_stdin_stdout_tests():
    j = job(tests={"inputs": ["4\n"], "outputs": ["2 2\n"]})
    assert j.checker is not None and len(j.tests) == 1
    with pytest.raises(InvalidJob):
        job(tests={"inputs": [[4]], "outputs": [[2, 2]], "fn_name": "split"})


def test_the_sandbox_request_of_the_program_holds_neither_the_checker_nor_the_answers():
    request = prepare(job()).sandbox_request()
    text = repr(request)
    assert "checker" not in text and "2 2" not in text and "1 4" not in text


# -- verdicts ----------------------------------------------------------------------------


def ran(check, s="ok"):
    return {"s": s, "stdout": "2 2\n", "cpu_ms": 1.0, "check": check}


def checked(code=None, sig=None, s="ok", stdout="", stderr=""):
    phase = {"s": s, "stdout": stdout, "stderr": stderr, "cpu_ms": 2.0}
    if code is not None:
        phase["exit"] = code
    if sig is not None:
        phase["sig"] = sig
    return phase


@pytest.mark.parametrize(
    "check, verdict, words",
    [
        (checked(0, stderr="ok 2 numbers"), Verdict.PASSED, None),
        (checked(1, s="error", stderr="wrong answer 1st numbers differ"), Verdict.FAILED, "1st numbers differ"),
        (checked(1, s="error"), Verdict.FAILED, "checker: wrong answer"),
        (checked(2, s="error", stdout="expected an integer"), Verdict.FAILED, "expected an integer"),
        (checked(2, s="error"), Verdict.FAILED, "presentation error"),
        (checked(4, s="error"), Verdict.FAILED, "wrong output format"),
        (checked(8, s="error"), Verdict.FAILED, "unexpected end"),
        (checked(3, s="error", stderr="FAIL answer is wrong"), Verdict.INFRA_ERROR, "testlib's fail"),
        (checked(7, s="error", stderr="points 0.5"), Verdict.INFRA_ERROR, "partial points"),
        (checked(5, s="error"), Verdict.INFRA_ERROR, "status 5"),
        (checked(127, s="error"), Verdict.INFRA_ERROR, "status 127"),
        (checked(sig="SIGSEGV", s="crash"), Verdict.INFRA_ERROR, "ended"),
        (checked(sig="SIGKILL", s="timeout"), Verdict.INFRA_ERROR, "ended"),
        (checked(sig="SIGKILL", s="memory"), Verdict.INFRA_ERROR, "ended"),
        (checked(sig="SIGKILL", s="output"), Verdict.INFRA_ERROR, "ended"),
        ({"s": "compile", "m": "checker.cpp:1: error"}, Verdict.INFRA_ERROR, "does not compile: checker.cpp:1"),
        ("its toolchain is missing", Verdict.INFRA_ERROR, "its toolchain is missing"),
        (None, Verdict.INFRA_ERROR, "did not run"),
        (checked(True, s="ok"), Verdict.INFRA_ERROR, "ended"),  # a bool is no exit status
    ],
)
def test_testlibs_exit_codes_decide_and_anything_else_is_not_judgeable(check, verdict, words):
    result = special.judge(ran(check))
    assert result.verdict is verdict
    if words is None:
        assert result.message is None
    else:
        assert words in result.message


def test_the_programs_own_end_comes_first_and_the_checker_is_not_asked():
    for status, verdict in [
        ("timeout", Verdict.TIMEOUT),
        ("output", Verdict.OUTPUT_EXCEEDED),
        ("error", Verdict.RUNTIME_ERROR),
    ]:
        assert special.judge(ran(checked(0), s=status)).verdict is verdict


def test_a_checkers_message_is_capped():
    result = special.judge(ran(checked(1, s="error", stderr="x" * 100_000)))
    assert result.verdict is Verdict.FAILED and len(result.message) <= special.MESSAGE_MAX + 20


def test_a_job_with_a_checker_is_judged_by_it_and_one_unjudgeable_test_makes_it_infra_error():
    prepared = prepare(job())
    answer = {
        "load": None,
        "tests": [ran(checked(0)), ran(checked(1, s="error", stderr="no"))],
        "cpu_ms": 1,
        "peak_kb": 1,
    }
    result = judge(prepared, answer)
    assert [t.verdict for t in result.tests] == [Verdict.PASSED, Verdict.FAILED] and result.verdict is Verdict.FAILED
    answer["tests"][1] = ran(checked(3, s="error"))
    result = judge(prepared, answer)
    assert result.verdict is Verdict.INFRA_ERROR and "checker" in result.message and result.pass_rate == 0.5


def test_without_its_checkers_outcome_a_test_is_never_passed_on_its_stdout():
    prepared = prepare(job())  # expected "2 2\n": the program's stdout matches it exactly
    answer = {"load": None, "tests": [{"s": "ok", "stdout": "2 2\n"}, {"s": "ok", "stdout": "1 4\n"}]}
    assert [t.verdict for t in judge(prepared, answer).tests] == [Verdict.INFRA_ERROR] * 2


def test_first_failure_skips_what_follows_the_checkers_first_rejection():
    prepared = prepare(job(mode="first_failure"))
    answer = {"load": None, "tests": [ran(checked(1, s="error")), {"s": "ok", "stdout": "x"}]}
    assert [t.verdict for t in judge(prepared, answer).tests] == [Verdict.FAILED, Verdict.SKIPPED]
