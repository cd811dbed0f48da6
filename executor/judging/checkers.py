"""Stdout checkers for stdin/stdout tests, run on the trusted side."""

from __future__ import annotations

import math
import re
from collections.abc import Callable

Checker = Callable[[str, str], bool]


def exact(expected: str, actual: str) -> bool:
    """Equal but for trailing whitespace at the end and CRLF line ends (datasets written on
    Windows: a right program prints LF)."""
    return _exact_form(expected) == _exact_form(actual)


def _exact_form(text: str) -> str:
    return text.replace("\r\n", "\n").rstrip()


def tokens(expected: str, actual: str) -> bool:
    """Equal as sequences of whitespace-separated tokens."""
    return split(expected) == split(actual)


_INTEGER = re.compile(r"[+-]?[0-9]+")  # ASCII digits: float() reads Arabic-Indic ones too
_DECIMAL = re.compile(r"[+-]?(?:[0-9]+\.?[0-9]*|\.[0-9]+)(?:[eE][+-]?[0-9]+)?")
_BLANKS = re.compile(r"[ \t\n\r\x0b\x0c]+")


def split(text: str) -> list[str]:
    """Whitespace-separated tokens, ASCII whitespace only (as judges' checkers split): str.split()
    would also split at a no-break space or \\x1c, so `1\\xa02` would pass for `1 2`."""
    return [t for t in _BLANKS.split(text) if t]


def _integer_text(token: str) -> str:
    """An integer token's value as text, without a sign of zero or leading zeros ("-007" ->
    "-7", "+0" -> "0"): compared exactly, however many digits it has."""
    sign = "-" if token[0] == "-" else ""
    digits = token.lstrip("+-").lstrip("0") or "0"
    return ("" if digits == "0" else sign) + digits


def make_float(tolerance: float = 1e-6) -> Checker:
    """Tokens equal; numeric tokens within `tolerance` (absolute or relative) where either side
    has a decimal point or an exponent. Tokens that are integers on both sides compare exactly:
    with a tolerance, 1000000 and 1000001 would pass as equal."""

    def check(expected: str, actual: str) -> bool:
        return _float_tokens(split(expected), split(actual), tolerance)

    return check


def _float_tokens(want: list[str], got: list[str], tolerance: float) -> bool:
    if len(want) != len(got):
        return False
    for w, g in zip(want, got):
        if w == g:
            continue
        if _INTEGER.fullmatch(w) and _INTEGER.fullmatch(g):
            if _integer_text(w) != _integer_text(g):
                return False
            continue
        if not (_DECIMAL.fullmatch(w) and _DECIMAL.fullmatch(g)):
            return False  # words, nan, inf: equal only as text
        try:
            fw, fg = float(w), float(g)
        except (ValueError, OverflowError):
            return False
        if not math.isclose(fw, fg, rel_tol=tolerance, abs_tol=tolerance):
            return False
    return True


CHECKERS = ("exact", "tokens", "float")


def get(name: str, tolerance: float = 1e-6) -> Checker:
    """The checker called `name` (one of CHECKERS)."""
    if name == "exact":
        return exact
    if name == "tokens":
        return tokens
    if name == "float":
        return make_float(tolerance)
    raise KeyError(name)


def matches_any(name: str, tolerance: float, accepted: tuple[str, ...], actual: str) -> bool:
    """Does `actual` match any of `accepted` with checker `name`? The actual output is split
    once, however many outputs are accepted (it may be output_kb long)."""
    if name == "exact":
        got = _exact_form(actual)
        return any(_exact_form(want) == got for want in accepted)
    tokens_got = split(actual)
    if name == "tokens":
        return any(split(want) == tokens_got for want in accepted)
    if name == "float":
        return any(_float_tokens(split(want), tokens_got, tolerance) for want in accepted)
    raise KeyError(name)
