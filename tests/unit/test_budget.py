"""The trusted judge's Budget (executor/judging/budget.py): properties of spending."""

from __future__ import annotations

from decimal import Decimal
from fractions import Fraction
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from executor.judging.budget import (
    HOST,
    KERNEL,
    UNLIMITED,
    Budget,
    Reason,
    TooCostly,
    rebuild_units,
    value_units,
)

FAST = settings(max_examples=150, deadline=None)

# One operation on a tree of budgets: spend `units` on budget number `at`, or make a child of it.
_OPS = st.lists(
    st.tuples(st.sampled_from(["spend", "child"]), st.integers(0, 1000), st.integers(0, 400)),
    max_size=40,
)


def _chain(budget: Budget) -> list[Budget]:
    """The budget and its ancestors."""
    out = []
    node: Budget | None = budget
    while node is not None:
        out.append(node)
        node = node._parent
    return out


@FAST
@given(st.integers(0, 2000), _OPS, st.sampled_from(list(Reason)))
def test_spending_never_exceeds_any_budget_and_children_never_exceed_parents(
    units: int, ops: list[tuple[str, int, int]], reason: Reason
) -> None:
    budgets = [Budget(units)]
    spent_ok = {id(budgets[0]): 0}  # units spent without TooCostly, through each budget
    for op, at, n in ops:
        budget = budgets[at % len(budgets)]
        if op == "child":
            child = budget.child(n)
            assert child.left <= budget.left and child.left <= n
            budgets.append(child)
            spent_ok[id(child)] = 0
            continue
        left, exhausted = budget.left, budget.exhausted
        try:
            budget.spend(n, reason)
        except TooCostly as exc:
            assert exc.reason is reason and str(exc) == reason.value
            assert exhausted or n > left  # it raises only when the units are not there
            assert budget.left == 0 and budget.exhausted
        else:
            assert not exhausted and n <= left
            assert budget.left == left - n
            for node in _chain(budget):
                spent_ok[id(node)] += n
        for b in budgets:
            assert 0 <= b.left <= b.units
            assert all(b.left <= a.left for a in _chain(b))  # a child never has more than a parent
            assert spent_ok[id(b)] <= b.units  # what was spent through it never exceeds it


@FAST
@given(st.integers(0, 1000), st.integers(0, 1000), st.sampled_from(list(Reason)))
def test_a_spent_budget_stays_spent(units: int, extra: int, reason: Reason) -> None:
    budget = Budget(units)
    budget.spend(units, reason)  # exactly all of it: still fine
    assert budget.left == 0 and not budget.exhausted
    with pytest.raises(TooCostly):
        budget.spend(extra + 1, reason)
    for n in (0, 1, extra):  # every later spend raises, even of nothing
        with pytest.raises(TooCostly) as raised:
            budget.spend(n, Reason.BUILDS)
        assert raised.value.reason is Reason.BUILDS
    child = budget.child(extra)
    assert child.left == 0 and child.exhausted
    with pytest.raises(TooCostly):
        child.spend(0, reason)


@FAST
@given(st.integers(1, 1000), st.integers(1, 1000), st.integers(0, 2000))
def test_a_child_that_runs_out_charges_its_parent_all_the_same(parent_units: int, cap: int, n: int) -> None:
    parent = Budget(parent_units)
    child = parent.child(cap)
    try:
        child.spend(n, Reason.BUILDS)
    except TooCostly:
        assert n > min(cap, parent_units)
        if n <= parent_units:  # only the child ran out: the job goes on with what is left
            assert not parent.exhausted and parent.left == parent_units - n
        else:
            assert parent.exhausted
    else:
        assert parent.left == parent_units - n and child.left == min(cap - n, parent.left)


def test_negative_units_are_refused() -> None:
    with pytest.raises(ValueError):
        Budget(-1)
    with pytest.raises(ValueError):
        Budget(5).spend(-1, Reason.BUILDS)


def test_reasons_are_named_and_distinct_and_too_costly_is_an_overflow() -> None:
    messages = [r.value for r in Reason]
    assert all(isinstance(m, str) and m for m in messages) and len(set(messages)) == len(messages)
    exc = TooCostly(Reason.POWER)
    assert isinstance(exc, OverflowError)  # planning refuses an over-long format as an overflow
    assert exc.reason is Reason.POWER and str(exc) == "power too large to evaluate"


def test_the_job_assert_and_value_budgets() -> None:
    job = Budget.for_job()
    assert job.units == HOST.job_units and job.bounds is HOST
    one = job.for_assert()
    assert one.units == HOST.assert_units and one.left == min(HOST.assert_units, job.left)
    one.spend(10, Reason.BUILDS)
    assert job.left == HOST.job_units - 10  # an assert's spending is its job's
    value = job.for_value()
    assert value.units == HOST.value_units
    value.spend(5, Reason.REBUILD)
    assert job.left == HOST.job_units - 10  # a value's rebuilding is bounded on its own
    assert Budget.for_call_value().units == HOST.call_value_units


def test_unbounded_lifts_every_bound() -> None:
    budget = Budget.unbounded()
    assert budget.bounds is KERNEL
    for name, limit in vars(HOST).items():
        assert getattr(KERNEL, name) == UNLIMITED > limit, name
    assert budget.for_assert().left >= HOST.job_units and budget.for_value().units == UNLIMITED
    budget.for_assert().spend(HOST.job_units * 4, Reason.BUILDS)  # far past any host budget


_PRICED = st.sampled_from(["tagged", "int", "Fraction", "Decimal"])


@FAST
@given(_PRICED, st.integers(0, 100_000), st.integers(0, 100_000))
def test_rebuild_prices_are_monotone_and_metered(kind: str, a: int, b: int) -> None:
    small, large = sorted((a, b))
    assert 0 <= rebuild_units(kind, small) <= rebuild_units(kind, large)
    price = rebuild_units(kind, large)
    exact = Budget(price)
    exact.rebuilt(kind, large)  # a budget of exactly its price affords it
    assert exact.left == 0 and not exact.exhausted
    if price:
        with pytest.raises(TooCostly) as raised:
            Budget(price - 1).rebuilt(kind, large)
        assert raised.value.reason is Reason.REBUILD


def test_rebuild_prices() -> None:
    assert rebuild_units("tagged", 16) == 16
    assert rebuild_units("Fraction", 1) == rebuild_units("Decimal", 10) == 16
    assert rebuild_units("int", 255) == 0 and rebuild_units("int", 256) == 16
    assert rebuild_units("Decimal", 64) == 32
    with pytest.raises(ValueError):
        rebuild_units("set", 1)
    # A probe value's budget: 4,000 Fractions, or 1 MB of big ints' hex digits.
    assert HOST.value_units == 4000 * rebuild_units("Fraction", 1) == rebuild_units("int", 4000 * 256)


_VALUES = st.recursive(
    st.none()
    | st.booleans()
    | st.integers()
    | st.integers(-(1 << 9000), 1 << 9000)
    | st.floats()
    | st.text(max_size=100)
    | st.binary(max_size=100)
    | st.fractions()
    | st.decimals(allow_nan=False)
    | st.builds(range, st.integers(0, 1000)),
    lambda inner: (
        st.lists(inner, max_size=8)
        | st.lists(inner, max_size=8).map(tuple)
        | st.dictionaries(st.text(max_size=5), inner, max_size=5)
        | st.frozensets(st.integers() | st.text(max_size=5), max_size=8)
    ),
    max_leaves=30,
)


@FAST
@given(_VALUES, st.integers(0, 5000))
def test_value_units_are_exact_up_to_the_limit_and_past_it_beyond(value: Any, limit: int) -> None:
    whole = value_units(value, UNLIMITED)
    assert whole >= 1
    counted = value_units(value, limit)
    if whole <= limit:
        assert counted == whole
    else:
        assert counted > limit  # a charge of it overdraws a budget of `limit`: never undercounted


def test_value_units_of_each_kind() -> None:
    assert value_units("x" * 160, UNLIMITED) == 11
    assert value_units(1 << 160, UNLIMITED) == 11
    assert value_units(1 << 8192, UNLIMITED) == 1 + 512 * 3  # the square's factor past 4096 bits
    assert value_units(range(100), UNLIMITED) == 101
    assert value_units(Fraction(1, 3), UNLIMITED) == 1
    assert value_units(Decimal("1234567890123"), UNLIMITED) == 4
    assert value_units([1.0, None, True], UNLIMITED) == 4
    assert value_units({"a": [1, 2]}, UNLIMITED) == 1 + 1 + 3
    shared = [0] * 100
    assert value_units([shared, shared], UNLIMITED) == 1 + 2 * 101  # walked each time it is reached
