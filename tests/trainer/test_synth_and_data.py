import json

import pytest

from trainer.data import RowError, read_rows, validate_row
from trainer.synth import ParseError, parse_answer


@pytest.mark.parametrize(
    "text",
    [
        '{"question": "Add.", "tests": ["assert add(1, 2) == 3"]}',
        'Sure!\n```json\n{"question": "Add.", "tests": ["assert add(1, 2) == 3"]}\n```\nDone.',
        "Here: {'question': 'Add.', 'tests': ['assert add(1, 2) == 3']} -- enjoy",
        '```\n{"question": "Add.", "test_cases": ["assert add(1, 2) == 3", "print(1)"]}\n```',
        'Note {braces} first. {"question": "Add.", "tests": ["assert add(1, 2) == 3"]}',
    ],
)
def test_parse_answer_is_robust(text):
    assert parse_answer(text) == {"question": "Add.", "tests": ["assert add(1, 2) == 3"]}


@pytest.mark.parametrize(
    "text, why",
    [
        ("no json here", "no JSON object"),
        ('{"question": "", "tests": ["assert 1"]}', "question"),
        ('{"question": "Q", "tests": "assert 1"}', "tests"),
        ('{"question": "Q", "tests": ["print(1)"]}', "no assert"),
    ],
)
def test_parse_answer_errors(text, why):
    with pytest.raises(ParseError, match=why):
        parse_answer(text)


def test_rows_are_validated_with_the_field_named(tmp_path):
    good = {"id": "a", "question": "Q", "test_cases": ["assert f() == 1"], "inferences": []}
    lines = [
        json.dumps(good),
        "{bad json",
        json.dumps({"id": "b", "question": "Q", "test_cases": []}),
        json.dumps({"id": "c", "question": "Q", "test_cases": ["assert 1"], "inferences": [{"x": 1}]}),
        json.dumps({"question": "Q"}),
    ]
    path = tmp_path / "rows.jsonl"
    path.write_text("\n".join(lines) + "\n")
    got = list(read_rows(str(path)))
    assert got[0][1]["context_messages"] == [{"role": "user", "content": "Q"}]
    errors = [(line, r.field) for line, r in got if isinstance(r, RowError)]
    assert errors == [(2, "json"), (3, "test_cases"), (4, "inferences[0].completion"), (5, "id")]
    with pytest.raises(RowError):
        validate_row([], 1)


def test_a_later_object_can_be_the_answer():
    text = 'Example input: {"n": 3}. Answer: {"question": "Add.", "tests": ["assert add(1, 2) == 3"]}'
    assert parse_answer(text)["question"] == "Add."


def test_one_row_validator_for_every_step_and_score():
    """validate_row is the only AceCode row check: any test shape the farm takes, writable text."""
    row = {
        "id": 7,
        "question": "Q",
        "test_cases": [
            "assert f() == 1",
            {"call": "f", "args": [], "expected": 1},
            {"stdin": "", "expected_stdout": "1"},
        ],
        "inferences": [{"completion": "x"}],
    }
    assert validate_row(row, 1)["id"] == "7"
    for bad, field in [
        (dict(row, question="Q\ud800"), "question"),
        (dict(row, inferences=[{"completion": "ok"}, {"completion": "\udc80"}]), "inferences[1].completion"),
        (dict(row, id="a\x00"), "id"),
        (dict(row, test_cases=[1]), "test_cases"),
        ({"\ud800": 1, **row}, "\\ud800"),
    ]:
        with pytest.raises(RowError) as exc:
            validate_row(bad, 3)
        assert exc.value.field == field, (field, exc.value)
    without_question = {k: v for k, v in row.items() if k != "question"}
    with pytest.raises(RowError, match="question"):
        validate_row(without_question, 1)
    assert "context_messages" not in validate_row(without_question, 1, need_question=False)


def test_rows_may_hold_the_code_rl_shape():
    shape = {"inputs": ["1 2\n"], "outputs": ["3\n"]}
    for tests in (shape, json.dumps(shape), {"input_output": json.dumps(shape)}):
        assert validate_row({"id": "r", "question": "Q", "test_cases": tests}, 1)["test_cases"] == tests
    with pytest.raises(RowError) as err:
        validate_row({"id": "r", "question": "Q", "test_cases": {"inputs": ["1"], "outputs": []}}, 7)
    assert (err.value.line, err.value.field) == (7, "test_cases.outputs")
    with pytest.raises(RowError) as err:
        validate_row({"id": "r", "question": "Q", "test_cases": "assert f(1) == 2"}, 8)
    assert err.value.field == "test_cases" and "not valid JSON" in err.value.message


def test_score_and_the_steps_share_the_row_parser():
    """`acefarm score`'s AceCode-row parser reports the same fields as read_rows."""
    from broker.records import LineRejected
    from executor import JobRules, Limits
    from trainer.acecode import parse_line

    row = {"id": "r", "question": "Q", "test_cases": [], "inferences": [{"completion": "x = 1"}]}
    with pytest.raises(LineRejected) as exc:
        parse_line(4, row, Limits(), JobRules())
    assert (exc.value.line, exc.value.field, exc.value.message, exc.value.key) == (4, "test_cases", "is empty", "r")
    record = parse_line(5, dict(row, test_cases=["assert x == 1"]), Limits(), JobRules())
    assert [j.id for j in record.jobs] == ["r/0"] and record.jobs[0].program == "x = 1"
    job = parse_line(6, {"id": "j", "program": "x = 1", "tests": ["assert x == 1"]}, Limits(), JobRules())
    assert [j.id for j in job.jobs] == ["j"]  # not a row: broker's job parser
