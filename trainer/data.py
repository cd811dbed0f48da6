"""The AceCode-87K row schema, validated on load with an error per bad row.

    id, source, question, test_cases, inferences[{model_name, completion_id, completion,
    pass_rate}], context_messages

Rows are plain dicts (what JSONL and `datasets` give); `validate_row` checks them (the one
place that says what a row is: every step and `acefarm score` use it) and `read_rows` yields
(line, row) or (line, RowError) so a run reports bad rows and goes on with the rest.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from broker.sources import is_parquet, parquet_rows
from executor import InvalidJob
from executor.judging import formats
from executor.text import check_writable

FIELDS = ("id", "source", "question", "test_cases", "inferences", "context_messages")


@dataclass(frozen=True)
class RowError(Exception):
    """One row that cannot be used; `field` names what is wrong."""

    line: int
    field: str
    message: str

    def __str__(self) -> str:
        return f"line {self.line}: {self.field}: {self.message}"


def validate_row(row: Any, line: int, need_tests: bool = True, need_question: bool = True) -> dict[str, Any]:
    """Check one row; returns a copy with defaults filled in (raises RowError).

    Every string in the row must be writable text (no lone surrogates; no NUL in the id):
    rows are written back by every step. `test_cases` are tests in any shape the farm takes
    (a list of assert strings, stdin/stdout or call objects, or the code-RL datasets'
    {"inputs", "outputs", "fn_name"?} object or its JSON text); the farm checks each one when
    it scores.
    """
    if not isinstance(row, dict):
        raise RowError(line, "row", "must be a JSON object")
    try:
        check_writable(row, "")
        check_writable(row.get("id"), "id", nul=True)
    except InvalidJob as exc:
        raise RowError(line, exc.field, exc.message) from None
    if not isinstance(row.get("id"), (str, int)) or isinstance(row.get("id"), bool) or row.get("id") == "":
        raise RowError(line, "id", "missing or not a string")
    if need_question and (not isinstance(row.get("question"), str) or not row["question"].strip()):
        raise RowError(line, "question", "missing or empty")
    tests = row.get("test_cases", [])
    if formats.is_shape(tests):  # the code-RL shape ({"inputs", "outputs", "fn_name"?} or its JSON text)
        try:
            formats.expand(tests, "test_cases")
        except InvalidJob as exc:
            raise RowError(line, exc.field, exc.message) from None
    elif not isinstance(tests, list) or not all(isinstance(t, (str, dict)) for t in tests):
        raise RowError(
            line,
            "test_cases",
            "must be a list of tests (assert strings, stdin/stdout or call objects), or the code-RL shape",
        )
    if need_tests and not tests:
        raise RowError(line, "test_cases", "is empty")
    inferences = row.get("inferences", [])
    if not isinstance(inferences, list):
        raise RowError(line, "inferences", "must be a list")
    for i, inf in enumerate(inferences):
        if not isinstance(inf, dict) or not isinstance(inf.get("completion"), str):
            raise RowError(line, f"inferences[{i}].completion", "missing or not a string")
    out = dict(row)
    out["id"] = str(row["id"])
    out.setdefault("source", "")
    out.setdefault("test_cases", [])
    out.setdefault("inferences", [])
    if isinstance(row.get("question"), str):
        out.setdefault("context_messages", [{"role": "user", "content": row["question"]}])
    return out


def read_rows(path: str, need_tests: bool = True) -> Iterator[tuple[int, dict[str, Any] | RowError]]:
    """Rows of a JSONL or Parquet file, validated, with their line (row) numbers."""
    if is_parquet(path):
        for i, row in enumerate(parquet_rows(path), 1):
            try:
                yield i, validate_row(row, i, need_tests)
            except RowError as exc:
                yield i, exc
        return
    with open(path, "rb") as fh:
        for i, raw in enumerate(fh, 1):
            if not raw.strip():
                continue
            try:
                row = json.loads(raw.decode("utf-8"))
            except (ValueError, UnicodeDecodeError, RecursionError) as exc:
                yield i, RowError(i, "json", f"malformed: {type(exc).__name__}: {exc}"[:300])
                continue
            try:
                yield i, validate_row(row, i, need_tests)
            except RowError as exc:
                yield i, exc
