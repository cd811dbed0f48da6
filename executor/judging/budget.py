"""The trusted judge's budget: one unit of work, one table of costs, one object that spends.

The host judges assert tests in its own serving process (asserts.py) from values the sandbox
sent back (sandbox/codec.py), so everything it may build or rebuild there is bounded here:

- **The unit** is the host's work to build or walk one small value: one item of a container,
  16 bits of an int, 16 characters of text, one tagged value rebuilt from the wire.
- **Budgets** (`Bounds`) say how many units a job's asserts, one assert and one rebuilt value
  may spend; a `Budget` spends them, and refuses with `TooCostly(reason)` past them.
- **Costs** (the functions below) say what each operation spends.
- **Caps** (`Bounds` too) refuse one operation before it runs, where its result would be too
  large to charge afterwards (a power, a repetition, a format width).
- **Fixed caps** (module constants) bound the shape of a test and are never lifted.

TooCostly is not a verdict: a test refused here is judged again in a process of its own
(judging/bounded.py), whose CPU and memory the kernel bounds instead; there the judge runs
under `Budget.unbounded()`, with `KERNEL` bounds: no units to run out of, no caps.

The codec rebuilds values on both sides of the sandbox and imports the standard library only,
so it cannot import this module: the host hands its decoder a Budget as a duck-typed meter
(`Budget.rebuilt`, priced by `rebuild_units`), and the caps the codec keeps for itself on both
sides (hash collisions, Decimal exponents, comparisons while rebuilding sets) stay in codec.py;
the two the evaluator holds its own results to as well are re-exported below.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from enum import Enum
from fractions import Fraction
from typing import Any

from ..sandbox.codec import MAX_DECIMAL_EXPONENT, MAX_HASH_COLLISIONS

__all__ = [
    "ASSERT_AST_NODES",
    "HOST",
    "KERNEL",
    "MAX_DECIMAL_EXPONENT",
    "MAX_HASH_COLLISIONS",
    "POW_MODULAR_EXPONENT_BITS",
    "POW_MODULUS_BITS",
    "TEST_AST_NODES",
    "UNLIMITED",
    "UNROLLED_ASSERTS",
    "Bounds",
    "Budget",
    "Reason",
    "TooCostly",
    "int_units",
    "literal_units",
    "rebuild_units",
    "split_units",
    "value_units",
]

UNLIMITED = 1 << 62  # a budget or cap no work on the trusted side reaches


@dataclass(frozen=True)
class Bounds:
    """The in-process bounds of the trusted judge: budgets in units, and caps on one operation."""

    # What all the asserts of one job may build together (the early stop's judging and the
    # final judging share it): `[0] * 262144 + [0] * 262144 + ...` or
    # `str([[0] * 262144] * 262144)` in a test's text would otherwise cost the serving process
    # minutes and gigabytes, holding the GIL.
    job_units: int = 1 << 24
    # What one assert's evaluation may build.
    assert_units: int = 1 << 22
    # What rebuilding one probe value the sandbox sent may cost: 64,000 tagged values,
    # 4,000 Fractions or Decimals, or 1 MB of big ints' hex digits (rebuild_units).
    value_units: int = 64_000
    # What rebuilding a call test's value may cost: 256,000 containers (JSON has no Fractions).
    call_value_units: int = 256_000
    # The largest int an operation may take or make, in bits (a literal, an argument, a power,
    # a shift; a binary operation's operands may have twice as many, its result one more).
    int_bits: int = 1 << 16
    # The most items an operation may make or hash at once (`[0] * n`, range(n), a set of n,
    # sum() of n) and the largest int argument of range() and round()'s digits.
    items: int = 1 << 18
    # The most characters a string method, format width or bytes(n) may make at once.
    text_chars: int = 1 << 22
    # The most digits of a Decimal an operation may take: work on one grows faster than its
    # digits (a non-integer power ~ digits ** 2.5, its exact ratio ~ digits ** 2), far above
    # any precision a test asks for (the default context keeps 28).
    decimal_digits: int = 1000
    # The most characters a text encoding other than the linear ones may take (punycode and
    # idna cost the text's length times its distinct code points): none here.
    codec_chars: int = 0


HOST = Bounds()  # the serving process's
KERNEL = Bounds(  # a process whose CPU and memory the kernel bounds instead (judging/bounded.py)
    job_units=UNLIMITED,
    assert_units=UNLIMITED,
    value_units=UNLIMITED,
    call_value_units=UNLIMITED,
    int_bits=UNLIMITED,
    items=UNLIMITED,
    text_chars=UNLIMITED,
    decimal_digits=UNLIMITED,
    codec_chars=UNLIMITED,
)

# -- Fixed caps, never lifted ---------------------------------------------------------------

POW_MODULUS_BITS = 2048  # pow(a, b, m): the largest modulus, in bits
POW_MODULAR_EXPONENT_BITS = 4096  # pow(a, b, m): the largest exponent, in bits
ASSERT_AST_NODES = 2000  # AST nodes in one assert the trusted side plans
TEST_AST_NODES = 20 * ASSERT_AST_NODES  # AST nodes in one test the trusted side plans
UNROLLED_ASSERTS = 1000  # asserts a test's literal `for` loops may unroll into

# -- Costs, in units ------------------------------------------------------------------------

TEXT_CHARS_PER_UNIT = 16  # str, bytes and bytearray: one unit per 16 characters
INT_BITS_PER_UNIT = 16  # int: one unit per 16 bits, times one more per INT_SQUARE_BITS
INT_SQUARE_BITS = 4096  # (turning an int into text grows with the square of its length)
DECIMAL_DIGITS_PER_UNIT = 4  # Decimal: one unit per 4 digits
FREE_LITERAL_CHARS = 4096  # a str or bytes literal up to this long is free; longer, its text's units
# Rebuilding a value the sandbox sent (the codec's meter): one unit per tagged value (a dict,
# set, tuple... on the wire); REBUILT_NUMBER_UNITS per Fraction or Decimal (its two ints, set
# as sent; a parse), and as many again per whole REBUILT_INT_HEX_DIGITS of a big int (a
# Fraction's larger part counted twice) or REBUILT_DECIMAL_CHARS of a Decimal's text.
REBUILT_TAGGED_UNITS = 1
REBUILT_NUMBER_UNITS = 16
REBUILT_INT_HEX_DIGITS = 256
REBUILT_DECIMAL_CHARS = 64

_SCALARS = frozenset({float, bool, complex, type(None)})
_INTS = frozenset({int, bool})
_STRS = frozenset({str})


def int_units(bits: int) -> int:
    """An int of `bits` bits: one unit per 16 bits, and more past 4096 bits, where turning it
    into text (str, a key function) grows with the square of its length."""
    return (bits // INT_BITS_PER_UNIT) * (1 + bits // INT_SQUARE_BITS)


def value_units(value: Any, limit: int) -> int:
    """What building or walking `value` costs (shared parts counted each time they are
    reached: what str(), == or sorted() would walk), counted up to a little past `limit`.
    One unit per node, and: text its characters' units, ints their bits' (int_units),
    Fractions both parts', Decimals their digits', ranges their length. Built-in values only."""
    total, todo = 0, [value]
    while todo and total <= limit:
        v = todo.pop()
        t = type(v)
        total += 1
        if t is str or t is bytes or t is bytearray:
            total += len(v) // TEXT_CHARS_PER_UNIT
        elif t is int:
            total += int_units(v.bit_length())
        elif t is Fraction:
            total += int_units(v.numerator.bit_length()) + int_units(v.denominator.bit_length())
        elif t is Decimal:
            total += len(v.as_tuple().digits) // DECIMAL_DIGITS_PER_UNIT
        elif t is range:
            total += len(v)
        elif t is list or t is tuple or t is set or t is frozenset:
            kinds = set(map(type, v))  # one C-level pass for the usual flat values
            if kinds <= _SCALARS:
                total += len(v)
            elif kinds <= _INTS:  # each int's bits, and the square's factor of the largest
                bits = list(map(int.bit_length, v))
                total += len(v) + (sum(bits) // INT_BITS_PER_UNIT) * (1 + max(bits, default=0) // INT_SQUARE_BITS)
            elif kinds <= _STRS:
                total += len(v) + sum(map(len, v)) // TEXT_CHARS_PER_UNIT
            else:
                todo.extend(v)
        elif t is dict:
            todo.extend(v.keys())
            todo.extend(v.values())
    return total


def literal_units(value: Any) -> int:
    """A literal of the test's text: a long str or bytes one costs its text's units (its size
    is the test's work too), anything else nothing (its value is charged where it is used)."""
    if type(value) in (str, bytes) and len(value) > FREE_LITERAL_CHARS:
        return len(value) // TEXT_CHARS_PER_UNIT
    return 0


def split_units(chars: int) -> int:
    """Splitting a str or bytes of `chars` characters: one unit each (up to one string each)."""
    return chars


def rebuild_units(kind: str, size: int) -> int:
    """What the codec's decoder rebuilding `kind` costs (its meter's calls, sandbox/codec.py):
    `size` "tagged" values, an "int" of `size` hex digits, a "Fraction" of `size` bits, or a
    "Decimal" of `size` characters of text."""
    if kind == "tagged":
        return size * REBUILT_TAGGED_UNITS
    if kind == "int":
        return size // REBUILT_INT_HEX_DIGITS * REBUILT_NUMBER_UNITS
    if kind == "Fraction":  # its larger part of `size` bits: two ints, never reduced again
        return REBUILT_NUMBER_UNITS + 2 * rebuild_units("int", size // 4)
    if kind == "Decimal":
        return (1 + size // REBUILT_DECIMAL_CHARS) * REBUILT_NUMBER_UNITS
    raise ValueError(f"no cost for rebuilding {kind!r}")


# -- Spending -------------------------------------------------------------------------------


class Reason(Enum):
    """Why a test is too costly to judge in this process (the message of its TooCostly)."""

    BUILDS = "the test builds values too large to evaluate"
    REBUILD = "value too costly to rebuild here"
    REBUILD_VALUES = "values too costly to rebuild here"
    HASH_ITEMS = "too many items to hash on the trusted side"
    HASH_COLLISIONS = "items whose hashes collide: too costly to hash on the trusted side"
    FORMAT_WIDTH = "format width too large to evaluate"
    FORMAT_WIDTHS = "format widths too large to evaluate"
    STRING = "string too large to evaluate"
    BYTES = "bytes too large to evaluate"
    POWER = "power too large to evaluate"
    SHIFT = "shift too large to evaluate"
    SEQUENCE = "sequence too large to evaluate"
    ARGUMENT = "argument too large to evaluate"
    INT_ARGUMENT = "argument too large to evaluate here"
    LITERAL = "a literal too large to evaluate here"
    OPERANDS = "numbers too large to evaluate here"
    RESULT = "number too large to evaluate"
    NUMBERS = "too many numbers printed other than as expected to compare here"
    ITERATOR = "an iterator too long to walk here"
    DECIMAL = "a Decimal with too many digits to evaluate here"
    ENCODING = "a text encoding not evaluated here"


class TooCostly(OverflowError):
    """Evaluating this here would cost more than the in-process bounds allow (a huge literal,
    power, string or hash table). Not a verdict: the test is judged again in a process of its
    own under the job's CPU and memory limits (judging/bounded.py). `reason` names the bound."""

    def __init__(self, reason: Reason) -> None:
        super().__init__(reason.value)
        self.reason = reason


class Budget:
    """Units of work the trusted judge may still spend, and the bounds its operations keep.

    `spend(units, reason)` takes `units` or raises TooCostly(reason); a budget that ran out
    stays spent (every later spend raises, even of nothing). A child (`child(cap)`,
    `for_assert()`) spends from its parent as well, so it never has more left than its parent
    and all its ancestors. Not thread-safe: one judging spends a budget at a time.
    """

    __slots__ = ("_left", "_parent", "bounds", "units")

    def __init__(self, units: int, bounds: Bounds = HOST, parent: Budget | None = None) -> None:
        if units < 0:
            raise ValueError("a budget of fewer than 0 units")
        self.units = units  # what it started with
        self.bounds = bounds
        self._left = units  # -1 once it ran out
        self._parent = parent

    @classmethod
    def for_job(cls, bounds: Bounds = HOST) -> Budget:
        """What all the asserts of one job may build."""
        return cls(bounds.job_units, bounds)

    @classmethod
    def unbounded(cls) -> Budget:
        """A job's budget in a process the kernel bounds instead (judging/bounded.py)."""
        return cls.for_job(KERNEL)

    @classmethod
    def for_call_value(cls) -> Budget:
        """What rebuilding a call test's value may cost."""
        return cls(HOST.call_value_units)

    def for_assert(self) -> Budget:
        """What one assert may build: a child of this (the job's) budget."""
        return self.child(self.bounds.assert_units)

    def for_value(self) -> Budget:
        """What rebuilding one probe value may cost: a budget of its own, not charged to this
        one (the codec bounds each value on its own), with the same bounds."""
        return Budget(self.bounds.value_units, self.bounds)

    def child(self, cap: int) -> Budget:
        """A budget of at most `cap` units whose spending is this budget's too."""
        return Budget(cap, self.bounds, self)

    @property
    def left(self) -> int:
        """Units it may still spend: its own, and no more than any ancestor's."""
        least, budget = self._left, self._parent
        while budget is not None:
            if budget._left < least:
                least = budget._left
            budget = budget._parent
        return least if least > 0 else 0

    @property
    def exhausted(self) -> bool:
        """Has it, or an ancestor, run out?"""
        budget: Budget | None = self
        while budget is not None:
            if budget._left < 0:
                return True
            budget = budget._parent
        return False

    def spend(self, units: int, reason: Reason) -> None:
        """Take `units` from it and its ancestors; TooCostly(reason) if that is more than one
        of them had left (each one it overdraws is spent from then on)."""
        if units < 0:
            raise ValueError("cannot spend fewer than 0 units")
        over = False
        budget: Budget | None = self
        while budget is not None:
            left = budget._left - units
            if left < 0:
                left = -1
                over = True
            budget._left = left
            budget = budget._parent
        if over:
            raise TooCostly(reason)

    def rebuilt(self, kind: str, size: int) -> None:
        """The codec's meter (sandbox/codec.py's decode): spend what rebuilding `size` of
        `kind` costs (rebuild_units)."""
        units = rebuild_units(kind, size)
        if self._parent is None and 0 <= units <= self._left:  # spend's usual case, once per item
            self._left -= units
            return
        self.spend(units, Reason.REBUILD)

    def __repr__(self) -> str:
        return f"<Budget {self.left} of {self.units} units left>"
