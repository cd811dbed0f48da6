"""Trusted-side assert tests: the sandbox computes program values, we judge them.

An assert like `assert abs(f(x) - 2.5) < 1e-6` is split on the host into
*probes* - the smallest subexpressions that depend on the program (`f(x)`) -
and a *plan* for the rest. Only the probes go into the sandbox; the child
sends their values back through the safe codec, and `TrustedAssert.judge`
evaluates the plan here, with real built-ins (`abs`, `sorted`, `len`,
`math.isclose`, ...) over plain values. So literals never enter the sandbox,
and a program that patches `builtins`, shadows `abs` or rewrites
`math.isclose` changes nothing but its own return values.

A test made only of asserts - several in a row, or HumanEval's
`def check(candidate): assert ...` followed by `check(fn)` - is judged the same
way, assert by assert (TrustedSnippet). Anything the plan cannot express
(loops, comprehensions over program values, lambdas, helper code) stays a
snippet, run in the child with strict comparisons (runner.StrictAsserts).

The evaluator runs test text from datasets, so it is bounded: whitelisted
callables only, no attribute access but whitelisted modules and public
methods of built-in values, and a Budget of work with caps on sizes
(judging/budget.py, where every bound and cost is listed).
"""

from __future__ import annotations

import ast
import builtins
import copy
import functools
import math
import operator
import re
import reprlib
import string
from collections import Counter, OrderedDict, defaultdict, deque
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from decimal import Decimal
from fractions import Fraction
from itertools import islice
from types import BuiltinFunctionType
from typing import Any, cast

from ..sandbox import trusted
from ..sandbox.codec import (
    MAX_DEPTH,
    MAX_ENCODED_NODES,
    Constructed,
    DecodeError,
    Opaque,
    OpaqueCompared,
    TooCostlyToDecode,
    TruthyOpaque,
    decode_bounded,
    exceeds,
    hash_collisions,
)
from . import names
from .budget import (
    ASSERT_AST_NODES,
    HOST,
    MAX_DECIMAL_EXPONENT,
    MAX_HASH_COLLISIONS,
    POW_MODULAR_EXPONENT_BITS,
    POW_MODULUS_BITS,
    TEST_AST_NODES,
    UNROLLED_ASSERTS,
    Bounds,
    Budget,
    Reason,
    TooCostly,
    literal_units,
    split_units,
    value_units,
)
from .cache import source_cache
from .parsing import children, more_nodes_than, parse, parse_expression, walk_structure

# Built-ins the evaluator calls (each with bounded work: see _Evaluator._call). Every other
# built-in name in a test (`print`, `open`, `hash`, `iter`...) is still the genuine one
# (names.py), but a test using it is not judged here: it runs in the test process.
HOST_BUILTINS: dict[str, Any] = {
    name: getattr(builtins, name)
    for name in (
        "abs",
        "all",
        "any",
        "ascii",
        "bin",
        "bool",
        "bytes",
        "chr",
        "complex",
        "dict",
        "divmod",
        "enumerate",
        "filter",
        "float",
        "format",
        "frozenset",
        "hex",
        "int",
        "isinstance",
        "len",
        "list",
        "map",
        "max",
        "min",
        "oct",
        "ord",
        "pow",
        "range",
        "repr",
        "reversed",
        "round",
        "set",
        "slice",
        "sorted",
        "str",
        "sum",  # evaluated as _Evaluator.sum: over numbers only
        "tuple",
        "type",
        "zip",
    )
}
# Built-ins that turn an iterable into a value: over a program value they run in the child.
MATERIALIZERS = frozenset({"list", "tuple", "set", "frozenset", "sorted", "dict"})
# Built-ins that reduce a program value to a small one run in the child too: the value itself
# may be far too large to cross (`len(primes(10**6))`, `sum(f(10**6))`), or a program object
# whose own text is the answer (`str(Node(3)) == 'Node(3)'`). What they answer, with whatever
# the program patched, is no more than it could have returned - as long as their argument is
# the program's value itself (see Planner.plan), not a comparison or a container built around
# it, where the program's `__eq__` would decide.
REDUCERS = frozenset(
    {"len", "sum", "min", "max", "any", "all", "str", "repr", "abs", "int", "float", "complex", "bool"}
)
# Built-ins that call a function for each item: with a program's function there, the whole
# call is the program's to compute (its values cross; the literal items are its inputs).
HIGHER_ORDER = frozenset({"map", "filter"})
# Built-ins that give an object's own text: mapped over a program's values, the child calls
# them, as it does `str(m)` (here the objects would be opaque).
_OBJECT_TEXT = frozenset({"str", "repr", "ascii"})
_MUTATING = frozenset(
    {
        "append",
        "extend",
        "insert",
        "pop",
        "remove",
        "reverse",
        "sort",
        "clear",
        "popitem",
        "setdefault",
        "update",
        "add",
        "discard",
        "intersection_update",
        "difference_update",
        "symmetric_difference_update",
        "appendleft",
        "extendleft",
        "popleft",
        "rotate",
        "move_to_end",
        "subtract",
    }
)
_SET_METHODS = frozenset(
    {"issubset", "issuperset", "isdisjoint", "union", "intersection", "difference", "symmetric_difference", "copy"}
)
_DICT_METHODS = frozenset({"keys", "values", "items", "get", "copy", "pop", "popitem", "setdefault", "update", "clear"})
# Methods of str and bytes that cannot grow their result past their inputs; the ones that
# can (center, ljust, rjust, zfill, expandtabs, replace, join, format) are checked in _call.
_TEXT_METHODS = frozenset(
    {
        "lower",
        "upper",
        "strip",
        "lstrip",
        "rstrip",
        "split",
        "rsplit",
        "startswith",
        "endswith",
        "count",
        "find",
        "rfind",
        "index",
        "rindex",
        "isdigit",
        "isalpha",
        "isalnum",
        "isspace",
        "islower",
        "isupper",
        "isdecimal",
        "isnumeric",
        "istitle",
        "isascii",
        "isidentifier",
        "isprintable",
        "title",
        "capitalize",
        "casefold",
        "splitlines",
        "swapcase",
        "partition",
        "rpartition",
        "removeprefix",
        "removesuffix",
        "encode",
        "decode",
        "hex",
    }
)
_GROWING_TEXT = frozenset({"center", "ljust", "rjust", "zfill", "expandtabs", "replace", "join", "format"})
# Methods a test may call on plain values, by type (looked up along the value's MRO, so a
# reduced subclass has its base's). Mutating ones act on the copy this evaluation holds.
VALUE_METHODS: dict[type, frozenset[str]] = {
    str: _TEXT_METHODS | _GROWING_TEXT,
    bytes: (_TEXT_METHODS | _GROWING_TEXT) - {"format", "encode"},
    bytearray: (_TEXT_METHODS | _GROWING_TEXT) - {"format", "encode"},
    list: frozenset(
        {"count", "index", "copy", "append", "extend", "insert", "pop", "remove", "reverse", "sort", "clear"}
    ),
    tuple: frozenset({"count", "index"}),
    range: frozenset({"count", "index", "start", "stop", "step"}),
    Counter: _DICT_METHODS | {"most_common", "elements", "total", "subtract"},
    OrderedDict: _DICT_METHODS | {"move_to_end"},
    defaultdict: _DICT_METHODS | {"default_factory"},
    dict: _DICT_METHODS,
    set: _SET_METHODS
    | {
        "add",
        "discard",
        "remove",
        "pop",
        "clear",
        "update",
        "intersection_update",
        "difference_update",
        "symmetric_difference_update",
    },
    frozenset: _SET_METHODS,
    deque: frozenset(
        {
            "count",
            "index",
            "copy",
            "maxlen",
            "append",
            "appendleft",
            "extend",
            "extendleft",
            "pop",
            "popleft",
            "remove",
            "reverse",
            "rotate",
            "clear",
            "insert",
        }
    ),
    bool: frozenset(),
    int: frozenset(
        {"bit_length", "bit_count", "conjugate", "as_integer_ratio", "real", "imag", "numerator", "denominator"}
    ),
    float: frozenset({"is_integer", "hex", "as_integer_ratio", "conjugate", "real", "imag"}),
    complex: frozenset({"real", "imag", "conjugate"}),
    Fraction: frozenset(
        {"numerator", "denominator", "limit_denominator", "as_integer_ratio", "conjugate", "real", "imag"}
    ),
    Decimal: frozenset(
        {
            "is_nan",
            "is_infinite",
            "is_finite",
            "is_signed",
            "is_zero",
            "adjusted",
            "copy_abs",
            "copy_negate",
            "normalize",
            "as_tuple",
            "as_integer_ratio",  # quadratic in its digits: bounded by Bounds.decimal_digits
            "quantize",
            "real",
            "imag",
            "conjugate",
        }
    ),
}


_ANY_VALUE_METHOD = frozenset().union(*VALUE_METHODS.values())


def _methods_of(value: Any) -> frozenset[str]:
    """The methods a test may call on `value`: its type's, or the nearest listed base's."""
    for cls in type(value).__mro__:
        methods = VALUE_METHODS.get(cls)
        if methods is not None:
            return methods
    if isinstance(value, Opaque):
        raise OpaqueCompared(f"{value!r} cannot be used on the trusted side")
    return frozenset()


_BINOPS: dict[type, Callable[[Any, Any], Any]] = {
    ast.Add: operator.add,
    ast.Sub: operator.sub,
    ast.Mult: operator.mul,
    ast.Div: operator.truediv,
    ast.FloorDiv: operator.floordiv,
    ast.Mod: operator.mod,
    ast.Pow: operator.pow,
    ast.BitAnd: operator.and_,
    ast.BitOr: operator.or_,
    ast.BitXor: operator.xor,
    ast.LShift: operator.lshift,
    ast.RShift: operator.rshift,
}
_UNARY: dict[type, Callable[[Any], Any]] = {
    ast.USub: operator.neg,
    ast.UAdd: operator.pos,
    ast.Not: operator.not_,
    ast.Invert: operator.invert,
}
_CMP: dict[type, tuple[str, Callable[[Any, Any], bool]]] = {
    ast.Eq: ("==", operator.eq),
    ast.NotEq: ("!=", operator.ne),
    ast.Lt: ("<", operator.lt),
    ast.LtE: ("<=", operator.le),
    ast.Gt: (">", operator.gt),
    ast.GtE: (">=", operator.ge),
    ast.In: ("in", lambda a, b: a in b),
    ast.NotIn: ("not in", lambda a, b: a not in b),
    ast.Is: ("is", operator.is_),
    ast.IsNot: ("is not", operator.is_not),
}


_string_formatter = string.Formatter()


class Unsupported(Exception):
    """This expression is not judged on the trusted side."""


class _Probe(ast.expr):
    """A placeholder in a plan for the value of probe number `index`."""

    _fields = ("index",)

    def __init__(self, index: int = 0) -> None:  # a default: copy.deepcopy rebuilds nodes bare
        super().__init__()
        self.index = index


class _Construct(ast.expr):
    """`Point(1, 2)` in a test, a program class called with the test's own values: evaluated
    here as a codec.Constructed, never in the program's process (see codec.Record)."""

    _fields = ("args",)

    def __init__(self, name: str = "", args: list[ast.expr] | None = None, keywords: Any = ()) -> None:
        super().__init__()
        self.name = name
        self.args = args or []
        self.keywords = list(keywords)  # [(name, node)]


class NotJudgeable(Exception):
    """A comparison of a program's value with a value of the test's own larger than the sandbox
    carries back (codec.MAX_ENCODED_NODES): no program's answer could be told right from wrong.
    Raised whatever the program's value, so that no program can choose it: the test is
    `infra_error` (not judgeable), for every program."""


@functools.lru_cache(maxsize=4096)
def _has_probe(node: ast.expr) -> bool:
    return any(isinstance(n, _Probe) for n in ast.walk(node))


_CONTAINERS = (list, tuple, set, frozenset, dict, deque)


def _carried(left_node: ast.expr, left: Any, op: ast.cmpop, right_node: ast.expr, right: Any) -> None:
    """Raise NotJudgeable when one side of a comparison is the program's (holds a probe) and
    the other, the test's own, is too large to have come back from the sandbox; for `in`, an
    item of the test's container is what the program's value must be."""
    probe_left, probe_right = _has_probe(left_node), _has_probe(right_node)
    if probe_left == probe_right:
        return
    own = right if probe_left else left
    items: Any = (own,)
    if probe_left and isinstance(op, (ast.In, ast.NotIn)) and isinstance(own, _CONTAINERS):
        items = {id(item): item for item in own}.values()  # each shared item measured once
    if any(exceeds(item) for item in items):
        raise NotJudgeable(
            f"the test compares a program's value with one of its own of more than {MAX_ENCODED_NODES} "
            f"items or nested more than {MAX_DEPTH} deep, more than the sandbox carries back"
        )


class _ShortRepr(reprlib.Repr):
    """reprlib's bounded repr (a few items per container, a few levels), with large ints by
    their size: repr(value) of a program's value could be 16 MB of digits, a second of CPU."""

    def __init__(self) -> None:
        super().__init__()
        self.maxlevel = 4
        self.maxlist = self.maxtuple = self.maxset = self.maxfrozenset = self.maxdeque = self.maxarray = 16
        self.maxdict = 10
        self.maxstring = self.maxother = 200
        self.maxlong = 100

    def repr_int(self, x: int, level: int) -> str:
        if x.bit_length() > 512:
            return f"<int of {x.bit_length()} bits>"
        return super().repr_int(x, level)

    def repr_dict(self, x: dict[Any, Any], level: int) -> str:  # in insertion order, as Python shows it
        if not x:
            return "{}"
        if level <= 0:
            return "{...}"
        items = [f"{self.repr1(k, level - 1)}: {self.repr1(v, level - 1)}" for k, v in islice(x.items(), self.maxdict)]
        return "{" + ", ".join(items) + (", ..." if len(x) > self.maxdict else "") + "}"


_SHORT_REPR = _ShortRepr()
_SCALARS = frozenset({bool, int, float, str, type(None)})  # JSON's scalars: what decode returns as is


def short_repr(value: Any, limit: int = 160) -> str:
    """A bounded repr that cannot fail, whose cost does not grow with the value."""
    if value is None or type(value) is bool or (type(value) is int and value.bit_length() <= 64):
        text = repr(value)  # the common case, at most 20 characters: what reprlib would give
        return text if len(text) <= limit else text[: limit - 3] + "..."
    try:
        text = _SHORT_REPR.repr(value)
    except Exception as exc:
        return f"<{type(value).__name__}: unprintable ({type(exc).__name__})>"
    return text if len(text) <= limit else text[: limit - 3] + "..."


# Attributes a test reads of a numpy array, which no built-in value has (or which Decimal's
# `max`/`min` share): see _Planner.array_attribute.
_ARRAY_ATTRIBUTES = frozenset({"dtype", "all", "any", "max", "min", "astype", "ndim"})


class _Planner(ast.NodeTransformer):
    """Replace program-dependent subtrees with probes; refuse what we cannot judge."""

    HOST_NODES = (
        (
            ast.BinOp,
            ast.UnaryOp,
            ast.BoolOp,
            ast.Compare,
            ast.IfExp,
            ast.Call,
            ast.Subscript,
            ast.Slice,
            ast.Tuple,
            ast.List,
            ast.Set,
            ast.Dict,
            ast.Constant,
            ast.Attribute,
            ast.Name,
            ast.keyword,
            ast.Load,
        )
        + tuple(_BINOPS)
        + tuple(_UNARY)
        + tuple(_CMP)
        + (ast.And, ast.Or)
    )

    def __init__(self, own: frozenset[str] = frozenset()) -> None:
        self.probes: list[str] = []
        self.own = own  # trusted names that are the program's in this assert (see _plan_one)
        self.expecting = False  # planning an expected side (plan_expected)
        self._constructs: dict[ast.AST, bool] = {}  # literal_construct's answers, by node (identity)

    def trusted(self, name: str) -> bool:
        return names.is_trusted(name) and name not in self.own

    def program_dependent(self, node: ast.AST) -> bool:
        """Does `node` use a name of the program's? (Test text's built-in and standard-library
        names are the genuine ones, never the program's: names.py.)"""
        return any(isinstance(n, ast.Name) and not self.trusted(n.id) for n in ast.walk(node))

    def probe(self, node: ast.expr) -> _Probe:
        # `f(([1], 2)[0])`, as a loop over cases unrolls `f(case[0])`: the item only, never the
        # case's expected value, goes to the program's process (a probe's constants are its).
        node = _TakeItems().visit(copy.deepcopy(node))
        node = self.seal(node)
        if any(
            isinstance(n, ast.Attribute)
            and isinstance(n.value, ast.Name)
            and n.value.id in trusted.STDLIB_MODULES
            and n.value.id not in trusted.MODULES  # those a probe binds to its genuine copy
            for n in ast.walk(node)
        ):  # `hashlib.md5(...)`: the genuine module's, which the test process binds, not a probe
            raise Unsupported("a standard-library module the host does not evaluate")
        self.probes.append(ast.unparse(node))  # not the source text: names may have been inlined
        return ast.copy_location(_Probe(len(self.probes) - 1), node)

    def seal(self, node: ast.expr) -> ast.expr:
        """`node`, a probe, with each of its parts that uses no program name and could leave
        out constants it holds (`{'in': 1, 'out': 2}.get('in')`, `tuple(case)[0]`, `c[len(c) -
        2]`: a case of an unrolled loop, its expected value inside) replaced by its value,
        computed here. The program's process reads a probe's constants; what a part of the
        test's leaves out must not be among them. Unsupported where the value is not a
        literal (or cannot be computed here): the test process runs the assert."""
        if not self.program_dependent(node):
            return node if _keeps_constants(node) else _as_literal(self.fold(node))
        for name, value in ast.iter_fields(node):
            if isinstance(value, ast.expr):
                setattr(node, name, self.seal(value))
            elif isinstance(value, list):
                setattr(node, name, [self.seal(v) if isinstance(v, ast.expr) else v for v in value])
        for kw in getattr(node, "keywords", ()):
            kw.value = self.seal(kw.value)
        return node

    def literal_construct(self, node: ast.AST) -> bool:
        """`Point(1, 2)`, `Point(*[1, 2])`, `ListNode(2, ListNode(1))`: a CapWords program name
        called with the test's own values (or such calls) only. Kept per node: a nested chain
        is asked about at every level."""
        if not (isinstance(node, ast.Call) and _constructed(node, self.own)):
            return False
        known = self._constructs.get(node)
        if known is None:
            spread = _spread(node)
            known = self._constructs[node] = spread is not None and all(
                self.literal_construct(a) or not (self.program_dependent(a) or _has_local_scope(a))
                for a in [*spread[0], *spread[1].values()]
            )
        return known

    def holds_program_value(self, node: ast.expr) -> bool:
        """Does `node` use a program name other than in literal_construct calls?"""
        todo: list[ast.AST] = [node]
        while todo:
            n = todo.pop()
            if self.literal_construct(n):
                continue
            if isinstance(n, ast.Name) and not self.trusted(n.id):
                return True
            todo.extend(ast.iter_child_nodes(n))
        return False

    def plan_expected(self, node: ast.expr) -> ast.expr:
        """Plan an expected side: its literal_construct calls become _Construct, built here
        from the test's values (nested, in displays, under operators alike)."""
        self.expecting, before = True, self.expecting
        try:
            return self.plan(node)
        finally:
            self.expecting = before

    def construct(self, call: ast.Call) -> ast.expr:
        args, keywords = cast(tuple[list[ast.expr], dict[str, ast.expr]], _spread(call))
        built = _Construct(
            cast(ast.Name, call.func).id,
            [self.plan(a) for a in args],
            [(k, self.plan(v)) for k, v in keywords.items()],
        )
        return ast.copy_location(built, call)

    def fold(self, node: ast.expr) -> Any:
        """The value of a part of a probe that uses no program name, computed here as the
        plan's other test-only parts are (bounded: Unsupported past a job's budget)."""
        planner = _Planner(self.own)
        planned = planner.plan(copy.deepcopy(node))
        if planner.probes:
            raise Unsupported("a probe part with probes")
        try:
            return _Evaluator([]).eval(planned)
        except Unsupported:
            raise
        except Exception as exc:  # KeyError, TooCostly...: as Python would, the test process
            raise Unsupported(f"a probe part not computed here ({type(exc).__name__})") from None

    def plan(self, node: ast.expr) -> ast.expr:
        if isinstance(node, ast.Name):
            if not self.trusted(node.id):
                return self.probe(node)
            if node.id in names.MODULES:
                raise Unsupported("a module as a value")
            if node.id in names.CONSTANTS or node.id in names.FROM_IMPORTS or node.id in HOST_BUILTINS:
                return node
            raise Unsupported(f"{node.id} is not evaluated on the trusted side")  # print, np, re...
        if isinstance(node, ast.Call):
            return self.plan_call(node)
        if isinstance(node, ast.Attribute):
            if isinstance(node.value, ast.Name) and self.trusted(node.value.id) and node.value.id not in names.MODULES:
                raise Unsupported("attribute of a built-in")
            if self.array_attribute(node):
                raise Unsupported(f".{node.attr} of what may be an array: the test process")
            if self.program_dependent(node.value):
                # node.val, f(x).attr: the child reads it, with whatever the program defined -
                # not `(f(x) == [1, 2]).shape`, where the test's literal would go along.
                if not self.program_rooted(node.value) and self.literal_inside(node.value):
                    raise Unsupported("an attribute of an expression holding the test's values")
                return self.probe(node) if not _has_local_scope(node) else _refuse(node)
            if node.attr.startswith("_"):
                raise Unsupported("private attribute")
            if _plain_base(node.value):
                if node.attr not in names.MODULE_ATTRS[node.value.id]:  # type: ignore[attr-defined]
                    raise Unsupported(f"{node.value.id}.{node.attr}")  # type: ignore[attr-defined]
                return node
            node.value = self.plan(node.value)
            return node
        if (
            isinstance(node, ast.Subscript)
            and self.program_rooted(node.value)  # the program's value itself, as REDUCERS take it
            and not self.literal_inside(_indexed(node.value))
            and _literal_index(node.slice)
        ):
            # f(10**6)[97], f()[-1], arr[1:3]: the child takes the item, so a value too large to
            # cross (a sieve of a million) or one the codec does not carry (an ndarray) is
            # judged by its item - which the program chooses no more than its whole value.
            return self.probe(node) if not _has_local_scope(node) else _refuse(node)
        if isinstance(node, ast.Compare):
            # `midpoint(a, b) == Point(1, 2)`: a program class called with the test's values,
            # beside an operand that holds the program's value, is the expected side (_Construct).
            operands = [node.left, *node.comparators]
            if self.class_comparison(node):
                # `type(f()) is P`, `f().__class__ == list`, `type(f()) in (P, Q)`: as with
                # isinstance(f(), P), the child answers it (here a program class is opaque).
                return self.probe(node) if not _has_local_scope(node) else _refuse(node)
            if any(_class_attribute(o, self.own) for o in operands):
                # `g() == Color.GREEN`: an Enum member is judged by identity, which the test
                # process keeps (one proxy per program object); here both would be opaque.
                raise Unsupported("a program class's attribute compared")
            if any(_operator_on_objects(o, self.own) for o in operands) or (
                any(isinstance(n, ast.expr) and _constructed(n, self.own) for o in operands for n in ast.walk(o))
                and any(self.operator_on_program(o) for o in operands)
            ):
                # `Vec(1, 2) + Vec(3, 4) == Vec(4, 6)`: the program's own operator on objects
                # of its class, which the test process asks of the program's process.
                raise Unsupported("an operator on a program class's objects")
            if any(self.program_dependent(o) for o in operands[2:]):
                # `5 < f() < g()`: Python never calls g() when the first link is false, and
                # probes are computed up front: the test process runs it, link by link.
                raise Unsupported("a chained comparison with a program value past its first link")
            for op, left, right in zip(node.ops, operands, operands[1:]):
                if isinstance(op, (ast.Is, ast.IsNot)) and self.program_rooted(left) and self.program_rooted(right):
                    # `f(1) is f(1)`: the identity of two program objects, which here are two
                    # copies - the test process judges it (and refuses what crossed as a copy).
                    raise Unsupported("the identity of program values")
            holds = [self.holds_program_value(o) for o in operands]
            planned = [self.plan(o) if h or not any(holds) else self.plan_expected(o) for o, h in zip(operands, holds)]
            node.left, node.comparators = planned[0], planned[1:]
            return node
        if isinstance(node, (ast.BoolOp, ast.IfExp)) and self.program_dependent(node):
            # Probes are computed up front: `a or f()` would call f() when Python does not.
            raise Unsupported("short-circuit over program values")
        if not isinstance(node, self.HOST_NODES):  # comprehensions, lambdas...
            raise Unsupported(type(node).__name__)
        if isinstance(node, ast.Dict):  # probes in Python's order: a key, its value, the next key
            pairs = [(None if k is None else self.plan(k), self.plan(v)) for k, v in zip(node.keys, node.values)]
            node.keys, node.values = [k for k, _ in pairs], [v for _, v in pairs]
            return node
        if (
            isinstance(node, ast.BinOp)
            and isinstance(node.op, ast.Mod)
            and isinstance(node.left, ast.Constant)
            and isinstance(node.left.value, str)
        ):
            _check_percent(node.left.value)
            if self.any_program_rooted([node.right]):
                # `'%s' % m`, `'%d' % m`: a program object's own text or number, as for format()
                # (see plan_call).
                raise Unsupported("a program's value formatted by %: the test process")
        for name, value in ast.iter_fields(node):
            if isinstance(value, ast.expr):
                setattr(node, name, self.plan(value))
            elif isinstance(value, list):
                setattr(node, name, [self.plan(v) if isinstance(v, ast.expr) else v for v in value])
        return node

    def sums_from_other_than_a_number(self, node: ast.Call) -> bool:
        """Is `node` `sum(<program values>, start)` with a start not a number literal?"""
        starts = [*node.args[1:], *(k.value for k in node.keywords)]
        return (
            isinstance(node.func, ast.Name)
            and node.func.id == "sum"
            and self.trusted("sum")
            and bool(starts)
            and any(self.program_dependent(a) for a in node.args)
            and not all(isinstance(a, ast.Constant) and type(a.value) in (int, float) for a in starts)
        )

    def formats_program_value(self, node: ast.Call) -> bool:
        """Is `node` `'...'.format(...)` or `format(...)` of a program's value itself (which may
        be an object of its own, with its own text; `format(Decimal(f()), 'f')` is not)?"""
        func, args = node.func, [*node.args, *(k.value for k in node.keywords)]
        if isinstance(func, ast.Attribute) and func.attr == "format" and isinstance(func.value, ast.Constant):
            return isinstance(func.value.value, str) and self.any_program_rooted(args)
        return (
            isinstance(func, ast.Name)
            and func.id == "format"
            and self.trusted(func.id)
            and self.any_program_rooted(args)
        )

    def any_program_rooted(self, nodes: list[ast.expr]) -> bool:
        """Is any of `nodes`, or an item of a display of them, a program's value itself or a
        list of its items (`tuple(ms)`)?"""
        for n in nodes:
            items = n.elts if isinstance(n, (ast.Tuple, ast.List)) else n.values if isinstance(n, ast.Dict) else [n]
            for x in items:
                x = x.value if isinstance(x, ast.Starred) else x
                if self.program_rooted(_materialized(x)):
                    return True
        return False

    def maps_text_of_program_values(self, node: ast.Call) -> bool:
        """Is `node` `map(str, ms)` (or repr, ascii) over a program's values? Like `str(m)`, each
        item's own text is the child's to compute (per_item)."""
        return (
            isinstance(node.func, ast.Name)
            and node.func.id == "map"
            and len(node.args) >= 2
            and isinstance(node.args[0], ast.Name)
            and node.args[0].id in _OBJECT_TEXT
            and self.trusted(node.args[0].id)
            and any(self.program_dependent(a) for a in node.args[1:])
        )

    def operator_on_program(self, node: ast.expr) -> bool:
        """Does `node` apply an operator to a program's value (`unit() * 3`, `-f(x)`)? Beside a
        test's call of a program class, that value is likely the class's object, whose operator
        is its own: the test process asks it of the program's process."""
        for n in ast.walk(node):
            sides = [n.left, n.right] if isinstance(n, ast.BinOp) else [n.operand] if isinstance(n, ast.UnaryOp) else []
            if any(self.program_dependent(x) for x in sides):
                return True
        return False

    def array_attribute(self, node: ast.Attribute) -> bool:
        """Is `node` how a test uses a numpy array the program returned (`f().dtype`,
        `f().max()`, `(f() > 0).all()`)? Here the array is opaque (the codec carries no array);
        the test process gets it as an array of its own numpy (rpc), where such asserts are
        numpy's work. (`f().all()` alone is the program's call, computed in its process.)"""
        return (
            node.attr in _ARRAY_ATTRIBUTES
            and self.program_dependent(node.value)
            and (node.attr not in ("all", "any") or not self.program_rooted(node.value))
        )

    def class_comparison(self, node: ast.Compare) -> bool:
        """Is `node` a program value's class (`type(x)`, `x.__class__`) compared, by `is`, `==`
        or `in`, with classes named (the program's, the built-ins', `types.GeneratorType`) or
        another such class, no literal of the test's on either side?"""
        if len(node.ops) != 1 or not isinstance(node.ops[0], (ast.Is, ast.IsNot, ast.Eq, ast.NotEq, ast.In, ast.NotIn)):
            return False
        left, right = node.left, node.comparators[0]

        def named(o: ast.expr) -> bool:
            while isinstance(o, ast.Attribute) and not o.attr.startswith("_"):
                o = o.value
            return isinstance(o, ast.Name)

        def of_program(o: ast.expr) -> bool:
            if not self.class_of(o):
                return False
            inner = o.value if isinstance(o, ast.Attribute) else o.args[0]  # type: ignore[attr-defined]
            return self.program_dependent(inner)

        if self.literal_inside(node):  # `type(f()) == type('x')`: a test's value never goes to the child
            return False
        if isinstance(node.ops[0], (ast.In, ast.NotIn)):
            listed = isinstance(right, (ast.Tuple, ast.List, ast.Set)) and right.elts and all(map(named, right.elts))
            return of_program(left) and bool(listed)
        sides = (left, right)
        return any(of_program(o) for o in sides) and all(self.class_of(o) or named(o) for o in sides)

    def class_of(self, node: ast.expr) -> bool:
        """Is `node` the class of a value: `type(x)` (the genuine type) or `x.__class__`?"""
        if isinstance(node, ast.Attribute):
            return node.attr == "__class__"
        return (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Name)
            and node.func.id == "type"
            and self.trusted("type")
            and len(node.args) == 1
            and not node.keywords
            and not isinstance(node.args[0], ast.Starred)
        )

    def plan_call(self, node: ast.Call) -> ast.expr:
        func = node.func
        if isinstance(func, ast.Attribute) and self.array_attribute(func):
            raise Unsupported(f".{func.attr} of what may be an array: the test process")
        if self.sums_from_other_than_a_number(node):
            # `sum(groups(), [])`: lists summed, which this process does not do (quadratic).
            raise Unsupported("sum() of a program's values from a start not a number: the test process")
        if self.formats_program_value(node):
            # `'{}'.format(m)`, `format(m, '>8')`: a program object's own text (its __str__,
            # __repr__, __format__), which only the test process can ask for with the test's
            # format spec (here the object is opaque).
            raise Unsupported("a program's value formatted: the test process")
        if (
            isinstance(func, ast.Name)
            and func.id == "isinstance"
            and len(node.args) == 2
            and self.program_dependent(node.args[1])
        ):
            return self.probe(node)  # isinstance(x, ProgramClass): the child answers it
        if (
            isinstance(func, ast.Name)
            and func.id == "issubclass"
            and self.trusted("issubclass")
            and len(node.args) == 2
            and not node.keywords
            and self.program_dependent(node.args[0])
            and not self.literal_inside(node)
        ):
            return self.probe(node)  # issubclass(ProgramClass, list): the child answers it
        if isinstance(func, ast.Attribute) and (
            (func.attr in names.VALUE_METHOD_NAMES and _constructed(func.value, self.own))
            or (func.attr not in names.VALUE_METHOD_NAMES and self.fluent(func.value))
        ):
            # `ReverseWords(s).startswith('b')`: the class's own API if the CapWords name is a
            # class, else a built-in value's method, judged on the value; `Builder().add(1).
            # add(2).build()`: the class's API all along if `add` returns a Builder. Only the
            # test process can tell which before the method's arguments reach the program (a
            # probe's values are its to read). A built-in value's method on what a further call
            # returned (`Solution().solve(s).isdigit()`) is judged on the value, here.
            raise Unsupported("a built-in value's method name on what a CapWords callee made")
        if (
            isinstance(func, ast.Name)
            and func.id in ("any", "all")
            and self.trusted(func.id)
            and node.args
            and isinstance(node.args[0], ast.Call)
            and isinstance(node.args[0].func, ast.Name)
            and node.args[0].func.id in HIGHER_ORDER
            and node.args[0].args
            and self.program_dependent(node.args[0].args[0])
        ):
            # `any(map(f, [1, 2]))` stops at the first true f(x), and f(2) may never run there
            # (it may raise or loop); probes would all be computed: the test process runs it.
            raise Unsupported("any/all over a program's function, which stops early")
        if self.expecting and self.literal_construct(node):
            return self.construct(node)  # `Point(1, 2)` on an expected side (plan_expected)
        if self.expecting and any(self.literal_construct(n) for n in ast.walk(node)):
            # `str(Point(1, 2))`, `Point(1, 2).to_tuple()`: a program class's object the test
            # builds, used otherwise than compared - that would be in the program's process.
            raise Unsupported("a program class built from the test's values, used on the expected side")
        if self.program_dependent(func) and not self.value_method(func):
            # f(x), Solution().solve(s), obj.method(1): the program's call, computed in the child.
            return self.probe(node) if not _has_local_scope(node) else _refuse(node)
        if (
            isinstance(func, ast.Name)
            and not _has_local_scope(node)
            and not node.keywords
            and (
                (
                    func.id in MATERIALIZERS | REDUCERS
                    and len(node.args) == 1
                    and self.program_rooted(node.args[0])
                    and not self.literal_inside(node.args[0])
                )
                or (
                    # `str(f()[0])`: an item's own text; `str(list(ms))`: the items'
                    func.id in ("str", "repr")
                    and len(node.args) == 1
                    and self.program_rooted(_materialized(node.args[0]))
                    and not self.literal_inside(_indexed(_materialized(node.args[0])))
                )
                or (func.id in HIGHER_ORDER and node.args and self.program_dependent(node.args[0]))
                or self.maps_text_of_program_values(node)
            )
        ):
            # list(gen(3)), len(f(10**6)), str(Node(3)): the child computes the whole call (no
            # literal of the test goes with it) and we judge its value. Only over a program
            # value itself: in all([f(1) == [], ...]) the comparisons, and so the program's
            # __eq__, would be the child's to decide. map(f, [1, 2]) applies the program's f to
            # inputs: one probe per input (per_item).
            if func.id in HIGHER_ORDER:
                return self.per_item(node)
            return self.probe(node)
        if any(isinstance(a, ast.Starred) for a in node.args):
            raise Unsupported("starred argument")
        iterated = _iterated(func, node.args)
        node.func = self.plan_callee(func)
        node.args = [
            self.probe(ast.Call(ast.Name("list", ast.Load()), [a], []))
            if n in iterated and self.program_rooted(a) and not _has_local_scope(a)
            else self.plan(a)
            for n, a in enumerate(node.args)
        ]
        for kw in node.keywords:
            if kw.arg is None:
                raise Unsupported("**kwargs")
            if kw.arg == "key" and self.program_dependent(kw.value):
                raise Unsupported("a program's function as a key")  # the test process calls it
            kw.value = self.plan(kw.value)
        return node

    def per_item(self, node: ast.Call) -> ast.expr:
        """`map(f, [2, 3])` / `filter(f, [2, 3])` with a program's `f`: over the test's own items,
        one probe per item (`f(2)`, `f(3)`), the list (or the items kept) built here, so its
        length and items are the test's whatever the child does (a child that rewrote its own
        `map` made `all(map(f, [...]))` see no items at all). Over a program's iterable the
        child computes the whole list (its length is the program's to choose anyway); over
        anything else of the test's, the test process runs it."""
        name = node.func.id if isinstance(node.func, ast.Name) else ""
        fn, iterables = node.args[0], node.args[1:]
        if not iterables or node.keywords or any(isinstance(a, ast.Starred) for a in node.args):
            raise Unsupported(f"{name} of this shape")
        if all(self.program_rooted(a) for a in iterables):
            return self.probe(ast.Call(ast.Name("list", ast.Load()), [node], []))
        columns = [c for c in map(_items, iterables) if c is not None]
        if len(columns) != len(iterables) or (name == "filter" and len(columns) != 1):
            raise Unsupported("map or filter over values the test computes")
        rows = list(zip(*columns))
        if len(rows) > MAX_PER_ITEM:
            raise Unsupported("map or filter over too many items to probe one by one")
        calls = [self.plan(ast.Call(copy.deepcopy(fn), [copy.deepcopy(x) for x in row], [])) for row in rows]
        if name == "map":
            return ast.copy_location(ast.List(calls, ast.Load()), node)
        items = ast.List([self.plan(copy.deepcopy(row[0])) for row in rows], ast.Load())
        return ast.copy_location(ast.Call(_Value(_kept), [items, ast.List(calls, ast.Load())], []), node)

    def value_method(self, func: ast.expr) -> bool:
        """Is `func` a method of a value, called here on the value?

        `set(f(x)).issubset({1, 2})`: a method of a value built here from program values (its
        literal arguments never go to the program). `f(x).startswith('ab')`, `f(x).keys()`: a
        method of a built-in value type on a program value: the value crosses and its genuine
        method is called here, so a program object that answers every name (`__getattr__`)
        or defines `startswith` itself cannot decide the test. Not on `Solution().count(...)`:
        a method of an object the test builds from a program class (CapWords, LeetCode's
        shape), or on the class itself (`Solution.add(1, 2)`), is that class's own API,
        computed in the child."""
        if not isinstance(func, ast.Attribute) or func.attr.startswith("_"):
            return False
        if not self.program_rooted(func.value):
            return True
        # `Solution.add(1, 2)`: a static or class method, the program class's own API too; and
        # `stack.pop()` on a program global the test names: that object's own method, run where
        # it lives (a list's pop changes the program's list, as the test appended to it would)
        # - but a predicate (`s.startswith('ab')`, `s.issubset(...)`), whose truth would be the
        # object's to answer, is the value's.
        return (
            func.attr in names.VALUE_METHOD_NAMES
            and not _constructed(func.value, self.own)
            and not (isinstance(func.value, ast.Name) and func.attr not in names.PREDICATES)
        )

    def fluent(self, node: ast.expr) -> bool:
        """Is `node` a chain from a CapWords call with a built-in value's method name in it
        (`Builder().add(1)`, `Stack().push(1).push(2)`)?"""
        while isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute):
            if node.func.attr in names.VALUE_METHOD_NAMES and _made_by_class(node.func.value, self.own):
                return True
            node = node.func.value
        return False

    def program_rooted(self, node: ast.expr) -> bool:
        """Is `node` a program object or something reached from one (f(x), obj.attr, f(x)[0])?"""
        if isinstance(node, ast.Name):
            return not self.trusted(node.id)
        if isinstance(node, ast.Call):
            return self.program_dependent(node.func) and not self.value_method(node.func)
        if isinstance(node, (ast.Attribute, ast.Subscript)):
            return self.program_rooted(node.value)
        if isinstance(node, ast.BinOp):  # Frac(1, 2) + Frac(1, 3): the program's __add__ on its values alone
            return self.program_rooted(node.left) and self.program_rooted(node.right)
        return False

    def literal_inside(self, node: ast.AST) -> bool:
        """Does a literal sit in `node` other than as an argument of a program call? (Those
        are inputs the program is given anyway; a literal elsewhere may be an expected value.)"""
        if isinstance(node, ast.Constant):
            return True
        if isinstance(node, ast.Call) and self.program_dependent(node.func) and not self.value_method(node.func):
            return self.literal_inside(node.func)
        return any(self.literal_inside(child) for child in ast.iter_child_nodes(node))

    def plan_callee(self, func: ast.expr) -> ast.expr:
        if isinstance(func, ast.Name) and (func.id in HOST_BUILTINS or func.id in names.FROM_IMPORTS):
            if not callable(names.genuine(func.id)):
                raise Unsupported("not callable")
            return func
        if isinstance(func, ast.Attribute):
            if _plain_base(func.value):
                if func.attr not in names.MODULE_ATTRS[func.value.id]:  # type: ignore[attr-defined]
                    raise Unsupported(f"{func.value.id}.{func.attr}")  # type: ignore[attr-defined]
                return func
            if func.attr.startswith("_") or (isinstance(func.value, ast.Name) and self.trusted(func.value.id)):
                raise Unsupported("method")
            if isinstance(func.value, ast.Constant):
                if func.attr not in _methods_of(func.value.value):
                    raise Unsupported(f"{type(func.value.value).__name__}.{func.attr}")
                if func.attr == "format" and isinstance(func.value.value, str):
                    _check_format(func.value.value)  # its fields are known now: refuse them now
            if func.attr not in _ANY_VALUE_METHOD:  # no value here has it: the test process runs it
                raise Unsupported(f"method {func.attr}")
            func.value = self.plan(func.value)  # a method of a plain value, checked when judged
            return func
        raise Unsupported("callee")


def _program_class(node: ast.expr, own: frozenset[str] = frozenset()) -> bool:
    """Is `node` a CapWords name of the program's (`Solution`, `Color`), by its spelling?"""
    return isinstance(node, ast.Name) and node.id[:1].isupper() and (not names.is_trusted(node.id) or node.id in own)


def _constructed(node: ast.expr, own: frozenset[str] = frozenset()) -> bool:
    """`Solution()`, `MinStack(3)`: an instance the test makes of a program class (CapWords)."""
    return isinstance(node, ast.Call) and _program_class(node.func, own)


def _operator_on_objects(node: ast.expr, own: frozenset[str]) -> bool:
    """Does `node` apply an operator to an instance the test makes of a program class
    (`Vec(1, 2) + Vec(3, 4)`, `2 * Vec(1, 0)`, `-Money(5)`)?"""
    for n in ast.walk(node):
        sides = [n.left, n.right] if isinstance(n, ast.BinOp) else [n.operand] if isinstance(n, ast.UnaryOp) else []
        if any(_constructed(x, own) for x in sides):
            return True
    return False


# Calls that keep every constant of their arguments in their value (a test-only argument of a
# probe built with them stays as written; see _Planner.seal).
_KEEPING_CALLS = frozenset(
    {"list", "tuple", "set", "frozenset", "sorted", "reversed", "str", "repr", "int", "float", "complex"}
    | {"bytes", "bytearray", "range", "Decimal", "Counter", "date", "datetime", "time", "array"}
)


def _keeps_constants(node: ast.AST) -> bool:
    """Does the test-only expression `node` keep all its constants in its value? Constants,
    names, module attributes (`math.pi`), displays, arithmetic and the constructors above do;
    items, methods, `len`, comparisons and the like may leave some out."""
    if isinstance(node, (ast.Constant, ast.Name)):
        return True
    if isinstance(node, ast.Attribute):
        return isinstance(node.value, ast.Name)
    if isinstance(node, (ast.Tuple, ast.List, ast.Set)):
        return all(_keeps_constants(e) for e in node.elts)
    if isinstance(node, ast.Dict):
        constants = [k.value for k in node.keys if isinstance(k, ast.Constant)]
        if len(constants) != len(set(map(repr, constants))):
            return False  # {'a': 1, 'a': 2}: the last of a key wins
        return all(k is None or _keeps_constants(k) for k in node.keys) and all(map(_keeps_constants, node.values))
    if isinstance(node, ast.Starred):
        return _keeps_constants(node.value)
    if isinstance(node, ast.Slice):
        return all(p is None or _keeps_constants(p) for p in (node.lower, node.upper, node.step))
    if isinstance(node, ast.UnaryOp):
        return _keeps_constants(node.operand)
    if isinstance(node, ast.BinOp):
        return _keeps_constants(node.left) and _keeps_constants(node.right)
    if isinstance(node, ast.Call):
        func = node.func
        keeping = (isinstance(func, ast.Name) and func.id in _KEEPING_CALLS) or (
            isinstance(func, ast.Attribute) and isinstance(func.value, ast.Name) and func.attr in _KEEPING_CALLS
        )
        return (
            keeping
            and all(_keeps_constants(a) for a in node.args)
            and all(_keeps_constants(k.value) for k in node.keywords)
        )
    return False


_LITERAL_NODES = 10_000  # a folded probe part larger than this is left to the test process


def _as_literal(value: Any) -> ast.expr:
    """`value` written as a literal expression (Unsupported if it has no such form, or is large)."""
    count = [0]

    def write(v: Any) -> ast.expr:
        count[0] += 1
        if count[0] > _LITERAL_NODES:
            raise Unsupported("a large probe part")
        t = type(v)
        if v is None or t in (bool, str, bytes, complex) or (t is int and v.bit_length() <= 4096):
            return ast.Constant(v)
        if t is float and v == v and v not in (float("inf"), float("-inf")):
            return ast.Constant(v)
        if t in (list, tuple):
            return (ast.List if t is list else ast.Tuple)([write(x) for x in v], ast.Load())
        if t is set and v:
            return ast.Set([write(x) for x in v])
        if t is dict:
            return ast.Dict([write(k) for k in v], [write(x) for x in v.values()])
        raise Unsupported(f"a probe part valued {t.__name__}")

    return write(value)


def _class_attribute(node: ast.expr, own: frozenset[str]) -> bool:
    """`Color.GREEN`, `(Color.RED, Color.GREEN)`: an attribute of a CapWords program name."""
    if isinstance(node, (ast.Tuple, ast.List, ast.Set)):
        return any(_class_attribute(e, own) for e in node.elts)
    return isinstance(node, ast.Attribute) and _program_class(node.value, own)


def _spread(call: ast.Call) -> tuple[list[ast.expr], dict[str, ast.expr]] | None:
    """A call's arguments with `*[1, 2]` and `**{'y': 2}` displays spread out, or None where a
    starred argument is not such a display."""
    args: list[ast.expr] = []
    for a in call.args:
        if not isinstance(a, ast.Starred):
            args.append(a)
        elif isinstance(a.value, (ast.List, ast.Tuple)) and not any(isinstance(e, ast.Starred) for e in a.value.elts):
            args.extend(a.value.elts)
        else:
            return None
    keywords: dict[str, ast.expr] = {}
    for k in call.keywords:
        pairs: list[tuple[Any, ast.expr]]
        if k.arg is not None:
            pairs = [(k.arg, k.value)]
        elif isinstance(k.value, ast.Dict) and all(isinstance(key, ast.Constant) for key in k.value.keys):
            pairs = [(cast(ast.Constant, key).value, v) for key, v in zip(k.value.keys, k.value.values)]
        else:
            return None
        for name, value in pairs:
            if type(name) is not str or name in keywords:
                return None
            keywords[name] = value
    return args, keywords


def _made_by_class(node: ast.expr, own: frozenset[str] = frozenset()) -> bool:
    """Is `node` a CapWords call (_constructed) or reached from one through methods, attributes
    and items (`Builder().add(1)`, `Solution().root.left`)?"""
    while True:
        if _constructed(node, own):
            return True
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute):
            node = node.func.value
        elif isinstance(node, (ast.Attribute, ast.Subscript)):
            node = node.value
        else:
            return False


_BINDS_DYNAMICALLY = frozenset(
    {"exec", "eval", "globals", "vars", "locals", "setattr", "__import__", "compile", "delattr"}
)


# Text without any of these binds no name (every binding statement or expression has one:
# `=` but not a comparison, augmented `>>=`/`<<=`, `:` of annotations, `:=` and `match`, a
# keyword, a name that binds dynamically); a test that is one assert over a big literal is
# then not parsed a second time to learn it.
_MAY_BIND = re.compile(
    r"(?<![=!<>])=(?!=)|(?:>>|<<)=|:|\b(?:import|def|class|for|with|as|global|nonlocal|del|lambda|except|"
    + "|".join(sorted(_BINDS_DYNAMICALLY))
    + r")\b"
)


@source_cache(4 << 20, small_values=True)  # like plan_snippet: suites repeat across samples
def bound_names(source: str) -> frozenset[str] | None:
    """Names a snippet binds at its top level (defs, classes, assignments, imports, loops), or
    None when that cannot be known: `global`/`nonlocal`, `:=`, `match`, `import *`, exec, globals()
    and the like can bind any name."""
    if not _MAY_BIND.search(source):
        return frozenset()
    try:
        tree = parse(source)
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        return frozenset()  # it will not run, so it binds nothing
    for node in walk_structure(tree):
        if isinstance(node, (ast.Global, ast.Nonlocal, ast.NamedExpr, ast.Match)):
            return None
        if (
            isinstance(node, (ast.Attribute, ast.Subscript))
            and isinstance(node.ctx, ast.Store)
            and not isinstance(node.value, ast.Subscript)
        ):
            return None  # builtins.expected = 3, sys.modules['__main__'].x = 3: any name
        if isinstance(node, ast.ImportFrom) and any(a.name == "*" for a in node.names):
            return None
        if isinstance(node, ast.Name) and node.id in _BINDS_DYNAMICALLY:
            return None
    names: set[str] = set()
    todo: list[ast.AST] = list(tree.body)
    while todo:
        node = todo.pop()
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            names.add(node.name)
            continue  # their bodies bind locals
        if isinstance(node, (ast.Import, ast.ImportFrom)):
            names.update((a.asname or a.name).split(".")[0] for a in node.names)
            continue
        if isinstance(node, ast.Name) and isinstance(node.ctx, ast.Store):
            names.add(node.id)
        if isinstance(node, (ast.Lambda, ast.ListComp, ast.SetComp, ast.DictComp, ast.GeneratorExp)):
            continue
        todo.extend(children(node))
    return frozenset(names)


@source_cache(4 << 20, small_values=True)
def free_names(expr: str) -> frozenset[str]:
    """Every name an expression reads."""
    try:
        return frozenset(n.id for n in ast.walk(parse_expression(expr)) if isinstance(n, ast.Name))
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        return frozenset()


class _TakeItems(ast.NodeTransformer):
    """Replace an item taken with constants from a literal display by the item itself:
    `([1], 2)[0]` -> `[1]`, `{'in': [1], 'out': 2}['in']` -> `[1]`, `(1, 2, 3)[:2]` -> `(1, 2)`."""

    def visit_Subscript(self, node: ast.Subscript) -> ast.expr:
        self.generic_visit(node)
        seq, key = node.value, node.slice
        if isinstance(seq, (ast.Tuple, ast.List)) and not any(isinstance(e, ast.Starred) for e in seq.elts):
            if isinstance(key, ast.Slice) and _literal_index(key):
                parts = [None if p is None else _constant(p) for p in (key.lower, key.upper, key.step)]
                if all(p is None or type(p) is int for p in parts) and parts[2] != 0:
                    return ast.copy_location(type(seq)(seq.elts[slice(*parts)], ast.Load()), node)
            index = _constant(key)
            if type(index) is int and -len(seq.elts) <= index < len(seq.elts):
                return seq.elts[index]
        if isinstance(seq, ast.Dict) and all(k is not None for k in seq.keys):
            keys = [_constant(k) for k in seq.keys]
            wanted = _constant(key)
            if all(type(k) in (int, str) for k in keys) and type(wanted) in (int, str) and wanted in keys:
                return seq.values[len(keys) - 1 - keys[::-1].index(wanted)]  # the last wins, as in a dict
        return node


def _constant(node: ast.expr | None) -> Any:
    """The value of a constant or a negated number, else a marker no constant equals."""
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub) and isinstance(node.operand, ast.Constant):
        value = node.operand.value
        return -value if type(value) is int else _NOT_CONSTANT
    return node.value if isinstance(node, ast.Constant) else _NOT_CONSTANT


_NOT_CONSTANT = object()


def _materialized(node: ast.expr) -> ast.expr:
    """What `list(x)`, `tuple(x)`, `sorted(x)` or `set(x)` lists the items of (else `node`)."""
    while (
        isinstance(node, ast.Call)
        and isinstance(node.func, ast.Name)
        and node.func.id in ("list", "tuple", "sorted", "set")
        and names.is_trusted(node.func.id)
        and len(node.args) == 1
        and not node.keywords
    ):
        node = node.args[0]
    return node


def _indexed(node: ast.expr) -> ast.expr:
    """What a chain of constant indices reads from: `f()` of `f()[1][0]` (its indices are the
    program's to read, as one index is; `m()[1][0]` of a matrix is one item, not a row whose
    item the host takes from an array the codec does not carry)."""
    while isinstance(node, ast.Subscript) and _literal_index(node.slice):
        node = node.value
    return node


def _literal_index(node: ast.expr) -> bool:
    """An index or slice written as constants: `3`, `-1`, `'key'`, `1:3`, `::2`, `1, 2`."""
    if isinstance(node, ast.Tuple):
        return all(_literal_index(e) for e in node.elts)
    if isinstance(node, ast.Slice):
        return all(part is None or _literal_index(part) for part in (node.lower, node.upper, node.step))
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub):
        node = node.operand
    return isinstance(node, ast.Constant) and type(node.value) in (int, str, bool, type(None))


def _refuse(node: ast.AST) -> ast.expr:
    raise Unsupported(type(node).__name__)


def _has_local_scope(node: ast.AST) -> bool:
    return any(
        isinstance(n, (ast.Lambda, ast.ListComp, ast.SetComp, ast.DictComp, ast.GeneratorExp, ast.NamedExpr))
        for n in ast.walk(node)
    )


def _plain_base(node: ast.expr) -> bool:
    """`f(x).attr` is a probe; `math.pi` is not (handled by the caller)."""
    return isinstance(node, ast.Name) and node.id in names.MODULES


# Displays hold references: the values in them are read where the display is used.
_HOLDERS = (ast.List, ast.Tuple, ast.Set, ast.Dict, ast.Starred)


def _consumed_at(plan: ast.AST) -> dict[int, int]:
    """For each probe of `plan`: the last probe computed before its value is read. An operand
    is read when its operation runs, after all of that operation's operands; one in a display
    is read where the display is used; an operand of `and`, `or` or `if`-`else` is read (for
    its truth) as soon as it is computed."""
    last: dict[int, int] = {}

    def last_probe(node: ast.AST) -> int:
        found = last.get(id(node))
        if found is None:
            if isinstance(node, _Probe):
                found = node.index
            else:
                found = max((last_probe(c) for c in ast.iter_child_nodes(node)), default=-1)
            last[id(node)] = found
        return found

    points: dict[int, int] = {}
    todo: list[tuple[ast.AST, ast.AST]] = [(plan, plan)]
    while todo:
        node, reader = todo.pop()
        if isinstance(node, _Probe):
            points[node.index] = max(node.index, last_probe(reader))
            continue
        for child in ast.iter_child_nodes(node):
            if isinstance(node, _HOLDERS) or _passed_on(node, child):
                todo.append((child, reader))
            elif isinstance(node, (ast.BoolOp, ast.IfExp)):
                todo.append((child, child))
            elif isinstance(node, ast.Call) and child is node.func and isinstance(child, ast.Attribute):
                todo.append((child.value, node))  # `f(1).count(f(2)[0])`: f(1) is read by the call
            else:
                todo.append((child, node))
    return points


# Built-ins whose value holds what a display given to them holds (`tuple([f(1)])`, `max([a,
# b])`), and those of them whose value is one of their arguments (`max(f(1), f(2))`).
_PASSING_CALLS = frozenset({"list", "tuple", "set", "frozenset", "sorted", "reversed", "iter", "dict", "zip"})
_CHOOSING_CALLS = frozenset({"max", "min"})


def _passed_on(node: ast.AST, child: ast.AST) -> bool:
    """Is `child`'s value (or what it holds) part of `node`'s value, not read by it?"""
    if isinstance(node, ast.keyword):  # read by its call, or passed on with it (dict(a=...))
        return True
    if isinstance(node, ast.Subscript):  # `[f(1)][0]`: the item itself
        return child is node.value and isinstance(child, _HOLDERS)
    if not isinstance(node, ast.Call) or not isinstance(node.func, ast.Name) or child is node.func:
        return False
    name = node.func.id
    if name in _CHOOSING_CALLS:
        return len(node.args) >= 2 or isinstance(child, _HOLDERS)
    if name in _PASSING_CALLS:
        return isinstance(child, _HOLDERS) or (name == "dict" and isinstance(child, ast.keyword))
    return False


@dataclass(frozen=True)
class TrustedAssert:
    """One assert, judged here from the values of its program-dependent probes."""

    source: str
    probes: tuple[str, ...]
    plan: ast.expr
    # Its probes use the program's names, not the genuine ones: all (True), or each (trusted.ALONE: where
    # the program defines them; 0: genuine) (_plan_one).
    own: bool | tuple[int, ...] = False

    def judge(self, encoded: Any, budget: Budget | None = None) -> tuple[bool, str | None]:
        """(passed, failure message) for the probe values the child sent back. `budget`: the
        job's, shared by its asserts (see _Evaluator); each value rebuilt within a budget of its
        own (Budget.for_value)."""
        budget = budget if budget is not None else Budget.for_job()
        simple = self._simple
        sized = self._size_check
        if (
            sized is not None
            and isinstance(encoded, list)
            and len(encoded) == len(self.probes)
            and wire_larger_than(encoded[sized[0]], sized[1])
        ):
            return False, f"{self.probes[sized[0]]} returned a value far larger than the expected one"
        try:
            if not isinstance(encoded, list) or len(encoded) != len(self.probes):
                raise DecodeError("wrong number of values")
            if simple is not None and len(encoded) == 1 and type(encoded[0]) in _SCALARS:
                values = encoded  # decodes to itself, at no cost (codec.decode)
            else:
                values = [decode_bounded(v, budget.for_value()) for v in encoded]
        except DecodeError as exc:
            return False, f"unreadable value from the sandbox: {exc}"
        except TooCostlyToDecode:
            raise TooCostly(Reason.REBUILD_VALUES) from None
        try:
            if simple is not None:  # as _Evaluator.do_Compare would: the probe, then the literal
                ok = _truth(simple[1](values[simple[0]], simple[2]))
            else:
                ok = _truth(_Evaluator(values, budget).eval(self.plan))
        except OpaqueCompared as exc:
            return False, f"{self.source.strip()[:200]}: {short_repr(str(exc), 300)}"
        except TooCostly:
            raise  # judged again under the job's own limits (judging/bounded.py)
        except NotJudgeable:
            raise
        except Exception as exc:  # ordering str vs int, size caps...
            # The type only: a message could carry data the test reached on the host.
            return False, f"{self.source.strip()[:200]}: could not be evaluated ({type(exc).__name__})"
        if ok:
            return True, None
        return False, self._explain(values)

    @functools.cached_property
    def _simple(self) -> tuple[int, Callable[[Any, Any], Any], Any] | None:
        """(probe index, comparison, literal) when the plan is one probe compared with a plain
        literal that evaluating charges nothing for under any bounds (`assert f(1) == 3`, the
        common assert): judged by that comparison alone, without building an evaluator. None
        for every other plan."""
        node = self.plan
        if not (
            isinstance(node, ast.Compare)
            and len(node.ops) == 1
            and type(node.left) is _Probe
            and type(node.comparators[0]) is ast.Constant
        ):
            return None
        compare = _CMP.get(type(node.ops[0]))
        value = node.comparators[0].value
        if compare is None or type(value) not in (int, float, str, bool, type(None)):
            return None
        if (type(value) is int and value.bit_length() > 64) or (type(value) is str and literal_units(value)):
            return None
        return node.left.index, compare[1], value

    @functools.cached_property
    def _size_check(self) -> tuple[int, int] | None:
        """(probe index, the most nodes its wire form may have) when the plan is one probe `==`
        a literal (`assert f(1) == [1, [2, 3]]`): a value past size_bound of the literal equals
        nothing it could, and fails unread, at what the literal costs. None for other plans."""
        node = self.plan
        if not (isinstance(node, ast.Compare) and len(node.ops) == 1 and type(node.ops[0]) is ast.Eq):
            return None
        sides = (node.left, node.comparators[0])
        probes = [i for i, side in enumerate(sides) if type(side) is _Probe]
        if len(probes) != 1:
            return None
        count = _literal_nodes(sides[1 - probes[0]])
        if count is None:
            return None
        return cast(_Probe, sides[probes[0]]).index, size_bound(count)

    def _explain(self, values: list[Any]) -> str:
        node = self.plan
        if (
            isinstance(node, ast.Compare)
            and len(node.ops) == 1
            and isinstance(node.left, _Probe)
            and isinstance(node.comparators[0], ast.Constant)
        ):
            got = values[node.left.index]
            name = _CMP[type(node.ops[0])][0]
            if isinstance(got, Opaque):
                return f"{self.probes[node.left.index]} returned {got!r}, which cannot be compared on the trusted side"
            expected = short_repr(node.comparators[0].value)
            return f"{self.probes[node.left.index]} gave {short_repr(got)}; expected {name} {expected}"
        shown = ", ".join(f"{p} = {short_repr(v, 80)}" for p, v in zip(self.probes, values))
        return f"assertion failed: {self.source.strip()[:200]}" + (f" (with {shown})" if shown else "")


def wire_larger_than(data: Any, bound: int) -> bool:
    """Does the wire form `data` (JSON data, as the frame carried it) hold more than `bound`
    values, items and keys? Counted no further than the bound, at any depth."""
    count, todo = 0, [data]
    while todo:
        v = todo.pop()
        count += 1
        if type(v) is dict:
            reduced = v.get("R") if len(v) == 1 else None
            if type(reduced) is list and len(reduced) >= 2:  # [type name, value, fields?, ...]:
                count += 3  # its fields (a namedtuple's, with their defaults) describe the type,
                todo.append(reduced[1])  # and come with every instance: only the value counts
                continue
            count += len(v)
            todo.extend(v.values())
        elif type(v) is list:
            todo.extend(v)
        if count > bound:
            return True
    return False


def size_bound(nodes: int) -> int:
    """The most nodes the wire form (codec.py) of a value equal to one of `nodes` nodes (values,
    items and keys) may have. Each value's tag takes a few nodes where the literal has one: 3
    for a tuple, a dict's pairs or a large int, 5 for a Fraction, a complex or a numpy scalar,
    up to 10 for a namedtuple of one field (its name and fields cross with it). A value past
    the bound equals nothing with that many: judging it then costs what the test's side does,
    never what the program chose to return."""
    return 16 * nodes + 4096


def _literal_nodes(node: ast.AST) -> int | None:
    """How many values, items and keys the literal `node` builds (None: not a literal)."""
    count, todo = 0, [node]
    while todo:
        n = todo.pop()
        count += 1
        constant = n.operand if isinstance(n, ast.UnaryOp) and isinstance(n.op, (ast.USub, ast.UAdd)) else n
        if isinstance(constant, ast.Constant):
            if isinstance(constant.value, (tuple, frozenset)):  # a folded container: not counted here
                return None
            continue
        if isinstance(n, (ast.List, ast.Tuple, ast.Set)):
            todo.extend(n.elts)
        elif isinstance(n, ast.Dict) and all(k is not None for k in n.keys):
            todo.extend(k for k in n.keys if k is not None)
            todo.extend(n.values)
        else:
            return None
    return count


def _is_number(value: Any) -> bool:
    import numbers

    return isinstance(value, numbers.Number) and not isinstance(value, bool)


# Built-ins that only iterate the arguments at these places: a program's value there crosses as
# the list of its items (a generator, a map, any iterable the program made would be opaque).
_ITERATED: dict[str, Callable[[int], range]] = {
    "map": lambda n: range(1, n),
    "filter": lambda n: range(1, n),
    "zip": lambda n: range(n),
    "enumerate": lambda n: range(1),
    "sorted": lambda n: range(1),
    "list": lambda n: range(1),
    "tuple": lambda n: range(1),
    "set": lambda n: range(1),
    "frozenset": lambda n: range(1),
    "sum": lambda n: range(1),
    "any": lambda n: range(1),
    "all": lambda n: range(1),
    "min": lambda n: range(1 if n == 1 else 0),
    "max": lambda n: range(1 if n == 1 else 0),
}


def _iterated(func: ast.expr, args: list[ast.expr]) -> range:
    """The places of `args` a call of `func` only iterates (none for other calls)."""
    if isinstance(func, ast.Name) and func.id in _ITERATED:
        return _ITERATED[func.id](len(args))
    return range(0)


MAX_PER_ITEM = 256  # items of a map or filter probed one by one; past it, the test process


def _items(node: ast.expr) -> list[ast.expr] | None:
    """The item nodes of a literal list or tuple (in order: no set), or of `range` over int
    constants (at most MAX_PER_ITEM); None for anything else."""
    if isinstance(node, (ast.List, ast.Tuple)) and not any(isinstance(e, ast.Starred) for e in node.elts):
        return list(node.elts)
    return _range_items(node, MAX_PER_ITEM)


def _range_items(node: ast.expr, most: int) -> list[ast.expr] | None:
    """The items of `range(...)` over int literals, when there are at most `most`; else None."""
    if not (isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id == "range"):
        return None
    bounds = [a.value for a in node.args if isinstance(a, ast.Constant) and type(a.value) is int]
    if node.keywords or not 1 <= len(bounds) == len(node.args) <= 3 or (len(bounds) == 3 and bounds[2] == 0):
        return None
    span = range(*bounds)
    return [ast.Constant(i) for i in span] if len(span) <= most else None


def _kept(items: list[Any], keep: list[Any]) -> list[Any]:
    """filter's answer from the test's items and the program's verdict on each."""
    return [item for item, k in zip(items, keep) if _truth(k)]


def _truth(value: Any) -> bool:
    if type(value) is TruthyOpaque:
        return True
    if isinstance(value, Opaque):
        raise ValueError(f"no trusted truth value for {value!r}")
    return bool(value)


_SET_OPS = frozenset({ast.BitOr, ast.BitAnd, ast.Sub, ast.BitXor})
# What those ops hash the other side into.
_HASHED: tuple[type, ...] = (set, frozenset, dict, type({}.keys()), type({}.items()))


def _hash_guard(items: Any, bounds: Bounds, keys: bool = False) -> Any:
    """`items` (an iterator is listed first) unless a hash table built from them would be
    slow: more than `bounds.items` of them, or more than MAX_HASH_COLLISIONS distinct values
    that share a hash (a program's k * (2**61 - 1) all hash to 0; n of them cost n**2 / 2
    comparisons). Unhashable items raise TypeError here, before that work, as the build would.
    `keys`: dict()'s argument, whose pairs' first items are what is hashed."""
    if isinstance(items, (set, frozenset, dict)):
        return items  # decoded or built here: checked when they were made
    if not hasattr(items, "__len__"):  # zip, enumerate, filter, reversed...
        items = list(items)
    if len(items) > bounds.items:
        raise TooCostly(Reason.HASH_ITEMS)
    try:
        hashed = [k for k, _ in items] if keys else items
    except (TypeError, ValueError):
        return items  # not pairs: dict() raises for them
    if hash_collisions(hashed) > MAX_HASH_COLLISIONS:
        raise TooCostly(Reason.HASH_COLLISIONS)
    return items


# str.format fields: a position or a name, never an attribute or an index (`{0.__class__}`
# would walk from a value to anything reachable from it).
_FORMAT_FIELD = re.compile(r"\d*|[A-Za-z_]\w*")
_FORMAT_SPEC = re.compile(r"(?:.?[<>=^])?[+\- ]?z?#?0?(\d*)[,_]?(?:\.(\d+))?[bcdeEfFgGnosxX%]?", re.S)
_PERCENT_SPEC = re.compile(r"%(?:\([^)]*\))?[#0\- +]*(\*|\d*)(?:\.(\*|\d*))?[hlL]?(.)", re.S)


def _check_spec(spec: Any, bounds: Bounds = HOST) -> None:
    """A format spec whose width and precision stay within `bounds.text_chars`
    (`'{:>999999999}'`)."""
    if not isinstance(spec, str):
        raise TypeError("format spec must be a str")
    match = _FORMAT_SPEC.fullmatch(spec)
    if match is None:
        raise ValueError("invalid format spec")
    if any(part and int(part) > bounds.text_chars for part in match.groups()):
        raise TooCostly(Reason.FORMAT_WIDTH)


def _check_format(template: str, bounds: Bounds = HOST) -> None:
    """str.format's template: position or name fields only, widths within `bounds.text_chars`
    in all. Planning checks it with the host's bounds; the evaluator with its budget's."""
    total = 0
    for _, field, spec, _ in _string_formatter.parse(template):
        if field is None:
            continue
        if not _FORMAT_FIELD.fullmatch(field) or (spec and "{" in spec):
            raise Unsupported("a format field other than a position or a name")
        _check_spec(spec or "", bounds)
        total += int(_FORMAT_SPEC.fullmatch(spec or "").group(1) or 0)  # type: ignore[union-attr]
    if total > bounds.text_chars:
        raise TooCostly(Reason.FORMAT_WIDTHS)


def _check_percent(template: str, bounds: Bounds = HOST) -> None:
    """`'%d items' % 5`: widths and precisions within `bounds.text_chars` in all (no `*`)."""
    total = 0
    for width, precision, _ in _PERCENT_SPEC.findall(template):
        if width == "*" or precision == "*":
            raise Unsupported("%-format with * widths")
        total += int(width or 0) + int(precision or 0)
    if total > bounds.text_chars:
        raise TooCostly(Reason.FORMAT_WIDTHS)


def _check_growth(owner: Any, name: str, args: list[Any], kwargs: dict[str, Any], bounds: Bounds) -> None:
    """Refuse, before it runs, a string method whose result would exceed `bounds.text_chars`."""
    if name in ("center", "ljust", "rjust", "zfill"):
        size = args[0] if args and isinstance(args[0], int) else 0
    elif name == "expandtabs":
        tab = args[0] if args else kwargs.get("tabsize", 8)
        size = len(owner) + owner.count("\t" if isinstance(owner, str) else b"\t") * max(0, int(tab))
    elif name == "replace" and len(args) >= 2:
        old, new = args[0], args[1]
        hits = owner.count(old) + (1 if not old else 0)
        if len(args) > 2 and isinstance(args[2], int) and args[2] >= 0:
            hits = min(hits, args[2])
        size = len(owner) + hits * max(0, len(new) - len(old))
    elif name == "join" and args:
        items = args[0] = list(args[0])
        size = sum(len(x) for x in items if isinstance(x, (str, bytes, bytearray))) + len(owner) * len(items)
    elif name == "format":
        _check_format(owner, bounds)
        size = 0
    else:
        size = 0
    if size > bounds.text_chars:
        raise TooCostly(Reason.STRING)


# Encodings the trusted side runs within its bounds (see Bounds.codec_chars): linear in the text.
# Others (punycode, idna; the rest of the codec registry) are judged in a process of their own.
_ENCODINGS = frozenset(
    {"utf-8", "utf8", "ascii", "latin-1", "latin1", "iso-8859-1", "utf-16", "utf-16-le", "utf-16-be", "utf-32"}
    | {"utf-32-le", "utf-32-be", "cp1252", "unicode_escape", "raw_unicode_escape"}
)
_INT_FOLDS = frozenset({math.lcm, math.gcd, math.prod})
# Callables that walk an iterator argument to its end (or until an item decides, any and all).
_WALKERS = frozenset(
    {max, min, sorted, list, tuple, set, frozenset, dict, any, all, builtins.sum, math.prod, math.fsum}
    | {Counter, OrderedDict, defaultdict, deque}
)


def _check_costly_call(func: Any, owner: Any, args: list[Any], kwargs: dict[str, Any], bounds: Bounds) -> None:
    """TooCostly for a call whose work grows faster than what its arguments' sizes show: an
    operation on a Decimal of many digits, a codec other than the linear ones, and lcm, gcd
    or prod of many large ints together (each passes the bound on one int)."""
    _check_decimals(bounds, owner, *args, *kwargs.values())
    name = getattr(func, "__name__", "")
    if name in ("encode", "decode") and isinstance(owner, (str, bytes, bytearray)) and len(owner) > bounds.codec_chars:
        encoding = kwargs.get("encoding", args[0] if args else "utf-8")
        if not isinstance(encoding, str) or encoding.lower().replace("_", "-") not in _ENCODINGS:
            raise TooCostly(Reason.ENCODING)
    if func in _INT_FOLDS:
        ints = [*args[0]] if func is math.prod and len(args) == 1 and isinstance(args[0], (list, tuple)) else args
        if sum(v.bit_length() for v in ints if type(v) is int) > 4 * bounds.int_bits:
            raise TooCostly(Reason.INT_ARGUMENT)


def _check_decimals(bounds: Bounds, *values: Any) -> None:
    if any(type(v) is Decimal and v.is_finite() and len(v.as_tuple().digits) > bounds.decimal_digits for v in values):
        raise TooCostly(Reason.DECIMAL)


def _check_pow(bounds: Bounds, base: Any, exponent: Any = 1, modulus: Any = None) -> None:
    """Refuse a power whose exact result would be huge (`10 ** 10 ** 10`, a Fraction `** 16384`),
    or a modular power whose work is (pow(a, 2 ** 60000, m) of big m)."""
    if modulus is not None:
        if (
            isinstance(modulus, int)
            and isinstance(exponent, int)
            and (modulus.bit_length() > POW_MODULUS_BITS or exponent.bit_length() > POW_MODULAR_EXPONENT_BITS)
        ):
            raise TooCostly(Reason.POWER)
        return
    _check_decimals(bounds, base, exponent)
    if not (_is_number(exponent) and _is_number(base)) or isinstance(exponent, float) or isinstance(base, float):
        return
    try:  # any exact number: an int, or a Fraction/Decimal that is one in disguise
        if isinstance(base, Fraction):  # (q - 1) / q grows in both parts, below 1 too
            bits = max(base.numerator.bit_length(), base.denominator.bit_length())
            big = abs(exponent) > 1 and abs(exponent) * bits > bounds.int_bits
        else:
            bits = max(1, int(abs(base)).bit_length())
            big = abs(exponent) > 1 and abs(base) > 1 and abs(exponent) * bits > bounds.int_bits
    except (OverflowError, ValueError):
        big = True
    if big:
        raise TooCostly(Reason.POWER)


_BUILDS = Reason.BUILDS  # looked up once: an Enum member's lookup costs as much as a charge


class _Evaluator:
    """Evaluates a plan over plain values, with bounded work: every value the plan builds is
    charged to this assert's budget, a child of its job's (Budget.for_assert), and each
    operation keeps the budget's caps (its `bounds`). The probes' values are bounded by the
    codec; they are charged where the plan copies or walks them (f(1) + f(2), str(f(1))), not
    where it only holds them ((f(1), f(2)) == ...)."""

    def __init__(self, values: list[Any], budget: Budget | None = None) -> None:
        self.values = values
        self.budget = (budget if budget is not None else Budget.for_job()).for_assert()
        self.bounds = self.budget.bounds

    def _charge(self, units: int) -> None:
        self.budget.spend(units, _BUILDS)

    def _built(self, value: Any) -> Any:
        self._charge(value_units(value, self.budget.left))
        return value

    def _display(self, nodes: list[ast.expr], build: Callable[[list[Any]], Any]) -> Any:
        """A tuple/list/set display: its items are charged, but a probe's value only as one
        node (it is held, not copied); what later copies or walks the display is charged."""
        items = [self.eval(e) for e in nodes]
        left = self.budget.left
        self._charge(1 + sum(1 if isinstance(e, _Probe) else value_units(v, left) for e, v in zip(nodes, items)))
        if build is set:
            _hash_guard(items, self.bounds)
        return build(items)

    def sum(self, values: Any, start: Any = 0) -> Any:
        """The test's sum(): over numbers only (summing lists or strings is quadratic), at
        most `bounds.items` of them."""
        items = list(self._walkable(values))
        if len(items) > self.bounds.items or not all(type(v) in (int, float, complex, bool) for v in [start, *items]):
            raise TypeError("sum() of non-numbers is not judged on the trusted side")
        return builtins.sum(items, start)

    def _call(self, func: Any, args: list[Any], kwargs: dict[str, Any]) -> Any:
        """Call a whitelisted callable with bounded work: directly from the plan, or as a
        key function or filter a built-in calls for each item (see _callback)."""
        owner = getattr(func, "__self__", None)
        # An iterator whose length nothing tells (Counter.elements(), itertools.count()) is walked
        # here, within the budget, before a call that walks it whole does: max(), set(),
        # ''.join(). Lazy ones (zip, islice, next) take what they need of it, as they would.
        if func in _WALKERS or getattr(func, "__name__", "") == "join":
            args = [self._walkable(a) for a in args]
            kwargs = {k: self._walkable(v) for k, v in kwargs.items()}
        _check_costly_call(func, owner, args, kwargs, self.bounds)
        # range(10**12) and round(x, -10**9) are the calls a large int makes slow (the methods
        # a test may call cannot grow their result, and ints here have at most 65537 bits).
        sized = args if func is range else [*args[1:2], *kwargs.values()] if func is round else []
        if any(isinstance(a, int) and not isinstance(a, bool) and abs(a) > self.bounds.items for a in sized):
            raise TooCostly(Reason.ARGUMENT)
        if any(type(a) is int and a.bit_length() > self.bounds.int_bits for a in (*args, *kwargs.values())):
            raise TooCostly(Reason.INT_ARGUMENT)  # gcd, isqrt, str of huge ints
        if (func is str or func is repr or func is ascii) and args:  # as large as its argument's walk
            self._built(args[0])
        if type(owner) in (str, bytes, bytearray) and getattr(func, "__name__", "") in _GROWING_TEXT:
            _check_growth(owner, func.__name__, args, kwargs, self.bounds)
        if func is format and len(args) == 2:
            _check_spec(args[1], self.bounds)
        if func is bytes and args and isinstance(args[0], int) and args[0] > self.bounds.text_chars:
            raise TooCostly(Reason.BYTES)
        if func is pow:
            _check_pow(self.bounds, *args[:3])
        if isinstance(owner, (str, bytes)) and getattr(func, "__name__", "") in ("split", "rsplit", "splitlines"):
            self._charge(split_units(len(owner)))
        if func is set or func is frozenset or func is dict or type(owner) in (set, frozenset):
            args = [_hash_guard(a, self.bounds, keys=func is dict) for a in args]
            if len(args) > 1:  # all of them together: {1}.union(a, b, ...)
                _hash_guard([x for a in args for x in a], self.bounds)
        if "key" in kwargs:  # sorted, min, max
            kwargs["key"] = self._callback(kwargs["key"])
        if (func is filter or func is map) and args:
            args[0] = self._callback(args[0])
        # A range (or an iterator over one) is three ints across, whatever its length: what
        # walks it (list(reversed(r)), max(r), r.count(0.5)) must fit the budget first.
        left = self.budget.left
        if any(_walk_length(a) > left for a in (owner, *args, *kwargs.values())):
            raise TooCostly(Reason.ARGUMENT)
        if (func is Fraction or func is Decimal) and args and isinstance(args[0], str):
            _check_exponent(args[0])  # Fraction('1e10000000') is a 10**10**7 to build
        return self._built(self._number(func(*args, **kwargs)))

    def _walkable(self, value: Any) -> Any:
        """`value`, or for an iterator whose length is not known (no length hint), an iterator
        over its items taken here up to what the budget has left (TooCostly past it)."""
        if not isinstance(value, Iterator) or operator.length_hint(value, -1) > 0:
            return value
        left = self.budget.left
        items = list(islice(value, left + 1))
        if len(items) > left:
            raise TooCostly(Reason.ITERATOR)
        self._charge(len(items))
        return iter(items)

    def _callback(self, value: Any) -> Any:
        """A built-in that another calls for each item (`key=str`, `filter(bool, ...)`) is
        called through _call, so each of its results is checked and charged like a direct
        call's."""
        if isinstance(value, (BuiltinFunctionType, type)):
            return lambda *a: self._call(value, list(a), {})
        return value

    def eval(self, node: ast.AST) -> Any:
        method = _EVAL_METHODS.get(type(node))
        if method is None:
            method = getattr(_Evaluator, "do_" + type(node).__name__, None)
            if method is None:
                raise Unsupported(type(node).__name__)
            _EVAL_METHODS[type(node)] = method
        return method(self, node)

    def do__Probe(self, node: _Probe) -> Any:
        return self.values[node.index]

    def do__Value(self, node: _Value) -> Any:
        return node.value

    def do__Construct(self, node: _Construct) -> Any:
        args = [self.eval(a) for a in node.args]
        return Constructed(node.name, args, {k: self.eval(v) for k, v in node.keywords})

    def do_Constant(self, node: ast.Constant) -> Any:
        value = node.value
        if type(value) is int and value.bit_length() > self.bounds.int_bits:
            raise TooCostly(Reason.LITERAL)  # math.gcd of two 800k-bit literals
        units = literal_units(value)
        if units:
            self._charge(units)
        return value

    def do_Name(self, node: ast.Name) -> Any:
        if node.id == "sum":
            return self.sum
        if node.id in HOST_BUILTINS:
            return HOST_BUILTINS[node.id]
        return names.genuine(node.id)

    def do_Tuple(self, node: ast.Tuple) -> Any:
        return self._display(node.elts, tuple)

    def do_List(self, node: ast.List) -> Any:
        return self._display(node.elts, list)

    def do_Set(self, node: ast.Set) -> Any:
        return self._display(node.elts, set)

    def do_Dict(self, node: ast.Dict) -> Any:
        if any(k is None for k in node.keys):
            raise Unsupported("**mapping")
        n = len(node.keys)
        return self._display(
            [*node.keys, *node.values],  # type: ignore[list-item]
            lambda kv: dict(zip(kv[:n], kv[n:])),
        )

    def do_BinOp(self, node: ast.BinOp) -> Any:
        left, right = self.eval(node.left), self.eval(node.right)
        op = type(node.op)
        if op not in _BINOPS:
            raise Unsupported(op.__name__)
        int_bits = self.bounds.int_bits
        if op is ast.Pow:
            _check_pow(self.bounds, left, right)
        if op is ast.LShift and isinstance(right, int) and right > int_bits:
            raise TooCostly(Reason.SHIFT)
        if op is ast.Mod and isinstance(left, (bytes, bytearray)):
            raise Unsupported("%-formatting of bytes")
        if op is ast.Mod and isinstance(left, str):
            _check_percent(left, self.bounds)
        if op is ast.Mult:
            for seq, n in ((left, right), (right, left)):
                if (
                    isinstance(seq, (str, bytes, list, tuple))
                    and isinstance(n, int)
                    and len(seq) * n > self.bounds.items
                ):
                    raise TooCostly(Reason.SEQUENCE)
        if op in _SET_OPS and (isinstance(left, _HASHED) or isinstance(right, _HASHED)):
            _hash_guard([*left, *right], self.bounds)  # f(1) | f(2), d.keys() | f(2): each alone may be fine
        if any(type(v) is int and v.bit_length() > 2 * int_bits for v in (left, right)):
            raise TooCostly(Reason.OPERANDS)
        return self._built(self._number(_BINOPS[op](left, right)))  # (1 << 65536 << ...) // ..., int(d ** -249)

    def _number(self, result: Any) -> Any:
        """`result`, unless it is a number too large for what may follow (int(), format(),
        Fraction()) to be cheap: the bounds the codec keeps for the sandbox's numbers."""
        int_bits = self.bounds.int_bits
        if (
            (type(result) is int and result.bit_length() > int_bits + 1)
            or (
                type(result) is Fraction
                and max(result.numerator.bit_length(), result.denominator.bit_length()) > int_bits + 1
            )
            or (type(result) is Decimal and result.is_finite() and abs(result.adjusted()) > MAX_DECIMAL_EXPONENT)
        ):
            raise TooCostly(Reason.RESULT)
        return result

    def do_UnaryOp(self, node: ast.UnaryOp) -> Any:
        value = self.eval(node.operand)
        if isinstance(node.op, ast.Not):
            return not _truth(value)
        return _UNARY[type(node.op)](value)

    def do_BoolOp(self, node: ast.BoolOp) -> Any:
        result: Any = None
        for expr in node.values:
            result = self.eval(expr)
            if isinstance(node.op, ast.And) and not _truth(result):
                return result
            if isinstance(node.op, ast.Or) and _truth(result):
                return result
        return result

    def do_Compare(self, node: ast.Compare) -> Any:
        left, left_node = self.eval(node.left), node.left
        for op, comparator in zip(node.ops, node.comparators):
            right = self.eval(comparator)
            _carried(left_node, left, op, comparator, right)
            if isinstance(op, (ast.In, ast.NotIn)) and _walk_length(right) > self.budget.left:
                raise TooCostly(Reason.ARGUMENT)  # 0.5 in range(10**12) walks it
            if isinstance(op, (ast.In, ast.NotIn)):
                right = self._walkable(right)  # 0 in itertools.count(1) never ends
            if not _truth(_CMP[type(op)][1](left, right)):
                return False
            left, left_node = right, comparator
        return True

    def do_IfExp(self, node: ast.IfExp) -> Any:
        return self.eval(node.body) if _truth(self.eval(node.test)) else self.eval(node.orelse)

    def do_Subscript(self, node: ast.Subscript) -> Any:
        return self.eval(node.value)[self.eval(node.slice)]

    def do_Slice(self, node: ast.Slice) -> Any:
        return slice(self._part(node.lower), self._part(node.upper), self._part(node.step))

    def _part(self, node: ast.expr | None) -> Any:
        return None if node is None else self.eval(node)

    def do_Attribute(self, node: ast.Attribute) -> Any:
        if isinstance(node.value, ast.Name) and node.value.id in names.MODULES:
            return getattr(names.MODULES[node.value.id], node.attr)  # allowlisted when planned
        base = self.eval(node.value)
        if node.attr not in _methods_of(base):
            raise Unsupported(f"attribute {node.attr!r} of {type(base).__name__}")
        return getattr(base, node.attr)

    def do_Call(self, node: ast.Call) -> Any:
        func = self.eval(node.func)
        args = [self.eval(a) for a in node.args]
        kwargs = {str(kw.arg): self.eval(kw.value) for kw in node.keywords}
        if func is isinstance:  # its second argument is a type, not a callback
            return func(*args)
        return self._call(func, args, kwargs)


def _walk_length(value: Any) -> int:
    """Items walking `value` may take that its size on the wire does not show: a range's
    length, an iterator's (reversed(range(10**12))); 0 for anything else."""
    if type(value) is range:
        return len(value) if value.step else 0
    if isinstance(value, Iterator):
        return operator.length_hint(value)
    return 0


_EXPONENT = re.compile(r"[eE]\s*[+-]?([\d_]+)")


def _check_exponent(text: str) -> None:
    """TooCostly for numeric text with an exponent past the codec's Decimal bound."""
    for m in _EXPONENT.finditer(text):
        digits = m.group(1).replace("_", "").lstrip("0")
        if len(digits) > 6 or int(digits or "0") > MAX_DECIMAL_EXPONENT:
            raise TooCostly(Reason.ARGUMENT)


_EVAL_METHODS: dict[type, Callable[[_Evaluator, Any], Any]] = {}  # node type -> _Evaluator.do_<name>


class _Value(ast.expr):
    """A value the test's own text computed already (see TrustedSnippet.folded)."""

    _fields = ()

    def __init__(self, value: Any = None) -> None:
        super().__init__()
        self.value = value


class _Folder(ast.NodeTransformer):
    """Replace each largest subtree with no probe in it by its value: the work the test's
    text alone demands, done first (a limit hit here is the test's, never the program's).
    Not inside `and`/`or`/`if`-`else`, which Python would not evaluate whole."""

    def __init__(self, evaluator: _Evaluator) -> None:
        self.evaluator = evaluator

    def visit(self, node: ast.AST) -> Any:
        if (
            isinstance(node, ast.expr)
            and not isinstance(node, (ast.Constant, _Probe, _Value))
            and not any(isinstance(n, _Probe) for n in ast.walk(node))
        ):
            return ast.copy_location(_Value(self.evaluator.eval(node)), node)
        if isinstance(node, (ast.BoolOp, ast.IfExp)):
            return node
        return self.generic_visit(node)


@dataclass(frozen=True)
class TrustedSnippet:
    """A test made only of asserts (one, several, or HumanEval's `def check(candidate)`
    of asserts followed by `check(fn)`), each judged here; it passes if all do, in order."""

    asserts: tuple[TrustedAssert, ...]

    @functools.cached_property
    def probes(self) -> tuple[str, ...]:
        return tuple(p for a in self.asserts for p in a.probes)

    @functools.cached_property
    def own(self) -> tuple[bool | int, ...]:
        """Per probe: is it computed with the program's names rather than the genuine ones?"""
        return tuple(a.own if isinstance(a.own, bool) else a.own[i] for a in self.asserts for i in range(len(a.probes)))

    @functools.cached_property
    def consumed_at(self) -> tuple[int, ...] | None:
        """Per probe: the index of the last probe computed before the operation that reads its
        value runs (None where that is each probe itself). The program's process encodes a
        value there, as CPython's evaluation would see it: `f(1) != f(2)`, `f` returning one
        list it changes, compares that list with itself, and `f(1)[0] + f(2)[0]` reads each
        list before the next call."""
        at: list[int] = []
        for start, a in zip(self._starts, self.asserts):
            points = _consumed_at(a.plan)
            at.extend(start + points.get(i, i) for i in range(len(a.probes)))
        return None if all(i == j for i, j in enumerate(at)) else tuple(at)

    @functools.cached_property
    def _starts(self) -> tuple[int, ...]:
        """Per assert, and past the last: how many probe values the asserts before it take."""
        starts = [0]
        for a in self.asserts:
            starts.append(starts[-1] + len(a.probes))
        return tuple(starts)

    @functools.cached_property
    def cheap_text(self) -> bool:
        """Does the test's own text (its probe-free parts) fit the in-process bounds? Then a
        limit the kernel-bounded judge hits with this test is the program's values' doing
        (judging/bounded.py), whatever stage it is in. Computed once per plan."""
        try:
            self.folded()
        except (TooCostly, MemoryError, RecursionError):
            return False
        except Exception:
            pass
        return True

    def folded(self, budget: Budget | None = None) -> TrustedSnippet:
        """This snippet with the test's own work done: each assert's probe-free subtrees
        replaced by their values, within `budget` (a job's; each assert its own share, as when
        judged; by default a fresh one). Raises what that work raises (MemoryError...)."""
        budget = budget if budget is not None else Budget.for_job()
        return TrustedSnippet(
            tuple(
                TrustedAssert(a.source, a.probes, _Folder(_Evaluator([], budget)).visit(copy.deepcopy(a.plan)), a.own)
                for a in self.asserts
            )
        )

    def values_before(self, n: int) -> int:
        """How many probe values the first `n` asserts take."""
        count = len(self.asserts)
        return self._starts[n if 0 <= n <= count else len(self.asserts[:n])]

    def judge(self, encoded: Any, start: int = 0, budget: Budget | None = None) -> tuple[bool, str | None]:
        """(passed, failure message) for the values of all the probes. `start`: how many
        asserts are known to pass on these values already (EarlyStop judged them); `budget`:
        the job's, shared by its asserts (see _Evaluator)."""
        if not isinstance(encoded, list) or len(encoded) != len(self.probes):
            return False, "unreadable value from the sandbox: wrong number of values"
        _, failure = self.first_failure(encoded, start, budget)
        return failure is None, failure

    def first_failure(self, encoded: list[Any], start: int = 0, budget: Budget | None = None) -> tuple[int, str | None]:
        """Judge, from assert number `start`, the asserts whose probes `encoded` (the values of
        a prefix of the probes) fully covers. Returns (the number of asserts judged passed in
        a row, the first failure's message or None). A failure here fails the test, whatever
        the rest of it would have done: the check stops at its first failed assert."""
        at = self.values_before(start)
        budget = budget if budget is not None else Budget.for_job()  # one budget for all its asserts
        i = start
        while i < len(self.asserts):
            n = len(self.asserts[i].probes)
            if at + n > len(encoded):
                break
            ok, msg = self.asserts[i].judge(encoded[at : at + n], budget)
            if not ok:
                return i, msg
            at += n
            i += 1
        return i, None


def _plan_one(lines: list[str], test: ast.expr) -> TrustedAssert:
    """The assert's plan. Its built-in and standard-library names are the genuine ones - unless
    that leaves nothing of the program in it: `assert gcd(12, 18) == 6` or `assert sum([1, 2])
    == 3` test a program's own `gcd` or `sum` (bound genuine, every program would pass), so
    there the functions it calls by such names are the program's, computed in the child in the
    program's namespace (`own`). So do those a comparison with a literal calls on a side that
    holds nothing of the program, where the assert names it elsewhere: in `factorial(5) == 120
    and fib(3) == 3`, `factorial` is the program's (only the probes that call it are `own`)."""
    if more_nodes_than(test, ASSERT_AST_NODES):
        raise Unsupported("too large")
    source = _segment(lines, test) or "".join(lines)
    planner = _Planner()
    plan = planner.plan(copy.deepcopy(test))
    if not planner.probes:
        own = _own_candidates(test)
        if own:
            planner = _Planner(own)
            plan = planner.plan(test)
            return TrustedAssert(source, tuple(planner.probes), plan, own=True)
        return TrustedAssert(source, tuple(planner.probes), plan)
    tested = _tested_alone(test)
    if tested:
        planner = _Planner(tested)
        plan = planner.plan(test)
        own_probes = tuple(trusted.ALONE if _names_of(p) & tested else 0 for p in planner.probes)
        return TrustedAssert(source, tuple(planner.probes), plan, own=own_probes)
    return TrustedAssert(source, tuple(planner.probes), plan)


def _tested_alone(test: ast.expr) -> frozenset[str]:
    """The library names the assert's comparisons test alone (trusted.tested_alone), as own
    candidates (`factorial(5) == 120`, `abs(sqrt(2) - 1.41) < 0.01`)."""
    compares: list[ast.Compare] = []
    uses: dict[str, int] = {}
    for n in ast.walk(test):
        if isinstance(n, ast.Compare):
            compares.append(n)
        elif isinstance(n, ast.Name):
            uses[n.id] = uses.get(n.id, 0) + 1
    return frozenset(n for n in trusted.tested_alone(compares, uses) if _ownable(n)) if compares else frozenset()


def _names_of(probe: str) -> frozenset[str]:
    """The names a probe's source uses."""
    try:
        return frozenset(n.id for n in ast.walk(parse_expression(probe)) if isinstance(n, ast.Name))
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        return frozenset()


def _ownable(name: str) -> bool:
    return names.is_trusted(name) and name not in names.MODULES and name not in trusted.NEVER_OWN


def _own_candidates(side: ast.expr) -> frozenset[str]:
    """Names in `side` a program might define as the function a test tests, the program's own
    in an assert that names nothing else of it (_plan_one), on either side as Python would call
    them (`gcd(12, 18) == gcd(18, 12)` calls the program's `gcd` twice): called on inputs the
    test makes without another such call (`gcd(12, 18)`, `gcd(abs(-12), 18)`, `sum(range(4))`;
    not the `isclose` around `sqrt(2)`), or bare (`pi`); never a module, a constant or a
    built-in tests drive with (trusted.NEVER_OWN: in `max([]) == float('-inf')` the program's
    `max` meets the genuine `float`)."""
    found = set()
    for node in ast.walk(side):
        if (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Name)
            and not any(
                isinstance(n, ast.Call) and isinstance(n.func, ast.Name) and _ownable(n.func.id)
                for a in [*node.args, *(k.value for k in node.keywords)]
                for n in ast.walk(a)
            )
        ):
            found.add(node.func.id)
        elif isinstance(node, ast.Name) and not any(isinstance(p, ast.Call) and p.func is node for p in ast.walk(side)):
            found.add(node.id)
    return frozenset(n for n in found if _ownable(n))


_LINE_END = re.compile(r"\r\n|\r|\n")


def _lines(source: str) -> list[str]:
    """`source`'s lines with their ends, split as the parser splits them."""
    out, start = [], 0
    for match in _LINE_END.finditer(source):
        out.append(source[start : match.end()])
        start = match.end()
    out.append(source[start:])
    return out


def _segment(lines: list[str], node: ast.expr) -> str:
    """The source text of `node` (ast.get_source_segment, but from lines split once: that
    function splits the whole source again for every node, so a test of 1,000 asserts cost
    seconds to plan)."""
    first, last = node.lineno - 1, (node.end_lineno or node.lineno) - 1
    start, end = node.col_offset, node.end_col_offset
    if end is None or not 0 <= first <= last < len(lines):
        return ""
    data = [line.encode("utf-8", "surrogatepass") for line in lines[first : last + 1]]  # offsets are UTF-8 bytes
    if first == last:
        return data[0][start:end].decode("utf-8", "surrogatepass")
    text = data[0][start:] + b"".join(data[1:-1]) + data[-1][:end]
    return text.decode("utf-8", "surrogatepass")


def _assert_statements(tree: ast.Module) -> list[ast.Assert]:
    """The asserts of a flat test, with `check(fn)` inlined; Unsupported otherwise."""
    body = [s for s in tree.body if not _ignorable(s)]
    # HumanEval's `METADATA = {...}`: a literal nobody reads. Any other assignment could be read
    # by the program (a global it uses), so such tests run as written, in the child.
    body = [
        st
        for st in body
        if not (
            isinstance(st, ast.Assign)
            and len(st.targets) == 1
            and isinstance(st.targets[0], ast.Name)
            and st.targets[0].id == "METADATA"
        )
    ]
    if (
        body
        and isinstance(body[-1], ast.Expr)
        and isinstance(body[-1].value, ast.Call)
        and len(body) == 2
        and isinstance(body[0], ast.FunctionDef)
    ):
        fn, call = body[0], body[-1].value
        if not (
            isinstance(call.func, ast.Name)
            and call.func.id == fn.name
            and len(call.args) == 1
            and not call.keywords
            and isinstance(call.args[0], ast.Name)
            and len(fn.args.args) == 1
            and not (fn.args.vararg or fn.args.kwarg or fn.args.kwonlyargs or fn.args.posonlyargs or fn.decorator_list)
        ):
            raise Unsupported("not a check(candidate) function")
        param, target = fn.args.args[0].arg, call.args[0].id
        stmts = [s for s in fn.body if not _ignorable(s)]
        for s in stmts:
            for n in ast.walk(s):
                if isinstance(n, ast.Name) and n.id == param:
                    n.id = target  # candidate -> the program's function
        body = stmts
    body = _unrolled(body)
    if not body or not all(isinstance(s, ast.Assert) for s in body):
        raise Unsupported("not only asserts")
    if any(isinstance(n, ast.Name) and n.id == "METADATA" for s in body for n in ast.walk(s)):
        raise Unsupported("METADATA is read")
    return body  # type: ignore[return-value]


def _unrolled(body: list[ast.stmt]) -> list[ast.stmt]:
    """`for x, want in [(1, 2), ...]:` / `for i in range(2, 8):` over asserts only, with literal
    items: the asserts once per item, the loop variables replaced by the items' literals."""
    out: list[ast.stmt] = []
    for stmt in body:
        if not isinstance(stmt, ast.For):
            out.append(stmt)
            continue
        items = _literal_items(stmt.iter)
        inner = _unrolled([s for s in stmt.body if not _ignorable(s)])
        if items is None or stmt.orelse or not inner or not all(isinstance(s, ast.Assert) for s in inner):
            raise Unsupported("loop")
        for item in items:
            binding = _bind_target(stmt.target, item)
            for s in inner:
                out.append(_Substitute(binding).visit(copy.deepcopy(s)))
            if len(out) > UNROLLED_ASSERTS:
                raise Unsupported("loop too long")
    return out


def _literal_items(node: ast.expr) -> list[ast.expr] | None:
    """The items of a literal list/tuple/set, or of range() over int literals; else None. A
    set's as Python walks it: once per distinct item (the first of equal ones written, which
    the set keeps), in the set's order, not as written."""
    if isinstance(node, (ast.List, ast.Tuple, ast.Set)):
        if any(_names_in(e) for e in node.elts):
            return None
        if isinstance(node, ast.Set):
            return _set_order(node.elts)
        return list(node.elts)
    return _range_items(node, UNROLLED_ASSERTS)


def _set_order(elts: list[ast.expr]) -> list[ast.expr] | None:
    """The literal items `elts` in the order a set built of them in that order yields them."""
    if len(elts) > UNROLLED_ASSERTS:
        return None
    try:
        values = [ast.literal_eval(e) for e in elts]
        walked = list(set(values))  # built as BUILD_SET builds it: in the written order
    except (ValueError, TypeError, SyntaxError, MemoryError, RecursionError):
        return None  # not literal values, or unhashable ones (the loop raises: the test process)
    kept: list[ast.expr] = []
    for item in walked:
        # the element the set kept: the first one written equal to it (1 before 1.0 and True)
        kept.append(next(e for e, v in zip(elts, values) if v is item))
    return kept


def _names_in(node: ast.AST) -> bool:
    return any(isinstance(n, (ast.Name, ast.Call, ast.Attribute)) for n in ast.walk(node))


def _bind_target(target: ast.expr, item: ast.expr) -> dict[str, ast.expr]:
    if isinstance(target, ast.Name):
        return {target.id: item}
    if (
        isinstance(target, (ast.Tuple, ast.List))
        and isinstance(item, (ast.Tuple, ast.List))
        and len(target.elts) == len(item.elts)
    ):
        binding: dict[str, ast.expr] = {}
        for t, i in zip(target.elts, item.elts):
            binding.update(_bind_target(t, i))
        return binding
    raise Unsupported("loop target")


class _Substitute(ast.NodeTransformer):
    def __init__(self, binding: dict[str, ast.expr]) -> None:
        self.binding = binding

    def visit_Name(self, node: ast.Name) -> ast.expr:
        item = self.binding.get(node.id)
        if item is None or not isinstance(node.ctx, ast.Load):
            return node
        return ast.copy_location(copy.deepcopy(item), node)


def _ignorable(stmt: ast.stmt) -> bool:
    """Docstrings, `pass`, a bare built-in's name (HumanEval/129 has a lone `print`), and
    imports of modules the host evaluator provides itself."""
    if isinstance(stmt, ast.Pass) or (isinstance(stmt, ast.Expr) and isinstance(stmt.value, ast.Constant)):
        return True
    if isinstance(stmt, ast.Expr) and isinstance(stmt.value, ast.Name) and hasattr(builtins, stmt.value.id):
        return True
    if isinstance(stmt, ast.Import):
        return all(a.name in names.MODULES and a.asname is None for a in stmt.names)
    return False


@source_cache(8 << 20)  # test suites repeat across a question's samples; bounded by bytes
def plan_snippet(source: str) -> TrustedSnippet | None:
    """A TrustedSnippet if `source` is made of asserts we can judge here, else None."""
    if node_estimate(source) > TEST_AST_NODES:
        # Past the node cap as a rule, known without parsing (such marks in its strings count
        # too: such a test runs in the test process, as one past the cap does).
        return None
    try:
        tree = parse(source)
        if more_nodes_than(tree, TEST_AST_NODES):
            return None
        lines = _lines(source)
        asserts = tuple(_plan_one(lines, s.test) for s in _assert_statements(tree))
    except (SyntaxError, ValueError, MemoryError, RecursionError, OverflowError, Unsupported):
        return None  # an over-long format in the test's own text: the test process computes it
    if not asserts:
        return None
    return TrustedSnippet(asserts)  # with no probes at all it is still judged here, in order


def node_estimate(source: str) -> int:
    """About how many AST nodes `source` makes at least, counted without parsing it (C-level
    counts): a comma, a line and a call each make one. Parsing costs about 2.5 s a MiB of
    `assert f(1) == 2` lines, holding the GIL: text past a cap is never parsed here."""
    return source.count(",") + source.count("\n") + source.count("(")


def plan_assert(source: str) -> TrustedAssert | None:
    """The TrustedAssert for a test that is exactly one judgeable assert, else None."""
    snippet = plan_snippet(source)
    if snippet is None or len(snippet.asserts) != 1:
        return None
    return snippet.asserts[0]
