"""The farm-backed steps of the AceCoder pipeline: filter, sample, score (DESIGN section 7).

Each takes validated rows and returns rows; the CLI (trainer/cli.py) streams files through
them with trainer/pipeline.py.
"""

from __future__ import annotations

from typing import Any

from executor import Verdict
from executor.judging import formats

from .acecode import with_results
from .extract import extract_code
from .farm import Farm
from .llm import Backend


def filter_row(
    row: dict[str, Any], farm: Farm, min_tests: int = 5, reference: str | None = None
) -> dict[str, Any] | str | None:
    """Keep the tests a reference solution passes; None when fewer than `min_tests` remain.

    The reference is `reference`, else the row's `reference` field, else its best inference.
    A row the farm could not run is returned as an error message (reported, the run goes on).
    """
    program = reference or row.get("reference") or _best_inference(row)
    if not program:
        return None
    tests = row["test_cases"]
    (result,) = farm.score([extract_code(program, tests)], tests, f"{row['id']}/ref")
    if result.verdict is Verdict.INFRA_ERROR:
        return f"{row['id']}: the farm could not run the reference ({result.message})"
    passed = [i for i, r in enumerate(result.tests) if r.verdict is Verdict.PASSED]
    if len(passed) < min_tests:
        return None
    if formats.is_shape(tests):  # the code-RL shape keeps its shape, with the pairs that passed
        return dict(row, test_cases=formats.subset(tests, passed))
    return dict(row, test_cases=[tests[i] for i in passed])


def _best_inference(row: dict[str, Any]) -> str | None:
    rated = [i for i in row.get("inferences", []) if isinstance(i.get("pass_rate"), (int, float))]
    return max(rated, key=lambda i: i["pass_rate"])["completion"] if rated else None


def sample_rows(
    rows: list[dict[str, Any]], backend: Backend, n: int = 16, temperature: float = 0.7, max_tokens: int = 1024
) -> list[dict[str, Any]]:
    """Append `n` completions per question to its `inferences` (pass rates unknown until scored)."""
    prompts = [row.get("context_messages") or [{"role": "user", "content": row["question"]}] for row in rows]
    answers = backend.complete(prompts, n=n, temperature=temperature, max_tokens=max_tokens)
    out = []
    for row, completions in zip(rows, answers):
        start = len(row.get("inferences", []))
        new = [
            {"model_name": backend.model, "completion_id": start + i, "completion": c, "pass_rate": None}
            for i, c in enumerate(completions)
        ]
        out.append(dict(row, inferences=list(row.get("inferences", [])) + new))
    return out


def score_row(row: dict[str, Any], farm: Farm) -> dict[str, Any]:
    """Recompute every inference's pass rate through the farm (one group per question)."""
    tests = row["test_cases"]
    inferences = row.get("inferences", [])
    if not inferences:
        return dict(row, inferences=[])
    programs = [extract_code(i["completion"], tests) for i in inferences]
    return with_results(row, farm.score(programs, tests, row["id"]))
