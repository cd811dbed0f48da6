"""Job validation: every bad field is named."""

import json
from dataclasses import replace

import pytest

from executor import AssertTest, CallTest, InvalidJob, Job, JobRules, Limits, StdioTest
from executor.job import parse_tests
from executor.judging.prepare import prepare


def make(**over):
    data = {"id": "q1/s0", "program": "def f(x):\n    return x\n", "tests": ["assert f(1) == 1"]}
    data.update(over)
    return data


def test_valid_job_round_trip():
    job = Job.from_dict(make(limits={"cpu_s": 1}, mode="first_failure"))
    assert job.id == "q1/s0" and job.first_failure and job.limits.cpu_s == 1
    assert isinstance(job.tests[0], AssertTest) and prepare(job).plans[0].detail.check is not None
    assert Job.from_dict(job.to_dict()) == job


def test_sandbox_request_never_carries_expectations():
    job = prepare(
        Job.from_dict(
            make(tests=["assert f(1) == 'SECRET-LITERAL'", {"call": "f", "args": [1], "expected": "SECRET-CALL"}])
        )
    )
    req = str(job.sandbox_request())
    assert "SECRET" not in req
    stdio = prepare(Job.from_dict(make(tests=[{"stdin": "1\n", "expected_stdout": "SECRET-OUT"}])))
    assert "SECRET" not in str(stdio.sandbox_request())
    snippet = prepare(Job.from_dict(make(tests=["xs = [1]\nfor x in xs:\n    assert f(x) == 'SECRET-SNIPPET'"])))
    assert "SECRET" not in str(snippet.sandbox_request())  # it goes to the test process only
    assert "SECRET-SNIPPET" in snippet.tester_sources()[0]


@pytest.mark.parametrize(
    "data, field",
    [
        ("not a dict", "job"),
        ({"program": "x", "tests": ["assert 1"]}, "id"),
        (make(id=""), "id"),
        (make(id=True), "id"),
        (make(id=1.5), "id"),
        (make(program=None), "program"),
        (make(language="cobol"), "language"),
        (make(tests=[]), "tests"),
        (make(tests="assert 1"), "tests"),
        (make(tests=["assert 1", 5]), "tests[1]"),
        (make(tests=["   "]), "tests[0]"),
        (make(tests=[{"stdin": "1"}]), "tests[0].expected_stdout"),
        (make(tests=[{"stdin": "", "expected_stdout": "", "checker": "regex"}]), "tests[0].checker"),
        (make(tests=[{"stdin": "", "expected_stdout": "", "tolerance": 2}]), "tests[0].tolerance"),
        (make(tests=[{"call": "f"}]), "tests[0].expected"),
        (make(tests=[{"call": "1bad", "expected": 1}]), "tests[0].call"),
        (make(tests=[{"call": "f", "args": 3, "expected": 1}]), "tests[0].args"),
        (make(tests=[{"call": "f", "expected": 1, "kwargs": {}}]), "tests[0].kwargs"),
        (make(tests=[{"foo": 1}]), "tests[0]"),
        (make(tests=["assert 1", {"stdin": "", "expected_stdout": ""}]), "tests"),
        (make(limits={"cpu_s": 0}), "limits.cpu_s"),
        (make(limits={"cpu_s": "2"}), "limits.cpu_s"),
        (make(limits={"gpu": 1}), "limits.gpu"),
        (make(limits=[1]), "limits"),
        (make(mode="fast"), "mode"),
        (make(extra=1), "extra"),
        (make(prelude="numpy"), "prelude"),
        (make(prelude=["lcb"]), "prelude"),
        (make(tests={"inputs": ["1"], "outputs": []}), "tests.outputs"),
        (make(tests='{"inputs": ["1\\n[2"], "outputs": ["1"], "fn_name": "f"}'), "tests.inputs[0]"),
    ],
)
def test_invalid_jobs_name_the_field(data, field):
    with pytest.raises(InvalidJob) as err:
        Job.from_dict(data)
    assert err.value.field == field


def test_an_integer_id_is_its_text():
    assert Job.from_dict(make(id=11)).id == "11"  # MBPP's task_id, as a dataset row's id is


def test_size_rules():
    rules = JobRules(max_program_bytes=40, max_tests=2, max_test_bytes=50)
    with pytest.raises(InvalidJob, match="program"):
        Job.from_dict(make(program="x" * 41), rules=rules)
    with pytest.raises(InvalidJob, match="at most 2"):
        Job.from_dict(make(tests=["assert 1"] * 3), rules=rules)
    with pytest.raises(InvalidJob, match=r"tests\[0\]"):
        Job.from_dict(make(tests=["assert '" + "x" * 60 + "'"]), rules=rules)


def test_all_tests_together_are_bounded_as_json():
    # Each test within its bound, all of them beyond the job's: the job is refused, named, not
    # run to fail a right program whose output the sandbox cannot send back whole.
    rules = JobRules(max_test_bytes=100, max_tests_bytes=300)
    stdio = [{"stdin": "", "expected_stdout": "1\t" * 10} for _ in range(5)]
    assert len(Job.from_dict(make(tests=stdio[:4]), rules=rules).tests) == 4
    with pytest.raises(InvalidJob) as err:
        Job.from_dict(make(tests=stdio), rules=rules)
    assert err.value.field == "tests" and "tests[4]" in err.value.message
    # Counted in UTF-8 bytes, as the sandbox counts the output it sends back: 1M of "€" is 3 MB.
    euro = {"stdin": "", "expected_stdout": "\u20ac" * 300}
    with pytest.raises(InvalidJob, match=r"tests\[0\]"):
        Job.from_dict(make(tests=[euro]), rules=rules)
    default = JobRules()
    line = {"stdin": "", "expected_stdout": "1234567 " * 125_000}  # 1 MB each
    assert default.max_tests_bytes == 64 << 20
    with pytest.raises(InvalidJob, match="64 MiB"):
        Job.from_dict(make(tests=[line] * 110))


def test_default_limits_come_from_the_caller():
    job = Job.from_dict(make(limits={"memory_mb": 128}), defaults=Limits(cpu_s=0.5))
    assert job.limits.cpu_s == 0.5 and job.limits.memory_mb == 128


def test_test_kinds():
    job = Job.from_dict(make(tests=[{"call": "f", "args": [1, [2]], "expected": 1}]))
    assert job.tests[0] == CallTest("f", (1, [2]), 1)
    job = Job.from_dict(make(tests=[{"stdin": "1", "expected_stdout": "1", "checker": "exact"}]))
    assert job.tests[0] == StdioTest("1", "1", "exact") and prepare(job).mode == "stdio"


def test_content_hash_depends_on_everything_that_decides_the_result():
    a = Job.from_dict(make())
    assert a.content_hash("py-3.11") == Job.from_dict(make(id="other")).content_hash("py-3.11")
    assert a.content_hash("py-3.11") != a.content_hash("py-3.12")
    assert a.content_hash("x") != Job.from_dict(make(program="def f(x): return 2")).content_hash("x")
    assert a.content_hash("x") != Job.from_dict(make(limits={"cpu_s": 1})).content_hash("x")
    assert a.content_hash("x") != Job.from_dict(make(tests=["assert f(1) == 2"])).content_hash("x")
    assert a.content_hash("x") != Job.from_dict(make(prelude="typing")).content_hash("x")
    assert a.content_hash("x") != Job.from_dict(make(mode="first_failure")).content_hash("x")
    # A call's dict argument in another key order is another input: the program sees the order.
    ab = make(tests=[{"call": "f", "args": [{"a": 1, "b": 2}], "expected": ["a", "b"]}])
    ba = make(tests=[{"call": "f", "args": [{"b": 2, "a": 1}], "expected": ["a", "b"]}])
    assert Job.from_dict(ab).content_hash("x") != Job.from_dict(ba).content_hash("x")


def test_content_hash_changes_with_the_judges_code(monkeypatch):
    from executor import job as job_module

    a = Job.from_dict(make())
    before = a.content_hash("x")
    assert job_module.judge_revision() == job_module.judge_revision()  # stable within a version
    monkeypatch.setattr(job_module, "judge_revision", lambda: "another judge")
    assert a.content_hash("x") != before  # a newer judge never serves an older one's verdicts


def test_a_shared_suite_is_hashed_once_and_hashes_as_its_plain_tuple():
    suite = parse_tests(["assert f(1) == 1", "assert f(2) == 2"])
    jobs = [Job.from_parts(f"g/{i}", f"def f(x):\n    return x  # {i}\n", suite) for i in range(3)]
    assert suite._digest is None
    hashes = [j.content_hash("x") for j in jobs]
    assert suite._digest is not None and len(set(hashes)) == 3  # one digest, the programs differ
    plain = replace(jobs[0], tests=tuple(suite))  # the same tests, not a Tests value
    assert plain.content_hash("x") == hashes[0]
    assert jobs[0].content_hash("x") != replace(jobs[0], tests=tuple(suite)[:1]).content_hash("x")


def test_a_prelude_is_a_named_field_that_round_trips_and_reaches_the_sandbox():
    job = Job.from_dict(make(prelude="lcb"))
    assert job.prelude == "lcb" and job.to_dict()["prelude"] == "lcb" and Job.from_dict(job.to_dict()) == job
    assert prepare(job).sandbox_request()["prelude"] == "lcb"
    plain = Job.from_dict(make())
    assert (
        plain.prelude == "" and "prelude" not in plain.to_dict() and "prelude" not in prepare(plain).sandbox_request()
    )
    assert Job.from_dict(make(prelude=None)) == plain


def test_the_code_rl_shape_expands_and_brings_its_prelude_unless_the_job_names_one():
    shape = {"inputs": ["1 2\n"], "outputs": ["3\n"]}
    job = Job.from_dict(make(tests=shape))
    assert job.tests == (StdioTest("1 2\n", "3\n", "float"),) and job.prelude == "lcb"
    assert Job.from_dict(job.to_dict()) == job  # written back as the farm's own tests, prelude named
    assert Job.from_dict(make(tests=shape, prelude="")).prelude == ""
    assert Job.from_dict(make(tests=shape, prelude="typing")).prelude == "typing"
    assert Job.from_parts("p", "x", parse_tests(shape)).prelude == "lcb"
    assert Job.from_parts("p", "x", parse_tests(shape), prelude="").prelude == ""
    assert Job.from_parts("p", "x", parse_tests(["assert 1"])).prelude == ""
    assert Job.from_dict(make(tests=json.dumps(shape))) == job


def test_shape_sizes_are_checked_per_pair_and_name_it():
    rules = JobRules(max_tests=2, max_test_bytes=100)
    with pytest.raises(InvalidJob, match="at most 2"):
        Job.from_dict(make(tests={"inputs": ["1"] * 3, "outputs": ["1"] * 3}), rules=rules)
    with pytest.raises(InvalidJob) as err:
        Job.from_dict(make(tests={"inputs": ["1", "x" * 200], "outputs": ["1", "1"]}), rules=rules)
    assert err.value.field == "tests.inputs[1]"


def test_json_text_cannot_smuggle_a_lone_surrogate():
    with pytest.raises(InvalidJob) as err:
        Job.from_dict(make(tests='{"inputs": ["\\ud800"], "outputs": ["1"]}'))
    assert err.value.field == "tests.inputs[0]" and "lone surrogate" in err.value.message


def test_asserts_using_names_a_snippet_defined_become_snippets():
    job = prepare(
        Job.from_dict(
            make(
                tests=[
                    "def helper():\n    return f(1)\nassert helper() == 2",
                    "assert helper() == 2",
                    "assert f(1) == 2",
                    "import math as m\nx = m.pi",
                    "assert x > 3",
                ]
            )
        )
    )
    checks = [p.detail.check is not None for p in job.plans]
    assert checks == [False, False, True, False, False]
    assert job.tester_sources() == [job.job.tests[i].code for i in (0, 1, 3, 4)]
    assert job.sandbox_request()["tests"][1] == {"kind": "snippet"}  # no source to the zygote


def test_values_that_are_not_json_are_refused_naming_them():
    # A job travels as JSON: a set, bytes or a numpy number inside a test was an infra_error.
    np = pytest.importorskip("numpy")
    cases = [
        ([{"call": "f", "args": [np.int64(3)], "expected": 4}], "tests[0].args[0]", "numpy.int64"),
        ([{"call": "f", "args": [{1, 2}], "expected": 4}], "tests[0].args[0]", "set"),
        ([{"call": "f", "args": [1], "expected": b"x"}], "tests[0].expected", "bytes"),
        ([{"call": "f", "args": [1], "expected": np.bool_(True)}], "tests[0].expected", "numpy.bool"),
    ]
    for tests, field, kind in cases:
        with pytest.raises(InvalidJob) as err:
            Job.from_dict(make(tests=tests))
        assert err.value.field == field and kind in err.value.message, err.value


def test_an_integer_no_json_writer_takes_is_refused_naming_the_test():
    # Past CPython's 4,300-digit limit for int -> str, json.dumps raised a bare ValueError.
    for tests, field in (
        ([{"call": "f", "args": [1], "expected": 10**5000}], "tests[0]"),
        ([{"input": [10**5000], "output": [1], "type": "function_call", "fn_name": "f"}], "tests.inputs[0]"),
    ):
        with pytest.raises(InvalidJob) as err:
            Job.from_dict(make(tests=tests))
        assert err.value.field == field and "4300 digits" in err.value.message, err.value


@pytest.mark.parametrize(
    "test",
    [
        "f(1) == 2",
        "['assert f(1) == 2', 'assert f(2) == 3']",
        "[\n  'assert f(1) == 2',\n  'assert f(2) == 3'\n]",
        "'assert f(1) == 2'",
        "True",
        "(1, 2)",
        "f(1) == 2 and f(2) == 3",
        "f(1) == 2; f(2) == 3",
        "f(1) == 2\nf(2) == 3  # a comment",
        "not f(1) == 2",
        "f(1) == 2  # should not raise",
        "[f(1) == 2, f(2) == 3]",
        "f(1) == 2, f(2) == 3",
    ],
)
def test_a_test_that_asserts_nothing_is_refused(test):
    # Python runs a bare value or comparison and drops it: every program would pass such a
    # test (a list of tests stored as one text, an `assert` left out of a dataset's tests).
    with pytest.raises(InvalidJob, match="asserts nothing") as err:
        Job.from_dict(make(tests=["assert f(1) == 1", test]))
    assert err.value.field == "tests[1]"


@pytest.mark.parametrize(
    "test",
    [
        "check(f)",
        "f(1)",
        "x = f(1)\nx == 2",
        "assert f(1) == 2",
        "pass",
        "check(f(1) == 2), check(f(2) == 3)",
        "[check(1), check(2)]",
        "assert(f(1) == 2)",
        "if f(1) != 2: raise AssertionError",
        "print(f(1))",
        "[a, b] = f(1)\nassert (a, b) == (1, 2)",
    ],
)
def test_tests_that_run_something_are_taken(test):
    assert Job.from_dict(make(tests=[test])).tests


@pytest.mark.parametrize(
    "field, value",
    [
        ("limits", []),
        ("limits", ""),
        ("limits", 0),
        ("limits", False),
        ("mode", 0),
        ("mode", []),
        ("language", []),
        ("language", 0),
    ],
)
def test_a_wrong_value_is_refused_not_taken_for_the_default(field, value):
    # `"limits": []` ran with the default limits, `"mode": 0` as "all": a false value is not
    # an absent one.
    with pytest.raises(InvalidJob) as err:
        Job.from_dict(make(**{field: value}))
    assert err.value.field == field


@pytest.mark.parametrize(
    "field, value", [("group_id", []), ("group_id", ""), ("language", []), ("mode", 0), ("limits", [])]
)
def test_a_score_requests_wrong_value_is_refused_not_taken_for_the_default(field, value):
    from broker.config import ServerConfig
    from broker.gateway import Gateway
    from broker.metrics import Metrics

    gateway = Gateway(None, ServerConfig(), Metrics())  # type: ignore[arg-type]  # score_jobs only reads
    request = {"programs": ["def f():\n    pass\n"], "tests": ["assert f() is None"]}
    assert len(gateway.score_jobs({**request, field: None})) == 1  # null: the default
    with pytest.raises(InvalidJob) as err:
        gateway.score_jobs({**request, field: value})
    assert err.value.field == field
