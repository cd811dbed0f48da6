"""Trusted-side reading of assert tests: split off the literal we compare to.

`assert <expr> == <literal>` (and !=, <, is None, bare truth, ...) becomes a
`ValueCheck`: only `<expr>` goes into the sandbox, the child sends back the
value safely encoded, and `ValueCheck.judge` compares it here with the literal,
which never leaves the trusted side. Anything else stays a snippet that the
child runs with its asserts rewritten to compare trusted copies.
"""

from __future__ import annotations

import ast
import functools
import operator
from dataclasses import dataclass
from typing import Any, Callable

from .sandbox.codec import DecodeError, Opaque, decode

_OPS: dict[type, tuple[str, Callable[[Any, Any], bool]]] = {
    ast.Eq: ("==", operator.eq),
    ast.NotEq: ("!=", operator.ne),
    ast.Lt: ("<", operator.lt),
    ast.LtE: ("<=", operator.le),
    ast.Gt: (">", operator.gt),
    ast.GtE: (">=", operator.ge),
    ast.In: ("in", lambda a, b: a in b),
    ast.NotIn: ("not in", lambda a, b: a not in b),
}
_MIRROR = {"<": ">", ">": "<", "<=": ">=", ">=": "<=", "==": "==", "!=": "!="}
_SINGLETONS = (None, True, False)


def _literal(node: ast.AST) -> tuple[bool, Any]:
    if any(isinstance(n, ast.Name) and n.id not in ("set",) for n in ast.walk(node)):
        return False, None
    try:
        return True, ast.literal_eval(node)
    except (ValueError, TypeError, SyntaxError, MemoryError, RecursionError):
        return False, None


def _short(value: Any, limit: int = 160) -> str:
    text = repr(value)
    return text if len(text) <= limit else text[: limit - 3] + "..."


@dataclass(frozen=True)
class ValueCheck:
    """`assert <expr> <op> <literal>`: the literal stays on this side."""

    expr: str
    op: str  # "==", "!=", "<", ..., "in", "not in", "is", "is not", "truth", "falsy"
    literal: Any = None
    literal_on_left: bool = False

    def judge(self, encoded: Any) -> tuple[bool, str | None]:
        """(passed, failure message) for the value the child sent back."""
        try:
            value = decode(encoded)
        except DecodeError as exc:
            return False, f"unreadable value from the sandbox: {exc}"
        try:
            ok = self._holds(value)
        except Exception as exc:  # e.g. ordering between str and int, opaque truth
            return False, f"comparison failed: {type(exc).__name__}: {exc}"
        if ok:
            return True, None
        if isinstance(value, Opaque):
            return False, f"{self.expr} returned {value!r}, which cannot be compared on the trusted side"
        if self.op in ("truth", "falsy"):
            return False, f"assert {'not ' if self.op == 'falsy' else ''}{self.expr}: got {_short(value)}"
        return False, f"{self.expr} gave {_short(value)}; expected {self.op} {_short(self.literal)}"

    def _holds(self, value: Any) -> bool:
        if self.op == "truth":
            return bool(value)
        if self.op == "falsy":
            return not value
        if self.op == "is":
            return value is self.literal
        if self.op == "is not":
            return value is not self.literal
        fn = next(f for name, f in _OPS.values() if name == self.op)
        if self.literal_on_left:
            return bool(fn(self.literal, value))
        return bool(fn(value, self.literal))


@functools.lru_cache(maxsize=16384)  # test suites repeat across a question's samples
def split_assert(source: str) -> ValueCheck | None:
    """A `ValueCheck` if `source` is one assert of a shape judged here, else None."""
    try:
        tree = ast.parse(source, "<test>", "exec")
    except (SyntaxError, ValueError, MemoryError, RecursionError):
        return None
    if len(tree.body) != 1 or not isinstance(tree.body[0], ast.Assert):
        return None
    test = tree.body[0].test
    seg = lambda node: ast.get_source_segment(source, node)  # noqa: E731
    if isinstance(test, ast.Compare) and len(test.ops) == 1:
        left, right, op = test.left, test.comparators[0], test.ops[0]
        if isinstance(op, (ast.Is, ast.IsNot)):
            ok, lit = _literal(right)
            if ok and any(lit is s for s in _SINGLETONS):
                return ValueCheck(seg(left), "is" if isinstance(op, ast.Is) else "is not", lit)
            return None
        name = _OPS[type(op)][0]
        ok_r, lit_r = _literal(right)
        ok_l, lit_l = _literal(left)
        if ok_r and not ok_l:
            return ValueCheck(seg(left), name, lit_r)
        if ok_l and not ok_r:
            if name in _MIRROR:
                return ValueCheck(seg(right), _MIRROR[name], lit_l)
            return ValueCheck(seg(right), name, lit_l, literal_on_left=True)
        return None
    if isinstance(test, ast.UnaryOp) and isinstance(test.op, ast.Not):
        return ValueCheck(seg(test.operand), "falsy")
    if isinstance(test, (ast.Call, ast.Name, ast.Attribute, ast.Subscript)):
        return ValueCheck(seg(test), "truth")
    return None
