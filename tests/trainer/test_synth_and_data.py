import json

import pytest

from trainer.data import RowError, read_rows, validate_row
from trainer.synth import ParseError, parse_answer


@pytest.mark.parametrize("text", [
    '{"question": "Add.", "tests": ["assert add(1, 2) == 3"]}',
    'Sure!\n```json\n{"question": "Add.", "tests": ["assert add(1, 2) == 3"]}\n```\nDone.',
    "Here: {'question': 'Add.', 'tests': ['assert add(1, 2) == 3']} -- enjoy",
    '```\n{"question": "Add.", "test_cases": ["assert add(1, 2) == 3", "print(1)"]}\n```',
    'Note {braces} first. {"question": "Add.", "tests": ["assert add(1, 2) == 3"]}',
])
def test_parse_answer_is_robust(text):
    assert parse_answer(text) == {"question": "Add.", "tests": ["assert add(1, 2) == 3"]}


@pytest.mark.parametrize("text, why", [
    ("no json here", "no JSON object"),
    ('{"question": "", "tests": ["assert 1"]}', "question"),
    ('{"question": "Q", "tests": "assert 1"}', "tests"),
    ('{"question": "Q", "tests": ["print(1)"]}', "no assert"),
])
def test_parse_answer_errors(text, why):
    with pytest.raises(ParseError, match=why):
        parse_answer(text)


def test_rows_are_validated_with_the_field_named(tmp_path):
    good = {"id": "a", "question": "Q", "test_cases": ["assert f() == 1"], "inferences": []}
    lines = [json.dumps(good), "{bad json", json.dumps({"id": "b", "question": "Q", "test_cases": []}),
             json.dumps({"id": "c", "question": "Q", "test_cases": ["assert 1"], "inferences": [{"x": 1}]}),
             json.dumps({"question": "Q"})]
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
