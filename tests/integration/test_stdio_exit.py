"""What a script's interpreter does at its exit, a stdin/stdout run does too: atexit handlers
run and every stream is flushed (a common fast-output template prints nothing before then)."""

import pytest

from executor import Verdict

FAST_IO = """
import os, sys, atexit
from io import BytesIO, StringIO
input = BytesIO(os.read(0, os.fstat(0).st_size)).readline
_OUTPUT_BUFFER = StringIO()
sys.stdout = _OUTPUT_BUFFER

@atexit.register
def write():
    sys.__stdout__.write(_OUTPUT_BUFFER.getvalue())

a, b = map(int, input().split())
print(a + b)
"""


def test_atexit_handlers_write_the_output(run):
    tests = [{"stdin": "1 2\n", "expected_stdout": "3\n"}, {"stdin": "5 5\n", "expected_stdout": "10\n"}]
    assert run(FAST_IO, tests).verdict is Verdict.PASSED
    assert run(FAST_IO.replace("a + b", "a - b"), tests).verdict is Verdict.FAILED


@pytest.mark.parametrize(
    "writer",
    ['open(1, "w")', 'os.fdopen(1, "w")', 'open("/dev/stdout", "w")', "io.TextIOWrapper(io.FileIO(1, 'w'))"],
)
def test_a_writer_a_global_holds_is_flushed_at_the_end(run, writer):
    # `write = open(1, "w").write` at module level (a contest fast-output habit): the
    # interpreter flushes it when it clears the script's globals at exit, and so does a run.
    program = f"import io, os\nwrite = {writer}.write\na, b = map(int, input().split())\nwrite(str(a + b) + '\\n')\n"
    tests = [{"stdin": "1 2\n", "expected_stdout": "3\n"}]
    assert run(program, tests).verdict is Verdict.PASSED
    assert run(program.replace("a + b", "a - b"), tests).verdict is Verdict.FAILED


def test_handlers_run_after_sys_exit_and_their_errors_change_nothing(run):
    after_exit = (
        "import sys, atexit\nout = ['3\\n']\natexit.register(lambda: sys.stdout.write(''.join(out)))\nsys.exit(0)\n"
    )
    raising = "import atexit\ndef boom():\n    raise ValueError\natexit.register(boom)\nprint(3)\n"
    for program in (after_exit, raising):
        result = run(program, [{"stdin": "", "expected_stdout": "3\n"}])
        assert result.verdict is Verdict.PASSED, result


# The contest idiom: `main` in a thread with a big stack, started and never joined.
THREADED = """
import sys, threading
sys.setrecursionlimit(1 << 25)
threading.stack_size(1 << 27)
def main():
    n = int(input())
    def depth(k):
        return 0 if k == 0 else 1 + depth(k - 1)
    print(depth(n))
threading.Thread(target=main).start()
"""


def test_the_script_ends_when_its_threads_do(run):
    tests = [{"stdin": "50000\n", "expected_stdout": "50000\n"}, {"stdin": "3\n", "expected_stdout": "3\n"}]
    assert run(THREADED, tests).verdict is Verdict.PASSED
    late = "import threading, time\ndef main():\n    time.sleep(0.2)\n    print(42)\nthreading.Thread(target=main).start()\n"
    assert run(late, [{"stdin": "", "expected_stdout": "42\n"}]).verdict is Verdict.PASSED
    raw = run(late, [{"raw": {"stdin": ""}}]).tests[0].output
    assert raw is not None and raw.stdout == "42\n", raw


def test_a_daemon_thread_is_not_waited_for_and_a_thread_that_never_ends_is_a_timeout(run):
    daemon = "import threading, time\nthreading.Thread(target=time.sleep, args=(30,), daemon=True).start()\nprint(1)\n"
    result = run(daemon, [{"stdin": "", "expected_stdout": "1\n"}])
    assert result.verdict is Verdict.PASSED, result
    forever = "import threading\ndef spin():\n    while True:\n        pass\nthreading.Thread(target=spin).start()\nprint(1)\n"
    result = run(forever, [{"stdin": "", "expected_stdout": "1\n"}])
    assert result.tests[0].verdict is Verdict.TIMEOUT, result


# A script runs as `python3 solution.py` runs it: in a real module named __main__.
SCRIPT_IDIOMS = [
    # dataclasses reads a string annotation's ClassVar from sys.modules[cls.__module__]
    "from __future__ import annotations\nfrom dataclasses import dataclass\nfrom typing import ClassVar\n"
    "@dataclass\nclass P:\n    c: ClassVar[int] = 1\n    x: int = 0\nprint(P(6).x)\n",
    "import sys\ndef solve():\n    return 6\nprint(getattr(sys.modules[__name__], 'solve')())\n",
    "import __main__\ndef g():\n    return 6\nprint(__main__.g())\n",
    "import pickle\nclass A:\n    v = 6\nprint(pickle.loads(pickle.dumps(A())).v)\n",
    "import sys\nprint(6 if __file__ == sys.argv[0] == 'solution.py' else 0)\n",
    "import sys\nprint(6)\nsys.exit(False)\n",
]


@pytest.mark.parametrize("program", SCRIPT_IDIOMS)
def test_a_script_runs_as_the_interpreter_runs_one(run, program):
    result = run(program, [{"stdin": "", "expected_stdout": "6\n"}])
    assert result.verdict is Verdict.PASSED, result
    raw = run(program, [{"raw": {"stdin": ""}}]).tests[0].output
    assert raw is not None and (raw.stdout, raw.exit_code) == ("6\n", 0), raw


def test_the_zygotes_own_module_is_not_the_scripts(run):
    program = "import sys\nprint(sorted(k for k in vars(sys.modules['__main__']) if not k.startswith('__')))\n"
    result = run(program, [{"stdin": "", "expected_stdout": "['sys']\n"}])
    assert result.verdict is Verdict.PASSED, result


CLOSES_ITS_OUTPUT = (
    "import os\nprint('ok', flush=True)\nos.close(1)\nos.close(2)\ns = 0\nfor i in range(2 * 10 ** 6):\n    s += i\n"
)


def test_a_program_that_closes_its_output_and_works_on_ends_on_its_own(run):
    # Both pipes at their end is not the program's end: its exit status is its own, not a kill.
    assert run(CLOSES_ITS_OUTPUT, [{"stdin": "", "expected_stdout": "ok\n"}]).verdict is Verdict.PASSED
    raw = run(CLOSES_ITS_OUTPUT + "os._exit(4)\n", [{"raw": {"stdin": ""}}]).tests[0].output
    assert raw is not None and (raw.stdout, raw.exit_code, raw.signal) == ("ok\n", 4, None), raw
    # ... and it is still held to its limits.
    looping = run(
        "import os\nos.close(1)\nos.close(2)\nwhile True:\n    pass\n",
        [{"stdin": "", "expected_stdout": ""}],
        limits={"cpu_s": 0.5, "wall_s": 5},
    )
    assert looping.tests[0].verdict is Verdict.TIMEOUT, looping
    # ... its scratch files too.
    writer = run(
        "import os, time\nos.close(1)\nos.close(2)\nfor i in range(40):\n    with open(f'f{i}', 'wb') as fh:\n"
        "        fh.write(b'x' * (1 << 20))\ntime.sleep(1)\n",
        [{"stdin": "", "expected_stdout": ""}],
        limits={"disk_mb": 16, "wall_s": 5},
    )
    assert writer.verdict is not Verdict.PASSED and "disk" in (writer.tests[0].message or ""), writer


# A failed flush of sys.stdout or sys.stderr at the end (fd 1 closed, then printed) is the
# interpreter's exit status 120, whatever the program's own; a closed or replaced stream is not
# flushed at all. Each program's status is taken from the real interpreter, run beside it.
FLUSH_AT_EXIT = [
    "import os\nos.close(1)\nprint('x')\n",
    "print('x')\nimport os\nos.close(1)\n",
    "import os, sys\nos.close(1)\nprint('x')\nsys.exit(3)\n",
    "import os\nos.close(1)\nprint('x')\nraise ValueError('boom')\n",
    "import os, sys\nos.close(2)\nsys.stderr.write('x')\n",
    "import sys\nclass W:\n    def write(self, s): pass\n    def flush(self): raise ValueError\nsys.stdout = W()\n",
    "import sys\nclass W:\n    @property\n    def closed(self): raise ValueError\n    def flush(self): raise ValueError\n"
    "sys.stdout = W()\n",
    "import sys\nclass W:\n    closed = True\n    def flush(self): raise ValueError\nsys.stdout = W()\n",
    "import sys\nsys.stdout.close()\n",
    "import sys\nsys.stdout = None\n",
    "import os\nos.close(1)\nprint('x')\nos._exit(0)\n",
]


@pytest.mark.parametrize("program", FLUSH_AT_EXIT)
def test_a_failed_flush_at_the_end_is_the_interpreters_exit_status(run, program):
    import subprocess

    from executor import ExecutorConfig

    native = subprocess.run(
        [ExecutorConfig().python, "-I", "-c", program], stdin=subprocess.DEVNULL, capture_output=True, timeout=30
    ).returncode
    raw = run(program, [{"raw": {"stdin": ""}}]).tests[0].output
    assert raw is not None and raw.exit_code == native, (raw, native)
    # A stdin/stdout test that expects no output passes only a clean exit.
    result = run(program, [{"stdin": "", "expected_stdout": ""}])
    assert (result.verdict is Verdict.PASSED) == (native == 0), (result, native)


# The contest fast-I/O template (PyRival's): its writer's flush reads the global `os`.
FAST_IO_TEMPLATE = """
import os, sys
from io import BytesIO, IOBase

class FastIO(IOBase):
    newlines = 0
    def __init__(self, file):
        self._fd = file.fileno()
        self.buffer = BytesIO()
        self.writable = "x" in file.mode or "r" not in file.mode
        self.write = self.buffer.write if self.writable else None
    def read(self):
        while True:
            b = os.read(self._fd, max(os.fstat(self._fd).st_size, 8192))
            if not b:
                break
            ptr = self.buffer.tell()
            self.buffer.seek(0, 2), self.buffer.write(b), self.buffer.seek(ptr)
        self.newlines = 0
        return self.buffer.read()
    def readline(self):
        while self.newlines == 0:
            b = os.read(self._fd, max(os.fstat(self._fd).st_size, 8192))
            self.newlines = b.count(b"\\n") + (not b)
            ptr = self.buffer.tell()
            self.buffer.seek(0, 2), self.buffer.write(b), self.buffer.seek(ptr)
        self.newlines -= 1
        return self.buffer.readline()
    def flush(self):
        if self.writable:
            os.write(self._fd, self.buffer.getvalue())
            self.buffer.truncate(0), self.buffer.seek(0)

class IOWrapper(IOBase):
    def __init__(self, file):
        self.buffer = FastIO(file)
        self.flush = self.buffer.flush
        self.writable = self.buffer.writable
        self.write = lambda s: self.buffer.write(s.encode("ascii"))
        self.read = lambda: self.buffer.read().decode("ascii")
        self.readline = lambda: self.buffer.readline().decode("ascii")

sys.stdin, sys.stdout = IOWrapper(sys.stdin), IOWrapper(sys.stdout)
input = lambda: sys.stdin.readline().rstrip("\\r\\n")
a, b = map(int, input().split())
print(a + b)
"""


def test_the_fast_io_template_ends_as_the_interpreter_ends_it(run):
    """Its writer is flushed once at the end, before the script's globals are cleared: the
    interpreter puts the original streams back first (flushing it again, with `os` gone,
    failed the run with status 120)."""
    import subprocess

    from executor import ExecutorConfig

    native = subprocess.run(
        [ExecutorConfig().python, "-I", "-c", FAST_IO_TEMPLATE], input=b"1 2\n", capture_output=True, timeout=30
    )
    assert (native.returncode, native.stdout) == (0, b"3\n")
    tests = [{"stdin": "1 2\n", "expected_stdout": "3\n"}, {"stdin": "5 7\n", "expected_stdout": "12\n"}]
    assert run(FAST_IO_TEMPLATE, tests).pass_rate == 1.0
    raw = run(FAST_IO_TEMPLATE, [{"raw": {"stdin": "1 2\n"}}]).tests[0].output
    assert raw is not None and (raw.stdout, raw.exit_code) == ("3\n", 0), raw


DEPTH = "def depth(n):\n    return 0 if n == 0 else 1 + depth(n - 1)\n"


def test_a_program_recurses_as_deep_as_under_the_interpreter(run):
    """The sandbox's own frames under the program are added to the recursion limit: at the
    default limit a one-frame-a-level recursion passes to within a frame of the depth `python3`
    reaches with the test appended to the program (it fell 8 short), and not 2 past it."""
    import subprocess

    from executor import ExecutorConfig

    python = ExecutorConfig().python

    def native(source, stdin=""):
        proc = subprocess.run([python, "-I", "-c", source], input=stdin, capture_output=True, text=True, timeout=30)
        return proc.returncode == 0

    deepest = max(n for n in range(990, 1003) if native(DEPTH + f"assert depth({n}) == {n}\n"))
    tests = [f"assert depth({n}) == {n}" for n in (deepest - 1, deepest + 2)]
    assert [t.verdict for t in run(DEPTH, tests).tests] == [Verdict.PASSED, Verdict.RUNTIME_ERROR]
    script = DEPTH + "print(depth(int(input())))\n"
    deepest = max(n for n in range(990, 1003) if native(script, f"{n}\n"))
    stdio = [{"stdin": f"{n}\n", "expected_stdout": f"{n}\n"} for n in (deepest - 1, deepest + 2)]
    assert [t.verdict for t in run(script, stdio).tests] == [Verdict.PASSED, Verdict.RUNTIME_ERROR]
    raw = run(script, [{"raw": {"stdin": f"{n}\n"}} for n in (deepest - 1, deepest + 2)])
    assert [t.output.exit_code for t in raw.tests] == [0, 1]


# Ends of a script whose output or status depends on when the interpreter flushes: as soon as
# the script's code returns (before threads and atexit handlers), and never again as a status
# once its globals are cleared.
END_ORDER = [
    "import atexit, os\nprint(42)\natexit.register(lambda: os.write(1, b'done\\n'))\n",
    "import os, sys, threading, time\nprint(42)\n"
    "def late():\n    time.sleep(0.2)\n    os.write(1, b'done\\n')\nthreading.Thread(target=late).start()\n",
    "import os, sys\nclass W:\n    def write(self, s):\n        os.write(1, s.encode())\n"
    "    def flush(self):\n        os.write(1, b'')\nsys.stdout = sys.__stdout__ = W()\nprint(42)\n",
    "import sys\nsys.setrecursionlimit(10**5 + 10)\ndef d(n):\n    return 0 if n == 0 else 1 + d(n - 1)\n"
    "print(d(10**5))\n",
    "import sys\nsys.setrecursionlimit(2**31 - 1)\nprint(sys.getrecursionlimit())\n",  # C's INT_MAX
    "import sys\nsys.setrecursionlimit(2**31)\n",  # refused, as the interpreter refuses it
]


@pytest.mark.parametrize("program", END_ORDER)
def test_a_scripts_end_is_the_interpreters(run, program, tmp_path):
    import subprocess

    from executor import ExecutorConfig

    script = tmp_path / "prog.py"  # `python3 prog.py` (`-c` flushes its output later)
    script.write_text(program)
    native = subprocess.run(
        [ExecutorConfig().python, "-I", str(script)], stdin=subprocess.DEVNULL, capture_output=True, timeout=30
    )
    raw = run(program, [{"raw": {"stdin": ""}}], limits={"cpu_s": 5}).tests[0].output
    assert raw is not None and (raw.exit_code, raw.stdout) == (native.returncode, native.stdout.decode()), raw
    result = run(program, [{"stdin": "", "expected_stdout": native.stdout.decode()}], limits={"cpu_s": 5})
    assert (result.verdict is Verdict.PASSED) == (native.returncode == 0), result


def test_a_programs_own_recursion_limit_is_above_the_sandboxs_frames(run):
    """`sys.setrecursionlimit(10**5 + 10)` then a recursion 10**5 deep: the contest idiom passes
    an assert as it does with the test appended to the program (the sandbox's frames ate its
    margin), and `sys.getrecursionlimit()` says what the program set."""
    program = (
        "import sys\nsys.setrecursionlimit(10**5 + 10)\n"
        "def d(n):\n    return 0 if n == 0 else 1 + d(n - 1)\ndef limit():\n    return sys.getrecursionlimit()\n"
    )
    tests = ["assert d(10**5) == 10**5", "assert limit() == 10**5 + 10", "assert d(10**5 + 20) > 0"]
    result = run(program, tests, limits={"cpu_s": 5})
    assert [t.verdict for t in result.tests] == [Verdict.PASSED, Verdict.PASSED, Verdict.RUNTIME_ERROR], result
