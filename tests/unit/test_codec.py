"""The value codec: program values cross to the trusted side as plain built-ins."""

import collections
import datetime
import enum
import math
from decimal import Decimal
from fractions import Fraction

import pytest

from executor.sandbox.codec import DecodeError, Opaque, OpaqueCompared, decode, encode


@pytest.mark.parametrize(
    "value",
    [
        None,
        True,
        False,
        0,
        -7,
        2**53,
        -(2**200),
        1.5,
        -0.0,
        "héllo",
        "",
        [1, [2, [3]]],
        (1, "a"),
        (),
        {"a": 1, 2: [3]},
        {1, 2},
        frozenset({(1, 2)}),
        b"\x00\xff",
        bytearray(b"ab"),
        3 + 4j,
        Fraction(1, 3),
        Decimal("1.10"),
        [(), {}, set()],
    ],
)
def test_round_trip(value):
    assert decode(encode(value)) == value
    assert type(decode(encode(value))) is type(value)


def test_non_finite_floats():
    assert math.isnan(decode(encode(float("nan"))))
    assert decode(encode(float("inf"))) == float("inf")
    assert decode(encode(float("-inf"))) == float("-inf")


def test_rigged_eq_object_is_opaque_and_never_equal():
    class AlwaysEqual:
        def __eq__(self, other):
            return True

        __hash__ = object.__hash__

    out = decode(encode(AlwaysEqual()))
    assert isinstance(out, Opaque)
    # It satisfies no comparison at all: ==, !=, ordering, membership, hashing, truth.
    for compare in (
        lambda: out == 1,
        lambda: out != 1,
        lambda: out < 1,
        lambda: 1 in [out],
        lambda: {out},
        lambda: not out,
        lambda: [out] != [1],
        lambda: {"k": out} != {"k": 1},
    ):
        with pytest.raises(OpaqueCompared):
            compare()
    assert isinstance(decode(encode({AlwaysEqual(): 1})), Opaque)  # an opaque key: the dict is opaque
    assert isinstance(decode(encode({1, AlwaysEqual()})), Opaque)


def test_subclasses_reduce_to_their_builtin_value_without_running_their_methods():
    class EvilInt(int):
        def __eq__(self, other):
            return True

        def __int__(self):
            raise RuntimeError("must not be called")

    class EvilList(list):
        def __iter__(self):
            return iter([42])

    class EvilStr(str):
        def __str__(self):
            return "forged"

    assert decode(encode(EvilInt(5))) == 5 and decode(encode(EvilInt(5))) != 6
    assert decode(encode(EvilList([1, 2]))) == [1, 2]
    assert decode(encode(EvilStr("real"))) == "real"


def test_common_stdlib_subclasses_compare_like_python():
    Point = collections.namedtuple("Point", "x y")

    class Color(enum.IntEnum):
        RED = 1

    assert decode(encode(Point(1, 2))) == (1, 2)
    assert decode(encode(Color.RED)) == 1
    assert decode(encode(collections.Counter("aab"))) == {"a": 2, "b": 1}
    assert decode(encode(collections.OrderedDict(a=1))) == {"a": 1}


def test_too_large_and_cyclic_values_become_opaque():
    cyclic = []
    cyclic.append(cyclic)
    assert isinstance(decode(encode(cyclic)), Opaque) or decode(encode(cyclic)) != cyclic
    assert isinstance(decode(encode(list(range(10)), max_nodes=5)), Opaque)


def test_opaque_has_no_truth_value():
    with pytest.raises(OpaqueCompared):
        bool(decode({"X": "Thing"}))


@pytest.mark.parametrize("bad", [{"Z": 1}, {"T": 5}, {"a": 1, "b": 2}, {"I": "zz"}, object()])
def test_malformed_input_is_a_decode_error(bad):
    with pytest.raises(DecodeError):
        decode(bad)


def test_a_fraction_arrives_as_the_program_held_it_never_reduced_again():
    # Reducing 300 unreduced Fractions of 65,000 bits cost the trusted side about 1.6 s per
    # test (the program, which made them with _normalize=False, paid none of it). Unreduced,
    # they also compare as they do in CPython: 2/4 is not Fraction(1, 2) there either.
    half = decode(encode(Fraction(2, 4, _normalize=False)))
    assert type(half) is Fraction and (half.numerator, half.denominator) == (2, 4)
    assert half != Fraction(1, 2) and half == Fraction(2, 4, _normalize=False)
    assert decode(encode(Fraction(-3, 6))) == Fraction(-1, 2)
    big = (1 << 65000) + 2
    wide = decode(encode(Fraction(big, big + 2, _normalize=False)))
    assert (wide.numerator, wide.denominator) == (big, big + 2)
    with pytest.raises(DecodeError):
        decode({"Q": [1, 0]})


def test_numbers_too_large_to_judge_arrive_opaque():
    from decimal import Decimal

    assert isinstance(decode(encode(10**20000)), Opaque)
    assert decode(encode(10**200)) == 10**200
    assert isinstance(decode(encode(Decimal("1e1000000"))), Opaque)
    assert isinstance(decode(encode(Fraction(10**20000, 3))), Opaque)
    assert decode(encode(Decimal("1.5e10"))) == Decimal("1.5e10")


@pytest.mark.parametrize(
    "value",
    [
        list(range(1000)),
        [-(1 << 52) + 1, (1 << 52) - 1],
        [0.5, -2.0, 1e300],
        ["a", "b"],
        [True, False],
        tuple(range(50)),
        (),
        [],
        [[1, 2], [3, 4]],
        [1, "a", None, 2.5],
    ],
)
def test_flat_sequences_encode_as_themselves_and_round_trip(value):
    encoded = encode(value)
    back = decode(encoded)
    assert back == value and type(back) is type(value)
    if isinstance(value, list):
        assert encoded is not value and back is not encoded  # copies: a snapshot, not the program's list


@pytest.mark.parametrize(
    "value",
    [
        [1, 1 << 60],
        [1.0, float("nan")],
        [2.0, float("inf")],
        [1, True],
        [True, 1],
        [1, 2.0],
    ],
)
def test_sequences_that_are_not_flat_take_the_item_by_item_path(value):
    back = decode(encode(value))
    assert repr(back) == repr(value)  # nan, inf, big ints and mixed types all come back as they were
    assert [type(x) for x in back] == [type(x) for x in value]


def test_subclass_items_in_a_list_are_reduced_too():
    class EvilInt(int):
        def __eq__(self, other):
            return True

    decoded = decode(encode([1, EvilInt(5), 3]))
    assert decoded == [1, 5, 3] and decoded != [1, 6, 3] and type(decoded[0]) is int
    # The real type was not int: a trusted stand-in that computes as int, is an int, is not int.
    assert type(decoded[1]) is not int and isinstance(decoded[1], int) and decoded[1] + 1 == 6
    assert decode(encode((EvilInt(2),))) == (2,) and type(decode(encode((EvilInt(2),)))[0]) is not int


def test_flat_sequences_count_against_the_node_budget_and_depth():
    from executor.sandbox.codec import MAX_DEPTH

    assert isinstance(decode(encode([list(range(10))], max_nodes=8)), Opaque)
    assert encode([list(range(5))], max_nodes=7) == [[0, 1, 2, 3, 4]]
    deep = [1]
    for _ in range(MAX_DEPTH - 1):
        deep = [deep]
    assert decode(encode(deep)) == deep  # a flat list as deep as the codec allows
    assert isinstance(decode(encode([deep])), Opaque)  # one level more


def test_a_list_over_the_node_budget_is_refused_before_it_is_copied():
    import tracemalloc

    big = [True] * 5_000_000
    tracemalloc.start()
    try:
        out = encode(big, max_nodes=1000)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert out == {"X": "<value too large or too deep>"}
    assert peak < 1 << 20  # a copy would be 40 MB


def test_sets_and_dicts_whose_items_collide_arrive_opaque():
    colliding = {k * (2**61 - 1) for k in range(1, 2001)}  # all hash to 0
    assert isinstance(decode(encode(colliding)), Opaque)
    assert isinstance(decode(encode(frozenset(colliding))), Opaque)
    assert isinstance(decode(encode(dict.fromkeys(colliding, 1))), Opaque)
    few = set(list(colliding)[:60]) | set(range(4000))  # a few collisions: still judged
    assert decode(encode(few)) == few
    assert decode(encode({-1: "a", -2: "b"})) == {-1: "a", -2: "b"}  # hash(-1) == hash(-2)


def test_duplicates_and_unhashable_items_in_a_forged_set():
    from executor.sandbox.codec import hash_collisions

    assert hash_collisions([1, 2] * 1000) == 0 and hash_collisions([1, 1.0, True]) == 0
    assert hash_collisions([k * (2**61 - 1) for k in range(1, 100)]) > 64
    with pytest.raises(DecodeError):
        decode({"S": [{"I": format(k * (2**61 - 1), "x")} for k in range(1, 3000)] + [[1]]})


def test_colliding_values_that_are_costly_to_compare_arrive_opaque():
    from decimal import Decimal

    m, d = 2**61 - 1, (1 << 10_000) + 1
    costly = {Decimal(k * m).scaleb(3900) for k in range(1, 33)} | {Fraction(k * m, d) for k in range(1, 33)}
    assert isinstance(decode(encode(costly)), Opaque)  # 64 sharing a hash, each == up to 0.2 ms
    assert decode(encode({Fraction(1, 3), Fraction(2, 3), 0.5})) == {Fraction(1, 3), Fraction(2, 3), 0.5}


def test_encode_never_calls_a_metaclass_eq():
    calls = []

    class Meta(type):
        def __eq__(cls, other):
            calls.append(other)
            return True

        __hash__ = type.__hash__

    class I(int, metaclass=Meta):
        pass

    assert decode(encode([I(5), 1])) == [5, 1] and decode(encode(I(5))) == 5 and calls == []


def test_one_budget_covers_all_the_sets_of_a_value():
    from decimal import Decimal

    m = 2**61 - 1
    sets = [{Decimal(k * m).scaleb(-2000) for k in range(3)} for _ in range(200)]  # each alone is fine
    back = decode(encode(sets))
    assert back[0] == sets[0] and isinstance(back[-1], Opaque)  # together they run out


def test_overlapping_sets_of_small_values_still_combine():
    from executor.judging.asserts import plan_assert

    a = encode({Fraction(i, 7) for i in range(20)})
    assert plan_assert("assert len(f(1) | f(2) | set()) == 20").judge([a, a]) == (True, None)
    edges = encode({((i, 0), (i, 1)) for i in range(30)})
    assert plan_assert("assert f(1) - f(2) == set()").judge([edges, edges]) == (True, None)


def test_collections_cross_with_their_type_and_order():
    from collections import Counter, OrderedDict, defaultdict, deque, namedtuple

    wrong_order = decode(encode(OrderedDict([("a", 1), ("b", 2)])))
    assert type(wrong_order) is OrderedDict and wrong_order != OrderedDict([("b", 2), ("a", 1)])
    assert decode(encode(Counter("aab"))) == Counter({"a": 2, "b": 1})
    assert type(decode(encode(Counter("aab")))) is Counter
    dd = decode(encode(defaultdict(list, {1: [2]})))
    assert type(dd) is defaultdict and dd.default_factory is list and dd == {1: [2]}
    assert decode(encode(defaultdict(lambda: 0))).default_factory is None  # a program's factory stays behind
    dq = decode(encode(deque([1, 2], maxlen=3)))
    assert type(dq) is deque and dq == deque([1, 2]) and dq.maxlen == 3
    point = decode(encode(namedtuple("P", "x y")(1, 2)))
    assert point == (1, 2) and type(point) is not tuple and isinstance(point, tuple)


DATETIMES = [
    datetime.date(2020, 1, 2),
    datetime.datetime(2020, 1, 2, 3, 4, 5, 6),
    datetime.datetime(2020, 1, 2, 3, 4, tzinfo=datetime.UTC),
    datetime.datetime(
        2021,
        11,
        7,
        1,
        30,
        fold=1,
        tzinfo=datetime.timezone(datetime.timedelta(hours=-5), "EST"),
    ),
    datetime.time(3, 4, 5, 6),
    datetime.time(1, 2, tzinfo=datetime.timezone(datetime.timedelta(hours=2))),
    datetime.timedelta(days=-3, seconds=5, microseconds=7),
]


@pytest.mark.parametrize("value", DATETIMES, ids=repr)
def test_the_datetime_modules_values_cross_as_themselves(value):
    import json

    back = decode(json.loads(json.dumps(encode(value))))
    assert back == value and type(back) is type(value)
    if hasattr(value, "tzinfo"):
        assert (back.tzinfo, back.fold) == (value.tzinfo, value.fold)
        assert value.tzinfo is None or back.tzname() == value.tzname()
    assert decode(encode({value: [value]})) == {value: [value]}


@pytest.mark.parametrize(
    "zone",
    [
        datetime.UTC,
        datetime.timezone(datetime.timedelta(hours=2)),
        datetime.timezone(datetime.timedelta(hours=-5), "EST"),
    ],
    ids=repr,
)
def test_time_zones_cross_as_themselves_and_utc_as_utc(zone):
    for value in (zone, datetime.datetime(2020, 1, 1, tzinfo=zone)):
        back = decode(encode(value))
        assert back == value and repr(back) == repr(value)
    assert (decode(encode(datetime.UTC)) is datetime.UTC) and (
        decode(encode(datetime.datetime(2020, 1, 1, tzinfo=datetime.UTC))).tzinfo is datetime.UTC
    )


def test_a_datetime_with_a_program_made_type_or_time_zone_is_opaque():
    dt = datetime

    class Always(dt.date):
        def __eq__(self, other):
            return True

    class Zone(dt.tzinfo):
        def utcoffset(self, d):
            return dt.timedelta(0)

    assert isinstance(decode(encode(Always(1999, 1, 1))), Opaque)
    assert isinstance(decode(encode(dt.datetime(2020, 1, 1, tzinfo=Zone()))), Opaque)


@pytest.mark.parametrize(
    "body",
    [
        ["date", 2020, 13, 1],
        ["date"],
        ["year", 1],
        ["date", True, 1, 1],
        ["timedelta", 1.5, 0, 0],
        ["time", 1, 2, 3, 4, 0, [1, 2]],
        "date",
    ],
)
def test_a_malformed_datetime_is_a_decode_error(body):
    with pytest.raises(DecodeError):
        decode({"DT": body})


def test_a_match_crosses_true_and_equal_to_nothing():
    import re

    from executor.sandbox.codec import TruthyOpaque

    value = decode(encode(re.fullmatch(r"\d+", "12")))
    assert type(value) is TruthyOpaque and bool(value)
    with pytest.raises(OpaqueCompared):
        value == True  # noqa: E712, B015


def test_exceeds_counts_what_encode_would_carry():
    from executor.sandbox.codec import MAX_DEPTH, MAX_ENCODED_NODES, exceeds

    assert not exceeds(3) and not exceeds("x" * 10_000_000)
    assert not exceeds([0] * (MAX_ENCODED_NODES - 1))  # the list and its items
    assert exceeds([0] * MAX_ENCODED_NODES)
    for value in ([0] * (MAX_ENCODED_NODES - 1), [[0]] * 1000, {i: [i] for i in range(1000)}):
        assert exceeds(value) == (encode(value) == {"X": "<value too large or too deep>"})
    assert exceeds([[0, 0]] * 200_000)  # one shared item, counted each time it is held
    assert exceeds({i: (i, i) for i in range(200_000)})
    assert not exceeds({i: i for i in range(200_000)})
    deep: list = []
    for _ in range(MAX_DEPTH + 1):
        deep = [deep]
    assert exceeds(deep) and encode(deep) == {"X": "<value too large or too deep>"}
    assert exceeds([0] * 10, max_nodes=10) and not exceeds([0] * 9, max_nodes=10)


def test_dict_views_and_ranges_cross_as_themselves():
    d = {"b": 1, "a": 2}
    keys, items = decode(encode(d.keys())), decode(encode(d.items()))
    assert type(keys) is type(d.keys()) and list(keys) == ["b", "a"] and keys == {"a", "b"}
    assert type(items) is type(d.items()) and items == {("a", 2), ("b", 1)} and list(items) == [("b", 1), ("a", 2)]
    values = decode(encode(d.values()))
    assert type(values) is type(d.values()) and list(values) == [1, 2]
    assert decode(encode(range(2, 10**30, 7))) == range(2, 10**30, 7)
    for bad in ({"RG": [0, 3, 0]}, {"RG": [0, "3", 1]}, {"DK": [[1], 2]}):  # [1]: no key of a dict
        with pytest.raises(DecodeError):
            decode(bad)


def test_records_match_only_the_tests_own_call_of_their_class():
    from executor.sandbox.codec import Constructed, OpaqueCompared, Record

    point = decode({"OB": ["Point", [["x", 1], ["y", 2]], [["x", "y"], [], [], [["x", "x"], ["y", "y"]], []]]})
    assert point == Constructed("Point", [1, 2], {}) and point == Constructed("Point", [1], {"y": 2})
    assert point != Constructed("Point", [2, 1], {}) and point != Constructed("Other", [1, 2], {})
    stored = [["val", "val"], ["next", "next"]]
    node = decode(
        {"OB": ["Node", [["next", None], ["val", 3]], [["val", "next"], [["val", 0], ["next", None]], [], stored, []]]}
    )
    assert node == Constructed("Node", [3], {}) and node != Constructed("Node", [], {})  # defaults bound
    # Where __init__ stores each parameter as given (`self._x = x`), and the constants it sets.
    private = decode({"OB": ["P", [["_x", 1], ["items", []]], [["x"], [], [], [["x", "_x"]], [["items", []]]]]})
    assert private == Constructed("P", [1], {}) and private != Constructed("P", [2], {})
    grown = decode({"OB": ["P", [["_x", 1], ["items", [5]]], [["x"], [], [], [["x", "_x"]], [["items", []]]]]})
    assert grown != Constructed("P", [1], {})  # a stack pushed to is not a new one
    # An attribute __init__ computes (`self.norm = x * x`), or one set later, cannot be stated:
    # neither equal nor unequal (`!=` passes no program either).
    derived = decode({"OB": ["P", [["_x", 1], ["norm", 1]], [["x"], [], [], [["x", "_x"]], []]]})
    # A parameter __init__ does not store as given (`self.cents = amount * 100`) binds nothing.
    money = decode({"OB": ["Money", [["cents", 5]], [["amount"], [], [], [], []]]})
    # Without a plain __init__ (`*args`), how a call binds is the class's own code's.
    spread = decode({"OB": ["V", [["x", 1], ["y", 2]]]})
    for record, call in [
        (derived, ("P", [1])),
        (money, ("Money", [5])),
        (money, ("Money", [0.05])),
        (spread, ("V", [1, 2])),
    ]:
        with pytest.raises(OpaqueCompared):
            record != Constructed(*call, {})  # noqa: B015
    # A dataclass's compare=False field is left out of the binding, as out of its __eq__.
    stored = [["x", "x"], ["tags", "tags"]]
    tagged = decode({"OB": ["T", [["x", 1]], [["x", "tags"], [["tags", []]], ["tags"], stored, []]]})
    assert tagged == Constructed("T", [1], {}) and tagged == Constructed("T", [1, ["a"]], {})
    # A record never decides against another record or a plain value (either may be rigged).
    for other in (Record("Point", (("x", 1), ("y", 2))), (1, 2), 3):
        with pytest.raises(OpaqueCompared):
            point == other  # noqa: B015
    # A name twice is a forged record: unreadable, never matched on its last value.
    with pytest.raises(DecodeError):
        decode({"OB": ["Pair", [["a", 12345], ["a", True]]]})


def test_a_dataclass_is_read_by_the_eq_dataclasses_generated():
    import dataclasses

    from executor.sandbox.codec import _generated_eq_names

    @dataclasses.dataclass
    class P:
        x: int
        y: int = dataclasses.field(default=0, compare=False)
        z: int = 0

    assert _generated_eq_names(P.__eq__, P.__dataclass_fields__) == ["x", "z"]
    # Flags changed after the class was made do not change what its __eq__ compares.
    for f in P.__dataclass_fields__.values():
        f.compare = False
    assert _generated_eq_names(P.__eq__, P.__dataclass_fields__) == ["x", "z"]

    class Q:
        def __init__(self, x: int) -> None:
            self.x = x

        def __eq__(self, o: object) -> bool:
            return True

    assert _generated_eq_names(Q.__eq__, P.__dataclass_fields__) is None
    # A field list that does not hold what the code compares is not the class's own.
    assert _generated_eq_names(P.__eq__, {"x": P.__dataclass_fields__["x"]}) is None


def test_shared_containers_cross_once_between_the_sandboxes_processes():
    # encode(shared=True) (rpc, between the program's process and the test process): a mutable
    # container met again is the same object after decode(shared=True), as `[[0] * 3] * 2` is.
    row, d, q = [0, 0, 0], {"k": [1]}, collections.deque([1])
    value = {"grid": [row, row], "d": (d, [d]), "q": [q, q], "row": row, "t": ((1, 2), (1, 2))}
    back = decode(encode(value, shared=True), shared=True)
    assert back == value
    assert back["grid"][0] is back["grid"][1] is back["row"]
    assert back["d"][0] is back["d"][1][0] and back["q"][0] is back["q"][1]
    back["grid"][0][1] = 5
    assert back["grid"] == [[0, 5, 0], [0, 5, 0]]
    assert encode([row, [0, 0, 0]], shared=True) == [[0, 0, 0], [0, 0, 0]]  # equal, not shared
    # A value that holds itself is still too deep; the host never takes the shared tags.
    cyclic: list = []
    cyclic.append(cyclic)
    assert "X" in encode(cyclic, shared=True)
    with pytest.raises(DecodeError):
        decode(encode([row, row], shared=True))
    for forged in ([{"SR": 0}], [[{"SD": 0}, 1], [{"SD": 0}, 2]], [{"SR": "0"}]):
        with pytest.raises(DecodeError):
            decode(forged, shared=True)
