"""Wrong programs that try to choose both sides of a comparison.

A program chooses only its own return values, output and exit. The expected side of a
comparison - literals, the test's own expressions over them, a built-in value's methods, and
the standard library's names (`Counter`, `map`, `math`) - is the trusted side's, whatever the
program defines. Every program here is wrong; each case is run on the host path (a plain
assert, judged from probe values) and, where it makes sense, as a snippet in the test process.
"""

from __future__ import annotations

import pytest

from executor import Verdict

from .security_support import assert_no_reward, make_job, show

pytestmark = pytest.mark.security

F = Verdict.FAILED

# Program objects that answer every method a test may call on a built-in value with True.
ANSWERERS = {
    "__getattr__": "class Yes:\n    def __getattr__(self, name):\n        return lambda *a, **k: True\n",
    "__getattribute__": ("class Yes:\n    def __getattribute__(self, name):\n        return lambda *a, **k: True\n"),
    "explicit methods": (
        "class Yes:\n    startswith = endswith = isdigit = issubset = keys = count = "
        "lambda *a, **k: True\n    isupper = isalpha = issuperset = get = index = "
        "lambda *a, **k: True\n"
    ),
    "metaclass __getattr__": (
        "class Meta(type):\n    def __getattr__(cls, name):\n"
        "        return lambda *a, **k: True\n"
        "class Yes(metaclass=Meta):\n    def __getattr__(self, name):\n"
        "        return lambda *a, **k: True\n"
    ),
}
METHOD_TESTS = [
    "assert f('abcdef').startswith('abc')",
    "assert f('x').isdigit()",
    "assert f([1]).issubset({1, 2})",
    "assert f('abc').endswith('bc') and f('q').isalpha()",
    "assert f({1: 2}).get(1) == 2",
    "assert f([3, 1]).index(1) == 1",
    "assert f('aab').count('a') == 2",
    "assert f(1).keys() == {1}",
]


@pytest.mark.parametrize("kind", sorted(ANSWERERS))
def test_an_object_answering_every_method_passes_nothing(pool, host, kind):
    program = ANSWERERS[kind] + "def f(x):\n    return Yes()\n"
    result = pool.run(make_job(program, METHOD_TESTS))
    assert_no_reward(result)
    # Judged on the trusted side (the `and` one runs in the test process, which refuses it too).
    assert all(t.verdict in (F, Verdict.RUNTIME_ERROR) for t in result.tests), show(result)
    host.check()


@pytest.mark.parametrize("kind", sorted(ANSWERERS))
def test_an_object_answering_every_method_passes_no_snippet(pool, host, kind):
    program = ANSWERERS[kind] + "def f(x):\n    return Yes()\n"
    snippets = [
        "r = f('abcdef')\nassert r.startswith('abc')",
        "def check(candidate):\n    r = candidate([1])\n    assert r.issubset({1, 2})\ncheck(f)",
        "values = [f(i) for i in range(3)]\nassert all(v.isdigit() for v in values)",
    ]
    result = pool.run(make_job(program, snippets))
    assert_no_reward(result)
    host.check()


@pytest.mark.parametrize("kind", sorted(ANSWERERS))
def test_a_capwords_function_is_not_a_class_api(pool, host, kind):
    # Named like a class, `Solution()`-style, but a function: what it returns is a value, and a
    # built-in value's method on it is the genuine one - never asked of a program object (the
    # method's arguments must not reach the program before that is known).
    program = (
        ANSWERERS[kind]
        + "def ReverseWords(s):\n    return Yes()\nclass Solution:\n    def solve(self, s):\n        return Yes()\n"
    )
    tests = [
        "assert ReverseWords('a b').startswith('b')",
        "assert ReverseWords('a b').strip().startswith('b')",
        "assert ReverseWords('ab').isupper()",
        "assert Solution().solve('ab').endswith('a')",
    ]
    result = pool.run(make_job(program, tests))
    assert_no_reward(result)
    host.check()


@pytest.mark.parametrize("kind", sorted(ANSWERERS))
def test_a_program_global_answers_no_predicate(pool, host, kind):
    # A global the test names runs its own methods (`stack.pop()`), but not the predicates a
    # built-in value answers (`startswith`, `isdigit`, `issubset`): those are the value's.
    program = ANSWERERS[kind] + "Y = Yes()\n"
    tests = ["assert Y.startswith('abc')", "assert Y.isdigit()", "assert Y.issubset({1, 2})", "assert Y.get(1) == 2"]
    result = pool.run(make_job(program, tests))
    assert_no_reward(result)
    host.check()


RECORD_CLASSES = (
    "from dataclasses import dataclass, field\n"
    "class Stack:\n    def __init__(self):\n        self.items = []\n    def push(self, x):\n        self.items.append(x)\n"
    "    def __eq__(self, o):\n        return isinstance(o, Stack) and self.items == o.items\n"
    "def build(xs):\n    s = Stack()\n    for x in xs:\n        s.push(x)\n    return s\n"
    "class TreeNode:\n    def __init__(self, x):\n        self.val = x\n        self.left = None\n        self.right = None\n"
    "    def __eq__(self, o):\n"
    "        return isinstance(o, TreeNode) and (self.val, self.left, self.right) == (o.val, o.left, o.right)\n"
    "def tree():\n    t = TreeNode(1)\n    t.left = TreeNode(2)\n    return t\ndef leaf():\n    return TreeNode(1)\n"
    "@dataclass\nclass Account:\n    owner: str\n    balance: int = field(default=0, init=False)\n"
    "def acct():\n    a = Account('bob')\n    a.balance = 100\n    return a\n"
    "class Interval:\n    def __init__(self, a, b):\n        self.lo = a if a < b else b\n"
    "        self.hi = b if a < b else a\n    def __eq__(self, o):\n        return (self.lo, self.hi) == (o.lo, o.hi)\n"
    "def bad():\n    i = Interval(0, 0)\n    i.lo, i.hi = 5, 1\n    return i\n"
)


def test_a_record_equals_only_what_the_call_would_build(pool, host):
    # Attributes __init__ sets to constants are compared too (a stack pushed to is no new
    # stack, a node with a child no leaf); one set later, or computed, the call cannot state.
    wrong = [
        "assert build([1, 2]) == Stack()",
        "assert tree() == TreeNode(1)",
        "assert acct() == Account('bob')",
        "assert bad() == Interval(1, 5)",
    ]
    assert_no_reward(pool.run(make_job(RECORD_CLASSES, wrong)))
    right = ["assert build([]) == Stack()", "assert leaf() == TreeNode(1)", "assert build([3]) != Stack()"]
    result = pool.run(make_job(RECORD_CLASSES, right))
    assert result.verdict is Verdict.PASSED, show(result)
    host.check()


def test_a_dataclass_field_list_counts_only_with_the_generated_eq(pool, host):
    # compare=False flags set after the class was made, or a __dataclass_fields__ hung on a class
    # with its own __eq__, do not say what its __eq__ compares: the object still has to match.
    forged = (
        "import dataclasses\nfrom dataclasses import dataclass\n"
        "@dataclass\nclass Point:\n    x: int\n    y: int\n"
        "for _f in Point.__dataclass_fields__.values():\n    _f.compare = False\n"
        "def midpoint(a, b):\n    return Point(0, 0)\n"
        "class Pair:\n    def __init__(self, a, b):\n        self.a = a\n        self.b = b\n"
        "    def __eq__(self, o):\n        return (self.a, self.b) == (o.a, o.b)\n"
        "Pair.__dataclass_fields__ = {'a': dataclasses.field(compare=False)}\n"
        "def pair(k):\n    return Pair(k, -1)\n"
    )
    wrong = [
        "assert midpoint(Point(0, 0), Point(2, 4)) == Point(1, 2)",
        "assert midpoint(Point(1, 1), Point(3, 3)) in [Point(2, 2), Point(5, 5)]",
        "def check(candidate):\n    assert candidate(Point(0, 0), Point(4, 4)) == Point(2, 2)\ncheck(midpoint)",
        "assert pair(1) == Pair(1, 2)",
        "assert [pair(3)] == [Pair(3, 4)]",
    ]
    assert_no_reward(pool.run(make_job(forged, wrong)))
    # A genuine compare=False field is left out, as its generated __eq__ leaves it out.
    genuine = (
        "from dataclasses import dataclass, field\n@dataclass\nclass Point:\n    x: int\n"
        "    y: int = field(default=0, compare=False)\ndef f(x):\n    return Point(x, 99)\n"
        + "".join(f"@dataclass\nclass Wide{n}:\n" + "".join(f"    a{i}: int\n" for i in range(n)) for n in (1, 17))
        + "def wide(n):\n    return Wide17(*range(n))\n"
    )
    seventeen = ", ".join(map(str, range(17)))
    right = ["assert f(1) == Point(1)", "assert f(2) == Point(2, 5)", f"assert wide(17) == Wide17({seventeen})"]
    result = pool.run(make_job(genuine, right))
    assert result.verdict is Verdict.PASSED, show(result)
    assert_no_reward(
        pool.run(make_job(genuine, ["assert f(1) == Point(2, 99)", f"assert wide(17) == Wide17({seventeen[:-4]}, 99)"]))
    )
    host.check()


VALIDATED = (
    "class Point:\n    def __init__(self, x, y=0):\n        if x < 0 or not isinstance(y, int):\n"
    "            raise ValueError(f'bad {x}')\n        assert y >= 0, 'negative'\n        self.x, self.y = x, y\n"
    "    def __eq__(self, o):\n        return (self.x, self.y) == (o.x, o.y)\n"
    "class Box:\n    def __init__(self, a, b, c):\n        self.a, self.b, self.c = a, b, c\n"
    "    def __eq__(self, o):\n        return vars(self) == vars(o)\n"
    "def mid(p, q):\n    return Point((p.x + q.x) // 2, (p.y + q.y) // 2)\ndef box(n):\n    return Box(n, n + 1, n + 2)\n"
)


def test_a_class_that_validates_or_stores_a_tuple_binds_the_tests_call(pool, host):
    # `if x < 0: raise ValueError(...)`, `assert y >= 0`, `self.x, self.y = x, y` are what
    # class tasks' __init__ do: they store the parameters as given.
    tests = [
        "assert mid(Point(0, 0), Point(2, 4)) == Point(1, 2)",
        "assert box(1) == Box(1, 2, 3)",
        "r = box(2)\nassert r == Box(2, 3, 4)",
    ]
    result = pool.run(make_job(VALIDATED, tests))
    assert result.verdict is Verdict.PASSED, show(result)
    assert_no_reward(pool.run(make_job(VALIDATED.replace("// 2, (p.y", "// 3, (p.y"), tests[:1])))
    # A guard that calls the program's own function named like a built-in could do anything
    # (install a __setattr__ that scales what the stores keep): no parameter counts as stored as
    # given, so the call binds nothing (CPython, running that guard, would pass this one).
    shadowed = VALIDATED.replace("class Point:", "def isinstance(v, t):\n    return True\nclass Point:")
    shadowed += "def fake():\n    p = Point(0, 0)\n    p.x, p.y = 1, 2\n    return p\n"
    assert pool.run(make_job(shadowed, ["assert fake() == Point(1, 2)"])).verdict is not Verdict.PASSED
    host.check()


def test_a_class_attribute_that_intercepts_the_store_binds_nothing(pool, host):
    # `self.x = x` through a descriptor's __set__ keeps what that code chooses (here ten times
    # x): the test's Point(1, 2) would hold x=10, so an object holding x=1 is not it.
    program = (
        "class Scaled:\n    def __set_name__(self, owner, name):\n        self.name = name\n"
        "    def __get__(self, obj, owner=None):\n        return obj.__dict__[self.name] if obj is not None else self\n"
        "    def __set__(self, obj, v):\n        obj.__dict__[self.name] = v * 10\n"
        "class Point:\n    x = Scaled()\n    def __init__(self, x, y):\n        self.x = x\n        self.y = y\n"
        "    def __eq__(self, o):\n        return (self.x, self.y) == (o.x, o.y)\n"
        "def wrong():\n    p = Point(0, 2)\n    p.__dict__['x'] = 1\n    return p\n"
    )
    tests = ["assert wrong() == Point(1, 2)", "r = wrong()\nassert r == Point(1, 2)"]
    assert_no_reward(pool.run(make_job(program, tests)))
    host.check()


EQ = "    def __eq__(self, o):\n        return type(o) is type(self) and vars(self) == vars(o)\n"
BINDINGS = {
    "a guard that changes its parameter": (
        "class Config:\n    def __init__(self, options):\n"
        "        if options.setdefault('timeout', 30) <= 0:\n            raise ValueError('bad')\n"
        "        self.options = options\n" + EQ + "def f():\n    c = Config({})\n    c.options = {'retries': 3}\n"
        "    return c\n",
        "assert f() == Config({'retries': 3})",
    ),
    "a metaclass that swaps the arguments": (
        "class Meta(type):\n    def __call__(cls, a, b):\n        return super().__call__(b, a)\n"
        "class Point(metaclass=Meta):\n    def __init__(self, x, y):\n        self.x = x\n        self.y = y\n"
        + EQ
        + "def f():\n    return Point(2, 1)\n",
        "assert f() == Point(1, 2)",
    ),
    "an __init__ of *args that permutes them": (
        "class Point:\n    def __init__(self, *a):\n        self.x = a[1]\n        self.y = a[0]\n"
        + EQ
        + "def f():\n    return Point(2, 1)\n",
        "assert f() == Point(1, 2)",
    ),
    "a closure named like a dataclass's": (
        "def _make():\n    def __dataclass_fix(obj):\n        obj.__dict__['x'] = obj.__dict__['x'] * 10\n"
        "    def __init__(self, x, y):\n        self.x = x\n        self.y = y\n        __dataclass_fix(self)\n"
        "    return __init__\nclass Point:\n    __init__ = _make()\n"
        + EQ
        + "def f():\n    p = Point(0, 2)\n    p.x = 1\n    return p\n",
        "assert f() == Point(1, 2)",
    ),
    "globals whose __missing__ answers a built-in's name": (
        "import types\nclass G(dict):\n    def __missing__(self, k):\n        if k == 'isinstance':\n"
        "            def evil(v, t):\n                v.append(99)\n                return True\n            return evil\n"
        "        raise KeyError(k)\n"
        "def __init__(self, items, n):\n    if not isinstance(items, list):\n        raise TypeError('list')\n"
        "    self.items = items\n    self.n = n\n"
        "__init__ = types.FunctionType(__init__.__code__, G({'__builtins__': __builtins__}))\n"
        "class Bag:\n    pass\nBag.__init__ = __init__\nBag.__eq__ = lambda s, o: type(o) is type(s) and vars(s) == vars(o)\n"
        "def f():\n    b = Bag([], 2)\n    b.items = [1]\n    return b\n",
        "assert f() == Bag([1], 2)",
    ),
    "positional-only parameters bound by keyword": (
        "class Point:\n    def __init__(self, x, y, /):\n        self.x = x\n        self.y = y\n"
        + EQ
        + "def f():\n    return Point(1, 2)\n",
        "assert f() == Point(x=1, y=2)",
    ),
}


@pytest.mark.parametrize("kind", sorted(BINDINGS))
def test_a_call_binds_only_where_python_would_bind_it_so(pool, host, kind):
    # Red team O: where the test's call, run by CPython, would not keep its arguments as given
    # (or would raise), an object holding them is not that call - on the host and in snippets.
    program, test = BINDINGS[kind]
    assert_no_reward(pool.run(make_job(program, [test, "_ = 0\n" + test])))
    host.check()


def test_a_class_a_function_returns_answers_no_predicate(pool, host):
    # A class's own methods are its API when the test names it; one a function returns (in
    # place of a value) answers no predicate of a value's.
    program = (
        "class Anything:\n    @staticmethod\n    def startswith(*a):\n        return True\n"
        "    @staticmethod\n    def issubset(*a):\n        return True\n"
        "    @staticmethod\n    def isupper():\n        return True\ndef f(x):\n    return Anything\n"
    )
    tests = [
        "def check(candidate):\n    r = candidate('xyz')\n    assert r.startswith('ab')\ncheck(f)",
        "result = f([1, 2])\nassert result.issubset({9})",
        "out = f('abc')\nassert out.isupper()",
        "assert f('abc').isupper()",
    ]
    assert_no_reward(pool.run(make_job(program, tests)))
    host.check()


def test_a_class_named_like_the_tests_is_not_it(pool, host):
    # Another class named Point, whose __init__ takes (y, x): the test's Point(1, 2) means the
    # program's global Point, so the other's binding must not stand for it.
    program = (
        "class Point:\n    def __init__(self, x, y):\n        self.x = x\n        self.y = y\n"
        "    def __eq__(self, o):\n        return (self.x, self.y) == (o.x, o.y)\n_Real = Point\n"
        "class Point:\n    def __init__(self, y, x):\n        self.y = y\n        self.x = x\n"
        "    def __eq__(self, o):\n        return (self.x, self.y) == (o.x, o.y)\n_Fake = Point\nPoint = _Real\n"
        "def shift(p, dx, dy):\n    return _Fake(p.x + dx, p.y + dy)\n"
    )
    assert_no_reward(pool.run(make_job(program, ["assert shift(Point(0, 0), 1, 2) == Point(1, 2)"])))
    host.check()


def test_a_result_used_by_its_api_still_answers_no_predicate(pool, host):
    # A method called as a statement makes a program object's value-named methods its own, but
    # never the predicates a value answers.
    program = ANSWERERS["__getattr__"] + "def f(x):\n    return Yes()\n"
    tests = [
        "r = f('ab')\nr.strip()\nassert r.startswith('zz')",
        "def check(candidate):\n    s = candidate([1])\n    s.add(5)\n    assert s.issuperset({1, 5})\ncheck(f)",
        "r = f('ab')\nr.name\nassert r.isdigit()",
    ]
    assert_no_reward(pool.run(make_job(program, tests)))
    host.check()


def test_a_class_eq_is_asked_once_whatever_the_number_of_its_records(pool, host):
    # Asked of every record, a recursive __eq__ over a long list or a big tree cost quadratic
    # time (or a RecursionError) charged to a right program.
    program = (
        "n = [0]\nclass P:\n    def __init__(self, x):\n        self.x = x\n"
        "    def __eq__(self, o):\n        n[0] += 1\n        return self.x == o.x\n"
        "def f():\n    return [P(i) for i in range(50)]\ndef calls():\n    return n[0]\n"
    )
    tests = ["assert f()[:3] == [P(0), P(1), P(2)]", "assert len(f()) == 50", "assert calls() == 1"]
    result = pool.run(make_job(program, tests))
    assert result.verdict is Verdict.PASSED, show(result)
    host.check()


def test_two_copies_prove_no_identity(pool, host):
    # A memoizing program returns one object twice: `is not` between two copies of it would
    # be true for any program (and `is` false): identity of what crossed as a copy is not judged.
    program = "_memo = {}\ndef f(k):\n    return _memo.setdefault(k, [k])\n"
    tests = ["assert f(1) is not f(1)", "a = f(1)\nb = f(1)\nassert a is not b", "assert not (f(2) is f(2))"]
    assert_no_reward(pool.run(make_job(program, tests)))
    # A shallow copy's items are the argument's items in the program's process: a copy of
    # them proves no difference from the test's own (a wrong deep-copy passed `is not`).
    shallow = "def f(a):\n    return list(a)\ndef g(a):\n    return (a, 1)\n"
    tests = [
        "a = [[1, 2], [3, 4]]\nb = f(a)\nassert b == a\nassert b[0] is not a[0]",
        "a = [[1], [2]]\nassert all(x is not y for x, y in zip(a, f(a)))",
        "a = [1]\nassert g(a)[0] is not a",
    ]
    assert_no_reward(pool.run(make_job(shallow, tests)))
    host.check()


# Objects whose comparison answers with an object that answers every method: the comparison
# with the test's value is the test's side, never computed by the program (numpy-style asserts).
ANSWERING_EQ = """
class Yes:
    def __init__(self, other=None):
        self.other = other
    def all(self, *a, **k):
        return True
    def any(self, *a, **k):
        return False
    def sum(self, *a, **k):
        return len(self.other)
    def tolist(self):
        return [True] * len(self.other)
    shape = (3,)
class Anything:
    def __eq__(self, o):
        return Yes(o)
    def __ne__(self, o):
        return Yes(o)
    __hash__ = object.__hash__
def f(x):
    return Anything()
class Solution:
    def solve(self, x):
        return self
    def isdigit(self):
        return True
    def startswith(self, *a):
        return True
"""


@pytest.mark.parametrize(
    "test",
    [
        "assert (f([3, 1, 2]) == [1, 2, 3]).all()",
        "assert not (f([3, 1, 2]) != [1, 2, 3]).any()",
        "assert (f([3, 1, 2]) == [1, 2, 3]).sum() == 3",
        "assert (f([3, 1, 2]) == [1, 2, 3]).tolist() == [True, True, True]",
        "assert (f([3, 1, 2]) == [1, 2, 3]).shape == (3,)",
        "def check(candidate):\n    assert (candidate([3, 1, 2]) == [1, 2, 3]).all()\ncheck(f)",
        # What a further call of a class's API returns is a value: its built-in methods are genuine.
        "assert Solution().solve('abc').isdigit()",
        "assert Solution().solve('abc').startswith('zz')",
    ],
)
def test_a_comparison_with_the_tests_value_is_never_the_programs_to_answer(pool, host, test):
    assert_no_reward(pool.run(make_job(ANSWERING_EQ, [test])))
    host.check()


def test_an_enum_that_watches_which_member_a_test_names_learns_nothing(pool, host):
    # The test names its expected member first; a metaclass that records attribute lookups
    # never sees it: a class's plain entries are read from its own dicts.
    program = (
        "from enum import Enum, EnumMeta\nseen = []\nclass Meta(EnumMeta):\n"
        "    def __getattribute__(cls, name):\n        if not name.startswith('_'):\n            seen.append(name)\n"
        "        return super().__getattribute__(name)\n"
        "class Color(Enum, metaclass=Meta):\n    RED = 1\n    GREEN = 2\n"
        "def light(s):\n    return Color[seen[-1]] if seen and seen[-1] in ('RED', 'GREEN') else Color.RED\n"
    )
    tests = [
        "assert Color.GREEN == light('go')",
        "expected = Color.GREEN\nassert light('go') == expected",
        "def check(candidate):\n    assert Color.GREEN == candidate('go')\ncheck(light)",
    ]
    assert_no_reward(pool.run(make_job(program, tests)))
    host.check()


def test_a_wrong_enum_member_fails(pool, host):
    program = (
        "from enum import Enum\nclass Color(Enum):\n    RED = 1\n    GREEN = 2\ndef light(s):\n    return Color.RED\n"
    )
    tests = [
        "assert light('go') == Color.GREEN",
        "assert light('go') in (Color.GREEN,)",
        "assert not (light('go') != Color.GREEN)",
        "def check(candidate):\n    assert candidate('go') == Color.GREEN\ncheck(light)",
    ]
    assert_no_reward(pool.run(make_job(program, tests)))
    host.check()


SINGLETON_POINT = """
class Point:
    _one = None
    def __new__(cls, *a, **k):
        if Point._one is None:
            Point._one = object.__new__(cls)
        return Point._one
    def __init__(self, x=0, y=0):
        self.x, self.y = x, y
    def __eq__(self, o):
        return isinstance(o, Point) and (self.x, self.y) == (o.x, o.y)
    def __hash__(self):
        return hash((self.x, self.y))
def midpoint(a, b):
    return Point(123, 456)
def pts():
    return [Point(9, 9)]
"""


@pytest.mark.parametrize(
    "test",
    [
        "r = midpoint(Point(0, 0), Point(2, 4))\nok = r == Point(1, 2)\nassert ok",
        "import unittest\nclass T(unittest.TestCase):\n    def test(self):\n"
        "        self.assertEqual(midpoint(Point(0, 0), Point(2, 4)), Point(1, 2))\nT('test').test()",
        "if midpoint(Point(0, 0), Point(2, 4)) != Point(1, 2):\n    raise AssertionError('wrong')",
        "import operator\nassert operator.eq(midpoint(Point(0, 0), Point(2, 4)), Point(1, 2))",
        "found = [p for p in pts() if p == Point(1, 2)]\nassert len(found) == 1",
        "r = midpoint(Point(0, 0), Point(2, 4))\nassert r == Point(1, 2)",
    ],
)
def test_a_constructor_that_returns_one_instance_proves_nothing(pool, host, test):
    # In the test process the test's Point(1, 2) is made by the program: which object it is
    # is the program's choice, so the same object is not an equal one there.
    assert_no_reward(pool.run(make_job(SINGLETON_POINT, [test])))
    host.check()


WRONG_POINTS = {
    "a wrong dataclass value": (
        "from dataclasses import dataclass\n@dataclass\nclass Point:\n    x: int\n    y: int\n"
        "def midpoint(a, b):\n    return Point(a.x, b.y)\n"
    ),
    "__eq__ always true, arguments dropped": (
        "class Point:\n    def __init__(self, *a, **k):\n        pass\n    def __eq__(self, o):\n        return True\n"
        "def midpoint(a, b):\n    return Point()\n"
    ),
    "attributes answered by __getattr__": (
        "class Point:\n    def __init__(self, *a):\n        self.args = a\n    def __eq__(self, o):\n        return True\n"
        "    def __getattr__(self, name):\n        return 1\ndef midpoint(a, b):\n    return Point(9, 9)\n"
    ),
    "instances alike when built by a test's probe": (
        "import sys\nclass Point:\n    def __init__(self, *a, **k):\n        self.v = 0\n"
        "        if sys._getframe(1).f_code.co_filename == '<program>':\n            self.args = a\n"
        "    def __eq__(self, o):\n        return True\ndef midpoint(a, b):\n    return Point()\n"
    ),
    "a forged __init__ with a parameter twice": (
        "class Point:\n    def __init__(self, x, y):\n        self.x = y\n    def __eq__(self, o):\n        return True\n"
        "Point.__init__.__code__ = Point.__init__.__code__.replace(co_varnames=('self', 'x', 'x'))\n"
        "def midpoint(a, b):\n    p = Point(0, 0)\n    p.x = 2\n    return p\n"
    ),
    "a constructor that scales what it stores": (
        "class Point:\n    def __init__(self, x, y):\n        self.x, self.y = x * 10, y * 10\n"
        "    def __eq__(self, o):\n        return (self.x, self.y) == (o.x, o.y)\n"
        "def midpoint(a, b):\n    p = Point(0, 0)\n    p.x, p.y = 1, 2\n    return p\n"
    ),
    "a method that changes what __init__ stored": (
        "class Point:\n    def __init__(self, x, y):\n        self.x = x\n        self.y = y\n        self.scale()\n"
        "    def scale(self):\n        self.x *= 10\n        self.y *= 10\n"
        "    def __eq__(self, o):\n        return (self.x, self.y) == (o.x, o.y)\n"
        "def midpoint(a, b):\n    p = Point(0, 0)\n    p.x, p.y = 1, 2\n    return p\n"
    ),
    "a __setattr__ that scales": (
        "class Point:\n    def __init__(self, x, y):\n        self.x = x\n        self.y = y\n"
        "    def __setattr__(self, k, v):\n        object.__setattr__(self, k, v * 10)\n"
        "    def __eq__(self, o):\n        return (self.x, self.y) == (o.x, o.y)\n"
        "def midpoint(a, b):\n    p = Point(0, 0)\n    object.__setattr__(p, 'x', 1)\n    object.__setattr__(p, 'y', 2)\n"
        "    return p\n"
    ),
    "an __eq__ that returns nothing": (
        "class Point:\n    def __init__(self, x, y):\n        self.x = x\n        self.y = y\n"
        "    def __eq__(self, o):\n        self.x == o.x and self.y == o.y\n"
        "def midpoint(a, b):\n    return Point((a.x + b.x) // 2, (a.y + b.y) // 2)\n"
    ),
    "a dataclass whose __post_init__ scales": (
        "from dataclasses import dataclass\n@dataclass\nclass Point:\n    x: int\n    y: int\n"
        "    def __post_init__(self):\n        self.x, self.y = self.x * 10, self.y * 10\n"
        "def midpoint(a, b):\n    p = Point(0, 0)\n    p.x, p.y = 1, 2\n    return p\n"
    ),
    "a dict property": (
        "class Point:\n    def __init__(self, x, y):\n        self.x, self.y = x, y\n    def __eq__(self, o):\n        return True\n"
        "    __dict__ = property(lambda self: {'x': 1, 'y': 2})\ndef midpoint(a, b):\n    return Point(7, 7)\n"
    ),
}


@pytest.mark.parametrize("kind", sorted(WRONG_POINTS))
def test_a_program_class_on_the_expected_side_is_the_tests_values(pool, host, kind):
    # `Point(1, 2)` beside the program's value is built here from the test's values: the
    # program's object must hold them, whatever its class's __eq__ or __init__ would say.
    tests = [
        "assert midpoint(Point(0, 0), Point(2, 4)) == Point(1, 2)",
        "assert [midpoint(Point(0, 0), Point(2, 4))] == [Point(x=1, y=2)]",
        "assert not (midpoint(Point(0, 0), Point(2, 4)) != Point(1, 2))",
        "assert midpoint(Point(0, 0), Point(2, 4)) == Point(*[1, 2])",
        "assert midpoint(Point(0, 0), Point(2, 4)) == Point(1, **{'y': 2})",
        "for a, b, e in [((0, 0), (2, 4), (1, 2))]:\n    assert midpoint(Point(*a), Point(*b)) == Point(*e)",
        "assert [midpoint(Point(0, 0), Point(2, 4))] * 2 == [Point(1, 2)] * 2",
        "assert {'m': midpoint(Point(0, 0), Point(2, 4))} == {'m': Point(1, 2)}",
        # Both sides the program's records (an expected side built in its process): no decision.
        "assert midpoint(Point(0, 0), Point(2, 4)) == midpoint(Point(1, 2), Point(1, 2))",
    ]
    assert_no_reward(pool.run(make_job(WRONG_POINTS[kind], tests)))
    host.check()


OBJECT_TESTS = [
    "p = origin()\nassert p == Point(0, 0)",
    "expected = Point(4, 2)\nassert shift(Point(1, 3), 3) == expected",
    "r = merge([Interval(1, 3), Interval(2, 6), Interval(8, 9)])\nassert r == [Interval(1, 6), Interval(8, 9)]",
    "r = merge([Interval(1, 3), Interval(2, 6)])\nassert r != [Interval(1, 3)] and r[0] == Interval(1, 6)",
    "assert Shape(Point(1, 2)).center() == Point(1, 2)",
    "assert Shape(Point(1, 2)).center() in (Point(0, 0), Point(1, 2))",
    "def check(candidate):\n    assert [candidate()] == [Point(x=0, y=0)]\ncheck(origin)",
    "assert {'c': Shape(Point(5, 6)).center()} == {'c': Point(5, 6)}",
    "assert colors() == [Color.RED, Color.GREEN]\nassert colors() != [Color.GREEN, Color.RED]",
]
OBJECTS = (
    "from dataclasses import dataclass\nfrom enum import Enum\n"
    "@dataclass\nclass Point:\n    x: int\n    y: int\n"
    "def origin():\n    return Point(0, 0)\n"
    "def shift(p, d):\n    return Point(p.x + d, p.y - 1)\n"
    "class Interval:\n    def __init__(self, a, b):\n        self.a = a\n        self.b = b\n"
    "    def __eq__(self, o):\n        return (self.a, self.b) == (o.a, o.b)\n"
    "def merge(xs):\n    xs = sorted(xs, key=lambda i: i.a)\n    out = [xs[0]]\n    for i in xs[1:]:\n"
    "        if i.a <= out[-1].b:\n            out[-1] = Interval(out[-1].a, max(out[-1].b, i.b))\n"
    "        else:\n            out.append(i)\n    return out\n"
    "class Shape:\n    def __init__(self, c):\n        self.c = c\n    def center(self):\n        return self.c\n"
    "class Color(Enum):\n    RED = 1\n    GREEN = 2\ndef colors():\n    return [Color.RED, Color.GREEN]\n"
)


def test_program_objects_in_snippets_compare_with_the_tests_calls(pool, host):
    # In the test process too (helper statements, a method's result, check(candidate)), a
    # program's object equals the test's call of its class when it holds the call's values.
    result = pool.run(make_job(OBJECTS, OBJECT_TESTS))
    assert result.verdict is Verdict.PASSED, show(result)
    # Each wrong in one place fails the tests that see it, and only those.
    wrong = {
        "return Point(0, 0)": "return Point(0, 1)",
        "p.y - 1": "p.y + 1",
        "max(out[-1].b, i.b)": "out[-1].b",
        "return self.c": "return Point(self.c.y, self.c.x)",
        "return [Color.RED, Color.GREEN]": "return [Color.GREEN, Color.RED]",
    }
    for right, bad in wrong.items():
        result = pool.run(make_job(OBJECTS.replace(right, bad), OBJECT_TESTS))
        assert result.verdict is Verdict.FAILED, (bad, show(result))
    host.check()


VECTORS = (
    "class Vec:\n    def __init__(self, x, y):\n        self.x = x\n        self.y = y\n"
    "    def __add__(self, o):\n        return Vec(self.x + o.x, self.y + o.y)\n"
    "    def __rmul__(self, k):\n        return Vec(self.x * k, self.y * k)\n"
    "    def __neg__(self):\n        return Vec(-self.x, -self.y)\n"
    "    def __eq__(self, o):\n        return isinstance(o, Vec) and (self.x, self.y) == (o.x, o.y)\n"
    "def unit():\n    return Vec(1, 0)\n"
)


def test_a_program_classs_operators_are_its_own_in_tests(pool, host):
    # `Vec(1, 2) + Vec(3, 4) == Vec(4, 6)`: the program's operator, computed in its process (the
    # test process asks it), its result judged as any answer against the test's call.
    tests = [
        "assert Vec(1, 2) + Vec(3, 4) == Vec(4, 6)",
        "assert 2 * Vec(1, 2) == Vec(2, 4) and -Vec(1, 2) == Vec(-1, -2)",
        "v = Vec(1, 2)\nw = v + v\nassert w == Vec(2, 4)\nassert w.x == 2",
        "assert 3 * unit() == Vec(3, 0)",
        "assert -unit() == Vec(-1, 0)",
    ]
    result = pool.run(make_job(VECTORS, tests))
    assert result.verdict is Verdict.PASSED, show(result)
    for right, bad in {"self.x + o.x": "self.x + o.y", "self.x * k": "self.x + k", "-self.y": "self.y"}.items():
        result = pool.run(make_job(VECTORS.replace(right, bad), tests))
        assert result.verdict is Verdict.FAILED, (bad, show(result))
    host.check()


def test_a_namedtuple_call_with_keywords_binds_by_its_fields(pool, host):
    program = (
        "from collections import namedtuple\nfrom typing import NamedTuple\nP = namedtuple('P', 'x y')\n"
        "class Q(NamedTuple):\n    a: int\n    b: str = 'z'\ndef mk():\n    return P(1, 2)\ndef mq():\n    return Q(3)\n"
    )
    right = [
        "assert mk() == P(x=1, y=2)",
        "assert mk() == P(1, y=2) and [mk()] == [P(y=2, x=1)]",
        "assert mq() == Q(a=3, b='z')",
        "r = mk()\nassert r == P(y=2, x=1)",
    ]
    result = pool.run(make_job(program, right))
    assert result.verdict is Verdict.PASSED, show(result)
    wrong = ["assert mk() == P(x=2, y=1)", "assert mk() == P(x=1)", "r = mk()\nassert r == P(y=1, x=2)"]
    assert_no_reward(pool.run(make_job(program, wrong)))
    # Its defaults are its __new__'s: `Q(3)` is (3, 'z').
    defaults = ["assert mq() == Q(3)", "assert [mq()] == [Q(a=3)]"]
    result = pool.run(make_job(program, defaults))
    assert result.verdict is Verdict.PASSED, show(result)
    assert_no_reward(pool.run(make_job(program, ["assert mq() == Q(4)", "assert mq() == Q(3, 'y')"])))
    # A tuple subclass whose own _fields name its items in another order binds nothing by them.
    liar = (
        "class P(tuple):\n    _fields = ('y', 'x')\n    def __new__(cls, x, y):\n        return tuple.__new__(cls, (x, y))\n"
        "def mk():\n    return P(2, 1)\n"
    )
    lies = ["assert mk() == P(x=1, y=2)", "r = mk()\nassert r == P(x=1, y=2)"]
    assert_no_reward(pool.run(make_job(liar, lies)))
    host.check()


def test_an_expected_call_in_a_snippet_never_reaches_the_program(pool, host):
    # Point(3, 4) inside the assert is the test's call, judged on the trusted side: a program
    # that watches what its class is called with learns nothing from it (it would in CPython).
    program = (
        "import sys\nLAST = [9, 9]\nclass Point:\n    def __init__(self, x, y):\n        self.x = x\n        self.y = y\n"
        "    def __eq__(self, o):\n        return (self.x, self.y) == (o.x, o.y)\n"
        "def _spy(frame, event, arg):\n"
        "    if event == 'call' and frame.f_code is Point.__init__.__code__:\n"
        "        LAST[:] = [frame.f_locals['x'], frame.f_locals['y']]\n"
        "sys.setprofile(_spy)\ndef answer():\n    x, y = LAST\n    return Point(x, y)\n"
    )
    tests = [
        "r = None\nassert Point(3, 4) == answer()",
        "def check(candidate):\n    assert [Point(3, 4)] == [candidate()]\ncheck(answer)",
    ]
    assert_no_reward(pool.run(make_job(program, tests)))
    host.check()


LEAKY_POINTS = (
    "import builtins\nclass _M(builtins.type):\n    answers = []\n    made = 0\n"
    "    def __call__(cls, *a, **k):\n        obj = super().__call__(*a, **k)\n"
    "        if _M.made < len(_M.answers):\n            q = _M.answers[_M.made]\n            _M.made += 1\n"
    "            q.__dict__.update(obj.__dict__)\n        return obj\n"
    "_M.__qualname__ = _M.__name__ = 'ABCMeta'\n"
    "class Point(metaclass=_M):\n    def __init__(self, x, y):\n        self.x = x\n        self.y = y\n"
    "    def __eq__(self, o):\n        return isinstance(o, Point) and (self.x, self.y) == (o.x, o.y)\n"
    "    def __hash__(self):\n        return hash((self.x, self.y))\n"
    "def find_all(pts):\n    out = [Point(-1, -1), Point(-2, -2)]\n    _M.answers[:] = out\n    _M.made = 0\n    return out\n"
)


@pytest.mark.parametrize(
    "test",
    [
        "assert set(find_all([])) == {Point(x, y) for x, y in [(1, 2), (3, 4)]}",
        "assert set(find_all([])) == set([Point(1, 2), Point(3, 4)])",
        "def check(candidate):\n    assert set(candidate([])) == set([Point(1, 2), Point(3, 4)])\ncheck(find_all)",
        "_ = 0\nassert find_all([]) == [Point(x, y) for x, y in [(1, 2), (3, 4)]]",
        "_ = 0\nassert find_all([]) == list((Point(1, 2), Point(3, 4)))",
        "P = Point\nassert find_all([]) == [P(1, 2), P(3, 4)]",
        "def mk(x, y):\n    return Point(x, y)\nassert find_all([]) == [mk(1, 2), mk(3, 4)]",
    ],
)
def test_the_tests_objects_made_after_the_answer_do_not_rewrite_it(pool, host, test):
    # A metaclass copies each new instance into the program's earlier answer: the test's calls in
    # a comparison are never made in its process, and one made there (a helper of the test's)
    # after the answer was handed over does not state it.
    assert_no_reward(pool.run(make_job(LEAKY_POINTS, [test])))
    host.check()


def test_program_objects_in_snippets_beside_builtins_and_other_types(pool, host):
    program = (
        "from dataclasses import dataclass\nfrom collections import namedtuple\n"
        "@dataclass(frozen=True)\nclass Point:\n    x: int\n    y: int\n"
        "Pair = namedtuple('Pair', 'a b')\nclass Vec(tuple):\n    pass\nclass Cash(int):\n    pass\n"
        "class Money:\n    def __init__(self, v):\n        self.v = v\n"
        "    def __eq__(self, o):\n        return isinstance(o, Money) and self.v == o.v\n"
        "def pts():\n    return [Point(1, 2), Point(0, 0)]\ndef origin():\n    return Point(0, 0)\n"
        "def add(a, b):\n    return a + b\ndef plain():\n    return (1, 2)\n"
        "def vec():\n    return Vec((1, 2))\ndef cash():\n    return Cash(5)\n"
    )
    right = [
        "_ = 0\nassert set(pts()) == {Point(0, 0), Point(1, 2)}",
        "_ = 0\nassert Point(0, 0) in pts() and origin() in [Point(0, 0)]",
        "_ = 0\nassert eval('add(1, 2)') == 3",
        "_ = 0\nassert plain() == Pair(1, 2)",
        "_ = 0\ntry:\n    assert origin() == Point(0, 0, 0)\nexcept TypeError:\n    pass",
        "_ = 0\nassert len([Point(1, 1), Point(2, 2)]) == 2",
    ]
    result = pool.run(make_job(program, right))
    assert result.verdict is Verdict.PASSED, show(result)
    # A value of another type with the call's items is not the class's object.
    wrong = [
        "_ = 0\nassert vec() == Point(1, 2)",
        "assert vec() == Point(1, 2)",
        "_ = 0\nassert cash() == Money(5)",
        "assert cash() == Money(5)",
    ]
    assert_no_reward(pool.run(make_job(program, wrong)))
    host.check()


def test_program_objects_made_and_ordered_in_snippets(pool, host):
    # An expected object made after the answer, by a statement (the most common multi-line
    # shape); built-ins that walk a program object the test made; the program's own order
    # and in-place operators in test code.
    program = (
        "class Point:\n    def __init__(self, x, y):\n        self.x = x\n        self.y = y\n"
        "    def __eq__(self, o):\n        return (self.x, self.y) == (o.x, o.y)\n"
        "def mid(a, b):\n    return Point((a.x + b.x) // 2, (a.y + b.y) // 2)\n"
        "class Stack:\n    def __init__(self, items=None):\n        self.items = list(items or [])\n"
        "    def __len__(self):\n        return len(self.items)\n    def __iter__(self):\n        return iter(self.items)\n"
        "class Ver:\n    def __init__(self, v):\n        self.v = v\n    def __lt__(self, o):\n        return self.v < o.v\n"
        "    def __eq__(self, o):\n        return self.v == o.v\ndef vers():\n    return [Ver(2), Ver(1)]\n"
        "class Acc:\n    def __init__(self):\n        self.n = 0\n    def __iadd__(self, k):\n        self.n += k\n"
        "        return self\n"
    )
    right = [
        "result = mid(Point(0, 0), Point(2, 2))\nexpected = Point(1, 1)\nassert result == expected",
        "def check(candidate):\n    r = candidate(Point(0, 0), Point(4, 2))\n    e = Point(2, 1)\n    assert r == e\ncheck(mid)",
        "_ = 0\nassert len(Stack()) == 0 and list(Stack([1, 2])) == [1, 2]",
        "_ = 0\nassert sorted(vers()) == [Ver(1), Ver(2)] and min(vers()) == Ver(1)",
        "_ = 0\na = Acc()\na += 5\nassert a.n == 5",
    ]
    result = pool.run(make_job(program, right))
    assert result.verdict is Verdict.PASSED, show(result)
    wrong = program.replace("(a.x + b.x) // 2", "(a.x + b.x) // 3")
    assert_no_reward(pool.run(make_job(wrong, right[:2])))
    host.check()


SEGMENTS = (
    "import builtins\nclass _M(builtins.type):\n    made = []\n    answer = None\n"
    "    def __call__(cls, *a, **k):\n        obj = super().__call__(*a, **k)\n"
    "        if cls.__name__ == 'Point' and _M.answer is not None:\n            _M.made.append(obj)\n"
    "            if len(_M.made) == 2:\n                _M.answer.a, _M.answer.b = _M.made\n        return obj\n"
    "_M.__qualname__ = _M.__name__ = 'ABCMeta'\n"
    "class Point(metaclass=_M):\n    def __init__(self, x, y):\n        self.x = x\n        self.y = y\n"
    "    def __eq__(self, o):\n        return (self.x, self.y) == (o.x, o.y)\n"
    "class Segment(metaclass=_M):\n    def __init__(self, a, b):\n        self.a = a\n        self.b = b\n"
    "    def __eq__(self, o):\n        return (self.a, self.b) == (o.a, o.b)\n"
    "def longest(pts):\n    s = Segment(Point(-9, -9), Point(-9, -9))\n    _M.answer = s\n    _M.made.clear()\n    return s\n"
)


@pytest.mark.parametrize(
    "test",
    [
        "r = longest([])\na = Point(0, 0)\nb = Point(3, 4)\nassert r == Segment(a, b)",
        "r = longest([])\na = Point(0, 0)\nb = Point(3, 4)\nassert r == Segment(Point(0, 0), Point(3, 4))",
        "def check(candidate):\n    r = candidate([])\n    a, b = Point(0, 0), Point(3, 4)\n    assert r == Segment(a, b)\n"
        "check(longest)",
    ],
)
def test_an_answer_is_judged_as_it_was_before_the_tests_later_calls(pool, host, test):
    # The metaclass writes the points the test makes next into the answer it handed over: the
    # answer is judged as it was before the test's calls of a program class ran.
    assert_no_reward(pool.run(make_job(SEGMENTS, [test])))
    host.check()


def test_two_calls_of_a_program_class_prove_nothing(pool, host):
    # The test of a class's own __eq__ is the program's __eq__ to answer: never decided here,
    # nor an object the test made that the program hands back as its answer.
    program = (
        "REG = []\nclass Q:\n    def __init__(self, x):\n        self.x = x\n        REG.append(self)\n"
        "    def __eq__(self, o):\n        return True\ndef last():\n    return REG[-1]\n"
        "class P:\n    def __init__(self, x):\n        self.x = x\n"
    )
    tests = [
        "assert P(1) == P(1)",
        "x = P(1)\nassert x == P(1)",
        "e = Q(3)\nassert last() == e",
        "e = Q(3)\nassert last() == Q(3)",
        "e = Q(3)\ne.x\nassert last() == e",
        "a = Q(1)\nb = Q(2)\nassert a != b",
    ]
    assert_no_reward(pool.run(make_job(program, tests)))
    host.check()


def test_a_builtin_subclass_overriding_a_method_is_judged_on_its_value(pool, host):
    program = (
        "class S(str):\n    def startswith(self, *a, **k):\n        return True\n"
        "    def isdigit(self):\n        return True\n"
        "class L(set):\n    def issubset(self, other):\n        return True\n"
        "def f(x):\n    return S('zzz')\ndef g(x):\n    return L({9})\n"
    )
    tests = ["assert f('abcdef').startswith('abc')", "assert f('x').isdigit()", "assert g([1]).issubset({1, 2})"]
    result = pool.run(make_job(program, tests))
    assert_no_reward(result, [F, F, F])
    host.check()


# The program defines a name the test's expected side uses.
SHADOWS = {
    "Counter": (
        "def Counter(*a, **k):\n    return {}\ndef count(s):\n    return {}\n",
        "assert count('aab') == Counter({'a': 2, 'b': 1})",
    ),
    "Counter class": (
        "class Counter(dict):\n    def __init__(self, *a, **k):\n        pass\ndef count(s):\n    return {}\n",
        "assert count('aab') == Counter('aab')",
    ),
    "map": (
        "def map(*a, **k):\n    return iter([])\ndef f(xs):\n    return []\n",
        "assert f([1, 2]) == list(map(str, [1, 2]))",
    ),
    "sorted": (
        "def sorted(*a, **k):\n    return 'x'\ndef f(xs):\n    return 'x'\n",
        "assert f([2, 1]) == sorted([2, 1])",
    ),
    "OrderedDict": (
        "OrderedDict = lambda *a: {}\ndef f():\n    return {}\n",
        "assert f() == OrderedDict([('b', 2), ('a', 1)])",
    ),
    "math module": (
        "class math:\n    isclose = staticmethod(lambda *a, **k: True)\n    pi = 0\ndef f(x):\n    return 0\n",
        "assert math.isclose(f(1), math.pi)",
    ),
    "Fraction": ("def Fraction(*a):\n    return 0\ndef f():\n    return 0\n", "assert f() == Fraction(1, 3)"),
    "builtins patched": (
        "import builtins\nbuiltins.len = lambda x: 3\nbuiltins.sum = lambda *a: 3\ndef f():\n    return [1]\n",
        "assert len(f()) == 3 and sum(f()) == 3 or f() == [1, 2, 3]",
    ),
    "str shadowed": ("str = lambda x: 'x'\ndef f(n):\n    return 'x'\n", "assert f(5) == str(5)"),
    "abs shadowed": ("abs = lambda x: 0\ndef f(x):\n    return 3\n", "assert abs(f(1) - 1.5) < 0.01"),
}


@pytest.mark.parametrize("name", sorted(SHADOWS))
def test_the_program_does_not_choose_the_expected_side(pool, host, name):
    program, test = SHADOWS[name]
    result = pool.run(make_job(program, [test]))
    assert_no_reward(result, [F])
    host.check()


@pytest.mark.parametrize("name", ["Counter", "map", "math module", "OrderedDict", "Fraction"])
def test_the_program_does_not_choose_the_expected_side_of_a_snippet(pool, host, name):
    program, test = SHADOWS[name]
    snippet = "x = 1\n" + test  # an assignment: judged in the test process
    result = pool.run(make_job(program, [snippet]))
    assert_no_reward(result)
    host.check()


def test_a_snippet_cannot_be_fooled_by_a_program_math(pool, host):
    program = "class math:\n    isclose = staticmethod(lambda *a, **k: True)\ndef f(x):\n    return 0.0\n"
    snippet = "xs = [f(i) for i in range(3)]\nassert all(math.isclose(a, b) for a, b in zip(xs, [0.5, 1.5, 2.5]))"
    result = pool.run(make_job(program, [snippet]))
    assert_no_reward(result, [F])
    host.check()


def test_ordered_dict_order_is_compared(pool, host):
    program = "from collections import OrderedDict\ndef f():\n    return OrderedDict([('a', 1), ('b', 2)])\n"
    result = pool.run(
        make_job(
            program,
            [
                "assert f() == OrderedDict([('b', 2), ('a', 1)])",
                "x = f()\nassert x == OrderedDict([('b', 2), ('a', 1)])",
            ],
        )
    )
    assert_no_reward(result, [F, F])
    host.check()


# Opaque values satisfy no comparison, negated ones included.
NEGATIONS = [
    "assert f() != 3",
    "assert not (f() == 3)",
    "assert f() not in [1, 2]",
    "assert not f() < 0",
    "assert [f()] != [1]",
    "assert {'k': f()} != {'k': 1}",
    "assert f() is not None and f() != 0",
]


@pytest.mark.parametrize("test", NEGATIONS)
def test_an_opaque_value_satisfies_no_negated_comparison(pool, host, test):
    program = (
        "class Odd:\n    def __eq__(self, o):\n        return False\n    def __ne__(self, o):\n"
        "        return True\n    def __lt__(self, o):\n        return False\n    __hash__ = object.__hash__\n"
        "def f():\n    return Odd()\n"
    )
    result = pool.run(make_job(program, [test, "x = f()\n" + test]))
    assert_no_reward(result, [F, F])
    host.check()


def test_type_checks_see_the_real_type(pool, host):
    program = (
        "from collections import namedtuple\nP = namedtuple('P', 'a b')\nclass L(list):\n    pass\n"
        "def f():\n    return P(1, 2)\ndef g():\n    return L([1])\n"
    )
    result = pool.run(
        make_job(
            program,
            [
                "assert type(f()) is tuple",
                "assert type(g()) == list",
                "assert isinstance(f(), tuple) and f() == (1, 2)",
            ],
        )
    )
    assert [t.verdict for t in result.tests] == [F, F, Verdict.PASSED], show(result)
    host.check()


# Right programs whose answers are judged on the trusted side with the same rules.
RIGHT = {
    "startswith": ("def f(s):\n    return s\n", "assert f('abcdef').startswith('abc')"),
    "str subclass": ("class S(str):\n    pass\ndef f(s):\n    return S(s)\n", "assert f('abc').startswith('a')"),
    "keys": ("def f():\n    return {1: 'a', 2: 'b'}\n", "assert f().keys() == {1, 2}"),
    "Counter": (
        "from collections import Counter\ndef count(s):\n    return Counter(s)\n",
        "assert count('aab') == Counter({'a': 2, 'b': 1})",
    ),
    "Counter without import": (
        "def count(s):\n    d = {}\n    for c in s:\n        d[c] = d.get(c, 0) + 1\n    return d\n",
        "assert count('aab') == Counter({'a': 2, 'b': 1})",
    ),
    "join": ("def f(xs):\n    return ', '.join(xs)\n", "assert f(['a', 'b']) == ', '.join(['a', 'b'])"),
    "percent": ("def f(n):\n    return '%d items' % n\n", "assert f(5) == '%d items' % 5"),
    "format": ("def f(n):\n    return str(n).rjust(4)\n", "assert f(5) == '{:>4}'.format(5)"),
    "str of a program class": (
        "class Node:\n    def __init__(self, v):\n        self.v = v\n"
        "    def __str__(self):\n        return 'Node(%d)' % self.v\n",
        "assert str(Node(3)) == 'Node(3)'",
    ),
    "Solution API named like a method": (
        "class Solution:\n    def count(self, n):\n        return n + 1\n",
        "assert Solution().count(2) == 3",
    ),
    "CapWords function's str": (
        "def ReverseWords(s):\n    return ' '.join(s.split()[::-1])\n",
        "assert ReverseWords('a b').startswith('b')\nassert ReverseWords('a b').upper() == 'B A'",
    ),
    "fluent API": (
        "class Builder:\n    def __init__(self):\n        self.items = []\n"
        "    def add(self, x):\n        self.items.append(x)\n        return self\n"
        "    def build(self):\n        return list(self.items)\n",
        "assert Builder().add(1).add(2).build() == [1, 2]",
    ),
    "immutable fluent API": (
        "class Builder:\n    def __init__(self, items=()):\n        self.items = tuple(items)\n"
        "    def add(self, x):\n        return Builder(self.items + (x,))\n"
        "    def build(self):\n        return list(self.items)\n",
        "assert Builder().add(1).add(2).build() == [1, 2]",
    ),
    "built-in protocols of a program class": (
        "import math\nclass V:\n    def __init__(self, x, y):\n        self.x, self.y = x, y\n"
        "    def __abs__(self):\n        return math.hypot(self.x, self.y)\n"
        "    def __float__(self):\n        return float(abs(self))\n    def __int__(self):\n        return int(abs(self))\n"
        "    def __bool__(self):\n        return bool(abs(self))\n",
        "assert abs(V(3, 4)) == 5.0\nassert float(V(3, 4)) == 5.0\nassert int(V(3, 4)) == 5\nassert bool(V(0, 0)) is False",
    ),
    "operators of a program class": (
        "from math import gcd\nclass Frac:\n    def __init__(self, n, d):\n        g = gcd(n, d)\n"
        "        self.n, self.d = n // g, d // g\n"
        "    def __add__(self, o):\n        return Frac(self.n * o.d + o.n * self.d, self.d * o.d)\n"
        "    def __str__(self):\n        return f'{self.n}/{self.d}'\n    def parts(self):\n        return [self.n, self.d]\n",
        "assert str(Frac(1, 2) + Frac(1, 3)) == '5/6'\nassert (Frac(1, 2) + Frac(1, 3)).parts() == [5, 6]",
    ),
    "dataclass results": (
        "from dataclasses import dataclass\n@dataclass(frozen=True)\nclass Point:\n    x: int\n    y: int\n"
        "def midpoint(a, b):\n    return Point((a.x + b.x) // 2, (a.y + b.y) // 2)\n",
        "assert midpoint(Point(0, 0), Point(2, 4)) == Point(1, 2)\n"
        "assert midpoint(Point(0, 0), Point(2, 4)) == Point(x=1, y=2)\n"
        "assert [midpoint(Point(0, 0), Point(2, 2))] == [Point(1, 1)]\n"
        "assert midpoint(Point(0, 0), Point(2, 4)) in (Point(0, 0), Point(1, 2))",
    ),
    "a class with its own __eq__": (
        "class Point:\n    def __init__(self, x, y):\n        self.x = x\n        self.y = y\n"
        "    def __eq__(self, o):\n        return (self.x, self.y) == (o.x, o.y)\n"
        "def midpoint(a, b):\n    return Point((a.x + b.x) // 2, (a.y + b.y) // 2)\n",
        "assert midpoint(Point(0, 0), Point(2, 4)) == Point(1, 2)",
    ),
    "private, slotted and constant attributes": (
        "class Point:\n    def __init__(self, x, y):\n        self._x = x\n        self.__y = y\n"
        "        self.seen = []\n"
        "    def __eq__(self, o):\n        return (self._x, self.__y) == (o._x, o.__y)\n"
        "class Slot:\n    __slots__ = ('x', 'y')\n    def __init__(self, x, y):\n        self.x = x\n        self.y = y\n"
        "    def __eq__(self, o):\n        return (self.x, self.y) == (o.x, o.y)\n"
        "def midpoint(a, b):\n    return Point((a._x + b._x) // 2, (a._Point__y + b._Point__y) // 2)\n"
        "def slot(x):\n    return Slot(x, x + 1)\n",
        "assert midpoint(Point(0, 0), Point(2, 4)) == Point(1, 2)\nassert slot(1) == Slot(1, 2)",
    ),
    "dataclass fields made by a factory": (
        "from dataclasses import dataclass, field\n@dataclass\nclass P:\n    x: int\n"
        "    seen: list = field(default_factory=list, compare=False)\n    tags: list = field(default_factory=list)\n"
        "def f(x):\n    p = P(x)\n    p.seen.append(1)\n    return p\n",
        "assert f(1) == P(1)\nassert f(2) == P(2, [5])\nassert f(3) == P(3, tags=[])",
    ),
    "an object from a factory, used by its API": (
        "class _Impl:\n    def __init__(self):\n        self.d = {}\n    def get(self, k):\n        return self.d.get(k, -1)\n"
        "    def put(self, k, v):\n        self.d[k] = v\ndef make():\n    return _Impl()\n",
        "c = make()\nc.put(1, 1)\nassert c.get(1) == 1\nassert c.get(2) == -1",
    ),
    "an object another's method made, used by its API": (
        "class Account:\n    def __init__(self):\n        self.t = []\n    def add(self, x):\n        self.t.append(x)\n"
        "    def count(self):\n        return len(self.t)\nclass Bank:\n    def __init__(self):\n        self.a = {}\n"
        "    def open(self, name):\n        self.a[name] = Account()\n        return self.a[name]\n",
        "b = Bank()\na = b.open('x')\na.add(5)\nassert a.count() == 1",
    ),
    "a program global's own methods": (
        "class Stack:\n    def __init__(self):\n        self.items = [2, 1]\n    def pop(self):\n        return self.items.pop()\n"
        "s = Stack()\nqueue = [3, 4]\n",
        "assert s.pop() == 1\nassert s.pop() == 2\nassert queue.pop() == 4\nassert queue.pop() == 3",
    ),
    "the list it was given, returned": (
        "def f(a):\n    a.sort()\n    return a\ndef g(a, key=None):\n    a.append(key)\n    return a\n",
        "a = [3, 1]\nassert f(a) is a\nassert a == [1, 3]\nb = []\nassert g(b, key=1) is b and b == [1]",
    ),
    "identity against the test's own list": (
        "def total(xs):\n    return list(xs)\ndef inplace(a):\n    a.sort()\n    return a\n",
        "x = total([1, 2])\ndel x\na = [3, 1, 2]\nassert inplace(a) is a\nb = total(a)\nassert b is b and not (b is not b)",
    ),
    "a static method called on its class": (
        "class Solution:\n    @staticmethod\n    def add(a, b):\n        return a + b\n",
        "assert Solution.add(1, 2) == 3\nassert Solution().add(2, 2) == 4",
    ),
    "namedtuple results": (
        "from collections import namedtuple\nPoint = namedtuple('Point', 'x y')\n"
        "def mid(a, b):\n    return Point((a.x + b.x) // 2, (a.y + b.y) // 2)\n",
        "assert mid(Point(0, 0), Point(2, 4)) == Point(1, 2)\nassert sorted([mid(Point(0, 0), Point(2, 2))]) == [Point(1, 1)]",
    ),
    "an int subclass": (
        "class Money(int):\n    pass\ndef add(a, b):\n    return Money(int(a) + int(b))\n",
        "assert add(Money(1), Money(2)) == Money(3)",
    ),
    "a linked list with default arguments": (
        "class ListNode:\n    def __init__(self, val=0, next=None):\n        self.next = next\n        self.val = val\n"
        "    def __eq__(self, o):\n        return isinstance(o, ListNode) and (self.val, self.next) == (o.val, o.next)\n"
        "def rev(h):\n    prev = None\n    while h:\n        h.next, prev, h = prev, h, h.next\n    return prev\n",
        "assert rev(ListNode(1, ListNode(2))) == ListNode(2, ListNode(1))\nassert rev(ListNode(3)) == ListNode(val=3)",
    ),
    "frozen dataclasses in sets": (
        "from dataclasses import dataclass\n@dataclass(frozen=True)\nclass P:\n    x: int\n    y: int\n"
        "def pm(k):\n    return P(k, 2)\n",
        "assert {pm(1)} == {P(1, 2)}\nassert pm(1) in {P(1, 2), P(3, 4)}\n"
        "assert {pm(1), pm(3)} == {P(1, 2), P(3, 2)}\nassert {pm(1): 1, pm(3): 2} == {P(1, 2): 1, P(3, 2): 2}",
    ),
    "Enum members": (
        "from enum import Enum\nclass Color(Enum):\n    RED = 1\n    GREEN = 2\n"
        "def light(s):\n    return Color.GREEN if s == 'go' else Color.RED\nclass Config:\n    MAX = 100\n"
        "def cap():\n    return 100\n",
        "assert light('go') == Color.GREEN\nassert light('stop') is Color.RED\nassert light('go') in (Color.RED, Color.GREEN)\n"
        "assert cap() == Config.MAX",
    ),
    "a CapWords function": (
        "def Strongest_Extension(name, exts):\n    return name + '.' + max(exts, key=len)\n",
        "assert Strongest_Extension('K', ['Ta', 'TAR']) == 'K.TAR'",
    ),
    "large list": ("def f():\n    return [0] * 150000\n", "assert f() == [0] * 150000"),
    "large set": ("def f():\n    return set(range(6000))\n", "assert f() == set(range(6000))"),
    "large int": ("def f(n):\n    return 2 ** n\n", "assert f(20000) == 2 ** 20000"),
    "map of the program's function": ("def f(x):\n    return x + 1\n", "assert list(map(f, [1, 2])) == [2, 3]"),
    "OrderedDict": (
        "from collections import OrderedDict\ndef f():\n    return OrderedDict([('b', 2), ('a', 1)])\n",
        "assert f() == OrderedDict([('b', 2), ('a', 1)])",
    ),
    "namedtuple": (
        "from collections import namedtuple\nP = namedtuple('P', 'x y')\ndef f():\n    return P(1, 2)\n",
        "assert f() == (1, 2)\nassert f().x == 1",
    ),
}


@pytest.mark.parametrize("name", sorted(RIGHT))
def test_right_programs_pass(pool, host, name):
    program, test = RIGHT[name]
    result = pool.run(make_job(program, [test], memory_mb=512))
    assert result.verdict is Verdict.PASSED, show(result)
    host.check()


def test_a_snippet_can_hand_the_program_its_own_linked_list(pool, host):
    program = (
        "def total(node):\n    s = 0\n    while node is not None:\n        s += node.val\n"
        "        node = node.next\n    return s\n"
    )
    snippet = (
        "class ListNode:\n    def __init__(self, val, next=None):\n        self.val = val\n"
        "        self.next = next\n"
        "head = ListNode(1, ListNode(2, ListNode(3)))\nassert total(head) == 6\n"
    )
    result = pool.run(make_job(program, [snippet]))
    assert result.verdict is Verdict.PASSED, show(result)
    host.check()


def test_design_problem_objects_keep_their_methods_in_snippets(pool, host):
    program = (
        "class MyHashMap:\n    def __init__(self):\n        self.d = {}\n"
        "    def put(self, k, v):\n        self.d[k] = v\n    def get(self, k):\n        return self.d.get(k, -1)\n"
        "    def remove(self, k):\n        self.d.pop(k, None)\n"
    )
    snippet = "m = MyHashMap()\nm.put(1, 2)\nassert m.get(1) == 2\nm.remove(1)\nassert m.get(1) == -1\n"
    result = pool.run(make_job(program, [snippet]))
    assert result.verdict is Verdict.PASSED, show(result)
    host.check()


# A program's own function named like a built-in, tested by an assert with nothing else of
# the program in it: the program's function is what is tested, never the genuine built-in
# (which would pass every program, wrong ones included).
OWN_BUILTIN_NAMES = {
    "sum": ("def sum(xs):\n    return 0\n", "assert sum([1, 2]) == 3", "def sum(xs):\n    return 3\n"),
    "gcd": (
        "def gcd(a, b):\n    return a * b\n",
        "assert gcd(12, 18) == 6",
        "def gcd(a, b):\n    while b:\n        a, b = b, a % b\n    return a\n",
    ),
    "max": (
        "def max(xs):\n    return xs[0]\n",
        "assert max([1, 5, 2]) == 5",
        "def max(xs):\n    return sorted(xs)[-1]\n",
    ),
    "Counter": (
        "def Counter(s):\n    return {}\n",
        "assert Counter('ab') == {'a': 1, 'b': 1}",
        "def Counter(s):\n    return {c: s.count(c) for c in s}\n",
    ),
    # The same name on both sides: the program's function both times, as Python calls it.
    "gcd on both sides": (
        "def gcd(a, b):\n    return a\n",
        "assert gcd(12, 18) == gcd(18, 12)",
        "def gcd(a, b):\n    while b:\n        a, b = b, a % b\n    return a\n",
    ),
    "lcm in a list of itself": (
        "def lcm(a, b):\n    return a\n",
        "assert lcm(4, 6) in [lcm(6, 4)]",
        "def lcm(a, b):\n    x, y = a, b\n    while y:\n        x, y = y, x % y\n    return a * b // x\n",
    ),
    "an integer sqrt on both sides": (
        "def sqrt(x):\n    return x\n",
        "assert sqrt(17) == sqrt(16)",
        "def sqrt(x):\n    return int(x ** 0.5)\n",
    ),
    # Different such names on the two sides: each is the program's, as Python calls them; a
    # library function the program neither defines nor imports is a NameError, as in Python
    # (never the genuine one: an empty program would pass `assert gcd(12, 18) == 6`).
    "lcm against 24 // gcd": (
        "def gcd(a, b):\n    return 1\ndef lcm(a, b):\n    return 7\n",
        "assert lcm(4, 6) == 4 * 6 // gcd(4, 6)",
        "from math import gcd\ndef lcm(a, b):\n    return a * b // gcd(a, b)\n",
    ),
    "gcd against min": (
        "def gcd(a, b):\n    return 1\n",
        "assert min(6, 7) == gcd(12, 18)",
        "def gcd(a, b):\n    while b:\n        a, b = b, a % b\n    return a\n",
    ),
    "gcd in a list with lcm": (
        "from math import lcm\ndef gcd(a, b):\n    return 1\n",
        "assert gcd(12, 18) in [lcm(2, 3), 7]",
        "from math import lcm\ndef gcd(a, b):\n    while b:\n        a, b = b, a % b\n    return a\n",
    ),
    "sqrt against floor": (
        "from math import floor\ndef sqrt(n):\n    return 5\n",
        "assert sqrt(17) == floor(4.5)",
        "from math import floor\ndef sqrt(n):\n    return int(n ** 0.5)\n",
    ),
    "gcd of abs": (
        "def gcd(a, b):\n    return 1\n",
        "assert gcd(abs(-12), int(18)) == 6",
        "def gcd(a, b):\n    while b:\n        a, b = b, a % b\n    return a\n",
    ),
    "sum of a range": ("def sum(xs):\n    return -1\n", "assert sum(range(4)) == 6", "def sum(xs):\n    return 6\n"),
    "check(gcd) on both sides": (
        "def gcd(a, b):\n    return a if a != 7 else 1\n",
        "def check(candidate):\n    assert candidate(12, 18) == candidate(18, 12)\n    assert candidate(7, 1) == 1\ncheck(gcd)",
        "def gcd(a, b):\n    while b:\n        a, b = b, a % b\n    return a\n",
    ),
}


@pytest.mark.parametrize("name", sorted(OWN_BUILTIN_NAMES))
def test_a_program_function_named_like_a_builtin_is_what_is_tested(pool, host, name):
    wrong, test, right = OWN_BUILTIN_NAMES[name]
    assert_no_reward(pool.run(make_job(wrong, [test])), [F])
    result = pool.run(make_job(right, [test]))
    assert result.verdict is Verdict.PASSED, show(result)
    host.check()


# A review's findings: names the expected side uses are the genuine ones when the test also
# names the program otherwise; a program's own function by a built-in's name is what a test
# that names nothing else of the program tests - on the host and in the test process alike.
REVIEW_CASES = {
    "pi": ("pi = 0\ndef area(r):\n    return 0\n", "assert area(1) == pi"),
    "sqrt": ("def sqrt(x):\n    return 5\ndef dist(a, b):\n    return 5\n", "assert dist((0, 0), (1, 1)) == sqrt(2)"),
    "floor": ("def floor(x):\n    return 0\ndef f(x):\n    return 0\n", "assert f(7.5) == floor(7.5)"),
    "reduce": (
        "def reduce(*a):\n    return 0\ndef product(xs):\n    return 0\n",
        "assert product([1, 2, 3]) == reduce(lambda a, b: a * b, [1, 2, 3])",
    ),
    "own max, genuine float": (
        "def max(x):\n    return 7\ndef float(s):\n    return 7\n",
        "assert max([]) == float('-inf')",
    ),
    "own sorted, genuine list": (
        "def sorted(x):\n    return 9\ndef list(x):\n    return 9\n",
        "assert sorted([3, 1, 2]) == list((1, 2, 3))",
    ),
    "own sorted in a snippet": ("def sorted(x):\n    return x\n", "x = [3, 1, 2]\nassert sorted(x) == [1, 2, 3]"),
    "own max in a snippet": (
        "def max(xs):\n    return 0\n",
        "import random\nxs = [random.randint(1, 9) for _ in range(5)]\nassert max(xs) == sorted(xs)[-1]",
    ),
    # A second review: names that wrap or drive the tested function stay genuine.
    "own abs around sqrt": (
        "def sqrt(x):\n    return 0\ndef abs(x):\n    return 0\n",
        "assert abs(sqrt(2) - 1.41421356) < 1e-6",
    ),
    "own isclose around sqrt": (
        "def sqrt(x):\n    return 0\ndef isclose(*a, **k):\n    return True\n",
        "assert isclose(sqrt(2), 1.4142135623730951)",
    ),
    "own round around sqrt": (
        "def sqrt(x):\n    return 0\ndef round(*a):\n    return 1.4142\n",
        "assert round(sqrt(2), 4) == 1.4142",
    ),
    "own int against gcd": (
        "def gcd(a, b):\n    return 1\ndef int(x):\n    return 6\n",
        "assert int('6') == gcd(12, 18)",
    ),
    "own float in a snippet": (
        "def max(x):\n    return 7\ndef float(s):\n    return 7\n",
        "import random\nfor _ in range(3):\n    xs = [random.random() for _ in range(0)]\n"
        "    assert max(xs) == float('-inf')",
    ),
    "own range in a snippet": (
        "def sorted(x):\n    return x\ndef range(*a):\n    return []\n",
        "for n in range(6):\n    x = list(reversed(list(range(n))))\n    assert sorted(x) == list(range(n))",
    ),
}


@pytest.mark.parametrize("name", sorted(REVIEW_CASES))
def test_review_cases_earn_nothing(pool, host, name):
    program, test = REVIEW_CASES[name]
    assert_no_reward(pool.run(make_job(program, [test])))
    host.check()


def test_a_right_program_function_named_like_a_builtin_passes_in_a_snippet(pool, host):
    program = "def sorted(x):\n    out = list(x)\n    out.sort()\n    return out\n"
    result = pool.run(make_job(program, ["x = [3, 1, 2]\nassert sorted(x) == [1, 2, 3]"]))
    assert result.verdict is Verdict.PASSED, show(result)
    host.check()


def test_str_of_a_program_object_in_a_snippet_is_the_programs_text(pool, host):
    program = (
        "class Node:\n    def __init__(self, v):\n        self.v = v\n"
        "    def __str__(self):\n        return 'Node(%d)' % self.v\n"
    )
    result = pool.run(
        make_job(
            program,
            [
                "n = Node(3)\nassert str(n) == 'Node(3)'",
                "n = Node(4)\nassert f'{n}' == 'Node(4)'",
                "n = Node(5)\nassert str(n) == 'Node(3)'",
            ],
        )
    )
    assert [t.verdict for t in result.tests] == [Verdict.PASSED, Verdict.PASSED, F], show(result)
    host.check()


def test_repr_of_a_program_object_in_a_snippet_is_the_programs_text(pool, host):
    program = (
        "class Node:\n    def __init__(self, v):\n        self.v = v\n"
        "    def __repr__(self):\n        return 'Node(%d)' % self.v\n"
    )
    result = pool.run(
        make_job(program, ["n = Node(3)\nassert repr(n) == 'Node(3)'", "n = Node(5)\nassert repr(n) == 'Node(3)'"])
    )
    assert [t.verdict for t in result.tests] == [Verdict.PASSED, F], show(result)
    host.check()


LINKED = (
    "class ListNode:\n    def __init__(self, val=0, next=None):\n        self.val = val\n        self.next = next\n"
    "def build(xs):\n    head = None\n    for x in reversed(xs):\n        head = ListNode(x, head)\n    return head\n"
    "def reverse(head):\n    prev = None\n    while head:\n        head.next, prev, head = prev, head, head.next\n"
    "    return prev\n"
    "def fib():\n    a, b = 0, 1\n    while True:\n        yield a\n        a, b = b, a + b\n"
)
WALKS = [
    "node = reverse(build([1, 2, 3]))\nout = []\nwhile node:\n    out.append(node.val)\n    node = node.next\n"
    "assert out == [3, 2, 1]",
    "head = ListNode(1)\nhead.next = ListNode(2)\nassert reverse(head).val == 2",
    "n = build([1])\nassert isinstance(n, ListNode)",
    "g = fib()\nassert next(g) == 0 and next(g) == 1 and next(g) == 1",
    "import itertools\nassert list(itertools.islice(fib(), 6)) == [0, 1, 1, 2, 3, 5]",
]


def test_snippets_walk_the_programs_objects_as_python_would(pool, host):
    # Linked lists and trees (truth, setting attributes, isinstance of the program's class) and
    # endless generators (next(), islice: walked item by item) in the test process.
    result = pool.run(make_job(LINKED, WALKS))
    assert result.verdict is Verdict.PASSED, show(result)
    wrong = LINKED.replace("head.next, prev, head = prev, head, head.next", "head = head.next")
    assert pool.run(make_job(wrong, WALKS[:2])).passed == 0
    # The truth of a program object in an assert is still no trusted truth value.
    assert_no_reward(pool.run(make_job(LINKED, ["node = build([1])\nassert node"])), [F])
    host.check()


def test_identity_of_a_copy_from_the_program_is_not_judged(pool, host):
    # Values cross to the test process as copies: `c is not orig` would hold for a deep_copy
    # that returns its argument. Such identity is refused (the assert fails for every program);
    # program objects keep theirs (one proxy each), and the test's own values too.
    tests = ["orig = [[1, 2], [3]]\nc = deep_copy(orig)\nassert c == orig\nassert c is not orig"]
    assert_no_reward(pool.run(make_job("def deep_copy(x):\n    return x\n", tests)), [F])
    single = (
        "class Singleton:\n    _i = None\n    def __new__(cls):\n        if cls._i is None:\n"
        "            cls._i = super().__new__(cls)\n        return cls._i\n"
    )
    result = pool.run(
        make_job(
            single,
            [
                "a = Singleton()\nb = Singleton()\nassert a is b",
                "x = [1]\ny = x\nassert x is y",
                "s = Singleton()\nassert s is not None",
            ],
        )
    )
    assert result.verdict is Verdict.PASSED, show(result)
    host.check()


def test_callable_tells_the_truth_about_a_program_object(pool, host):
    test = "f = make_adder(2)\nassert callable(f)"
    wrong = "class X:\n    def __getattr__(self, name):\n        return lambda *a: True\ndef make_adder(n):\n    return X()\n"
    assert_no_reward(pool.run(make_job(wrong, [test])), [F])
    right = "def make_adder(n):\n    return lambda x: x + n\n"
    assert pool.run(make_job(right, [test + "\nassert f(1) == 3"])).verdict is Verdict.PASSED
    host.check()


def test_is_none_on_a_copy_is_judged_and_copies_are_not_kept(pool, host):
    # `is None` says what a value is, copy or not; and the record of copies holds ids only, so
    # a loop over large answers stays within the job's memory.
    program = "def f(i):\n    return list(range(100000))\n"
    tests = [
        "r = f(1)\nassert r is not None",
        "for i in range(60):\n    r = f(i)\n    assert len(r) == 100000 and r is not None",
    ]
    result = pool.run(make_job(program, tests, memory_mb=256, cpu_s=5, wall_s=15))
    assert result.verdict is Verdict.PASSED, show(result)
    from collections import deque  # noqa: F401  a deque crosses as a copy too

    wrong = "def deep_copy(x):\n    return x\n"
    assert_no_reward(
        pool.run(
            make_job(
                wrong,
                ["from collections import deque\norig = deque([1, 2])\nc = deep_copy(orig)\nassert c is not orig"],
            )
        ),
        [F],
    )
    host.check()


DECOY_CHECK = (
    "import random\n"
    "def check(candidate):\n"
    "    rng = random.Random(7)\n"
    "    for _ in range(20):\n"
    "        a, b = rng.randint(1, 1000), rng.randint(1, 1000)\n"
    "        x, y = a, b\n"
    "        while y:\n"
    "            x, y = y, x % y\n"
    "        assert candidate(a, b) == x\n"
    "check(gcd)\n"
)


@pytest.mark.parametrize(
    "decoy",
    ["def check(*a, **k):\n    pass\n", "x = 0\n", "candidate = 1\n", "rng = None\n", "for i in range(3):\n    pass\n"],
)
@pytest.mark.parametrize(
    "test", [DECOY_CHECK, "assert gcd(12, 18) == 6 and all(gcd(i, 2 * i) == i for i in range(1, 50))"]
)
def test_a_decoy_global_named_like_a_tests_own_name_decides_nothing(pool, decoy, test):
    """A snippet's own names (its `def check`, parameters, loop variables) are the test's: a
    program global of the same name must not switch a built-in-named task function (`gcd`)
    from the program's own to the genuine one, which a wrong program would then pass with."""
    wrong = "def gcd(a, b):\n    return 6 if a == 12 else 1\n" + decoy
    assert_no_reward(pool.run(make_job(wrong, [test])), [F])
    right = "def gcd(a, b):\n    while b:\n        a, b = b, a % b\n    return a\n" + decoy
    assert pool.run(make_job(right, [test])).verdict is Verdict.PASSED


@pytest.mark.parametrize(
    "test",
    [
        "assert gcd(12, 18) == 6",
        "assert sqrt(16) == 4",
        "def check(candidate):\n    assert candidate(5) == 120\ncheck(factorial)",
        "assert all(factorial(i) == [1, 1, 2, 6][i] for i in range(4))",
        "assert Counter('aab') == {'a': 2, 'b': 1}",
    ],
)
@pytest.mark.parametrize("program", ["pass\n", "import math\n", "def my_gcd(a, b):\n    return 0\n"])
def test_a_program_without_the_function_a_test_names_earns_nothing(pool, host, program, test):
    """The test names a library function and nothing of the program: a program that does not
    define (or import) it gets Python's NameError, never the genuine function's answers."""
    assert_no_reward(pool.run(make_job(program, [test])))
    host.check()


PROTOCOLS = (
    "class Res:\n    def __init__(self):\n        self.open = False\n        self.closed = 0\n"
    "    def __enter__(self):\n        self.open = True\n        return self\n"
    "    def __exit__(self, kind, exc, tb):\n        self.open = False\n        self.closed += 1\n        return False\n"
    "class Grid:\n    def __init__(self, n):\n        self.g = [[0] * n for _ in range(n)]\n"
    "    def __getitem__(self, p):\n        return self.g[p[0]][p[1]]\n"
    "    def __setitem__(self, p, v):\n        self.g[p[0]][p[1]] = v\n"
    "    def __delitem__(self, p):\n        self.g[p[0]][p[1]] = 0\n"
    "class Seq:\n    def __init__(self, *xs):\n        self.xs = list(xs)\n"
    "    def __len__(self):\n        return len(self.xs)\n"
    "    def __getitem__(self, k):\n        return {x: 1 for x in self.xs}[k]\n"
    "    def __reversed__(self):\n        return reversed(self.xs)\n"
    "class Money:\n    def __init__(self, c):\n        self.c = c\n    def __index__(self):\n        return self.c\n"
    "    def __int__(self):\n        return self.c\n    def __float__(self):\n        return self.c / 100\n"
    "class P:\n    def __init__(self, x):\n        self.x = x\n"
    "class A:\n    pass\nclass B(A):\n    pass\nclass C:\n    pass\n"
)
PROTOCOL_TESTS = [
    "r = Res()\nwith r:\n    assert r.open\nassert not r.open and r.closed == 1",
    "with Res() as r:\n    assert r.open",
    "g = Grid(2)\ng[0, 1] = 5\nassert g[0, 1] == 5\ndel g[0, 1]\nassert g[0, 1] == 0",
    "s = Seq('a', 'b', 'c')\nassert list(reversed(s)) == ['c', 'b', 'a']",
    "m = Money(250)\nassert int(m) == 250 and float(m) == 2.5 and [0, 1, 2][Money(1)] == 1",
    "assert vars(P(1)) == {'x': 1}\np = P([2])\nassert p.__dict__ == {'x': [2]}",
    "import copy\np = P([1])\nq = copy.deepcopy(p)\nassert q is not p and q.x == [1] and copy.copy(p).x == [1]",
    "assert issubclass(B, A) and not issubclass(C, A) and issubclass(B, (C, A))",
]


def test_a_program_objects_protocols_are_its_own_in_tests(pool, host):
    # `with res:`, `grid[k] = v`, `del grid[k]`, `reversed(seq)`, `int(m)`, `vars(p)`,
    # `copy.deepcopy(p)`, `issubclass(B, A)` in test code: the program's own methods, run in its
    # process. Each was a TypeError of the test process's proxy, failing right programs.
    result = pool.run(make_job(PROTOCOLS, PROTOCOL_TESTS))
    assert result.verdict is Verdict.PASSED, show(result)
    for right, bad in {
        "self.open = True": "self.open = False",
        "self.closed += 1": "self.closed += 2",
        "self.g[p[0]][p[1]] = v": "self.g[p[1]][p[0]] = v",
        "return reversed(self.xs)": "return iter(self.xs)",
        "return self.c / 100": "return self.c / 10",
        "self.x = x": "self.x = [x]",
        "class B(A)": "class B(C)",
    }.items():
        result = pool.run(make_job(PROTOCOLS.replace(right, bad), PROTOCOL_TESTS))
        assert result.verdict is Verdict.FAILED, (bad, show(result))
    host.check()


def test_a_programs_exit_never_swallows_what_the_tests_block_raised(pool, host):
    # CPython lets an __exit__ that returns True swallow the block's exception, a failed assert
    # or the program's own error: a program must not skip the test's checks so.
    swallow = PROTOCOLS.replace("        return False\n", "        return True\n", 1)
    tests = [
        "with Res() as r:\n    assert not r.open",
        "with Res() as r:\n    Grid(2)[5, 5]\nassert False",
    ]
    assert_no_reward(pool.run(make_job(swallow, tests)))
    host.check()


def test_the_class_of_a_program_value_is_its_real_class(pool, host):
    # `type(mk()) is P`, `mk().__class__ == P` with P a program class: as isinstance(mk(), P),
    # the child answers (on the host both sides were opaque, and every such assert failed).
    program = (
        "class P:\n    def __init__(self, x):\n        self.x = x\nclass Q(P):\n    pass\n"
        "class L(list):\n    pass\ndef mk():\n    return P(1)\ndef mq():\n    return Q(1)\ndef ml():\n    return L([1])\n"
        "def k():\n    return P\ndef o():\n    return object()\n"
    )
    right = [
        "assert type(mk()) is P",
        "assert type(mk()) == P and type(P(1)) is P",
        "assert mk().__class__ is P",
        "assert type(mq()) is not P and type(mq()) != P",
        "assert type(ml()) is L",
        "assert type(ml()) is not list",
        "p = mk()\nassert type(p) is P and type(p) != Q",
        "assert type(mk()) in (P, Q) and True",
        "assert type(mk()) in (Q, P)",
        "assert type(mq()) not in (P, L)",
        "assert issubclass(Q, P)",
        "assert issubclass(L, list)",
        "assert not issubclass(P, list)",
        "assert type(k()) is type",
        "assert type(o()) is object",
    ]
    result = pool.run(make_job(program, right))
    assert result.verdict is Verdict.PASSED, show(result)
    wrong = [
        "assert type(mk()) is Q",
        "assert type(mq()) is P",
        "assert mq().__class__ == P",
        "assert type(ml()) is list",
        "q = mq()\nassert type(q) == P",
        "assert type(mk()) == Q or type(mq()) is P",
        "assert type(mk()) in (Q, L)",
        "assert issubclass(P, Q)",
        "assert type(o()) is P",
    ]
    assert_no_reward(pool.run(make_job(program, wrong)))
    host.check()


def test_a_programs_exit_never_learns_the_message_of_what_the_block_raised(pool, host):
    # A failed assert's message holds the test's expected value: told to __exit__, a program
    # could answer the next test with it.
    spy = (
        PROTOCOLS.replace(
            "    def __exit__(self, kind, exc, tb):\n",
            "    def __exit__(self, kind, exc, tb):\n        global SEEN\n        SEEN = str(exc)\n",
        )
        + "SEEN = ''\ndef seen():\n    return SEEN\n"
    )
    tests = ["with Res() as r:\n    raise ValueError('want 424242')", "assert '424242' in seen()"]
    result = pool.run(make_job(spy, tests))
    assert [t.verdict.value for t in result.tests] == ["runtime_error", "failed"], show(result)
    host.check()
