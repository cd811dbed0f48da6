"""Values at the size limits: what a test states is the farm's cost, what a program returns is
the program's (DESIGN section 9, "Cost").

- A test's own text is compiled in the test process before the program's first phase: a
  100,000-item literal takes most of a second to compile, and a right program must not time
  out for it.
- The sandbox carries back values of up to codec.MAX_ENCODED_NODES items (as many as a 1 MiB
  literal states). A right program's value that large passes; a test that compares a program's
  value with a value of its own larger still cannot tell right from wrong: it is not judgeable
  (infra_error) for every program, so no program can choose that verdict by its answer.
"""

from __future__ import annotations

import pytest

from executor import Job, JobRules, Verdict
from executor.sandbox.codec import MAX_ENCODED_NODES

from .security_support import make_job, show

pytestmark = pytest.mark.security

LITERAL = "assert f() == [" + "0, " * 100_000 + "]"  # > 2000 AST nodes: run in the test process


def test_a_large_literals_compile_is_not_charged_to_the_program(solo_pool):
    right = solo_pool.run(make_job("def f():\n    return [0] * 100000\n", [LITERAL], cpu_s=0.25))
    assert right.verdict is Verdict.PASSED, show(right)
    assert right.tests[0].cpu_ms is not None and right.tests[0].cpu_ms < 250, show(right)
    wrong = solo_pool.run(make_job("def f():\n    return [0] * 99999\n", [LITERAL], cpu_s=0.25))
    assert wrong.verdict is Verdict.FAILED and wrong.tests[0].verdict is Verdict.FAILED, show(wrong)


# Larger than the codec's earlier bound (200,000), within MAX_ENCODED_NODES: judged, on the
# host (a planned assert) and in the test process (a snippet it cannot plan: random).
BIG = 300_000
BIG_TESTS = {
    "host": f"assert f() == [0] * {BIG}",
    "test process": f"import random\nassert f() == [0] * ({BIG} + random.randint(0, 0))",
    "check(candidate)": f"def check(candidate):\n    assert candidate() == [0] * {BIG}\n\ncheck(f)",
}


@pytest.mark.parametrize("where", sorted(BIG_TESTS))
def test_a_right_value_of_300000_items_passes_and_a_wrong_one_fails(solo_pool, where):
    test = BIG_TESTS[where]
    right = solo_pool.run(make_job(f"def f():\n    return [0] * {BIG}\n", [test], cpu_s=2))
    assert right.verdict is Verdict.PASSED, show(right)
    wrong = solo_pool.run(make_job(f"def f():\n    return [0] * {BIG - 1} + [1]\n", [test], cpu_s=2))
    assert wrong.verdict is Verdict.FAILED and wrong.tests[0].verdict is Verdict.FAILED, show(wrong)


TOO_BIG = "[[0, 0]] * 262144"  # 786,433 items, built by the test on the host
ANSWERS = {
    "right": f"def f():\n    return {TOO_BIG}\n",
    "a small wrong value": "def f():\n    return 3\n",
    "a wrong value too large to carry": "def f():\n    return [1] * 600000\n",
    "a crash": "def f():\n    raise ValueError\n",
}


@pytest.mark.parametrize("answer", ["right", "a small wrong value", "a wrong value too large to carry"])
@pytest.mark.parametrize("test", [f"assert f() == {TOO_BIG}", f"assert {TOO_BIG} != f()", f"assert f() in [{TOO_BIG}]"])
def test_a_comparison_with_more_than_the_sandbox_carries_is_not_judgeable(solo_pool, answer, test):
    result = solo_pool.run(make_job(ANSWERS[answer], [test], cpu_s=2))
    assert result.verdict is Verdict.INFRA_ERROR and result.attempts == 1, show(result)
    assert "not judgeable" in (result.tests[0].message or ""), show(result)


def test_a_program_that_crashes_first_gets_its_own_verdict(solo_pool):
    result = solo_pool.run(make_job(ANSWERS["a crash"], [f"assert f() == {TOO_BIG}"], cpu_s=2))
    assert result.verdict is Verdict.FAILED and result.tests[0].verdict is Verdict.RUNTIME_ERROR, show(result)


def test_a_large_container_of_small_candidates_is_judged(solo_pool):
    # `in` needs the program's value to equal one item: each is small, so it is judged.
    test = "assert f() in [[0, 0]] * 262144 + [[1, 2]]"
    assert solo_pool.run(make_job("def f():\n    return [1, 2]\n", [test])).verdict is Verdict.PASSED
    wrong = solo_pool.run(make_job("def f():\n    return [2, 1]\n", [test]))
    assert wrong.verdict is Verdict.FAILED, show(wrong)


def test_a_call_test_expecting_more_than_the_sandbox_carries_is_not_judgeable(solo_pool):
    expected = [[0, 0]] * 262144
    assert len(expected) * 3 + 1 > MAX_ENCODED_NODES
    rules = JobRules(max_test_bytes=8 << 20)  # a server may allow larger tests than the default
    for program in ("def f(n):\n    return [[0, 0]] * n\n", "def f(n):\n    return 3\n"):
        job = Job.from_dict(
            {"id": "big-call", "program": program, "tests": [{"call": "f", "args": [262144], "expected": expected}]},
            rules=rules,
        )
        result = solo_pool.run(job)
        assert result.verdict is Verdict.INFRA_ERROR and result.attempts == 1, show(result)
        assert "not judgeable" in (result.tests[0].message or ""), show(result)


SIEVE = (
    "def sieve(n):\n    s = [True] * (n + 1)\n    s[0] = s[1] = False\n"
    "    for i in range(2, int(n ** 0.5) + 1):\n        if s[i]:\n            s[i*i::i] = [False] * len(s[i*i::i])\n"
    "    return s\n"
)


def test_an_item_of_a_value_too_large_to_carry_is_judged(solo_pool):
    # `sieve(10**6)[97]`: the child takes the item (a literal index), so a million-item list
    # need not cross; the program chooses the item no more than it chose the whole value.
    tests = ["assert sieve(10**6)[97] == True", "assert sieve(10**6)[97]", "assert not sieve(10**6)[100]"]
    right = solo_pool.run(make_job(SIEVE, tests, cpu_s=2))
    assert right.verdict is Verdict.PASSED, show(right)
    wrong = solo_pool.run(
        make_job(SIEVE.replace("s[0] = s[1] = False", "s[0] = s[1] = False\n    s[97] = False"), tests, cpu_s=2)
    )
    assert [t.verdict for t in wrong.tests] == [Verdict.FAILED, Verdict.FAILED, Verdict.PASSED], show(wrong)
    tail = solo_pool.run(
        make_job(
            "def f(n):\n    return list(range(n))\n",
            ["assert f(10**6)[-1] == 999999", "assert f(10**6)[:3] == [0, 1, 2]"],
        )
    )
    assert tail.verdict is Verdict.PASSED, show(tail)


TRIE = (
    "def build_trie(words):\n    root = {}\n    for w in words:\n        node = root\n"
    "        for ch in w:\n            node = node.setdefault(ch, {})\n        node['$'] = True\n    return root\n"
)


def _trie_literal(depth: int) -> str:
    text = "{'$': True}"
    for _ in range(depth):
        text = "{'a': " + text + "}"
    return text


@pytest.mark.parametrize("depth", [80, 150, 190])
def test_values_nested_as_deep_as_a_test_can_write_are_judged(solo_pool, depth):
    # A trie of one word is as deep as the word is long (a dict is three levels on the wire).
    right = solo_pool.run(make_job(TRIE, [f"assert build_trie(['a' * {depth}]) == {_trie_literal(depth)}"]))
    assert right.verdict is Verdict.PASSED, show(right)
    wrong = solo_pool.run(make_job(TRIE, [f"assert build_trie(['a' * {depth}]) == {_trie_literal(depth - 1)}"]))
    assert wrong.verdict is Verdict.FAILED, show(wrong)
    nested = "def wrap(x, n):\n    for _ in range(n):\n        x = [x]\n    return x\n"
    test = f"assert wrap(0, {depth}) == " + "[" * depth + "0" + "]" * depth
    assert solo_pool.run(make_job(nested, [test])).verdict is Verdict.PASSED


def test_a_value_deeper_than_the_sandbox_carries_fails_its_test(solo_pool):
    # Deeper than codec.MAX_DEPTH: opaque, so the comparison fails (no test can state it).
    deep = "def wrap(x, n):\n    for _ in range(n):\n        x = [x]\n    return x\n"
    result = solo_pool.run(make_job(deep, ["assert wrap(0, 400) != 1", "assert wrap(0, 400)"]))
    assert [t.verdict for t in result.tests] == [Verdict.FAILED, Verdict.FAILED], show(result)


def test_a_set_of_a_hundred_thousand_items_is_judged(solo_pool):
    program = "def unique(xs):\n    return set(xs)\n"
    right = solo_pool.run(make_job(program, ["assert unique(list(range(100000)) * 2) == set(range(100000))"]))
    assert right.verdict is Verdict.PASSED, show(right)
    wrong = solo_pool.run(make_job(program, ["assert unique(list(range(100000))) == set(range(1, 100001))"]))
    assert wrong.verdict is Verdict.FAILED, show(wrong)


def test_a_trie_of_defaultdicts_as_deep_as_a_test_can_write_is_judged(solo_pool):
    # A defaultdict level is four on the wire ({"DD": [factory, [[k, v]]]}).
    program = (
        "from collections import defaultdict\ndef make_trie(words):\n    T = lambda: defaultdict(T)\n"
        "    root = T()\n    for w in words:\n        node = root\n        for ch in w:\n            node = node[ch]\n"
        "    return root\n"
    )
    literal = "{}"
    for _ in range(180):
        literal = "{'a': " + literal + "}"
    call = {"call": "make_trie", "args": [["a" * 180]], "expected": eval(literal)}
    result = solo_pool.run(make_job(program, [call]))
    assert result.verdict is Verdict.PASSED, show(result)


NESTED = "X = [[[[i]]] for i in range(60000)]\ndef f(*args):\n    return X\n"  # 240,000 nodes


@pytest.mark.parametrize(
    "test",
    [{"call": "f", "args": [1], "expected": [1]}, "assert f(1) == [1]", "assert [[1], 2] == f(1)"],
    ids=["call", "assert", "assert, literal first"],
)
def test_a_value_far_larger_than_the_expected_one_fails_unread(solo_pool, test):
    # Decoded and copied, two such values a job cost the host seconds of CPU whatever its cpu_s;
    # counted up to a bound the expected value sets, it fails at what the test's side costs.
    result = solo_pool.run(make_job(NESTED, [test, test]))
    assert [t.verdict for t in result.tests] == [Verdict.FAILED] * 2, show(result)
    assert all("far larger than the expected one" in (t.message or "") for t in result.tests), show(result)


@pytest.mark.parametrize(
    "program, test",
    [
        # Each item of these takes 3 nodes on the wire where the expected value has 1: a value
        # equal to it is never past the bound.
        ("def f():\n    return tuple(() for _ in range(3000))\n", {"call": "f", "expected": [[]] * 3000}),
        ("def f():\n    return [()] * 3000\n", "assert f() == [" + "(), " * 3000 + "]"),
        ("def f():\n    return [{} for _ in range(3000)]\n", "assert f() == [" + "{}, " * 3000 + "]"),
        ("def f():\n    return [2**70] * 3000\n", "assert f() == [" + f"{2**70}, " * 3000 + "]"),
        (
            "def f():\n    return {i: () for i in range(2000)}\n",
            "assert f() == {" + "".join(f"{i}: (), " for i in range(2000)) + "}",
        ),
        ("def f():\n    return 'x' * 100000\n", "assert f() == '" + "x" * 100000 + "'"),
        # 5 nodes a Fraction, 10 a namedtuple of one field: equal to floats and tuples.
        (
            "from fractions import Fraction\ndef f():\n    return [Fraction(1, 2)] * 3000\n",
            "assert f() == [" + "0.5, " * 3000 + "]",
        ),
        (
            "from collections import namedtuple\nP = namedtuple('P', 'x')\ndef f():\n    return [P(1)] * 3000\n",
            "assert f() == [" + "(1,), " * 3000 + "]",
        ),
        (
            "from collections import namedtuple\nP = namedtuple('P', 'x')\ndef f():\n    return [P(i) for i in range(3000)]\n",
            {"call": "f", "expected": [[i] for i in range(3000)]},
        ),
        (  # a namedtuple's fields cross with every instance, defaults and all: not counted
            "from collections import namedtuple\nP = namedtuple('P', 'x y', defaults=(0, 0))\n"
            "S = namedtuple('S', 'a b', defaults=(P(), P()))\nR = namedtuple('R', 't b', defaults=(S(), S()))\n"
            "def f(n):\n    return [R(S(P(i, 0), P(i + 1, 0)), S(P(i, 1), P(i + 1, 1))) for i in range(n)]\n",
            "assert f(60) == " + repr([(((i, 0), (i + 1, 0)), ((i, 1), (i + 1, 1))) for i in range(60)]),
        ),
    ],
    ids=[
        "call tuples",
        "tuples",
        "dicts",
        "large ints",
        "dict of tuples",
        "a long string",
        "fractions",
        "namedtuples",
        "call namedtuples",
        "nested namedtuples with defaults",
    ],
)
def test_a_value_equal_to_the_expected_one_is_within_the_bound(solo_pool, program, test):
    result = solo_pool.run(make_job(program, [test]))
    assert result.verdict is Verdict.PASSED, show(result)
