"""Trusted-side splitting of assert tests: the literal never enters the sandbox."""

import pytest

from executor.asserts import ValueCheck, split_assert
from executor.sandbox.codec import encode


@pytest.mark.parametrize("src, expr, op, literal", [
    ("assert f(1) == 3", "f(1)", "==", 3),
    ("assert f(1, [2]) == [1, (2, 3)]", "f(1, [2])", "==", [1, (2, 3)]),
    ("assert 3 == f(1)", "f(1)", "==", 3),
    ("assert f(x) != 'a'", "f(x)", "!=", "a"),
    ("assert f() < -1.5", "f()", "<", -1.5),
    ("assert 2 < f()", "f()", ">", 2),
    ("assert f() is None", "f()", "is", None),
    ("assert f() is not True", "f()", "is not", True),
    ("assert f() == {'a': {1, 2}}", "f()", "==", {"a": {1, 2}}),
    ("assert f() == set()", "f()", "==", set()),
    ("assert f(), 'message'", "f()", "truth", None),
    ("assert not f()", "f()", "falsy", None),
])
def test_shapes_judged_on_the_trusted_side(src, expr, op, literal):
    check = split_assert(src)
    assert check == ValueCheck(expr, op, literal, check.literal_on_left)
    assert literal is None or repr(literal) not in check.expr


@pytest.mark.parametrize("src", [
    "assert f() == g()",                 # no literal side
    "assert f() == float('inf')",        # not a literal
    "assert abs(f() - 2.5) < 1e-6 and True",
    "x = f()\nassert x == 1",            # two statements
    "def check(c):\n    assert c(1) == 2\ncheck(f)",
    "assert f() is 5",                   # `is` with a non-singleton
    "assert 1 < f() < 3",                # chained
    "print(1)",
    "assert (",                          # does not parse: the child reports it
])
def test_other_shapes_stay_snippets(src):
    assert split_assert(src) is None


def test_judge_compares_with_python_semantics():
    eq = split_assert("assert f() == 3")
    assert eq.judge(encode(3)) == (True, None)
    assert eq.judge(encode(3.0))[0] is True          # 3.0 == 3 in Python
    ok, msg = eq.judge(encode(4))
    assert not ok and "gave 4" in msg and "expected == 3" in msg
    assert split_assert("assert [1, 2] == f()").judge(encode([1, 2]))[0]
    assert split_assert("assert f() is None").judge(encode(None))[0]
    assert not split_assert("assert f() is None").judge(encode(0))[0]
    assert split_assert("assert f()").judge(encode([0]))[0]
    assert not split_assert("assert f()").judge(encode([]))[0]
    assert split_assert("assert 'a' in f()").judge(encode("cat"))[0]


def test_judge_fails_opaque_and_incomparable_values():
    eq = split_assert("assert f() == 3")
    ok, msg = eq.judge({"X": "AlwaysEqual"})
    assert not ok and "cannot be compared" in msg
    ok, msg = split_assert("assert f() < 3").judge(encode("x"))
    assert not ok and "TypeError" in msg
    ok, _ = split_assert("assert f()").judge({"X": "Truthy"})
    assert not ok
    ok, msg = eq.judge({"bogus": 1})
    assert not ok and "unreadable" in msg
