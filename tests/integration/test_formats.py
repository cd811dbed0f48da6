"""The code-RL datasets' test shape (executor/judging/formats.py) on the real sandbox: right
programs of every fixture problem score 1.0 and wrong ones 0.0, through Job.from_dict, the
trainer's extraction, verl's compute_score, trl's FarmReward, and the filter step."""

import json

import pytest

from executor import ExecutorConfig, Job, Verdict
from tests import formats_support
from trainer.farm import EmbeddedFarm
from trainer.steps import filter_row

CASES = formats_support.cases()


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.id)
def test_right_programs_score_one_and_wrong_ones_zero(pool, case):
    jobs = [
        Job.from_dict({"id": f"{case.id}/{i}", "program": p, "tests": case.tests}) for i, p in enumerate(case.right)
    ]
    bad = [
        Job.from_dict({"id": f"{case.id}/w{i}", "program": p, "tests": case.tests}) for i, p in enumerate(case.wrong)
    ]
    assert all(j.prelude == "lcb" for j in jobs + bad)  # the datasets' own evaluators import these
    for result in pool.map(jobs):
        assert result.pass_rate == 1.0, result
    for result in pool.map(bad):
        assert result.pass_rate == 0.0 and result.verdict is Verdict.FAILED, result
        assert all(t.verdict is Verdict.FAILED for t in result.tests), result


def test_every_dataset_has_stdin_and_call_problems_where_it_has_them():
    kinds = {(c.dataset, c.calls) for c in CASES}
    assert kinds == {
        ("apps", False),
        ("apps", True),
        ("taco", False),
        ("taco", True),
        ("codecontests", False),  # stdin/stdout only
        ("livecodebench", False),
        ("livecodebench", True),
    }


def test_leetcode_answers_need_the_prelude_their_datasets_run_with(run):
    (case,) = [c for c in CASES if c.id == "livecodebench/9001"]
    assert "import" not in case.right[0] and "List[int]" in case.right[0]
    assert run(case.right[0], case.tests).pass_rate == 1.0
    without = run(case.right[0], case.tests, prelude="")
    assert without.verdict is Verdict.FAILED and "NameError: name 'List' is not defined" in without.tests[0].message
    assert run(case.right[0], case.tests, prelude="typing").pass_rate == 1.0


def test_the_solution_method_comes_before_a_global_of_its_name_and_a_missing_target_fails(run):
    # APPS's, TACO's and LiveCodeBench's evaluators call Solution().<fn_name> whenever the
    # program has class Solution: a global of that name is a helper (here a recursive one with
    # other parameters), and a global alone is the target.
    tests = {"inputs": ["1\n2"], "outputs": ["3"], "fn_name": "total"}
    both = "def total(a, b):\n    return a + b\n\nclass Solution:\n    def total(self, a, b):\n        return a - b\n"
    assert run(both, tests).pass_rate == 0.0
    helper = (
        "def search(nums, target, lo, hi):\n"
        "    if lo > hi:\n        return -1\n"
        "    mid = (lo + hi) // 2\n"
        "    if nums[mid] == target:\n        return mid\n"
        "    if nums[mid] < target:\n        return search(nums, target, mid + 1, hi)\n"
        "    return search(nums, target, lo, mid - 1)\n\n"
        "class Solution:\n"
        "    def search(self, nums, target):\n"
        "        return search(nums, target, 0, len(nums) - 1)\n"
    )
    cases = {"inputs": ["[-1,0,3,5,9,12]\n9", "[-1,0,3,5,9,12]\n2"], "outputs": ["4", "-1"], "fn_name": "search"}
    assert run(helper, cases).pass_rate == 1.0
    apps = {"inputs": [[[-1, 0, 3, 5, 9, 12], 9]], "outputs": [[4]], "fn_name": "search"}
    assert run(helper, apps).pass_rate == 1.0
    # A method the instance gets in __init__ (memoized there) is the instance's, as a fresh
    # Solution() has it.
    memo = helper.replace(
        "class Solution:\n",
        "class Solution:\n    def __init__(self):\n        self.search = self._search\n",
    ).replace("    def search(self, nums, target):", "    def _search(self, nums, target):")
    assert "def _search(self" in memo and run(memo, cases).pass_rate == 1.0
    # A class Solution without the method leaves the global the target.
    other = "def total(a, b):\n    return a + b\n\nclass Solution:\n    def other(self):\n        pass\n"
    assert run(other, tests).pass_rate == 1.0
    neither = run("def plus(a, b):\n    return a + b\n", tests)
    assert neither.tests[0].verdict is Verdict.RUNTIME_ERROR
    assert "neither 'total' nor a class 'Solution' is defined by the program" in neither.tests[0].message
    no_method = run("class Solution:\n    pass\n", tests)
    assert no_method.tests[0].verdict is Verdict.RUNTIME_ERROR and "AttributeError" in no_method.tests[0].message


def test_each_call_gets_a_fresh_solution_and_prelude_names_are_not_the_programs(run):
    # `count` is also itertools.count, which the "lcb" prelude imports: a name the prelude
    # bound is a call's target only if the program binds it again.
    program = (
        "class Solution:\n"
        "    def __init__(self):\n"
        "        self.calls = 0\n"
        "    def count(self, x):\n"
        "        self.calls += 1\n"
        "        return self.calls\n"
    )
    result = run(program, {"inputs": ["1", "2", "3"], "outputs": ["1", "1", "1"], "fn_name": "count"})
    assert result.pass_rate == 1.0
    gcd = {"inputs": ["12\n18"], "outputs": ["6"], "fn_name": "gcd"}
    assert run("pass\n", gcd).tests[0].verdict is Verdict.RUNTIME_ERROR  # math.gcd is not an answer
    assert run("def gcd(a, b):\n    return gcd(b, a % b) if b else a\n", gcd).pass_rate == 1.0
    # The program's own binding of the same object is its choice, as under APPS' runner.
    for program in (
        "from math import gcd\n",
        "import math\ngcd = math.gcd\n",
        "def setup():\n    global gcd\n    from math import gcd as g\n    gcd = g\nsetup()\n",
        "from math import *\n",  # a star import binds it too (it was taken for the prelude's)
    ):
        assert run(program, gcd).pass_rate == 1.0, program


def test_each_call_gets_its_own_arguments_when_tests_repeat_an_input(run):
    """Datasets repeat inputs (public and private tests alike): a program that consumes its
    argument must get a fresh one each call, as a fresh interpreter per test would give it."""
    pops = "def total(a):\n    s = 0\n    while a:\n        s += a.pop()\n    return s\n"
    assert run(pops, [{"call": "total", "args": [[1, 2]], "expected": 3}] * 3).pass_rate == 1.0
    leetcode = "class Solution:\n    def total(self, a):\n        return sum(a.pop() for _ in range(len(a)))\n"
    assert run(leetcode, {"inputs": ["[1,2]"] * 3, "outputs": ["3"] * 3, "fn_name": "total"}).pass_rate == 1.0
    keys = "def f(d):\n    return d.pop('k')\n"
    assert run(keys, [{"call": "f", "args": [{"k": 1}], "expected": 1}] * 2).pass_rate == 1.0


def test_the_prelude_is_trusted_text_beside_the_program_not_in_it(run):
    # Line numbers and the program's own `from __future__` import are the program's.
    tests = [{"call": "f", "args": [], "expected": 1}]
    program = "from __future__ import annotations\n\ndef f() -> Deque[int]:\n    return 1 // 0\n"
    result = run(program, tests, prelude="lcb")
    assert result.tests[0].verdict is Verdict.RUNTIME_ERROR and "ZeroDivisionError" in result.tests[0].message
    syntax = run("def f(:\n    pass\n", tests, prelude="lcb")
    assert syntax.verdict is Verdict.SYNTAX_ERROR and "line 1" in syntax.tests[0].message
    stdio = run("print(gcd(12, 18), sqrt(16))\n", [{"stdin": "", "expected_stdout": "6 4.0\n"}], prelude="lcb")
    assert stdio.pass_rate == 1.0
    assert run("print(gcd(12, 18))\n", [{"stdin": "", "expected_stdout": "6\n"}]).tests[0].verdict is (
        Verdict.RUNTIME_ERROR
    )
    raw = run("print(gcd(12, 18))\nraise KeyError('k')\n", [{"raw": {}}], prelude="lcb").tests[0].output
    assert raw.stdout == "6\n" and raw.exit_code == 1  # a raw run takes the prelude too
    assert raw.stderr.startswith("Traceback") and "prelude" not in raw.stderr and "line 2" in raw.stderr


def test_call_tests_compare_as_typed_json_where_livecodebench_compares_python_values(run):
    # LiveCodeBench's runner would take 1 for true (1 == True in Python); the farm's call
    # tests are type-strict (DESIGN section 9).
    tests = {"inputs": ['"aba"'], "outputs": ["true"], "fn_name": "isPalindrome"}
    assert run("def isPalindrome(s):\n    return s == s[::-1]\n", tests).pass_rate == 1.0
    assert run("def isPalindrome(s):\n    return int(s == s[::-1])\n", tests).pass_rate == 0.0


def test_extraction_finds_the_block_that_defines_fn_name():
    from trainer.extract import extract_code

    (case,) = [c for c in CASES if c.id == "livecodebench/9001"]
    completion = f"Sketch:\n```python\nprint('thinking')\n```\nAnswer:\n```python\n{case.right[0]}```\n"
    for tests in (case.tests, json.dumps(case.tests), json.loads(case.tests["input_output"])):
        assert extract_code(completion, tests) == case.right[0]


def test_compute_score_takes_the_shape_as_an_object_or_json_text():
    from trainer.rewards import compute_score  # its farm: a shared embedded pool (no ACEFARM_SERVER)

    for case in CASES:
        text = case.tests if isinstance(case.tests, str) else json.dumps(case.tests)
        for ground_truth in (text, json.loads(text)):
            for program in case.right:
                completion = f"Here it is:\n```python\n{program}```\n"
                assert compute_score(case.dataset, completion, ground_truth) == 1.0, case.id
            for program in case.wrong:
                assert compute_score(case.dataset, f"```python\n{program}```", ground_truth) == 0.0, case.id


def test_farm_reward_takes_a_column_of_objects_or_json_text():
    from trainer.rewards import FarmReward

    farm = EmbeddedFarm(ExecutorConfig(slots=1))
    try:
        reward = FarmReward(farm)
        completions, texts, want = [], [], []
        for case in CASES:
            text = case.tests if isinstance(case.tests, str) else json.dumps(case.tests)
            for program, rate in [(p, 1.0) for p in case.right] + [(p, 0.0) for p in case.wrong]:
                completions.append(f"```python\n{program}```")
                texts.append(text)
                want.append(rate)
        prompts = [""] * len(completions)
        assert reward(prompts, completions, test_cases=texts) == want
        assert reward(prompts, completions, test_cases=[json.loads(t) for t in texts]) == want
    finally:
        farm.close()


def test_filter_keeps_the_shape_with_the_pairs_the_reference_passes():
    (case,) = [c for c in CASES if c.id == "apps/9001"]
    io = json.loads(case.tests)
    io["inputs"].append("2 2\n")
    io["outputs"].append("5\n")  # a wrong pair the reference fails
    row = {"id": "apps/9001", "question": "a + b", "test_cases": json.dumps(io), "inferences": []}
    farm = EmbeddedFarm(ExecutorConfig(slots=1))
    try:
        kept = filter_row(row, farm, min_tests=2, reference=case.right[0])
    finally:
        farm.close()
    assert json.loads(kept["test_cases"]) == json.loads(case.tests)


def test_an_expected_output_larger_than_output_kb_can_be_printed(run):
    """CodeContests' outputs reach hundreds of KB: the output limit of a run makes room for
    the test's own expected (or accepted) output, four times over (what a checker forgives:
    a trailing space on every line, more decimals), and no more."""
    expected = "\n".join(map(str, range(60_000))) + "\n"  # 349 KB, the default output_kb 256
    program = "import sys\nn = int(input())\nsys.stdout.write('\\n'.join(map(str, range(n))) + '\\n')\n"
    for tests in (
        [{"stdin": "60000\n", "expected_stdout": expected}],
        [{"stdin": "60000\n", "accepted_stdout": ["0\n", expected]}],
        {"inputs": ["60000\n"], "outputs": [expected]},
    ):
        assert run(program, tests).pass_rate == 1.0
    spaced = program.replace("'\\n'.join(map(str", "' \\n'.join(map('{:.6f}'.format")  # 0.000000 \n...
    assert run(spaced, [{"stdin": "60000\n", "expected_stdout": expected, "checker": "float"}]).pass_rate == 1.0
    flood = run("print('x' * 1_500_000)\n", [{"stdin": "", "expected_stdout": expected}])
    assert flood.tests[0].verdict is Verdict.OUTPUT_EXCEEDED
    assert run("print('x' * 300_000)\n", [{"stdin": "", "expected_stdout": "x\n"}]).tests[0].verdict is (
        Verdict.OUTPUT_EXCEEDED
    )


def test_numbers_printed_to_more_places_fit_the_output_limit(run):
    """Where the checker compares numbers, a right answer may take far more than four times the
    expected text: 20,000 lines of 0.5 printed to 15 places (360 KB against 80 KB), of 0 to 12
    places. Such a run gets NUMBER_ROOM bytes more per expected token; a flood is still cut."""
    for fmt, value in (("%.15f", "0.5"), ("%.12f", "0")):
        program = f"n = int(input())\nprint('\\n'.join(['{fmt}' % {value}] * n))\n"
        expected = f"{value}\n" * 20_000
        for tests in (
            {"inputs": ["20000\n"], "outputs": [expected]},
            [{"stdin": "20000\n", "expected_stdout": expected, "checker": "float"}],
            [{"stdin": "20000\n", "expected_stdout": expected, "checker": "lines"}],
        ):
            r = run(program, tests)
            assert r.pass_rate == 1.0, r.tests
    flood = run("print('1' * 2_000_000)\n", [{"stdin": "", "expected_stdout": "0.5\n" * 20_000, "checker": "float"}])
    assert flood.tests[0].verdict is Verdict.OUTPUT_EXCEEDED


def test_numbers_printed_other_than_expected_past_the_hosts_bound_are_judged_apart(run, monkeypatch):
    """Past checkers.IN_PROCESS_NUMBERS of work on numbers printed other than as expected (here
    lowered, so that 5,000 lines reach it), the host stops and the test is judged in a process of
    its own under the job's limits: the same verdicts, whichever checker and shape."""
    from executor.judging import bounded, checkers

    monkeypatch.setattr(checkers, "IN_PROCESS_NUMBERS", 1_000)
    apart = []
    judge_output = bounded.judge_output
    monkeypatch.setattr(bounded, "judge_output", lambda *a: apart.append(a[0]) or judge_output(*a))
    expected = "".join(f"{i}\n" for i in range(5_000))
    right = "print('\\n'.join(f'{i}.0' for i in range(5000)))\n"
    wrong = right.replace("range(5000)", "[*range(4999), 5000]")  # its last number: judged apart too
    for tests in (
        [{"stdin": "", "expected_stdout": expected, "checker": "float"}],
        [{"stdin": "", "expected_stdout": expected, "checker": "lines"}],
        [{"stdin": "", "accepted_stdout": ["x\n", expected], "checker": "float"}],
    ):
        r = run(right, tests)
        assert r.pass_rate == 1.0, r.tests
        r = run(wrong, tests)
        message = r.tests[0].message or ""
        assert r.tests[0].verdict is Verdict.FAILED and ("wrong output" in message or "accepted" in message), r.tests
    assert apart == ["float", "float", "lines", "lines", "float", "float"]  # every run, judged apart


def test_a_contest_sized_case_is_a_test_like_any_other(run):
    """Sorting 200,000 numbers: input and expected output about 1.4 MB each, 2.7 MB as one
    test's JSON (the code-contest datasets' large cases). A test was once capped at 1 MiB, and
    such a row was refused whole, its error naming only the input."""
    numbers = [(i * 7919) % 1_000_003 for i in range(200_000)]
    stdin = f"{len(numbers)}\n" + " ".join(map(str, numbers)) + "\n"
    stdout = " ".join(map(str, sorted(numbers))) + "\n"
    program = "import sys\ndata = sys.stdin.buffer.read().split()\nprint(*sorted(map(int, data[1:])))\n"
    for tests in ({"inputs": [stdin], "outputs": [stdout]}, [{"stdin": stdin, "expected_stdout": stdout}]):
        assert run(program, tests).pass_rate == 1.0
    wrong = program.replace("sorted(map(int, data[1:]))", "sorted(map(int, data[1:]), reverse=True)")
    assert run(wrong, [{"stdin": stdin, "expected_stdout": stdout}]).pass_rate == 0.0


def test_primeintellect_cases_score_right_programs_one_and_wrong_ones_zero(run):
    calls = json.dumps(
        [
            {"input": [[1, 2, 3], 2], "output": [[4, 6]], "type": "function_call", "fn_name": "scale"},
            {"input": [[], 5], "output": [[]], "type": "function_call", "fn_name": "scale"},
        ]
    )
    right = "class Solution:\n    def scale(self, xs, k):\n        return [x * k for x in xs[1:]]\n"
    wrong = "def scale(xs, k):\n    return [x * k for x in xs] or [0]\n"
    assert run(right, calls).pass_rate == 1.0
    assert run(wrong, calls).pass_rate == 0.0
    stdin = [{"input": "2 3\n", "output": "5\n", "type": "stdin_stdout"}]
    assert run("a, b = map(int, input().split())\nprint(a + b)\n", stdin).pass_rate == 1.0
    assert run("a, b = map(int, input().split())\nprint(a * b)\n", stdin).pass_rate == 0.0
