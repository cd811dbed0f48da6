"""Properties of the value codec (executor/sandbox/codec.py): built-in values cross intact,
program types cross opaque and satisfy no comparison, and rebuilding stays within its meter."""

from __future__ import annotations

import json
import math
import operator
from collections import Counter, OrderedDict, defaultdict, deque
from collections.abc import Callable
from decimal import Decimal
from fractions import Fraction
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from executor.judging.asserts import plan_assert
from executor.judging.budget import UNLIMITED, Budget, Reason, TooCostly, rebuild_units
from executor.sandbox.codec import (
    Opaque,
    OpaqueCompared,
    TooCostlyToDecode,
    decode,
    decode_bounded,
    encode,
)

FAST = settings(max_examples=80, deadline=None)

# -- strategies -----------------------------------------------------------------------------

# Decimals whose exponents the codec carries (past 4,000 they cross opaque).
_DECIMALS = st.builds(
    lambda digits, exp: Decimal(digits).scaleb(exp), st.integers(-(10**40), 10**40), st.integers(-60, 60)
)
_SPECIAL_DECIMALS = st.sampled_from([Decimal("Infinity"), Decimal("-Infinity"), Decimal("-0")])
_HASHABLE_LEAVES = (
    st.none()
    | st.booleans()
    | st.integers()
    | st.integers(-(1 << 2000), 1 << 2000)  # big ints cross as hex
    | st.floats(allow_nan=False)  # NaN is in no set or dict key: it is unequal to its copy
    | st.text(max_size=20)  # any code point but lone surrogates, non-BMP included
    | st.binary(max_size=20)
    | st.complex_numbers(allow_nan=False)
    | st.fractions()
    | _DECIMALS
    | _SPECIAL_DECIMALS
)
_LEAVES = (
    _HASHABLE_LEAVES
    | st.floats()  # NaN, infinities, -0.0
    | st.complex_numbers()
    | st.binary(max_size=20).map(bytearray)
    | st.just(Decimal("NaN"))
)
_KEYS = st.recursive(_HASHABLE_LEAVES, lambda inner: st.lists(inner, max_size=3).map(tuple), max_leaves=6)


def _containers(inner: st.SearchStrategy[Any]) -> st.SearchStrategy[Any]:
    return (
        st.lists(inner, max_size=6)
        | st.lists(inner, max_size=6).map(tuple)
        | st.dictionaries(_KEYS, inner, max_size=5)
        | st.sets(_KEYS, max_size=6)
        | st.frozensets(_KEYS, max_size=6)
        | st.dictionaries(_KEYS, inner, max_size=5).map(lambda d: OrderedDict(reversed(d.items())))
        | st.dictionaries(st.text(max_size=5), st.integers(), max_size=5).map(Counter)
        | st.tuples(st.sampled_from([int, list, set, str, None]), st.dictionaries(_KEYS, inner, max_size=4)).map(
            lambda fd: defaultdict(fd[0], fd[1])
        )
        | st.tuples(st.lists(inner, max_size=6), st.none() | st.integers(6, 10)).map(lambda im: deque(*im))
    )


VALUES = st.recursive(_LEAVES, _containers, max_leaves=25)


def same(a: Any, b: Any) -> bool:
    """`a` and `b` are the same value of the same type all the way down: NaN is NaN, -0.0 is
    not 0.0, order counts where the type keeps it, a defaultdict's factory and a deque's
    maxlen too."""
    if type(a) is not type(b):
        return False
    if isinstance(a, float):
        return (math.isnan(a) and math.isnan(b)) or (a == b and math.copysign(1, a) == math.copysign(1, b))
    if isinstance(a, complex):
        return same(a.real, b.real) and same(a.imag, b.imag)
    if isinstance(a, Decimal):
        return (a.is_nan() and b.is_nan() and a.is_snan() == b.is_snan()) or str(a) == str(b)
    if isinstance(a, (list, tuple, deque)):
        if isinstance(a, deque) and a.maxlen != b.maxlen:
            return False
        return len(a) == len(b) and all(same(x, y) for x, y in zip(a, b))
    if isinstance(a, dict):
        if isinstance(a, defaultdict) and a.default_factory is not b.default_factory:
            return False
        return list(a) == list(b) and all(same(k, j) and same(a[k], b[j]) for k, j in zip(a, b))
    if isinstance(a, (set, frozenset)):
        stored = {x: x for x in b}  # b's own item equal to each of a's
        return len(a) == len(b) and all(x in stored and same(x, stored[x]) for x in a)
    return a == b


# -- round trips ----------------------------------------------------------------------------


@FAST
@given(VALUES)
def test_built_in_values_cross_intact(value: Any) -> None:
    assert same(decode(encode(value)), value)


@FAST
@given(VALUES)
def test_built_in_values_cross_intact_through_json(value: Any) -> None:
    """The wire is JSON: what encode makes survives it (non-BMP text as surrogate pairs)."""
    wire = json.loads(json.dumps(encode(value)))
    assert same(decode(wire), value)
    assert same(decode_bounded(wire, Budget(UNLIMITED)), value)


@pytest.mark.parametrize(
    "value",
    [float("nan"), float("inf"), float("-inf"), -0.0, 2**53 + 1, -(2**4000), "\U0001f600\x00", b"\xff", Decimal("-0")],
)
def test_edge_values_cross_intact(value: Any) -> None:
    assert same(decode(json.loads(json.dumps(encode(value)))), value)


# -- program types --------------------------------------------------------------------------


class Plain:
    pass


class AlwaysEqual:
    def __eq__(self, other: object) -> bool:
        return True

    def __ne__(self, other: object) -> bool:
        return False

    def __lt__(self, other: object) -> bool:
        return True

    def __bool__(self) -> bool:
        return True

    def __hash__(self) -> int:
        return 0


class Slotted:
    __slots__ = ("x",)

    def __init__(self) -> None:
        self.x = 1


PROGRAM_OBJECTS = st.sampled_from([Plain, AlwaysEqual, Slotted]).map(lambda cls: cls())

_COMPARISONS: list[Callable[[Any, Any], Any]] = [
    operator.eq,
    operator.ne,
    operator.lt,
    operator.le,
    operator.gt,
    operator.ge,
    lambda a, b: a in [b],
    lambda a, b: b in [a],
    lambda a, b: a not in [b],
    lambda a, b: [a] == [b],
    lambda a, b: [a] != [b],
    lambda a, b: {"k": a} == {"k": b},
    lambda a, b: (a,) < (b,),
    lambda a, b: bool(a),
    lambda a, b: not a,
    lambda a, b: hash(a),
    lambda a, b: {a},
]


@FAST
@given(PROGRAM_OBJECTS, st.sampled_from(_COMPARISONS), VALUES | PROGRAM_OBJECTS)
def test_a_program_object_crosses_opaque_and_satisfies_no_comparison(obj: Any, compare: Any, other: Any) -> None:
    opaque = decode(json.loads(json.dumps(encode(obj))))
    assert isinstance(opaque, Opaque) and type(obj).__qualname__ in repr(opaque)
    theirs = decode(encode(other))
    with pytest.raises(OpaqueCompared):
        compare(opaque, theirs)
    with pytest.raises(OpaqueCompared):
        compare(opaque, decode(encode(obj)))  # not even an opaque copy of itself


@FAST
@given(PROGRAM_OBJECTS, st.integers(0, 5), st.lists(VALUES, max_size=5))
def test_a_program_object_inside_a_value_stays_opaque_there(obj: Any, at: int, items: list[Any]) -> None:
    items.insert(min(at, len(items)), obj)
    back = decode(encode(items))
    assert sum(isinstance(x, Opaque) for x in back) == 1
    assert isinstance(decode(encode({1, obj})), Opaque)  # unhashable here: the set is opaque
    assert isinstance(decode(encode({obj: 1})), Opaque)


@FAST
@given(PROGRAM_OBJECTS, st.sampled_from(["==", "!=", "<", ">=", "in", "not in"]), VALUES)
def test_an_assert_on_a_program_object_fails_whatever_it_compares_with(obj: Any, op: str, literal: Any) -> None:
    expected = repr(literal) if op not in ("in", "not in") else repr([literal])
    for source in (f"assert f() {op} {expected}", "assert f()", "assert not f()", f"assert not (f() {op} {expected})"):
        plan = plan_assert(source)
        if plan is None or plan.probes != ("f()",):  # a repr the planner does not take (defaultdict...)
            continue
        ok, message = plan.judge([encode(obj)])
        assert not ok and message, source


# -- bounded rebuilding ---------------------------------------------------------------------


class Recording(Budget):
    """A budget that records what it was charged and whether it was asked for more after it
    refused."""

    def __init__(self, units: int) -> None:
        super().__init__(units)
        self.charged = 0
        self.after_refusal = 0
        self.refused = False

    def rebuilt(self, kind: str, size: int) -> None:
        if self.refused:
            self.after_refusal += 1
        self.charged += rebuild_units(kind, size)
        try:
            super().rebuilt(kind, size)
        except TooCostly:
            self.refused = True
            raise


_COSTLY_LEAVES = st.fractions() | _DECIMALS | st.integers(1 << 1100, 1 << 6000) | st.integers()
COSTLY = st.recursive(
    _COSTLY_LEAVES,
    lambda inner: (
        st.lists(inner, max_size=12)
        | st.lists(inner, max_size=12).map(tuple)
        | st.frozensets(_COSTLY_LEAVES, max_size=6)
    ),
    max_leaves=60,
)


@FAST
@given(COSTLY, st.data())
def test_rebuilding_spends_exactly_its_price_and_never_more_than_its_budget(value: Any, data: Any) -> None:
    wire = json.loads(json.dumps(encode(value)))
    meter = Recording(UNLIMITED)
    assert same(decode_bounded(wire, meter), value)
    price = meter.charged
    budget = data.draw(st.integers(0, price + 32), label="budget")
    bounded = Recording(budget)
    try:
        back = decode_bounded(wire, bounded)
    except TooCostlyToDecode as exc:
        assert price > budget and bounded.refused  # refused only past its budget
        assert bounded.after_refusal == 0  # and nothing more was rebuilt after that
        assert isinstance(exc.__cause__, TooCostly) and exc.__cause__.reason is Reason.REBUILD
        assert str(exc) == Reason.REBUILD.value
    else:
        assert price <= budget and same(back, value)
    assert bounded.charged <= price  # it stops at the refusal


@FAST
@given(st.integers(1, 300), st.integers(0, 40))
def test_a_value_past_its_budget_is_refused_rather_than_built(count: int, short: int) -> None:
    fractions = [Fraction(k, k + 1) for k in range(count)]
    wire = encode(fractions)
    price = count * rebuild_units("Fraction", 1) + rebuild_units("tagged", 16) * (count // 16)
    assert decode_bounded(wire, Budget(price)) == fractions
    if short and price >= short:
        with pytest.raises(TooCostlyToDecode):
            decode_bounded(wire, Budget(price - short))


def test_a_probe_value_is_rebuilt_within_its_own_budget_on_the_host() -> None:
    many = encode([Fraction(1, k) for k in range(1, 5000)])  # 4,999 Fractions: over 4,000
    with pytest.raises(TooCostly) as raised:
        plan_assert("assert f() == 1 + 0").judge([many])  # not a literal: no size bound before it
    assert raised.value.reason is Reason.REBUILD_VALUES
    few = encode([Fraction(1, k) for k in range(1, 3000)])
    assert plan_assert("assert (f() + [])[-1] == Fraction(1, 2999)").judge([few]) == (True, None)
    # Where the kernel bounds the judge, the value is rebuilt whole.
    assert plan_assert("assert (f() + [])[-1] == Fraction(1, 4999)").judge([many], Budget.unbounded()) == (True, None)


def test_a_fractions_price_is_its_two_ints():
    # Rebuilt as sent, never reduced again (codec.decode): as costly as its parts' digits.
    small, big = rebuild_units("Fraction", 8192), rebuild_units("Fraction", 65536)
    assert big - rebuild_units("Fraction", 1) == 8 * (small - rebuild_units("Fraction", 1))
    assert big == rebuild_units("Fraction", 1) + 2 * rebuild_units("int", 65536 // 4)
