"""HumanEval (`openai/human-eval`: HumanEval.jsonl.gz): task_id, prompt, canonical_solution, test,
entry_point.

The test is HumanEval's own check function called on the entry point, one snippet test
(`test + "\\ncheck(<entry_point>)"`), as human-eval's harness runs it; the reference is the
prompt followed by the canonical solution (a function body).
"""

from __future__ import annotations

from typing import Any

from . import BadRecord, Problem, problem_id, text_field


def check_test(test: str, entry_point: str) -> str:
    """A HumanEval-style check function called on the program's entry point."""
    return f"{test}\ncheck({entry_point})"


def with_prompt(prompt: str, solution: str, entry_point: str) -> str:
    """The whole program: the solution alone where it defines the entry point, else prompt + body."""
    if f"def {entry_point}(" in solution:
        return solution
    return prompt + solution


def problem(rec: dict[str, Any]) -> Problem:
    prompt = text_field(rec, "prompt")
    entry = text_field(rec, "entry_point")
    if not entry.isidentifier():
        raise BadRecord("entry_point", f"not a function name: {entry!r}")
    solution = text_field(rec, "canonical_solution", required=False)
    return Problem(
        problem_id(rec, "humaneval", "task_id"),
        prompt,
        [check_test(text_field(rec, "test"), entry)],
        with_prompt(prompt, solution, entry) if solution else None,
        "humaneval",
    )
