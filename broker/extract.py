"""Pull the program out of a model completion (fenced blocks or plain code)."""

from __future__ import annotations

import ast
import re

_FENCE = re.compile(r"```[ \t]*([A-Za-z0-9_+-]*)[^\n]*\n(.*?)(?:```|\Z)", re.S)
_PY_TAGS = {"", "python", "py", "python3", "py3"}


def called_names(tests: list[str]) -> set[str]:
    """Names of functions the tests call (to pick the right code block)."""
    names: set[str] = set()
    for test in tests:
        try:
            tree = ast.parse(test)
        except (SyntaxError, ValueError):
            continue
        for node in ast.walk(tree):
            if isinstance(node, ast.Call):
                if isinstance(node.func, ast.Name):
                    names.add(node.func.id)
                elif isinstance(node.func, ast.Attribute):
                    names.add(node.func.attr)
    return names


def _defines(code: str) -> set[str]:
    try:
        tree = ast.parse(code)
    except (SyntaxError, ValueError):
        return set()
    return {n.name for n in ast.walk(tree) if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef))}


def extract_code(completion: str, tests: list[str] | None = None) -> str:
    """The program in `completion`.

    Fenced blocks (```python, ```py or bare ```) win over surrounding prose:
    the block that defines a function the tests call, else the longest Python
    block. Without fences the completion is taken as code. The result may not
    compile; the farm then reports `syntax_error`.
    """
    blocks = [(tag.lower(), body) for tag, body in _FENCE.findall(completion)]
    py_blocks = [body for tag, body in blocks if tag in _PY_TAGS]
    if not py_blocks:
        return completion if not blocks else max((b for _, b in blocks), key=len)
    wanted = called_names(tests or [])
    if wanted:
        for body in py_blocks:
            if _defines(body) & wanted:
                return body
    return max(py_blocks, key=len)
