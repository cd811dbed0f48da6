"""The code-RL datasets' test shape (executor/judging/formats.py): what each pair becomes,
and every malformed field named."""

import json

import pytest

from executor import CallTest, InvalidJob, StdioTest
from executor.job import parse_tests
from executor.judging import formats


def test_stdin_pairs_become_stdin_tests_with_the_float_checker():
    # APPS's and TACO's evaluator (verl's prime_code) takes a float within its tolerance, and
    # ignores blank lines and line breaks: "float" is that (tokens; integers exactly).
    tests = parse_tests({"inputs": ["1 2\n", ["3", "4 5"]], "outputs": ["3\n", ["9", "x"]]})
    assert tests == (StdioTest("1 2\n", "3\n", "float"), StdioTest("3\n4 5", "9\nx", "float"))
    assert tests.prelude == "lcb"
    fn_null = parse_tests({"inputs": ["1"], "outputs": ["1"], "fn_name": None})
    assert fn_null == (StdioTest("1", "1", "float"),)
    lcb = parse_tests({"inputs": ["1"], "outputs": ["1"], "fn_name": None, "checker": "lines"})
    assert lcb == (StdioTest("1", "1", "lines"),)  # as `acefarm convert livecodebench` writes them
    own = parse_tests({"inputs": ["1"], "outputs": ["1.0"], "checker": "float", "tolerance": 0.01})
    assert own == (StdioTest("1", "1.0", "float", 0.01),)


def test_livecodebench_call_pairs_are_json_lines():
    tests = parse_tests({"inputs": ["[2,7,11,15]\n9", '"ab"'], "outputs": ["[0, 1]", "true"], "fn_name": "twoSum"})
    assert tests == (
        CallTest("twoSum", ([2, 7, 11, 15], 9), [0, 1], "Solution"),
        CallTest("twoSum", ("ab",), True, "Solution"),
    )


def test_apps_call_pairs_are_argument_lists_and_accept_the_result_or_it_in_a_list():
    tests = parse_tests({"inputs": [[1, [2]], []], "outputs": [[3], 4], "fn_name": "f"})
    assert tests == (CallTest("f", (1, [2]), [3], "Solution", (3,)), CallTest("f", (), 4, "Solution"))
    # A list of more than one item is the result itself: its first item is no answer.
    (longer,) = parse_tests({"inputs": [[1]], "outputs": [[3, 1, 2]], "fn_name": "f"})
    assert longer == CallTest("f", (1,), [3, 1, 2], "Solution")


def test_the_wrappers_and_codecontests_lists():
    body = {"inputs": ["1"], "outputs": ["2"]}
    want = (StdioTest("1", "2", "float"),)
    assert parse_tests({"input_output": json.dumps(body)}) == want  # APPS's and TACO's column
    assert parse_tests({"input_output": body}) == want
    assert parse_tests(json.dumps({"input_output": json.dumps(body)})) == want
    assert parse_tests({"input": ["1"], "output": ["2"]}) == want  # CodeContests' test lists
    assert parse_tests(json.dumps(body)) == want


def test_deepcoder_pairs_without_a_testtype_are_stdin_cases():
    # DeepCoder's codeforces and primeintellect rows: [{"input", "output"}], read by rllm as
    # stdin cases (every right answer there scored 0.0 when the shape was refused).
    # rllm scores them with TACO's evaluator: its tolerance ("float"), not LiveCodeBench's "lines".
    pairs = [{"input": "1 2\n", "output": "3\n"}, {"input": "4\n", "output": "4\n", "metadata": {}}]
    for raw in (pairs, json.dumps(pairs)):
        assert parse_tests(raw) == (StdioTest("1 2\n", "3\n", "float"), StdioTest("4\n", "4\n", "float"))
    # PrimeIntellect's pairs name their function: calls.
    (call,) = parse_tests([{"input": "1", "output": "2", "fn_name": "f"}])
    assert call == CallTest("f", (1,), 2, "Solution")
    with pytest.raises(InvalidJob):  # mixed with our own stdio tests: neither shape
        parse_tests([{"input": "1", "output": "1"}, {"stdin": "1", "expected_stdout": "1"}])


def test_primeintellect_cases_say_their_type_and_give_a_calls_arguments_as_a_list():
    # PrimeIntellect's verifiable-coding-problems (and SYNTHETIC-1): rllm turns the cases into
    # TACO's object, so a call's input is the argument list and its output the result (or it
    # in a list), and stdin cases are compared with TACO's tolerance.
    calls = [
        {"input": [[1, 2], 3], "output": [6], "type": "function_call", "fn_name": "f"},
        {"input": [[], 0], "output": 0, "type": "function_call", "fn_name": "f"},
    ]
    for raw in (calls, json.dumps(calls)):
        assert parse_tests(raw) == (
            CallTest("f", ([1, 2], 3), [6], "Solution", (6,)),
            CallTest("f", ([], 0), 0, "Solution"),
        )
        assert formats.function_name(raw) == "f"
    stdin = [{"input": "1 2\n", "output": "3\n", "type": "stdin_stdout"}, {"input": ["4"], "output": ["4"]}]
    assert parse_tests(stdin) == (StdioTest("1 2\n", "3\n", "float"), StdioTest("4", "4", "float"))
    assert parse_tests(stdin).prelude == "lcb"


@pytest.mark.parametrize(
    "cases, field, message",
    [
        ([{"input": "1", "output": "1", "type": "checker"}], "tests[0].type", "stdin_stdout"),
        ([{"input": "1", "output": "1", "type": 3}], "tests[0].type", "function_call"),
        (
            [{"input": "1", "output": "1", "type": "stdin_stdout"}, {"input": [1], "output": 1, "fn_name": "f"}],
            "tests",
            "mixes",
        ),
        (
            [{"input": [1], "output": "1", "type": "stdin_stdout"}, {"input": "1", "output": "1"}],
            "tests[0].input",
            "string",
        ),
        ([{"input": 7, "output": 1, "type": "function_call", "fn_name": "f"}], "tests[0].input", "argument list"),
        ([{"input": [1], "output": 1, "type": "function_call"}], "tests[0].metadata", "func_name"),
    ],
)
def test_malformed_primeintellect_cases_name_the_field(cases, field, message):
    with pytest.raises(InvalidJob) as err:
        parse_tests(cases)
    assert err.value.field == field and message in err.value.message, err.value


def test_livecodebench_case_lists_as_a_list_or_its_json_text():
    # public_test_cases / private_test_cases, and the DeepCoder and verl datasets' `tests`.
    stdin = [
        {"input": "1 2\n", "output": "3\n", "testtype": "stdin"},
        {"input": "4\n", "output": "4\n", "testtype": "stdin", "metadata": {}},
    ]
    for raw in (stdin, json.dumps(stdin)):
        tests = parse_tests(raw)
        assert tests == (StdioTest("1 2\n", "3\n", "lines"), StdioTest("4\n", "4\n", "lines"))
        assert tests.prelude == "lcb"
    functional = [
        {"input": "[2,7,11,15]\n9", "output": "[0, 1]", "testtype": "functional", "metadata": {"func_name": "twoSum"}},
        {"input": "[3,3]\n6", "output": "[0, 1]", "testtype": "functional", "metadata": '{"func_name": "twoSum"}'},
    ]
    assert parse_tests(json.dumps(functional)) == (
        CallTest("twoSum", ([2, 7, 11, 15], 9), [0, 1], "Solution"),
        CallTest("twoSum", ([3, 3], 6), [0, 1], "Solution"),
    )
    assert formats.function_name(functional) == "twoSum" and formats.function_name(stdin) is None
    assert formats.subset(stdin, [1]) == [stdin[1]]


@pytest.mark.parametrize(
    "cases, field, message",
    [
        ([{"input": "1", "output": "1", "testtype": "file"}], "tests[0].testtype", "stdin"),
        (
            [
                {"input": "1", "output": "1", "testtype": "stdin"},
                {"input": "1", "output": "1", "testtype": "functional"},
            ],
            "tests",
            "mixes",
        ),
        ([{"input": "1", "output": "1", "testtype": "functional"}], "tests[0].metadata", "func_name"),
        ([{"input": "1", "output": "1", "testtype": "stdin", "extra": 1}], "tests[0].extra", "unknown field"),
        ([{"input": 1, "output": "1", "testtype": "stdin"}], "tests[0].input", "not a string"),
        (
            [
                {"input": "1", "output": "1", "testtype": "functional", "metadata": {"func_name": "f"}},
                {"input": "1", "output": "1", "testtype": "functional", "metadata": {"func_name": "g"}},
            ],
            "tests",
            "different functions",
        ),
        # LiveCodeBench's raw columns: func_name in the row's metadata, private cases compressed.
        (
            [{"input": "1", "output": "1", "testtype": "functional"}],
            "tests[0].metadata",
            "acefarm convert livecodebench",
        ),
        ("eJxrYJkqxgABPYKFpcUpiqm5iSnppfmpAcU2", "tests", "compressed LiveCodeBench test cases"),
    ],
)
def test_malformed_case_lists_name_the_field(cases, field, message):
    with pytest.raises(InvalidJob) as err:
        parse_tests(cases)
    assert err.value.field == field and message in err.value.message, err.value


def test_plain_lists_are_not_this_shape():
    assert formats.expand(["assert f(1) == 2"]) is None
    assert formats.expand({"stdin": "1", "expected_stdout": "1"}) is None
    assert parse_tests(["assert 1"]).prelude == ""


@pytest.mark.parametrize(
    "raw, field, message",
    [
        ("assert f(1) == 2", "tests", "not valid JSON"),
        ("[1, 2]", "tests", "must be an object"),
        ({"inputs": ["1"]}, "tests.outputs", "missing or not a list"),
        ({"inputs": "1", "outputs": ["1"]}, "tests.inputs", "missing or not a list"),
        ({"inputs": [], "outputs": []}, "tests.inputs", "is empty"),
        ({"inputs": ["1", "2"], "outputs": ["1"]}, "tests.outputs", "has 1 outputs for 2 inputs"),
        ({"inputs": ["1"], "outputs": ["1"], "remote": False}, "tests.remote", "unknown field"),
        ({"inputs": ["1"], "outputs": ["1"], 1: 2, "x": 3}, "tests.1", "unknown field"),
        ({"inputs": ["1"], "outputs": ["1"], "input": ["1"]}, "tests", "not both"),
        ({"inputs": [1], "outputs": ["1"]}, "tests.inputs[0]", "a string or a list of lines"),
        ({"input": ["1"], "output": [["1", 2]]}, "tests.output[0]", "a string or a list of lines"),
        ({"inputs": ["1"], "outputs": ["1"], "fn_name": "1x"}, "tests.fn_name", "a function name"),
        ({"inputs": ["1\n{"], "outputs": ["1"], "fn_name": "f"}, "tests.inputs[0]", "line 2: not valid JSON"),
        ({"inputs": ["1"], "outputs": ["nope"], "fn_name": "f"}, "tests.outputs[0]", "not valid JSON"),
        ({"inputs": ["1"], "outputs": [1], "fn_name": "f"}, "tests.outputs[0]", "must be JSON text"),
        ({"inputs": [5], "outputs": [1], "fn_name": "f"}, "tests.inputs[0]", "a list of arguments"),
        ({"inputs": ["1"], "outputs": ["1"], "fn_name": "f", "checker": "exact"}, "tests.checker", "stdin/stdout"),
        ({"inputs": ["1"], "outputs": ["1"], "checker": "regex"}, "tests.checker", "must be one of"),
        ({"input_output": "{"}, "tests.input_output", "not valid JSON"),
        ({"input_output": {"inputs": ["1"]}}, "tests.input_output.outputs", "missing"),
        ({"input_output": {}, "fn_name": "f"}, "tests.fn_name", "beside input_output"),
        ('{"inputs": ["\\ud800"], "outputs": ["1"]}', "tests.inputs[0]", "lone surrogate"),
        ("[" * 100_000, "tests", "nested too deeply"),
    ],
)
def test_malformed_shapes_name_the_field(raw, field, message):
    with pytest.raises(InvalidJob) as err:
        parse_tests(raw)
    assert err.value.field == field and message in err.value.message, err.value


def test_subset_keeps_the_shape_and_its_form():
    body = {"inputs": ["a", "b", "c"], "outputs": ["A", "B", "C"], "fn_name": None}
    assert formats.subset(body, [0, 2]) == {"inputs": ["a", "c"], "outputs": ["A", "C"], "fn_name": None}
    assert json.loads(formats.subset(json.dumps(body), [1])) == {"inputs": ["b"], "outputs": ["B"], "fn_name": None}
    sample = {"input_output": json.dumps(body)}
    assert json.loads(formats.subset(sample, [2])["input_output"])["inputs"] == ["c"]
    assert formats.subset({"input": ["1", "2"], "output": ["1", "2"]}, [1]) == {"input": ["2"], "output": ["2"]}


def test_null_checker_and_tolerance_are_absent_ones():
    shape = {"inputs": ["1\n"], "outputs": ["1\n"], "fn_name": None, "checker": None, "tolerance": None}
    assert parse_tests(shape) == parse_tests({"inputs": ["1\n"], "outputs": ["1\n"]})
    call = {"inputs": [[1]], "outputs": [1], "fn_name": "f", "checker": None}
    assert parse_tests(call) == parse_tests({"inputs": [[1]], "outputs": [1], "fn_name": "f"})


def test_function_name():
    body = {"inputs": ["1"], "outputs": ["1"], "fn_name": "solve"}
    for raw in (body, json.dumps(body), {"input_output": json.dumps(body)}, {"input_output": body}):
        assert formats.function_name(raw) == "solve"
    assert formats.function_name({"inputs": [], "outputs": [], "fn_name": None}) is None
    assert formats.function_name("not json") is None and formats.function_name(["assert 1"]) is None


def test_too_many_pairs_are_refused_before_a_test_is_built():
    shape = {"inputs": ["1"] * 3_000_000, "outputs": ["1"] * 3_000_000}
    with pytest.raises(InvalidJob) as err:
        parse_tests(shape)
    assert err.value.field == "tests.inputs" and "at most 2000" in err.value.message
    with pytest.raises(InvalidJob) as err:
        parse_tests(["assert 1"] * 3_000_000)
    assert err.value.field == "tests" and "at most 2000" in err.value.message


def test_apps_float_answers_pass_within_tolerance_and_lcb_stays_exact():
    # A right APPS answer printed with more digits, or with a blank line between outputs.
    from executor.judging.checkers import matches_any

    (apps,) = parse_tests({"inputs": ["1 3\n"], "outputs": ["0.333333333333\n"]})
    assert matches_any(apps.checker, apps.tolerance, (apps.expected_stdout,), "0.3333333333\n")
    (blank,) = parse_tests({"inputs": [""], "outputs": ["1\n2\n"]})
    assert matches_any(blank.checker, blank.tolerance, (blank.expected_stdout,), "1\n\n2\n")
    assert not matches_any(apps.checker, apps.tolerance, (apps.expected_stdout,), "0.3334\n")
    (lcb,) = parse_tests([{"input": "1 3\n", "output": "0.333333333333\n", "testtype": "stdin"}])
    assert not matches_any(lcb.checker, lcb.tolerance, (lcb.expected_stdout,), "0.3333333333\n")
