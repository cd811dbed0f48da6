"""Python's parser for the trusted side, one thread at a time.

CPython 3.11 keeps the recursion depth of its AST conversion in per-interpreter state: two
threads converting syntax trees at once (pool threads planning jobs, server threads reading
them) can fail with "SystemError: AST constructor recursion depth mismatch". Every parse of
test text or program text on the host goes through here.
"""

from __future__ import annotations

import ast
import threading
from collections.abc import Iterator

_LOCK = threading.Lock()


def parse(source: str, filename: str = "<test>") -> ast.Module:
    """`ast.parse(source, filename)`, serialized across threads."""
    with _LOCK:
        return ast.parse(source, filename)


def parse_expression(source: str, filename: str = "<test>") -> ast.Expression:
    """`ast.parse(source, filename, "eval")`, serialized across threads."""
    with _LOCK:
        return ast.parse(source, filename, "eval")


def children(node: ast.AST) -> list[ast.AST]:
    """`node`'s child nodes but its constants: the leaves no name, statement or call lives in.
    The walks that look for those skip them, for a test's 100,000-item literal is otherwise
    most of what they visit (ast.walk calls iter_fields on every item)."""
    found: list[ast.AST] = []
    for field in node._fields:
        value = getattr(node, field, None)
        if type(value) is list:
            found.extend([v for v in value if isinstance(v, ast.AST) and type(v) is not ast.Constant])
        elif isinstance(value, ast.AST) and type(value) is not ast.Constant:
            found.append(value)
    return found


def walk_structure(tree: ast.AST) -> Iterator[ast.AST]:
    """Every node of `tree` but its constants (see `children`), in no set order."""
    todo = [tree]
    while todo:
        node = todo.pop()
        yield node
        todo.extend(children(node))


def more_nodes_than(tree: ast.AST, limit: int) -> bool:
    """Has `tree` more than `limit` nodes (as ast.walk counts them)? Counted only as far as the
    limit, and a node's constants counted without being visited."""
    seen, todo = 0, [tree]
    while todo and seen <= limit:
        node = todo.pop()
        inner = children(node)
        seen += 1 + _fields_nodes(node) - len(inner)
        todo.extend(inner)
    return seen > limit


def _fields_nodes(node: ast.AST) -> int:
    """How many child nodes `node` has, constants included."""
    count = 0
    for field in node._fields:
        value = getattr(node, field, None)
        if type(value) is list:
            count += sum(isinstance(v, ast.AST) for v in value)
        elif isinstance(value, ast.AST):
            count += 1
    return count
