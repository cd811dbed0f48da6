"""The test kinds (executor/judging/): each one module behind one interface, reached only
through the registry."""

import json

import pytest

from executor import AcceptedStdioTest, AssertTest, CallTest, InvalidJob, Job, StdioTest
from executor.judging import registry
from executor.judging.budget import Budget
from executor.judging.judge import judge
from executor.judging.kind import STDIO, TESTS, JudgeContext
from executor.judging.prepare import prepare

SAMPLES = [
    "assert f(1) == 2",
    {"call": "f", "args": [1, [2, "x"]], "expected": {"a": None}},
    {"call": "twoSum", "args": [[3, 3], 6], "accepted": [[0, 1], [1, 0]], "method_of": "Solution"},
    {"stdin": "1 2\n", "expected_stdout": "3\n", "checker": "float", "tolerance": 0.001},
    {"stdin": "4\n", "accepted_stdout": ["YES\n", "yes\n"], "checker": "exact"},
]


def test_every_kind_implements_the_interface_and_is_registered_once():
    names = [k.name for k in registry.KINDS]
    fields = [k.pb_field for k in registry.KINDS]
    assert len(set(names)) == len(names) and len(set(fields)) == len(fields)
    for kind in registry.KINDS:
        assert kind.mode in (TESTS, STDIO)
        for method in ("parse", "to_raw", "from_pb", "to_pb", "plan", "sandbox_spec", "judge"):
            assert callable(getattr(kind, method)), (kind.name, method)


@pytest.mark.parametrize("raw", SAMPLES, ids=lambda r: registry.kind_of(registry.parse(r, "t")).name)
def test_json_form_round_trips(raw):
    test = registry.parse(raw, "tests[0]")
    back = registry.to_raw(test)
    assert registry.parse(json.loads(json.dumps(back)), "tests[0]") == test


@pytest.mark.parametrize("raw", SAMPLES, ids=lambda r: registry.kind_of(registry.parse(r, "t")).name)
def test_protobuf_form_round_trips(raw):
    from broker.convert import tests_from_pb, tests_to_pb

    test = registry.parse(raw, "tests[0]")
    messages = tests_to_pb([test])
    assert [registry.parse(r, "t") for r in tests_from_pb(messages)] == [test]


def test_the_kinds_data_types():
    parsed = [registry.parse(r, "t") for r in SAMPLES]
    assert [type(t) for t in parsed] == [AssertTest, CallTest, CallTest, StdioTest, AcceptedStdioTest]


@pytest.mark.parametrize(
    "raw, field",
    [
        ({"stdin": "", "accepted_stdout": []}, "tests[0].accepted_stdout"),
        ({"stdin": "", "accepted_stdout": "YES"}, "tests[0].accepted_stdout"),
        ({"stdin": "", "accepted_stdout": ["a", 1]}, "tests[0].accepted_stdout"),
        ({"stdin": "", "accepted_stdout": ["a"] * 65}, "tests[0].accepted_stdout"),
        ({"stdin": 1, "accepted_stdout": ["a"]}, "tests[0].stdin"),
        ({"accepted_stdout": ["a"], "expected_stdout": "a"}, "tests[0].expected_stdout"),
        ({"accepted_stdout": ["a"], "checker": "regex"}, "tests[0].checker"),
    ],
)
def test_accepted_outputs_refuse_bad_fields_by_name(raw, field):
    with pytest.raises(InvalidJob) as err:
        Job.from_dict({"id": "a", "program": "x", "tests": [raw]})
    assert err.value.field == field


def test_a_job_of_one_sandbox_mode_only():
    with pytest.raises(InvalidJob, match="cannot be mixed"):
        Job.from_dict({"id": "a", "program": "x", "tests": ["assert 1", SAMPLES[4]]})
    assert prepare(Job.from_dict({"id": "a", "program": "x", "tests": [SAMPLES[3], SAMPLES[4]]})).mode == STDIO


def _stdio_verdicts(test, *stdouts):
    job = prepare(Job.from_dict({"id": "a", "program": "x", "tests": [test] * len(stdouts)}))
    answer = {"load": None, "tests": [{"s": "ok", "stdout": out} for out in stdouts]}
    return [t.verdict.value for t in judge(job, answer).tests]


def test_accepted_outputs_pass_any_and_only_those():
    test = {"stdin": "4\n", "accepted_stdout": ["YES\n", "yes\n"]}
    assert _stdio_verdicts(test, "YES", "yes\n\n", "Yes\n", "YES yes", "") == [
        "passed",
        "passed",
        "failed",
        "failed",
        "failed",
    ]
    floats = {"stdin": "", "accepted_stdout": ["0.5", "1.5"], "checker": "float", "tolerance": 0.01}
    assert _stdio_verdicts(floats, "0.501", "1.499", "1.0") == ["passed", "passed", "failed"]


def test_the_expected_outputs_never_enter_the_sandbox():
    job = prepare(
        Job.from_dict(
            {"id": "a", "program": "x", "tests": [{"stdin": "in", "accepted_stdout": ["SECRET-A", "SECRET-B"]}]}
        )
    )
    assert "SECRET" not in json.dumps(job.sandbox_request()) and job.tester_sources() == []


def test_a_job_is_planned_where_it_runs_not_where_it_is_read():
    job = Job.from_dict({"id": "a", "program": "x", "tests": ["assert f(1) == 2"]})
    assert job == Job.from_dict(job.to_dict())  # plain data: nothing but what was sent
    assert not hasattr(job.tests[0], "check")
    plan = prepare(job).plans[0]
    assert plan.detail.check is not None and plan.kind.sandbox_spec(plan) == {"kind": "value", "exprs": ["f(1)"]}


def test_a_kind_judges_from_the_phase_only():
    job = prepare(Job.from_dict({"id": "a", "program": "x", "tests": [{"call": "f", "expected": 1}]}))
    plan = job.plans[0]
    ctx = JudgeContext(Budget.for_job())
    assert plan.kind.judge(plan, {"s": "timeout", "m": "cpu"}, ctx).verdict.value == "timeout"
    assert plan.kind.judge(plan, {"s": "ok", "v": 1}, ctx).verdict.value == "passed"
    assert plan.kind.judge(plan, {"s": "ok", "v": True}, ctx).verdict.value == "failed"


def test_jobs_sharing_a_suite_share_its_plans():
    from executor.job import parse_tests

    big = "assert f(1) == '" + "x" * 900_000 + "'"  # past the per-source plan caches' entry bound
    suite = parse_tests([big, "assert f(2) == 2"])
    a, b = (prepare(Job.from_parts(f"g/{i}", "def f(x): return x", suite)) for i in range(2))
    assert a.plans is b.plans and a.plans[0].detail.check is not None
    other = prepare(Job.from_parts("h/0", "x = 1", parse_tests([big, "assert f(2) == 2"])))
    assert other.plans is not a.plans  # another suite, planned on its own


def test_tests_with_unwritable_text_are_refused_on_every_path():
    from executor.job import parse_tests

    for tests in ([{"stdin": "x\ud800", "expected_stdout": "1"}], [{"call": "f", "args": ["\udc80"], "expected": 1}]):
        with pytest.raises(InvalidJob) as err:
            parse_tests(tests)
        assert err.value.field.startswith("tests")


def test_kept_suites_are_bounded_by_all_their_bytes():
    from executor.job import parse_tests
    from executor.judging import prepare as prepare_module

    for i in range(60):  # 60 suites of ~1 MB of arguments each, beside an assert worth planning
        suite = parse_tests([{"call": "f", "args": ["x" * 1_000_000], "expected": i}, "assert f(1) == 1"])
        prepare(Job.from_parts(f"s/{i}", "x = 1", suite))
    assert prepare_module._SUITES._kept.bytes <= 32 << 20
    stdio_only = parse_tests([{"stdin": "x" * 1000, "expected_stdout": "1"}])
    prepare(Job.from_parts("io/0", "x = 1", stdio_only))
    assert id(stdio_only) not in prepare_module._SUITES._kept  # nothing planned: not kept


def test_a_call_may_accept_several_results_and_name_its_class():
    test = {"call": "f", "args": [1], "accepted": [[2], 2], "method_of": "Solution"}
    job = prepare(Job.from_dict({"id": "a", "program": "x", "tests": [test]}))
    plan = job.plans[0]
    assert plan.kind.sandbox_spec(plan) == {"kind": "call", "func": "f", "args": [1], "method_of": "Solution"}
    assert "2" not in json.dumps(job.sandbox_request()["tests"])  # the accepted results stay here
    ctx = JudgeContext(Budget.for_job())
    verdicts = [plan.kind.judge(plan, {"s": "ok", "v": v}, ctx) for v in (2, [2], 3, True)]
    assert [v.verdict.value for v in verdicts] == ["passed", "passed", "failed", "failed"]
    assert verdicts[2].message == "f(...) returned 3; expected one of [[2], 2]"
    plain = prepare(Job.from_dict({"id": "a", "program": "x", "tests": [{"call": "f", "expected": 1}]})).plans[0]
    assert "method_of" not in plain.kind.sandbox_spec(plain)


@pytest.mark.parametrize(
    "raw, field",
    [
        ({"call": "f", "expected": 1, "accepted": [1]}, "tests[0].accepted"),
        ({"call": "f", "accepted": []}, "tests[0].accepted"),
        ({"call": "f", "accepted": 1}, "tests[0].accepted"),
        ({"call": "f", "accepted": [1] * 65}, "tests[0].accepted"),
        ({"call": "f", "expected": 1, "method_of": "1x"}, "tests[0].method_of"),
        ({"call": "f", "expected": 1, "method_of": ["Solution"]}, "tests[0].method_of"),
    ],
)
def test_call_fields_are_refused_by_name(raw, field):
    with pytest.raises(InvalidJob) as err:
        Job.from_dict({"id": "a", "program": "x", "tests": [raw]})
    assert err.value.field == field
