"""Which names in test text are the standard library's, never the program's. Stdlib only.

A test's `Counter`, `map`, `math` or `OrderedDict` mean the genuine objects, whatever a program
defines under those names: resolved in the program's namespace, a program defining
`def Counter(*a, **k): return {}` would choose what its answer is compared with. Every other
name a test uses (`f`, `Solution`, `ListNode`) is the program's.

One table for every place test text is evaluated: the host's evaluator (judging/names.py),
the test process (tester.py) and the probes a child computes (runner.py). In the sandbox each
process binds these names to its own copies, imported before any program ran.
"""

import ast
import builtins
import collections
import decimal
import fractions
import sys

# Standard-library modules a test may name (bound to the process's own copy).
MODULES = frozenset(
    {
        "math",
        "cmath",
        "collections",
        "fractions",
        "decimal",
        "string",
        "re",
        "itertools",
        "functools",
        "operator",
        "heapq",
        "bisect",
        "random",
        "statistics",
        "json",
        "datetime",
        "sys",
        "os",
    }
)
# Aliases of well-known packages: a test's `np` is numpy, never a program's class named np.
ALIASES = {
    "np": "numpy",
    "numpy": "numpy",
    "pd": "pandas",
    "pandas": "pandas",
    "torch": "torch",
    "scipy": "scipy",
    "sympy": "sympy",
}
# Names tests use bare after `from M import name` (in AceCoder the program's imports are the
# test's): the genuine objects.
FROM_IMPORTS = {
    "Counter": ("collections", "Counter"),
    "OrderedDict": ("collections", "OrderedDict"),
    "defaultdict": ("collections", "defaultdict"),
    "deque": ("collections", "deque"),
    "Fraction": ("fractions", "Fraction"),
    "Decimal": ("decimal", "Decimal"),
    "reduce": ("functools", "reduce"),
    # Names a test reaches for on its expected side (`f(xs) == mean(xs)`,
    # `== hashlib.sha256(...)`'s bare form, `len(list(permutations(s)))`): a program that rebinds
    # them decides nothing. (Tasks that implement one are tested by that name alone: the
    # program's, as for gcd.) Not itertools' `count`, `compress`, `chain` or `product`: tasks
    # name other functions so and use them beside these.
    **{
        name: ("statistics", name)
        for name in ("mean", "fmean", "median", "mode", "stdev", "pstdev", "variance", "pvariance")
    },
    **{name: ("hashlib", name) for name in ("md5", "sha1", "sha224", "sha256", "sha384", "sha512")},
    **{
        name: ("itertools", name)
        for name in ("permutations", "combinations", "combinations_with_replacement", "accumulate")
    },
    **{
        name: ("math", name)
        for name in (
            "isclose",
            "inf",
            "nan",
            "pi",
            "tau",
            "sqrt",
            "isqrt",
            "floor",
            "ceil",
            "gcd",
            "lcm",
            "log",
            "log2",
            "log10",
            "exp",
            "sin",
            "cos",
            "tan",
            "atan2",
            "hypot",
            "fabs",
            "factorial",
            "comb",
            "perm",
        )
    },
}
# A program's own function by one of these names (`def gcd(a, b)`) is still what a test of it
# tests: where a test uses no other name of the program's, the names it calls on literals are
# the program's (asserts._plan_one on the host, tester._run_snippet in the test process),
# except those in NEVER_OWN. Not
# itertools' `product` or `chain`: tasks name their functions so, and their tests then use
# other such names on the expected side.
# A value probe's "own" (asserts._tested_alone): the program's names where it defines them,
# else the genuine ones (runner.beside_program); True: the program's names and built-ins only.
ALONE = 2
BUILTIN_NAMES = _BUILTIN_NAMES = frozenset(n for n in dir(builtins) if not n.startswith("_"))
# Built-ins a test uses to drive or convert, never the function it tests: they stay genuine
# even where a program defines them (a program's `range` returning [] would make a test's loop
# check nothing; its `float` or `int` would choose an expected side).
NEVER_OWN = frozenset(
    {
        "range",
        "len",
        "list",
        "tuple",
        "dict",
        "set",
        "frozenset",
        "str",
        "int",
        "float",
        "bool",
        "complex",
        "bytes",
        "bytearray",
        "isinstance",
        "issubclass",
        "type",
        "print",
        "enumerate",
        "zip",
        "reversed",
        "iter",
        "next",
        "abs",
        "round",
        "all",
        "any",
        "repr",
        "ascii",
        "hash",
        "id",
        "callable",
        "getattr",
        "setattr",
        "hasattr",
        "delattr",
        "map",
        "filter",
        "open",
        "input",
        "object",
        "super",
        "slice",
        "divmod",
        "chr",
        "ord",
        "format",
        "vars",
        "globals",
        "locals",
        "exec",
        "eval",
        "compile",
        "isclose",
        "inf",
        "nan",
        "True",
        "False",
        "None",
    }
)


# Every standard-library module (but two that act when imported): a test's `hashlib.md5(...)`
# or `base64.b64encode(...)` is the genuine module's, even where the program imported it and
# rewrote its attributes. The host plans no probe over one (judging/asserts.py); the test
# process binds its own copy in place of a program's module (tester.py, `own_module`).
STDLIB_MODULES = frozenset(n for n in sys.stdlib_module_names if not n.startswith("_")) - {"antigravity", "this"}


def own_module(name):
    """This process's genuine standard-library module `name` (imported now if need be), or None."""
    if name not in STDLIB_MODULES:
        return None
    module = sys.modules.get(name)
    if module is None:
        try:
            module = __import__(name)
        except Exception:
            return None
    return module


def is_trusted(name):
    """Does `name` in test text mean a built-in or the standard library's object?"""
    return name in _BUILTIN_NAMES or name in MODULES or name in ALIASES or name in FROM_IMPORTS


def ownable(name):
    """May `name` be a program's own function a test tests, though a library's name (`gcd`,
    `sorted`)? Never a module, a package's alias, or what tests drive with (NEVER_OWN)."""
    return is_trusted(name) and name not in MODULES and name not in ALIASES and name not in NEVER_OWN


def bindings():
    """This process's genuine objects for the trusted names it has (modules it imported
    already; numpy where it is not installed is simply absent)."""
    out = {name: getattr(builtins, name) for name in _BUILTIN_NAMES}
    for name in MODULES:
        if name in sys.modules:
            out[name] = sys.modules[name]
    for name, module in ALIASES.items():
        if module in sys.modules:
            out[name] = sys.modules[module]
    for name, (module, attr) in FROM_IMPORTS.items():
        if module in sys.modules:
            out[name] = getattr(sys.modules[module], attr)
    return out


def _public(*types):
    return frozenset(n for t in types for n in dir(t) if not n.startswith("_"))


# Every public method or attribute name of the built-in value types (and the collections the
# codec carries). `r.m(...)` with such an `m` on a program's value is the value's own method:
# judged on the value, never answered by a program object, so an object whose `__getattr__`
# answers every name with `lambda *a: True` cannot pass `r.startswith('ab')` or
# `r.issubset({1, 2})`. (Objects the test makes from a program class, `Solution()`, keep their
# own methods: see judging/names.py and rpc.Remote.)
VALUE_METHOD_NAMES = _public(
    str,
    bytes,
    bytearray,
    list,
    tuple,
    dict,
    set,
    frozenset,
    int,
    float,
    complex,
    bool,
    range,
    collections.Counter,
    collections.OrderedDict,
    collections.defaultdict,
    collections.deque,
    fractions.Fraction,
    decimal.Decimal,
)
# Those whose result is a truth about the value (`startswith`, `isdigit`, `issubset`): never
# answered by a program object the test did not make from a class (rpc.Remote), not even a
# global the test names, whose other methods (`stack.pop()`) are its own.
PREDICATES = frozenset(n for n in VALUE_METHOD_NAMES if n.startswith(("is", "startswith", "endswith")))


def tested_alone(compares, uses, bound=frozenset()):
    """The library names (`factorial`, `sqrt`) `compares` call or read on a side that names
    nothing but library names (none that the test binds itself: `bound`), compared only with
    literals: `factorial(5) == 120 and fib(3) == 3`. Such a side computes a constant unless its
    functions are the program's: they are, where the program defines them (as with the test
    appended to it), though the test names other functions of the program's. Never a side
    compared with a value of the program's (`solve(4) == sqrt(16)`, `0 < sqrt(4) < f(1)`: there
    `sqrt` is the expected side's, genuine), one that reads a variable of the test's (`mean =
    f(xs)`, then `fabs(mean - 2) < 1e-6`), nor a name the test uses elsewhere too (`factorial(3)
    == 6 and f(5) == factorial(5)`): `uses` counts each name's uses in the whole test. The
    host's planner (judging/asserts.py) and the test process (tester.py) both ask it."""
    found, inside = set(), {}
    for node in compares:
        sides = [node.left, *node.comparators]
        for i, side in enumerate(sides):
            names = []
            for n in ast.walk(side):  # breadth first: a call's own name comes before its arguments
                if isinstance(n, ast.Name):
                    if not is_trusted(n.id) or n.id in bound:
                        break
                    names.append(n.id)
            else:
                if names and all(pure_literal(other) for other in sides[max(0, i - 1) : i + 2] if other is not side):
                    found.update(name for name in names if ownable(name))
                    for name in names:
                        inside[name] = inside.get(name, 0) + 1
    return frozenset(name for name in found if uses.get(name, 0) <= inside[name])


def pure_literal(node):
    """A constant, or a container of constants (a negative number included)."""
    if isinstance(node, ast.Constant):
        return True
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, (ast.USub, ast.UAdd)):
        return isinstance(node.operand, ast.Constant)
    if isinstance(node, (ast.Tuple, ast.List, ast.Set)):
        return all(pure_literal(e) for e in node.elts)
    if isinstance(node, ast.Dict):
        return all(k is not None and pure_literal(k) for k in node.keys) and all(pure_literal(v) for v in node.values)
    return False
