"""APPS (`codeparrot/apps` train/test.jsonl): problem_id, question, solutions (JSON text of a
list of programs), input_output (JSON text of `{"inputs", "outputs", "fn_name"?}`),
starter_code, difficulty, url.

The tests are `input_output` as published, the standard code-RL shape the farm takes (APPS's
call-based inputs are lists of arguments); the reference is the first solution. Problems
whose `input_output` is empty have no tests and are reported.
"""

from __future__ import annotations

import json
from typing import Any

from . import BadRecord, Problem, problem_id, text_field


def _json(rec: dict[str, Any], field: str) -> Any:
    value = rec.get(field)
    if isinstance(value, str):
        if not value.strip():
            return None
        try:
            return json.loads(value)
        except ValueError:
            raise BadRecord(field, "not JSON") from None
    return value


def problem(rec: dict[str, Any]) -> Problem:
    question = text_field(rec, "question")
    tests = _json(rec, "input_output")
    if not isinstance(tests, dict) or not tests.get("inputs") or not isinstance(tests.get("outputs"), list):
        raise BadRecord("input_output", 'no tests (an {"inputs", "outputs"} object is needed)')
    if len(tests["inputs"]) != len(tests["outputs"]):
        raise BadRecord("input_output", f"{len(tests['inputs'])} inputs but {len(tests['outputs'])} outputs")
    solutions = _json(rec, "solutions")
    reference = solutions[0] if isinstance(solutions, list) and solutions and isinstance(solutions[0], str) else None
    starter = text_field(rec, "starter_code", required=False)
    if starter.strip():
        question += f"\n\nStarter code:\n```python\n{starter}\n```\n"
    return Problem(problem_id(rec, "apps", "problem_id", "id"), question, tests, reference, "apps")
