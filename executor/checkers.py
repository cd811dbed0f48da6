"""Stdout checkers for stdin/stdout tests, run on the trusted side."""

from __future__ import annotations

import math
from typing import Callable

Checker = Callable[[str, str], bool]


def exact(expected: str, actual: str) -> bool:
    """Byte-for-byte equal, except that trailing whitespace at the end is ignored."""
    return expected.rstrip() == actual.rstrip()


def tokens(expected: str, actual: str) -> bool:
    """Equal as sequences of whitespace-separated tokens."""
    return expected.split() == actual.split()


def make_float(tolerance: float = 1e-6) -> Checker:
    """Tokens equal, numeric tokens within `tolerance` (absolute or relative)."""

    def check(expected: str, actual: str) -> bool:
        want, got = expected.split(), actual.split()
        if len(want) != len(got):
            return False
        for w, g in zip(want, got):
            if w == g:
                continue
            try:
                fw, fg = float(w), float(g)
            except ValueError:
                return False
            if not math.isclose(fw, fg, rel_tol=tolerance, abs_tol=tolerance):
                return False
        return True

    return check


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
