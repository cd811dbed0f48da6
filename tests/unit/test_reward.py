"""OpenRLHF's /get_reward semantics (broker/reward.py): completions, labels, rewards."""

import json

import pytest

from broker.extract import TOO_LARGE, UNWRITABLE
from broker.reward import GetRewardRequest, completion_of, jobs_for, label_tests, rewards
from executor import InvalidJob, JobResult, JobRules, Limits, Verdict
from executor.result import TestResult as Outcome


def test_the_completion_is_the_query_minus_its_prompt():
    assert completion_of("PROMPT answer", "PROMPT ") == ("answer", True)
    assert completion_of("<s>PROMPT answer", "PROMPT ") == ("answer", True)  # a token the decode added
    assert completion_of("PROMPT x PROMPT y", "PROMPT ") == ("x PROMPT y", True)  # a prefix wins
    assert completion_of("decoded differently", "PROMPT") == ("decoded differently", False)
    assert completion_of("all of it", None) == ("all of it", False)
    assert completion_of("all of it", "") == ("all of it", True)


@pytest.mark.parametrize(
    "label, tests",
    [
        (["assert f(1) == 1"], ["assert f(1) == 1"]),
        (json.dumps(["assert f(1) == 1"]), ["assert f(1) == 1"]),
        ({"tests": [{"stdin": "1", "expected_stdout": "1"}]}, [{"stdin": "1", "expected_stdout": "1"}]),
        (json.dumps({"tests": ["assert 1"]}), ["assert 1"]),
        ("assert f(1) == 1", ["assert f(1) == 1"]),
        (json.dumps("assert f(2) == 2"), ["assert f(2) == 2"]),
        ({"inputs": ["1"], "outputs": ["1"]}, {"inputs": ["1"], "outputs": ["1"]}),  # what `tests` reads of it
        # A dataset that stored `str(tests)`: a Python literal, read as one.
        (str(["assert f(1) == 2", "assert f(2) == 3"]), ["assert f(1) == 2", "assert f(2) == 3"]),
        (str({"inputs": [[1]], "outputs": [2], "fn_name": "f"}), {"inputs": [[1]], "outputs": [2], "fn_name": "f"}),
        (str({"tests": ["assert f(1) == 2"]}), ["assert f(1) == 2"]),
    ],
)
def test_the_label_carries_the_tests(label, tests):
    assert label_tests(label) == tests


def test_a_snippet_label_may_open_with_a_display():
    label = "[a, b] = f(1)\nassert (a, b) == (1, 2)"
    assert label_tests(label) == [label]


def _jobs(query, labels, prompts=None):
    return jobs_for(GetRewardRequest(query=query, prompts=prompts, labels=labels), Limits(), JobRules())


def test_jobs_extract_the_program_that_the_tests_call():
    completion = "```python\ndef helper(): pass\n```\nthen\n```python\ndef f(x):\n    return x\n```"
    (job,), found = _jobs(["P" + completion], [["assert f(1) == 1"]], ["P"])
    assert job.program == "def f(x):\n    return x\n" and found == [True] and job.id == "reward/0"


@pytest.mark.parametrize(
    "query, labels, prompts, field",
    [
        ([], [], None, "query"),
        (["a", "b"], [["assert 1"]], None, "labels"),
        (["a"], [["assert 1"]], ["p", "q"], "prompts"),
        (["a", "b"], [["assert 1"], [{"call": 1}]], None, "labels[1][0].call"),
        (["a"], [[]], None, "labels[0]"),
        (["a"], [{"nothing": 1}], None, "labels[0]"),
        # Read as a snippet, a list of tests in one text asserts nothing (every program passed
        # it), and a broken one fails to compile (every program failed it): refused.
        (["a"], ["['assert f(1) == 2', 'assert f(2) == 3'"], None, "labels[0]"),
        (["a"], ['["assert f(1) == 2", "assert f(2) == 3"'], None, "labels[0]"),
        (["a"], ["{'inputs': [[1]], 'outputs': [2], 'fn_name': f}"], None, "labels[0]"),
        (["a", "b"], [["assert f(1) == 2"], ["f(1) == 2"]], None, "labels[1][0]"),
    ],
)
def test_refusals_name_the_field(query, labels, prompts, field):
    with pytest.raises(InvalidJob) as err:
        _jobs(query, labels, prompts)
    assert err.value.field == field


def test_a_completion_too_large_to_run_is_a_failing_program_not_a_refusal():
    # One such sample (a truncated reasoning completion) must not refuse the whole request.
    (big, small), _ = _jobs(["x" * (300 << 10), "def f():\n    return 1\n"], [["assert f() == 1"]] * 2)
    assert big.program == TOO_LARGE and small.program == "def f():\n    return 1\n"


def test_a_completion_with_a_lone_surrogate_is_a_failing_program_not_a_refusal():
    # As on an embedded farm: that sample scores 0, the request's other samples are scored.
    (bad, good), _ = _jobs(
        ["def f():\n    return 1  # \ud800\n", "def f():\n    return 1\n"], [["assert f() == 1"]] * 2
    )
    assert bad.program == UNWRITABLE and good.program == "def f():\n    return 1\n"


def _res(verdict, passed, total):
    tests = tuple(Outcome(Verdict.PASSED) for _ in range(passed)) + tuple(
        Outcome(Verdict.FAILED) for _ in range(total - passed)
    )
    return JobResult("r", verdict, tests)


def test_rewards_pass_rate_binary_and_infra_errors():
    results = [_res(Verdict.FAILED, 1, 4), _res(Verdict.PASSED, 2, 2), JobResult.infra_error("r", 3, "down")]
    out = rewards(results, [True, False, True], binary=False)
    assert out.rewards == [0.25, 1.0, 0.0] and out.scores == out.rewards
    assert out.extra_logs == {
        "pass_rate": [0.25, 1.0, 0.0],
        "infra_error": [0.0, 0.0, 1.0],
        "prompt_found": [1.0, 0.0, 1.0],
    }
    assert rewards(results, [True] * 3, binary=True).rewards == [0.0, 1.0, 0.0]
    assert all(isinstance(v, float) for v in out.model_dump()["rewards"])  # OpenRLHF makes tensors of them


def test_a_body_found_after_its_prompt_is_scored_with_it():
    prompt = 'def add(a, b):\n    """Return a + b."""\n'
    check = "def check(candidate):\n    assert candidate(1, 2) == 3\ncheck(add)"
    (job,), found = _jobs([prompt + "    return a + b\n"], [[check]], [prompt])
    assert found == [True] and job.program == prompt + "    return a + b\n"


def test_an_object_label_names_its_function_for_extraction():
    # LiveCodeBench's evaluation sample keeps fn_name inside input_output: the block that
    # defines it is the program, not the example that follows it.
    comp = (
        "```python\nclass Solution:\n    def total(self, xs):\n        return sum(xs)\n```\nExample:\n"
        "```python\nsol = Solution()\nprint(sol.total([1, 2]))\n```\n"
    )
    io = {"inputs": ["[1, 2]"], "outputs": ["3"], "fn_name": "total"}
    (job,), _ = _jobs([comp], [{"input_output": json.dumps(io)}])
    assert job.program.startswith("class Solution:")


def test_a_label_shared_by_a_group_is_read_once():
    # A GRPO group's samples share one label: its tests are parsed once and shared, as a
    # Score shares its suite (reading each again cost about 1 s per MB of labels).
    label = json.dumps([f"assert f({i}) == {i}" for i in range(50)])
    jobs, _ = _jobs([f"def f(x):\n    return x  # {i}\n" for i in range(8)], [label] * 8)
    assert len({id(j.tests) for j in jobs}) == 1 and len(jobs[0].tests) == 50
    assert [j.program.endswith(f"# {i}\n") for i, j in enumerate(jobs)] == [True] * 8


def test_python_literal_labels_are_read_within_a_budget():
    # ast.literal_eval of an 8 MB label took 20 s of CPU and 3.8 GB, holding the GIL: labels
    # read as Python literals are bounded per request; one shared by a group counts once.
    small = str([f"assert f({i}) == {i}" for i in range(2000)])  # about 50 KB
    jobs, _ = _jobs(["def f(x):\n    return x\n"] * 40, [small] * 40)
    assert len(jobs) == 40 and len(jobs[0].tests) == 2000
    cases = [{"stdin": "x" * 1000, "expected_stdout": "x"}] * 1100  # about 1.1 MB
    with pytest.raises(InvalidJob, match="send them as JSON") as err:
        _jobs(["print(input()[0])"], [str(cases)])
    assert err.value.field == "labels[0]"
    assert len(_jobs(["print(input()[0])"], [json.dumps(cases)])[0]) == 1  # JSON: no such bound


def test_test_snippets_are_bounded_where_they_are_parsed():
    # Snippets are parsed here for the names they call (8 MiB of `assert f(1) == 2` lines took
    # 21 s, the GIL held): a request's distinct labels are bounded in lines, calls and commas;
    # a label shared by a group counts once, and a large literal is one node.
    labels = [json.dumps([f"assert f(({i}, 2), (3, 4)) == [({k}, 6), (7, 8)]" for k in range(2000)]) for i in range(30)]
    with pytest.raises(InvalidJob, match="a request") as err:
        _jobs(["def f(x):\n    return x\n"] * 30, labels)
    assert err.value.field.startswith("labels[")
    assert len(_jobs(["def f(x):\n    return x\n"] * 30, [labels[0]] * 30)[0]) == 30  # one label: once
    literal = json.dumps(["assert f(0) == '" + "x" * 900_000 + "'"])
    assert len(_jobs(["def f(x):\n    return x\n"] * 3, [literal] * 3)[0]) == 3
