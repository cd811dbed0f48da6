"""The trusted side's verdicts from raw answers (executor/judging/judge.py and the kinds)."""

import pytest

from executor import Job, Verdict
from executor.judging.judge import judge
from executor.judging.prepare import prepare
from executor.sandbox.codec import encode


def call_verdict(expected, returned):
    job = Job.from_dict({"id": "c", "program": "def f(): pass", "tests": [{"call": "f", "expected": expected}]})
    answer = {"load": {"s": "ok"}, "tests": [{"s": "ok", "v": encode(returned)}]}
    return judge(prepare(job), answer).tests[0].verdict


@pytest.mark.parametrize(
    "expected, returned, ok",
    [
        (3, 3, True),
        (3, 3.0, True),
        ([1, [2]], (1, (2,)), True),
        ({"a": [1]}, {"a": (1,)}, True),
        ({"1": 2}, {1: 2}, True),  # JSON writes the key 1 as "1"
        (1, True, False),
        (True, 1, False),
        (0, None, False),
        (None, 0, False),
        (0, False, False),
        ([True], [1], False),
        (1, 1 + 0j, False),
        ([1, 2], {1, 2}, False),
        ("a", b"a", False),
        ({"a": 1}, {"a": 1, "b": 2}, False),
        # Keys alike as JSON text: no JSON object holds both, and CPython's == says unequal.
        ({"1": 2, "3": 1}, {1: 99, "1": 2, 3: 7, "3": 1}, False),
        ({"true": 1, "null": 2}, {True: 5, "true": 1, None: 6, "null": 2}, False),
        ({"true": 1, "null": 2}, {True: 1, None: 2}, True),
        (None, None, True),
        ("x", "x", True),
        (float("nan"), float("nan"), True),
        ([float("nan")], [1.0], False),
        (float("inf"), float("inf"), True),
    ],
)
def test_call_tests_compare_like_json_and_are_type_strict(expected, returned, ok):
    assert (call_verdict(expected, returned) is Verdict.PASSED) is ok


def test_an_opaque_value_fails_a_call_test():
    class Rigged:
        def __eq__(self, other):
            return True

    assert call_verdict(1, Rigged()) is Verdict.FAILED
    assert call_verdict([1], [Rigged()]) is Verdict.FAILED
