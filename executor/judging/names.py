"""The names test text means: built-ins and the standard library, bound on the trusted side.

A test's `Counter`, `map`, `math` or `OrderedDict` are the genuine objects, whatever a
program defines under those names: were they resolved in the program's namespace, a program
defining `def Counter(*a, **k): return {}` would choose what its answer is compared with.
Every other name in a test (`f`, `Solution`, `ListNode`) is the program's.

What the trusted side may *call* is narrower than what a name may mean: the evaluator
(asserts.py) allows the callables and methods listed here and charges their work; a test
using a trusted name the host cannot evaluate runs in the sandbox's test process, where the
same names are bound to that process's own genuine objects (sandbox/tester.py), never to the
program's.
"""

from __future__ import annotations

import builtins
import cmath
import collections
import decimal
import fractions
import math
import string
from types import ModuleType
from typing import Any

# Modules a test may name, and the attributes of each the host evaluator provides.
MODULES: dict[str, ModuleType] = {"math": math, "cmath": cmath, "collections": collections,
                                  "fractions": fractions, "decimal": decimal, "string": string}
MODULE_ATTRS: dict[str, frozenset[str]] = {
    # No factorial/prod/comb/perm: their big-int work is unbounded by their arguments' size.
    "math": frozenset({
        "isclose", "fabs", "sqrt", "isqrt", "floor", "ceil", "trunc", "log", "log2", "log10", "log1p", "exp",
        "expm1", "pow", "sin", "cos", "tan", "asin", "acos", "atan", "atan2", "sinh", "cosh", "tanh", "hypot",
        "pi", "e", "tau", "inf", "nan", "isnan", "isinf", "isfinite", "copysign", "fsum", "gcd", "lcm",
        "degrees", "radians", "fmod", "modf", "remainder", "dist", "erf", "erfc", "gamma", "lgamma", "frexp",
        "ldexp", "ulp", "nextafter"}),
    "cmath": frozenset({"isclose", "phase", "polar", "rect", "sqrt", "exp", "log", "log10", "pi", "e", "inf",
                        "nan", "infj", "nanj", "isnan", "isinf", "isfinite"}),
    "collections": frozenset({"Counter", "OrderedDict", "defaultdict", "deque"}),
    "fractions": frozenset({"Fraction"}),
    "decimal": frozenset({"Decimal"}),
    "string": frozenset({"ascii_letters", "ascii_lowercase", "ascii_uppercase", "digits", "hexdigits",
                         "octdigits", "punctuation", "whitespace", "printable"}),
}
# Names tests use bare after `from M import name` (in AceCoder the program's imports are the
# test's): the genuine objects, never the program's definitions.
FROM_IMPORTS: dict[str, Any] = {
    "Counter": collections.Counter, "OrderedDict": collections.OrderedDict,
    "defaultdict": collections.defaultdict, "deque": collections.deque,
    "Fraction": fractions.Fraction, "Decimal": decimal.Decimal,
    "isclose": math.isclose, "inf": math.inf, "nan": math.nan, "pi": math.pi, "sqrt": math.sqrt,
    "floor": math.floor, "ceil": math.ceil, "gcd": math.gcd, "fabs": math.fabs,
}
# Modules (and their usual aliases) a test may name that the host evaluator does not provide:
# they stay names of the standard library or of well-known packages, never the program's (a
# test using one runs in the test process, which binds its own copy, or none).
NOT_ON_HOST = frozenset({"np", "numpy", "pd", "pandas", "torch", "scipy", "sympy", "re", "itertools",
                         "functools", "operator", "heapq", "bisect", "random", "statistics", "json",
                         "datetime", "sys", "os"})
CONSTANTS: dict[str, Any] = {"True": True, "False": False, "None": None, "Ellipsis": Ellipsis}


def is_trusted(name: str) -> bool:
    """Does `name` in test text mean the standard library's (or a built-in) object?"""
    return (name in CONSTANTS or name in MODULES or name in FROM_IMPORTS or name in NOT_ON_HOST
            or (hasattr(builtins, name) and not name.startswith("_")))


def genuine(name: str) -> Any:
    """The genuine object behind a trusted name (KeyError for one the host does not provide)."""
    if name in CONSTANTS:
        return CONSTANTS[name]
    if name in MODULES:
        return MODULES[name]
    if name in FROM_IMPORTS:
        return FROM_IMPORTS[name]
    if name in NOT_ON_HOST or name.startswith("_") or not hasattr(builtins, name):
        raise KeyError(name)
    return getattr(builtins, name)


def _public(*types: type) -> frozenset[str]:
    return frozenset(n for t in types for n in dir(t) if not n.startswith("_"))


# Every public method or attribute name of the built-in value types (and the collections the
# codec carries). `R.m(...)` with such an `m` on a program value is the value's method, judged
# here on the value (see asserts.Planner): a program object whose `__getattr__` answers every
# name with `lambda *a: True` cannot pass `f(x).startswith('ab')` or `f(x).issubset({1, 2})`.
VALUE_METHOD_NAMES = _public(str, bytes, bytearray, list, tuple, dict, set, frozenset, int, float, complex,
                             bool, range, collections.Counter, collections.OrderedDict,
                             collections.defaultdict, collections.deque, fractions.Fraction, decimal.Decimal)
