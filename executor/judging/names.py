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

from ..sandbox import trusted

# Modules the host evaluator provides, and the attributes of each it allows (a test naming
# another module of trusted.MODULES runs in the test process, which binds its own copy).
MODULES: dict[str, ModuleType] = {
    "math": math,
    "cmath": cmath,
    "collections": collections,
    "fractions": fractions,
    "decimal": decimal,
    "string": string,
}
MODULE_ATTRS: dict[str, frozenset[str]] = {
    # No factorial/prod/comb/perm: their big-int work is unbounded by their arguments' size.
    "math": frozenset(
        {
            "isclose",
            "fabs",
            "sqrt",
            "isqrt",
            "floor",
            "ceil",
            "trunc",
            "log",
            "log2",
            "log10",
            "log1p",
            "exp",
            "expm1",
            "pow",
            "sin",
            "cos",
            "tan",
            "asin",
            "acos",
            "atan",
            "atan2",
            "sinh",
            "cosh",
            "tanh",
            "hypot",
            "pi",
            "e",
            "tau",
            "inf",
            "nan",
            "isnan",
            "isinf",
            "isfinite",
            "copysign",
            "fsum",
            "gcd",
            "lcm",
            "degrees",
            "radians",
            "fmod",
            "modf",
            "remainder",
            "dist",
            "erf",
            "erfc",
            "gamma",
            "lgamma",
            "frexp",
            "ldexp",
            "ulp",
            "nextafter",
        }
    ),
    "cmath": frozenset(
        {
            "isclose",
            "phase",
            "polar",
            "rect",
            "sqrt",
            "exp",
            "log",
            "log10",
            "pi",
            "e",
            "inf",
            "nan",
            "infj",
            "nanj",
            "isnan",
            "isinf",
            "isfinite",
        }
    ),
    "collections": frozenset({"Counter", "OrderedDict", "defaultdict", "deque"}),
    "fractions": frozenset({"Fraction"}),
    "decimal": frozenset({"Decimal"}),
    "string": frozenset(
        {
            "ascii_letters",
            "ascii_lowercase",
            "ascii_uppercase",
            "digits",
            "hexdigits",
            "octdigits",
            "punctuation",
            "whitespace",
            "printable",
        }
    ),
}
# Bare names from `from M import name` (sandbox/trusted.py): the host's genuine objects.
FROM_IMPORTS: dict[str, Any] = {
    name: getattr(MODULES[module], attr)
    for name, (module, attr) in trusted.FROM_IMPORTS.items()
    if module in MODULES and attr in MODULE_ATTRS[module]
}
CONSTANTS: dict[str, Any] = {"True": True, "False": False, "None": None, "Ellipsis": Ellipsis}


def is_trusted(name: str) -> bool:
    """Does `name` in test text mean the standard library's (or a built-in) object?"""
    return name in CONSTANTS or bool(trusted.is_trusted(name))


def genuine(name: str) -> Any:
    """The genuine object behind a trusted name (KeyError for one the host does not provide:
    a module it does not evaluate, such as `re` or `np`)."""
    if name in CONSTANTS:
        return CONSTANTS[name]
    if name in MODULES:
        return MODULES[name]
    if name in FROM_IMPORTS:
        return FROM_IMPORTS[name]
    if (
        name in trusted.MODULES
        or name in trusted.ALIASES
        or name in trusted.FROM_IMPORTS
        or name.startswith("_")
        or not hasattr(builtins, name)
    ):
        raise KeyError(name)
    return getattr(builtins, name)


VALUE_METHOD_NAMES = trusted.VALUE_METHOD_NAMES
PREDICATES = trusted.PREDICATES
