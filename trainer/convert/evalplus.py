"""EvalPlus HumanEval+ and MBPP+ (`evalplus/evalplus` releases: HumanEvalPlus.jsonl,
MbppPlus.jsonl; the `evalplus/humanevalplus` and `evalplus/mbppplus` datasets): task_id, prompt,
entry_point, canonical_solution (or code), and `test`: the base and plus inputs with their
expected results as a HumanEval-style check function (`def check(candidate)`), or as a script
that calls the function itself (MBPP+, with `test_imports`).

The test is that `test` text as one snippet test, called on the entry point where it is a
check function; the reference is the canonical solution (after the prompt where it is a bare
body). EvalPlus's comparison helper imports numpy, so the sandbox's interpreter needs it
(`apt install python3-numpy`). Records without a `test` (the oldest releases kept only the
inputs, computing expected outputs at evaluation time) are reported, not guessed.
"""

from __future__ import annotations

import re
from typing import Any

from . import BadRecord, Problem, problem_id, text_field
from .humaneval import check_test, with_prompt


def problem(rec: dict[str, Any]) -> Problem:
    prompt = text_field(rec, "prompt")
    test = text_field(rec, "test", required=False)
    if not test:
        raise BadRecord("test", "missing: use an EvalPlus release whose records carry their `test`")
    entry = text_field(rec, "entry_point", required=False)
    solution = text_field(rec, "canonical_solution", "code", required=False)
    if not entry:  # MBPP+ as published on the hub: the function the reference defines
        found = re.search(r"^def\s+([A-Za-z_]\w*)\s*\(", solution, re.MULTILINE)
        entry = found.group(1) if found else ""
    imports = rec.get("test_imports")
    if isinstance(imports, list) and imports:
        test = "\n".join(i for i in imports if isinstance(i, str)) + "\n" + test
    if re.search(r"^def check\(", test, re.MULTILINE):
        if not entry.isidentifier():
            raise BadRecord("entry_point", "missing: the check function needs the function it checks")
        test = check_test(test, entry)
    reference = with_prompt(prompt, solution, entry) if solution and entry else (solution or None)
    return Problem(problem_id(rec, "evalplus", "task_id"), prompt, [test], reference, "evalplus")
