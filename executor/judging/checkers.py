"""Stdout checkers for stdin/stdout tests, run on the trusted side."""

from __future__ import annotations

import functools
import math
import re
from collections.abc import Callable
from decimal import MAX_EMAX, MIN_EMIN, Context, Decimal, InvalidOperation
from fractions import Fraction
from typing import Any

from .budget import Reason, TooCostly

Checker = Callable[[str, str], bool]

# The work the float and lines checkers may do in this process on tokens printed other than as
# expected, in units of about 0.05 us (see _SLOW): 100,000 numbers parsed, or two million tokens
# printed as a token seen before. Past it (a program printing a million answers to other places
# than the expected text), matches_any raises TooCostly and the test is judged in a process of
# its own under the job's limits (judging/bounded.py): the program chose how it prints.
IN_PROCESS_NUMBERS = 2_000_000


def exact(expected: str, actual: str) -> bool:
    """Equal but for trailing whitespace at the end and CRLF line ends (datasets written on
    Windows: a right program prints LF)."""
    return _exact_form(expected) == _exact_form(actual)


def _exact_form(text: str) -> str:
    # ASCII whitespace only: str.rstrip() would also forgive a trailing no-break space, \x1c
    # or U+3000, characters a reader of the output cannot see.
    return text.replace("\r\n", "\n").rstrip(_ASCII_BLANKS)


def tokens(expected: str, actual: str) -> bool:
    """Equal as sequences of whitespace-separated tokens."""
    return split(expected) == split(actual)


_INTEGER = re.compile(r"[+-]?[0-9]+")  # ASCII digits: float() reads Arabic-Indic ones too
# One way to match each digit (no `[0-9]+\.?[0-9]*`: on a long run of digits that fails at its
# end, it would try every split of the run, quadratic in what a program prints).
_DECIMAL = re.compile(r"[+-]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:[eE][+-]?[0-9]+)?")
_ASCII_BLANKS = " \t\n\r\x0b\x0c"
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
    with a tolerance, 1000000 and 1000001 would pass as equal. The expected side decides what an
    integer is owed: against an expected integer a decimal token gets the absolute tolerance
    only (`1000000.0` for 1000000, not `1000001.0`: the program chooses how it prints, and a
    relative tolerance would let a count off by a few pass as a decimal)."""

    def check(expected: str, actual: str) -> bool:
        return _float_tokens(split(expected), split(actual), tolerance)

    return check


def _spend(room: list[int] | None, n: int) -> None:
    """Take `n` numbers from `room` ([numbers left], or None: no bound); TooCostly past it."""
    if room is not None:
        room[0] -= n
        if room[0] < 0:
            raise TooCostly(Reason.NUMBERS)


def _float_tokens(want: list[str], got: list[str], tolerance: float, room: list[int] | None = None) -> bool:
    """The float checker on token lists; `room`: [units of work left] (IN_PROCESS_NUMBERS),
    shared by the accepted outputs a run is matched against, or None: no bound."""
    if len(want) != len(got):
        return False
    same: dict[str, str] = {}  # printed token -> the expected one it was judged equal to
    spent, most = 0, (room[0] if room is not None else _NO_BOUND)
    ok = True
    for w, g in zip(want, got):
        if w == g:
            continue
        spent += (_len(w) + _len(g)) >> 2  # each costs in its length too: a 250 KB number
        if spent + _SLOW > most:  # before the work: a pair that fails is paid for too
            raise TooCostly(Reason.NUMBERS)
        if same.get(g) == w:  # a program prints its numbers one way: `0.500000` again
            spent += 1
        else:
            if g.endswith(_WHOLE_ENDS) and _whole(w, g):  # `5.000` printed for 5, without a regex
                spent += _WHOLE
            else:
                spent += _SLOW
                if not _float_token(w, g, tolerance):
                    ok = False
                    break
            if len(same) < _SAME_KEPT:
                same[g] = w
    if room is not None:
        room[0] -= spent
    return ok


_WHOLE_ENDS = ("0", ".")
_len = len
_NO_BOUND = 1 << 62
# What IN_PROCESS_NUMBERS counts, about 0.05 us a unit: a pair seen before costs 1, an integer
# printed with zeros after its point _WHOLE, a pair compared as numbers (a Decimal made) _SLOW.
_WHOLE = 8
_SLOW = 20
_SAME_KEPT = 4096


def _float_token(w: str, g: str, tolerance: float) -> bool:
    """Is the printed token `g` the expected token `w` under the float checker's rule?"""
    if _INTEGER.fullmatch(w) and _INTEGER.fullmatch(g):
        return _integer_text(w) == _integer_text(g)
    if not (_DECIMAL.fullmatch(w) and _DECIMAL.fullmatch(g)):
        return False  # words, nan, inf: equal only as text
    if _INTEGER.fullmatch(w):
        return _near_integer(w, g, tolerance)
    try:
        fw, fg = float(w), float(g)
    except (ValueError, OverflowError):
        return False
    if not (math.isfinite(fw) and math.isfinite(fg)):  # past a double's range: as numbers
        return _same_number(w, g)
    return math.isclose(fw, fg, rel_tol=tolerance, abs_tol=tolerance)


def _whole(w: str, g: str) -> bool:
    """Is `g` the integer token `w` printed with a decimal point and zeros only after it
    (`5.0`, `-12.000`, `007.`)? Exactly equal, so within any tolerance; False defers to the
    full rule (which decides every other pair the same way it did)."""
    dot = g.find(".")
    if dot <= 0 or g[dot + 1 :].strip("0"):
        return False
    whole = g[:dot]
    if w[:1] == "-" and whole[:1] == "-":
        w, whole = w[1:], whole[1:]
    return w.isascii() and w.isdigit() and whole.isascii() and whole.isdigit() and w.lstrip("0") == whole.lstrip("0")


def _near_integer(want: str, got: str, tolerance: float) -> bool:
    """Is the decimal token `got` within `tolerance` (absolute) of the integer token `want`?
    Exactly: through a double, 1e18 would equal 1000000000000000007 and a 400-digit integer
    would equal 9e999 (both infinite). A token without an exponent (`1.`, `2.500`, the common
    case) in integers scaled by its decimals; another in decimal arithmetic with digits enough
    for both tokens. Both are cheap per token: a program that prints 500,000 integers as
    `1.` must not cost the host seconds to judge (a Context made per token did)."""
    plain = _PLAIN_DECIMAL.fullmatch(got)
    if plain is not None and len(got) <= _PLAIN_DIGITS:
        sign, whole, fraction = plain.groups()
        scale = 10 ** len(fraction)
        value = int((whole or "0") + fraction)
        gap = abs(int(want) * scale - (-value if sign == "-" else value))  # |want - got| * scale
        tolerance_num, tolerance_den = _exact(tolerance)
        return bool(gap * tolerance_den <= tolerance_num * scale)
    context = _context(len(want) + len(got) + 8)
    try:
        gap = context.abs(context.subtract(Decimal(want), Decimal(got)))
        return bool(gap <= Decimal(repr(tolerance)))
    except (InvalidOperation, ValueError):  # an exponent past even a Decimal's: no such number
        return False


_PLAIN_DECIMAL = re.compile(r"([+-]?)([0-9]*)\.([0-9]*)")
_PLAIN_DIGITS = 64  # a longer token goes through a Decimal


@functools.lru_cache(maxsize=64)
def _exact(tolerance: float) -> tuple[int, int]:
    """The tolerance as written (repr: 1e-06 is one millionth, not the double nearest it), as a
    fraction."""
    ratio = Fraction(repr(tolerance))
    return ratio.numerator, ratio.denominator


@functools.lru_cache(maxsize=256)
def _context(precision: int) -> Context:
    return Context(prec=precision, Emax=MAX_EMAX, Emin=MIN_EMIN, traps=[])


def _same_number(want: str, got: str) -> bool:
    """Are two decimal tokens past a double's range the same number?"""
    try:
        return bool(Decimal(want) == Decimal(got))
    except (InvalidOperation, ValueError):  # an exponent past even a Decimal's
        return False


def lines(expected: str, actual: str) -> bool:
    """LiveCodeBench's comparison: the outputs' stripped lines (the whole text stripped, split
    at newlines, each line stripped), as many on both sides, each line equal as text or else
    as a list of numbers compared exactly as Decimals ("0.50" is "0.5", "1e3" is "1000"; 0.3
    is not 0.30000001). Whitespace and digits are ASCII, numbers as `float` reads them (no
    "inf", "nan", "1_000")."""
    return _lines_match(_stripped_lines(expected), _stripped_lines(actual))


def _stripped_lines(text: str) -> list[str]:
    return [line.strip(_ASCII_BLANKS) for line in text.strip(_ASCII_BLANKS).split("\n")]


def _lines_match(
    want: list[str], got: list[str], room: list[int] | None = None, parsed: dict[int, Any] | None = None
) -> bool:
    """`parsed`: the program's lines already read as numbers, by index (matches_any shares it
    among the accepted outputs: each line is parsed, and paid for, once)."""
    if len(want) != len(got):
        return False
    if parsed is None:
        parsed = {}
    for i, (w, g) in enumerate(zip(want, got)):
        if w == g:
            continue
        numbers_w = _decimals(w, room)
        if i not in parsed:
            parsed[i] = _decimals(g, room)
        numbers_g = parsed[i]
        if numbers_w is None or numbers_g is None or numbers_w != numbers_g:
            return False
    return True


def _decimals(line: str, room: list[int] | None = None) -> list[Decimal] | None:
    """The line's tokens as Decimals, or None when one is not a number."""
    out = []
    tokens = split(line)
    _spend(room, len(tokens) * _SLOW + (len(line) >> 2))  # a Decimal each, in its length
    for token in tokens:
        if not _DECIMAL.fullmatch(token):
            return None
        try:
            out.append(Decimal(token))
        except (InvalidOperation, ValueError, OverflowError):
            return None
    return out


CHECKERS = ("exact", "tokens", "float", "lines")


def get(name: str, tolerance: float = 1e-6) -> Checker:
    """The checker called `name` (one of CHECKERS)."""
    if name == "exact":
        return exact
    if name == "tokens":
        return tokens
    if name == "float":
        return make_float(tolerance)
    if name == "lines":
        return lines
    raise KeyError(name)


def matches_any(
    name: str, tolerance: float, accepted: tuple[str, ...], actual: str, room: list[int] | None = None
) -> bool:
    """Does `actual` match any of `accepted` with checker `name`? The actual output is split
    once, however many outputs are accepted (it may be output_kb long). `room`: [units of work]
    the float and lines checkers may still do on tokens printed other than as expected (see
    IN_PROCESS_NUMBERS), taken from as they go and shared by every call given it (a job's
    tests); TooCostly past it. None: no bound."""
    if name == "exact":
        got = _exact_form(actual)
        return any(_exact_form(want) == got for want in accepted)
    if name == "lines":
        lines_got = _stripped_lines(actual)
        parsed: dict[int, Any] = {}
        return any(_lines_match(_stripped_lines(want), lines_got, room, parsed) for want in accepted)
    tokens_got = split(actual)
    if name == "tokens":
        return any(split(want) == tokens_got for want in accepted)
    if name == "float":
        return any(_float_tokens(split(want), tokens_got, tolerance, room) for want in accepted)
    raise KeyError(name)
