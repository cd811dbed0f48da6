"""executor/text.py: what a program or an input chooses is made writable, or refused by field."""

import json

import pytest
from hypothesis import given
from hypothesis import strategies as st

from executor import InvalidJob, JobResult, Verdict
from executor import TestResult as Outcome  # (not a pytest class)
from executor.text import (
    JOB_MESSAGES_MAX,
    MESSAGE_MAX,
    check_job_text,
    check_writable,
    problem,
    writable,
    writable_tree,
)

# Any code point, lone surrogates and NUL included (hypothesis leaves surrogates out by default).
ANY_TEXT = st.text(st.characters(min_codepoint=0, max_codepoint=0x10FFFF, exclude_categories=()), max_size=300)


def test_lone_surrogates_and_nul_become_visible_backslash_text():
    assert writable("a\ud800b\x00c\udfff") == "a\\ud800b\\x00c\\udfff"
    assert writable("plain é 中 \U0001f600 \t\n") == "plain é 中 \U0001f600 \t\n"  # honest text is untouched
    assert writable(123) == "123"


def test_long_text_is_cut_with_a_note_of_its_length():
    out = writable("x" * 10_000, 100)
    assert len(out) == 100 and out.endswith("... [10000 characters, cut]") and out.startswith("xxx")
    # escaping grows text: what comes out is still bounded
    out = writable("\ud800" * 10_000, 100)
    assert len(out) == 100 and out.startswith("\\ud800") and "[10000 characters, cut]" in out


@given(ANY_TEXT, st.one_of(st.none(), st.integers(40, 400)))
def test_writable_text_always_encodes_and_is_stable(text, limit):
    out = writable(text, limit)
    out.encode("utf-8")
    assert "\x00" not in out
    assert limit is None or len(out) <= limit
    assert writable(out, limit) == out  # building a result again (dataclasses.replace) changes nothing


def test_problem_names_what_and_where():
    assert problem("fine é") is None and problem("a\x00") is None
    assert problem("ab\ud800") == "not valid UTF-8 text (a lone surrogate \\ud800 at character 2)"
    assert problem("a\x00", nul=True) == "contains a NUL character (at character 1)"


def test_check_writable_names_the_field():
    with pytest.raises(InvalidJob) as exc:
        check_writable({"tests": [{"call": "f", "args": [1, ["ok", "\udc00"]]}]}, "")
    assert exc.value.field == "tests[0].args[1][1]"
    with pytest.raises(InvalidJob) as exc:
        check_writable({"a": {"\ud800": 1}}, "row")
    assert exc.value.field == "row.a.\\ud800" and "field name" in exc.value.message
    check_writable({"x": ["a\x00", 1, None, {"y": 2.5}]}, "")  # NUL is text unless refused


@pytest.mark.parametrize(
    "job, field",
    [
        ({"id": "\ud800", "program": "x", "tests": ["assert 1"]}, "id"),
        ({"id": "a\x00b", "program": "x", "tests": ["assert 1"]}, "id"),
        ({"id": "a", "program": "x = '\udcff'", "tests": ["assert 1"]}, "program"),
        ({"id": "a", "program": "x", "tests": ["assert 1", "assert x != '\ud800'"]}, "tests[1]"),
        ({"id": "a", "program": "x", "tests": [{"stdin": "\ud800", "expected_stdout": ""}]}, "tests[0].stdin"),
        (
            {"id": "a", "program": "x", "tests": [{"call": "f", "args": [], "expected": {"k": "\ud800"}}]},
            "tests[0].expected.k",
        ),
        ({"id": "a", "program": "x", "tests": ["assert 1"], "\ud800": 1}, "\\ud800"),
    ],
)
def test_job_text_is_checked_before_a_job_is_built(job, field):
    with pytest.raises(InvalidJob) as exc:
        check_job_text(job)
    assert exc.value.field == field
    str(exc.value).encode("utf-8")


def test_check_job_text_lets_honest_jobs_through():
    check_job_text({"id": "q1/s3", "program": "print('\x00 é')", "tests": [{"stdin": "\x00", "expected_stdout": ""}]})


def test_invalid_job_quotes_input_writably():
    exc = InvalidJob("\ud800", "unknown field \udfff" + "x" * 10_000)
    assert exc.field == "\\ud800" and exc.message.startswith("unknown field \\udfff") and len(exc.message) <= 4096
    str(exc).encode("utf-8")


def test_results_are_writable_however_they_are_built():
    t = Outcome(Verdict.RUNTIME_ERROR, "ValueError: \ud800\x00" + "\udfff" * 100_000, 1.0)
    assert t.message.startswith("ValueError: \\ud800\\x00\\udfff") and len(t.message) == MESSAGE_MAX
    r = JobResult("q\ud800", Verdict.FAILED, (t,), message="\udc80")
    assert r.id == "q\\ud800" and r.message == "\\udc80"
    json.dumps(r.to_dict(), ensure_ascii=False).encode("utf-8")


def test_a_jobs_messages_are_bounded_together():
    tests = tuple(Outcome(Verdict.RUNTIME_ERROR, f"{i}:" + "m" * 4000) for i in range(300))
    r = JobResult("j", Verdict.FAILED, tests)
    messages = [t.message for t in r.tests]
    assert sum(map(len, messages)) <= max(JOB_MESSAGES_MAX, 160 * 300)
    assert all(m.startswith(f"{i}:") and "characters, cut]" in m for i, m in enumerate(messages))
    assert JobResult("j", Verdict.FAILED, r.tests).tests == r.tests  # stable when built again
    few = JobResult("j", Verdict.FAILED, tests[:3])
    assert [t.message for t in few.tests] == [t.message for t in tests[:3]]  # under the budget: untouched


def test_writable_tree_cleans_keys_and_values():
    assert writable_tree({"\ud800": ["a\x00", 1, {"b": "\udfff"}]}) == {"\\ud800": ["a\\x00", 1, {"b": "\\udfff"}]}
