"""LiveCodeBench code generation (`livecodebench/code_generation_lite` test*.jsonl): question_id,
question_title, question_content, starter_code, public_test_cases, private_test_cases,
metadata ({"func_name"}), platform, difficulty, contest_date.

The tests are LiveCodeBench's own evaluation sample, in the standard code-RL shape the farm
takes: `{"inputs": [...], "outputs": [...], "fn_name": <func_name or null>}`, public cases
then private ones (for call-based problems, each input is one JSON value per line, one per
argument). Private cases are JSON text, or in newer releases base64 of zlib of a pickled JSON
string: that pickle is read with an unpickler that refuses every class and function, so a
crafted file cannot run code here. LiveCodeBench publishes no solutions: a job file gets no
problems from it; convert `--to rows` and sample.
"""

from __future__ import annotations

import base64
import io
import json
import pickle
import zlib
from typing import Any

from . import BadRecord, Problem, problem_id, text_field

STDIN_FORMAT = (
    "### Format: Read the inputs from stdin solve the problem and write the answer to stdout "
    "(do not directly test on the sample inputs). Enclose your code within delimiters as follows.\n"
    "```python\n# YOUR CODE HERE\n```\n"
)
STARTER_FORMAT = (
    "### Format: You will use the following starter code to write the solution to the problem "
    "and enclose your code within delimiters.\n```python\n{starter}\n```\n"
)


class _PlainUnpickler(pickle.Unpickler):
    """Strings, numbers and containers only: no class or function is ever looked up."""

    def find_class(self, module: str, name: str) -> Any:
        raise pickle.UnpicklingError(f"refused {module}.{name}: only plain data is read")


def _cases(text: str, field: str) -> list[dict[str, Any]]:
    if not text.strip():
        return []
    try:
        data = json.loads(text)
    except ValueError:
        try:
            raw = zlib.decompress(base64.b64decode(text))
            data = json.loads(_PlainUnpickler(io.BytesIO(raw)).load())
        except Exception as exc:
            raise BadRecord(field, f"neither JSON nor LiveCodeBench's compressed form ({exc})") from None
    if not isinstance(data, list) or not all(
        isinstance(c, dict) and isinstance(c.get("input"), str) and isinstance(c.get("output"), str) for c in data
    ):
        raise BadRecord(field, 'not a list of {"input", "output"} cases')
    return data


def problem(rec: dict[str, Any]) -> Problem:
    content = text_field(rec, "question_content")
    cases = _cases(text_field(rec, "public_test_cases"), "public_test_cases") + _cases(
        text_field(rec, "private_test_cases", required=False), "private_test_cases"
    )
    if not cases:
        raise BadRecord("public_test_cases", "no test cases")
    meta = rec.get("metadata") or "{}"
    try:
        meta = json.loads(meta) if isinstance(meta, str) else meta
    except ValueError:
        raise BadRecord("metadata", "not JSON") from None
    fn_name = meta.get("func_name") if isinstance(meta, dict) else None
    starter = text_field(rec, "starter_code", required=False)
    fmt = STARTER_FORMAT.format(starter=starter) if starter.strip() else STDIN_FORMAT
    question = f"### Question:\n{content}\n\n{fmt}\n### Answer: (use the provided format with backticks)\n"
    tests = {"inputs": [c["input"] for c in cases], "outputs": [c["output"] for c in cases], "fn_name": fn_name}
    if not fn_name:
        tests["checker"] = "lines"  # LiveCodeBench's own comparison (the object's default is APPS's)
    return Problem(problem_id(rec, "livecodebench", "question_id"), question, tests, None, "livecodebench")
