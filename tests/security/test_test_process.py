"""Attacks on snippet tests that run in the sandbox's test process (found in a review):
the program's globals, opaque values, builtin-wrapped probes and names an earlier snippet
bound indirectly must not turn a wrong program into a pass or leak a test's literals."""

import pytest

from .security_support import assert_no_reward, make_job

FORGE_DUNDER = r"""
import sys
f = sys._getframe()
while f is not None and 'rpc' not in f.f_globals:
    f = f.f_back
if f is not None:
    E = f.f_globals['rpc'].Endpoint
    _orig = E._handle
    def _handle(self, msg):
        r = _orig(self, msg)
        if msg.get("op") == "names":
            r["names"]["__name__"] = {"v": "not_main"}
        return r
    E._handle = _handle
def solve(x):
    return 0
"""

OPAQUE = "class O:\n    pass\ndef solve(x):\n    return O()\n"

CASES = {
    "program shadows range": (
        "def solve(x):\n    return 0\nrange = lambda *a: []\n",
        ["for i in range(5):\n    assert solve(i) == i * 2"],
    ),
    "program shadows abs": (
        "def solve(x):\n    return 0.0\nabs = lambda x: 0\n",
        ["for i in range(3):\n    assert abs(solve(i) - i * 2.5) < 1e-6"],
    ),
    "program shadows sorted (and would see the expected list)": (
        "def solve(x):\n    return [0]\ndef sorted(v):\n    raise ValueError('leaked %r' % (v,))\n",
        ["for x, want in [(1, [3, 1, 2])]:\n    got = solve(x)\n    assert sorted(got) == sorted(want)"],
    ),
    "program patches the math it imported": (
        "import math\nmath.isclose = lambda *a, **k: True\ndef solve(x):\n    return 0.0\n",
        ["for x in [1, 2]:\n    assert math.isclose(solve(x), x * 1.5)"],
    ),
    "forged __name__ in the names reply": (
        FORGE_DUNDER,
        [
            'def check(candidate):\n    assert candidate(1) == 42\nif __name__ == "__main__":\n'
            "    check(solve)\nelse:\n    assert False"
        ],
    ),
    "opaque value under `not !=`": (OPAQUE, ["for x, want in [(1, 42), (2, 43)]:\n    assert not (solve(x) != want)"]),
    "opaque value under `not any(!=)`": (
        OPAQUE,
        ["cases = [(1, 42), (2, 43)]\nassert not any(solve(x) != w for x, w in cases)"],
    ),
    "opaque value summed": (OPAQUE, ["cases = [(1, 42), (2, 43)]\nassert sum(solve(x) != w for x, w in cases) == 0"]),
    "huge int under `not !=`": (
        "def solve(x):\n    return 10 ** 20000\n",
        ["for x, want in [(1, 42)]:\n    assert not (solve(x) != want)"],
    ),
    "set subclass with a rigged issubset": (
        "class S(set):\n    def issubset(self, o):\n        raise ValueError('leaked %r' % (o,))\nset = S\n"
        "def solve(x):\n    return [99]\n",
        ["assert set(solve(3)).issubset({1, 2, 3})"],
    ),
    "name bound by `global` in an earlier snippet": (
        "expected = 0\ndef solve(x):\n    return 0\n",
        ["def setup():\n    global expected\n    expected = 42\nsetup()", "assert solve(1) == expected"],
    ),
    "name bound by a walrus in an earlier snippet": (
        "expected = 0\ndef solve(x):\n    return 0\n",
        ["[(expected := 42) for _ in range(1)]", "assert solve(1) == expected"],
    ),
    "name bound by exec in an earlier snippet": (
        "expected = 0\ndef solve(x):\n    return 0\n",
        ["exec('expected = 42')", "assert solve(1) == expected"],
    ),
    # The program may walk and relink the test's own objects (a ListNode the test built), never
    # shadow a method the test then calls on them, nor set a name they do not hold.
    "program shadows the test's own method on its object": (
        "def solve(node):\n    node.same = lambda *a: True\n    return node\n",
        [
            "class N:\n    def __init__(self, v):\n        self.v = v\n    def same(self, o):\n"
            "        return self.v == o.v\nassert solve(N(1)).same(N(2))"
        ],
    ),
    "program adds an attribute the test reads": (
        "def solve(node):\n    node.ok = True\n    return node\n",
        ["class N:\n    ok = False\n    def __init__(self, v):\n        self.v = v\nassert solve(N(1)).ok"],
    ),
    "program replaces a test object's value with a rigged one": (
        "class Eq:\n    def __eq__(self, o):\n        return True\ndef solve(node):\n    node.v = Eq()\n    return node\n",
        ["class N:\n    def __init__(self, v):\n        self.v = v\nassert solve(N(1)).v == 2"],
    ),
    # Awaiting a program's coroutine runs it in the program's process; what it returns is the
    # program's value, judged as any other.
    "coroutine returning an always-equal object": (
        "import asyncio\nclass Eq:\n    def __eq__(self, o):\n        return True\n"
        "async def solve(x):\n    return Eq()\n",
        ["assert asyncio.run(solve(1)) == 2"],
    ),
    "coroutine that is not one, with a rigged send": (
        "class coroutine:\n    def send(self, v):\n        raise StopIteration(2)\n"
        "    def __await__(self):\n        return iter(())\n"
        "def solve(x):\n    return coroutine()\n",
        ["import asyncio\nassert asyncio.run(solve(1)) == 2"],
    ),
    "a wrong coroutine awaited by the test's own": (
        "async def solve(x):\n    return x * 3\n",
        ["import asyncio\nasync def t():\n    assert await solve(1) == 2\nasyncio.run(t())"],
    ),
    # A program's array crosses as a copy made by the test process's numpy; a fake numpy or a
    # rigged array class in the program's process only chooses its own values.
    "a fake numpy whose array's tolist lies about nothing it can win": (
        "import sys, types\nclass ndarray:\n    dtype = type('D', (), {'kind': 'i', 'str': '<i8'})()\n"
        "    shape = (3,)\n    def tolist(self):\n        return [9, 9, 9]\n"
        "    def __eq__(self, o):\n        return True\n"
        "fake = types.ModuleType('numpy')\nfake.ndarray = ndarray\nsys.modules['numpy'] = fake\n"
        "def solve(x):\n    return ndarray()\n",
        ["import numpy as np\nassert (solve(1) == np.array([2, 4, 6])).all()"],
    ),
    "an array subclass with a rigged __eq__": (
        "import numpy as np\nclass A(np.ndarray):\n    def __eq__(self, o):\n        return np.ones(3, bool)\n"
        "def solve(x):\n    return np.array([0, 0, 0]).view(A)\n",
        ["import numpy as np\nassert (solve(1) == np.array([2, 4, 6])).all()"],
    ),
    "an object array holding an always-equal object": (
        "import numpy as np\nclass Eq:\n    def __eq__(self, o):\n        return True\n"
        "def solve(x):\n    a = np.empty(3, object)\n    a[:] = [Eq(), Eq(), Eq()]\n    return a\n",
        ["import numpy as np\nassert (solve(1) == np.array([2, 4, 6])).all()"],
    ),
    # numpy raises where shapes do not broadcast; falling back to identity made `!=` true.
    "an array of the wrong length under !=": (
        "import numpy as np\ndef solve(a):\n    return np.array([0, 0])\n",
        ["import numpy as np\na = np.arange(10)\nassert np.any(solve(a) != a)"],
    ),
    "an empty array under all-==": (
        "import numpy as np\ndef solve(a):\n    return np.empty((0, 3))\n",
        ["import numpy as np\nassert (solve(1) == np.array([2, 4, 6])).all()"],
    ),
    "a one-item array under all-==": (
        "import numpy as np\ndef solve(a):\n    return np.array([2])\n",
        ["import numpy as np\nassert (solve(1) == [2, 2, 2]).all()"],
    ),
    "an empty array under not-any-==": (
        "import numpy as np\ndef solve(a):\n    return np.array([])\n",
        ["import numpy as np\na = np.arange(10)\nassert not np.any(solve(a) == a)"],
    ),
    "a program object compared with a dtype": (
        "import numpy as np\nclass T:\n    def __eq__(self, o):\n        return True\n"
        "def solve(x):\n    return T()\ndef arr():\n    return np.array([1])\n",
        ["import numpy as np\nassert arr().dtype == solve(1)"],
    ),
    "StopIteration ends the test's loop early": (
        "def solve(x):\n    raise StopIteration\n",
        ["assert all(map(lambda x: solve(x) == x + 1, [1, 2, 3]))"],
    ),
}


@pytest.mark.parametrize("name", sorted(CASES))
def test_no_reward(pool, host, name):
    program, tests = CASES[name]
    if len(tests) == 1:  # an assignment keeps it in the test process (no loop unrolled on the host)
        tests = ["_in_test_process = True\n" + tests[0]]
    result = pool.run(make_job(program, tests))
    host.check()
    if len(tests) > 1:  # the first test is the (passing) set-up snippet
        assert result.tests[-1].verdict.value != "passed", result
        assert "leaked" not in str(result)
        return
    assert_no_reward(result)
    assert "leaked" not in str(result), result
