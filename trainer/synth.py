"""synth: rewrite a seed into a LeetCode-style question with ~20 `assert` tests (AceCoder step 1).

The model's answer is parsed robustly (code fences, prose around the JSON, Python-style single
quotes); a row whose answer cannot be parsed is reported and kept out, never a crash.
"""

from __future__ import annotations

import ast
import json
import re
from collections.abc import Iterator
from typing import Any

from .llm import Backend

PROMPT = """You are given a coding problem and a reference solution.

Rewrite the problem as a self-contained LeetCode-style question: one Python function with a clear
signature, the input and output described precisely, and one example. Then write {n} test cases
for it as Python `assert` statements that call the function with literal arguments and compare
with the literal expected value, e.g. `assert add(1, 2) == 3`. Cover edge cases.

Answer with JSON only, in this shape:
{{"question": "...", "tests": ["assert ...", "..."]}}

Problem:
{question}

Reference solution:
```python
{program}
```
"""


class ParseError(ValueError):
    """The model's answer holds no usable question and tests."""


def parse_answer(text: str) -> dict[str, Any]:
    """{"question": str, "tests": [str]} from a model answer, or ParseError."""
    fenced = re.findall(r"```(?:json|python)?\s*\n(.*?)```", text, re.S)
    candidates = fenced + [text]
    problem = "no JSON object in the answer"
    for data in (d for c in candidates for d in map(_load, _objects(c)) if d is not None):
        question, tests = data.get("question"), data.get("tests", data.get("test_cases"))
        if not isinstance(question, str) or not question.strip():
            problem = "no 'question' string in the answer"
        elif not isinstance(tests, list) or not all(isinstance(t, str) for t in tests):
            problem = "no 'tests' list of strings in the answer"
        elif not [t for t in tests if t.strip().startswith("assert")]:
            problem = "no assert tests in the answer"
        else:
            return {"question": question.strip(), "tests": [t.strip() for t in tests if t.strip().startswith("assert")]}
    raise ParseError(problem)


def _objects(text: str) -> Iterator[str]:
    """Each balanced {...} span of `text`, outermost first, in order."""
    start = text.find("{")
    while start != -1:
        depth, in_str, quote, esc = 0, False, "", False
        for i in range(start, len(text)):
            ch = text[i]
            if in_str:
                if esc:
                    esc = False
                elif ch == "\\":
                    esc = True
                elif ch == quote:
                    in_str = False
            elif ch in "\"'":
                in_str, quote = True, ch
            elif ch == "{":
                depth += 1
            elif ch == "}":
                depth -= 1
                if depth == 0:
                    yield text[start : i + 1]
                    break
        start = text.find("{", start + 1)


def _load(blob: str) -> dict[str, Any] | None:
    for load in (json.loads, ast.literal_eval):
        try:
            data = load(blob)
        except (ValueError, SyntaxError, TypeError, MemoryError, RecursionError):
            continue
        if isinstance(data, dict):
            return data
    return None


def synth_rows(
    seeds: list[dict[str, Any]], backend: Backend, n_tests: int = 20, temperature: float = 0.2
) -> list[dict[str, Any] | ParseError]:
    """One AceCode row (or the ParseError) per seed {id, question, program}."""
    prompts = [
        [{"role": "user", "content": PROMPT.format(n=n_tests, question=s["question"], program=s.get("program", ""))}]
        for s in seeds
    ]
    answers = backend.complete(prompts, n=1, temperature=temperature, max_tokens=4096)
    out: list[dict[str, Any] | ParseError] = []
    for seed, (answer,) in zip(seeds, answers):
        try:
            parsed = parse_answer(answer)
        except ParseError as exc:
            out.append(ParseError(f"{seed['id']}: {exc}"))
            continue
        out.append(
            {
                "id": seed["id"],
                "source": seed.get("source", "synth"),
                "question": parsed["question"],
                "test_cases": parsed["tests"],
                "inferences": [],
                "reference": seed.get("program", ""),
                "context_messages": [{"role": "user", "content": parsed["question"]}],
            }
        )
    return out
