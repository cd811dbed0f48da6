"""MBPP (`google-research/mbpp`: mbpp.jsonl, and sanitized-mbpp.json): task_id, text (sanitized:
prompt), code, test_list, test_setup_code (sanitized: test_imports).

Each assert of `test_list` is one test, preceded by the setup code where there is any (each
test runs it: the imports and helpers the asserts use; a program does not see names that only
the setup code defines). `challenge_test_list` is not
used (MBPP's evaluation uses `test_list`). The question is the task text with the asserts, as
MBPP's prompt shows them, so a model knows the function's name.
"""

from __future__ import annotations

from typing import Any

from . import BadRecord, Problem, problem_id, text_field


def problem(rec: dict[str, Any]) -> Problem:
    text = text_field(rec, "text", "prompt")
    tests = rec.get("test_list")
    if not isinstance(tests, list) or not tests or not all(isinstance(t, str) for t in tests):
        raise BadRecord("test_list", "missing, empty or not a list of strings")
    setup = text_field(rec, "test_setup_code", required=False)
    imports = rec.get("test_imports")
    if not setup and isinstance(imports, list):
        setup = "\n".join(i for i in imports if isinstance(i, str))
    question = text + "\nYour code should pass these tests:\n\n" + "\n".join(tests)
    return Problem(
        problem_id(rec, "mbpp", "task_id"),
        question,
        [f"{setup}\n{t}" if setup.strip() else t for t in tests],
        text_field(rec, "code", required=False) or None,
        "mbpp",
    )
