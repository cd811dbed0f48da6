"""Python's parser for the trusted side, one thread at a time.

CPython 3.11 keeps the recursion depth of its AST conversion in per-interpreter state: two
threads converting syntax trees at once (pool threads planning jobs, server threads reading
them) can fail with "SystemError: AST constructor recursion depth mismatch". Every parse of
test text or program text on the host goes through here.
"""

from __future__ import annotations

import ast
import threading

_LOCK = threading.Lock()


def parse(source: str, filename: str = "<test>") -> ast.Module:
    """`ast.parse(source, filename)`, serialized across threads."""
    with _LOCK:
        return ast.parse(source, filename)


def parse_expression(source: str, filename: str = "<test>") -> ast.Expression:
    """`ast.parse(source, filename, "eval")`, serialized across threads."""
    with _LOCK:
        return ast.parse(source, filename, "eval")
