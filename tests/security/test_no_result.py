"""Wrong programs that try to turn their 0 into "no result" (infra_error), or into a crash
of the run that scores them. The tri-state belongs to the farm: whatever a program does to
the sandbox's own machinery, it gets a failing verdict of its own, on the first attempt.
"""

from __future__ import annotations

import resource
import time

import pytest

from executor import Verdict

from .security_support import make_job, show

pytestmark = pytest.mark.security

WRONG_ADD = "def add(a, b):\n    return a - b\n"

# Program sources that a backtracking scan of the source (the zygote checks small programs
# for literal sequences multiplied at compile time) would take exponential time over.
HOSTILE_SOURCES = {
    "a line of #s after a call": WRONG_ADD + "print(add(1, 2))\n" + "#" * 40,
    "a line of #s after a string": WRONG_ADD + "x = 'a'\n" + "#" * 60 + "\n",
    "#s after a bracket and continuations": WRONG_ADD + "y = [1]\\\n" + ("#" * 30 + "\n") * 3 + "#" * 40,
    "#s after a star": WRONG_ADD + "z = (2 *\n" + "#" * 50 + "\n 3)\n",
    "many brackets each followed by #s": WRONG_ADD + ("w = (1)\n" + "#" * 35 + "\n") * 40,
}


@pytest.mark.parametrize("name", sorted(HOSTILE_SOURCES))
def test_program_source_cannot_hang_the_zygote(pool, name):
    before = dict(pool.stats)
    result = pool.run(make_job(HOSTILE_SOURCES[name], ["assert add(1, 2) == 3", "assert add(2, 2) == 4"]))
    assert result.verdict is Verdict.FAILED, show(result)
    assert [t.verdict for t in result.tests] == [Verdict.FAILED, Verdict.FAILED], show(result)
    assert result.attempts == 1, show(result)
    assert pool.stats["slot_restarts"] == before["slot_restarts"], show(result)


def test_a_right_program_with_such_comments_passes(pool):
    program = "def add(a, b):\n    return a + b\nprint(add(1, 2))\n" + "#" * 40
    result = pool.run(make_job(program, ["assert add(1, 2) == 3"]))
    assert result.verdict is Verdict.PASSED, show(result)


def test_values_that_are_cheap_as_bytes_but_costly_to_parse_fail(solo_pool):
    # 20 answers of 200,000 references to one empty dict: 36 MB of JSON, 4 million dicts to
    # build. They took the zygote past its address space (infra_error on both attempts) and
    # the host seconds to read; the job's node budget ends them as the program's own output.
    program = "def f(i):\n    return [{}] * 199990\n"
    for tests in (
        ["assert f(%d) == []" % i for i in range(20)],
        [{"call": "f", "args": [i], "expected": []} for i in range(20)],
    ):
        before = dict(solo_pool.stats)
        result = solo_pool.run(make_job(program, tests, cpu_s=2, memory_mb=256))
        assert result.verdict is Verdict.FAILED and result.attempts == 1, show(result)
        assert result.tests[0].verdict is Verdict.FAILED, show(result)
        assert Verdict.OUTPUT_EXCEEDED in [t.verdict for t in result.tests], show(result)
        assert solo_pool.stats["slot_restarts"] == before["slot_restarts"]


# The child's values log (fd 7) is the program's to scribble on; what it writes there must cost
# the zygote no more than a frame and never make a result infra_error.
LOG_ATTACKS = {
    "records nested 900-1000 deep, then a loop": (
        "import os\ndef f(x):\n    log = b''\n    for d in range(900, 1001):\n"
        "        body = b'[0,' + b'[' * d + b']' * d + b']'\n        log += len(body).to_bytes(4, 'big') + body\n"
        "    os.pwrite(7, log, 0)\n    while True:\n        pass\n"
    ),
    "records nested 900-1000 deep, then an exit": (
        "import os\ndef f(x):\n    log = b''\n    for d in range(900, 1001):\n"
        "        body = b'[0,' + b'[' * d + b']' * d + b']'\n        log += len(body).to_bytes(4, 'big') + body\n"
        "    os.pwrite(7, log, 0)\n    os._exit(0)\n"
    ),
    "3 million tiny records": (
        "import os\ndef f(x):\n    rec = (1).to_bytes(4, 'big') + b'0'\n"
        "    os.pwrite(7, rec * ((16 << 20) // 5 - 1), 0)\n    os._exit(1)\n"
    ),
}


@pytest.mark.parametrize("name", sorted(LOG_ATTACKS))
def test_a_scribbled_values_log_is_the_programs_own_failure(solo_pool, name):
    before = dict(solo_pool.stats)
    result = solo_pool.run(make_job(LOG_ATTACKS[name], ["assert f(1) == 2", "assert f(3) == 3"], cpu_s=1, wall_s=3))
    assert result.verdict is Verdict.FAILED and result.attempts == 1, show(result)
    assert result.tests[0].verdict in (Verdict.TIMEOUT, Verdict.RUNTIME_ERROR), show(result)
    assert solo_pool.stats["slot_restarts"] == before["slot_restarts"]


def test_the_values_log_holds_no_more_than_the_jobs_answer_has_left(solo_pool):
    # Two values of about 480,000 nodes spend most of the job's answer (process.MAX_ANSWER_NODES);
    # a third, written into the log by the program itself before it exits, was judged all the
    # same, and failed its test (the log's count started again at 0, and took values twice the
    # codec's per-value cap): more for the host to read than the job's answer may hold. Past
    # it, the test is the program's end.
    program = (
        "import json, os\nX = [[[i]] for i in range(160000)]\n"
        "def f(k):\n    if k < 2:\n        return X\n"
        "    body = json.dumps([k, [0] * 300000]).encode()\n"
        "    os.pwrite(7, len(body).to_bytes(4, 'big') + body + bytes(4), 0)\n    os._exit(0)\n"
    )
    tests = ["assert f(0) == 7", "assert f(1) == 7", "assert f(2) == list(range(300000))"]
    result = solo_pool.run(make_job(program, tests, cpu_s=2))
    assert [t.verdict for t in result.tests] == [Verdict.FAILED, Verdict.FAILED, Verdict.RUNTIME_ERROR], show(result)


def test_a_value_before_a_loop_is_judged_after_earlier_tests_logged_theirs(solo_pool):
    # One values log a job: earlier tests' records were read and counted again (their values
    # had come in their frames), so after 18 tests of 30,000 items the last one's failing value
    # before its loop went unjudged (timeout, where the check stops at its failed assert).
    program = (
        "def f(x):\n    return x + 1\ndef ok():\n    return 1\n"
        "def zeros(k):\n    return [0] * k\ndef hang():\n    while True:\n        pass\n"
    )
    earlier = [f"assert zeros({30000 - i}) == [0] * {30000 - i}\nassert ok() == 1" for i in range(18)]
    result = solo_pool.run(make_job(program, [*earlier, "assert f(0) == 0\nassert hang() is None"], cpu_s=1, wall_s=3))
    assert [t.verdict for t in result.tests] == [Verdict.PASSED] * 18 + [Verdict.FAILED], show(result)


def test_the_bounded_judge_charges_the_program_only_for_its_values(solo_pool):
    # The test's own text ('ab' * 400000) is computed first, under the job's limits; the
    # program's 11 MB values are parsed only after, so their memory is the program's: failed.
    test = "assert f(0) == 'ab' * 400000\n" + "".join(f"assert big({i}) == 0\n" for i in range(5))
    wrong = (
        "import time\nS = 'x' * 60\ndef big(i):\n    t = time.process_time()\n"
        "    while time.process_time() - t < 0.01:\n        pass\n    return [S] * 180000\n"
        "def f(i):\n    return [1]\n"
    )
    result = solo_pool.run(make_job(wrong, [test], cpu_s=2, memory_mb=64))
    assert result.verdict is Verdict.FAILED, show(result)
    right = "def f(i):\n    return 'ab' * 400000\ndef big(i):\n    return 0\n"
    assert solo_pool.run(make_job(right, [test], cpu_s=2, memory_mb=64)).verdict is Verdict.PASSED


def test_a_program_cannot_make_a_cheap_test_not_judgeable(solo_pool):
    # The test's own text fits the host's bounds; a program's costly values send it to the
    # kernel-bounded judge, whose child holds all its folded sets at once: any limit hit there
    # is the program's (failed), never "not judgeable".
    test = "".join(f"assert f({i}) in set(range({250000 - i}))\n" for i in range(6))
    costly = "from fractions import Fraction\ndef f(i):\n    return [Fraction(1, 3)] * 5000\n"
    result = solo_pool.run(make_job(costly, [test], cpu_s=2, memory_mb=32))
    assert result.verdict is Verdict.FAILED, show(result)
    assert solo_pool.run(make_job("def f(i):\n    return i\n", [test], cpu_s=2, memory_mb=32)).verdict is Verdict.PASSED


def test_streamed_values_too_costly_to_judge_early_are_judged_once(solo_pool):
    # Values too costly for the host's early stop, then a flood of part frames: the early stop
    # gives up on the test once instead of decoding it again for every part.
    program = (
        "import sys, time, json\nfrom fractions import Fraction\n"
        "def f(x):\n    if x == 1:\n        t = time.process_time()\n"
        "        while time.process_time() - t < 0.005:\n            pass\n"
        "        return [Fraction(1, 3)] * 5000\n"
        "    t = time.process_time()\n    while time.process_time() - t < 1:\n        pass\n    return 2\n"
    )
    before = time.process_time()
    result = solo_pool.run(make_job(program, ["assert f(1) == [1]\nassert f(2) == 2"], cpu_s=2, wall_s=6))
    assert result.verdict is Verdict.FAILED, show(result)
    assert time.process_time() - before < 2  # the job's own CPU limit bounds the host's work


def test_unreduced_fractions_cost_the_trusted_side_no_gcd(solo_pool):
    # 300 Fractions of 65,000 bits made with _normalize=False cost the program 0.3 s; reducing
    # them again cost the host about 1.6 s per test in the kernel-bounded judge and 3 s in the
    # serving process, 13 s for this job. Rebuilt as sent, they cost about their digits.
    program = (
        "from fractions import Fraction\nimport random\nrandom.seed(1)\n"
        "A, B = random.getrandbits(65000) | 1, random.getrandbits(65000) | 1\n"
        "V = [Fraction(A + 2 * i, B, _normalize=False) for i in range(300)]\n"
        "def f(x):\n    return V\n"
    )
    tests = [f"assert f({i}) == 5" for i in range(6)]
    before = _host_cpu()
    result = solo_pool.run(make_job(program, tests, cpu_s=2, wall_s=30))
    assert result.verdict is Verdict.FAILED, show(result)
    assert _host_cpu() - before < 3, _host_cpu() - before
    # As in CPython, an unreduced Fraction is not its reduced form, and keeps its parts.
    half = "from fractions import Fraction\ndef half():\n    return Fraction(2, 4, _normalize=False)\n"
    tests = ["assert half() != Fraction(1, 2)", "assert half().numerator == 2", "assert half() == Fraction(1, 2)"]
    result = solo_pool.run(make_job(half, tests))
    assert [t.verdict for t in result.tests] == [Verdict.PASSED, Verdict.PASSED, Verdict.FAILED], show(result)


def _host_cpu() -> float:
    """CPU of this process and of its reaped children (the kernel-bounded judges)."""
    own, kids = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + kids.ru_utime + kids.ru_stime


def test_stdout_across_many_runs_is_the_programs_output_limit(pool):
    """Each stdin/stdout run keeps within output_kb, but all of a job's runs together would
    pass what its answer can carry: the runs past the bound are output_exceeded, on the
    first attempt, and a right program with many small outputs passes."""
    loud = "import sys\nsys.stdout.write('x' * (60 << 20))\n"  # 4 x 60 MiB: past 192 MiB at the 4th
    tests = [{"stdin": str(i), "expected_stdout": "42"} for i in range(4)]
    result = pool.run(make_job(loud, tests, output_kb=65536, cpu_s=5, wall_s=20))
    show(result)
    assert result.attempts == 1 and result.verdict is Verdict.FAILED
    assert [t.verdict for t in result.tests][3:] == [Verdict.OUTPUT_EXCEEDED]
    echo = "print(input() * 1000)\n"
    tests = [{"stdin": "ab\n", "expected_stdout": "ab" * 1000} for _ in range(100)]
    assert pool.run(make_job(echo, tests)).verdict is Verdict.PASSED


OOM_VICTIM_MAKER = r"""
import ctypes
libc = ctypes.CDLL(None)
libc.prctl(4, 1, 0, 0, 0)  # PR_SET_DUMPABLE, to reach our own /proc files
with open('/proc/self/oom_score_adj', 'w') as fh:
    fh.write('0')  # as low as an unprivileged process may go: the test process is the victim
HOG = []
try:
    while True:
        HOG.append(b'\x01' * (4 << 20))
except MemoryError:
    pass
def f(x):
    return x
"""


def test_a_program_cannot_get_the_test_process_killed_before_it_is_ready(pool):
    """The program lowers its OOM score and fills the job's memory while the test process
    parses a large snippet payload: it runs no code before that process is ready, so the job
    gets a verdict of the program's own (it catches its MemoryError: its tests may pass), on
    the first attempt, never infra_error."""
    big = "# " + "x" * ((1 << 20) - 200) + "\n"
    tests = [big + "import random\nassert f(random.randint(1, 1)) == 1"] * 40
    for _ in range(3):
        result = pool.run(make_job(OOM_VICTIM_MAKER, tests, memory_mb=256))
        show(result)
        assert result.attempts == 1 and result.verdict is not Verdict.INFRA_ERROR, result.message


def test_a_test_too_costly_to_compile_is_not_judgeable_and_the_program_cannot_make_one(pool):
    # The test process compiles the tests before the program runs: a test whose own text runs
    # out of memory there (a 120,000-item literal under 64 MB, 30,000 unary minuses) is not
    # judgeable, never the right program's runtime_error; a broken test stays the program's
    # failure, as it is every program's.
    big = "assert f() == [0" + ",0" * 120_000 + "]"
    deep = "assert f() == " + "-" * 30_000 + "0"
    right = "def f():\n    return [0] * 120001\n"
    for test, memory_mb in ((big, 64), (deep, 256)):
        result = pool.run(make_job(right, [test], memory_mb=memory_mb))
        assert result.verdict is Verdict.INFRA_ERROR, show(result)
        assert "cannot be compiled within the job's limits" in (result.tests[0].message or ""), show(result)
    result = pool.run(make_job(right, ["assert f() =="]))
    assert result.tests[0].verdict is Verdict.RUNTIME_ERROR, show(result)
    # A program that fills the memory as it loads fails on its own account, the test compiled.
    hog = "x = bytearray(200 << 20)\n" + right
    result = pool.run(make_job(hog, ["assert f() == [0" + ",0" * 20_000 + "]"], memory_mb=128))
    assert result.verdict is Verdict.FAILED and result.attempts == 1, show(result)
    assert result.tests[0].verdict is not Verdict.INFRA_ERROR, show(result)


def test_a_programs_compile_cannot_starve_the_test_process_of_memory(pool):
    # A program too big for the zygote to compile is compiled in its child. Right after the
    # child's ready frame, that overlapped the test process compiling a big literal test in
    # the same memory cgroup: a compile holding memory (every 'A' * 4096 string folded and
    # kept) got the test process OOM-killed, "failed to start", infra_error for a wrong
    # program. It compiles in its load phase now, once the test process is ready.
    names = ["a%d" % i for i in range(1500)]
    bomb = (
        "X = " + " + ".join(["'A'*4096"] * 160) + "\n"
        "def outer():\n    " + "=".join(names) + "=0\n    return " + "lambda: " * 200 + "(" + ",".join(names) + ")\n"
    )
    test = "assert f() == [" + ",".join(["123456"] * 140_000) + "]"
    result = pool.run(make_job(bomb + "def f():\n    return [1]\n", [test], memory_mb=192, wall_s=6, cpu_s=2))
    assert result.verdict is Verdict.FAILED and result.attempts == 1, show(result)


def _nested_lambdas(depth: int, names: int) -> str:
    params = [a + b for a in "ABCDEFGHIJKLMNOPQRSTUVWXYZ" for b in "abcdefghijklmnopqrstuvwxyz0123456789"][:names]
    return "x = lambda " + ",".join(params) + ":" + "lambda:" * depth + "+".join(params) + "\n"


def test_code_too_deep_to_marshal_is_the_programs_own(solo_pool):
    # Compiled by the zygote, code nested past marshal's limit could not be handed to the
    # fork server: infra_error twice, the slot restarted. Its child compiles it instead.
    program = "x = " + "lambda: " * 1000 + "1\n" + WRONG_ADD
    for tests in (["assert add(1, 2) == 3"], [{"call": "add", "args": [1, 2], "expected": 3}]):
        before = dict(solo_pool.stats)
        result = solo_pool.run(make_job(program, tests))
        assert result.verdict is Verdict.FAILED and result.attempts == 1, show(result)
        assert solo_pool.stats["slot_restarts"] == before["slot_restarts"], show(result)
    result = solo_pool.run(make_job(program, [{"stdin": "", "expected_stdout": "x"}]))
    assert result.verdict is Verdict.FAILED and result.attempts == 1, show(result)


def test_a_costly_compile_is_charged_to_the_program(solo_pool):
    # Every name a closure uses is passed down each scope between: 16 KiB of nested lambdas
    # took the zygote 6 s to compile, outside any limit (the job said 61 ms of CPU). It is
    # compiled in the program's child, under its limits: a timeout while loading.
    program = _nested_lambdas(990, 1509) + WRONG_ADD
    assert len(program.encode()) < 16 << 10  # small enough that the zygote compiled it
    result = solo_pool.run(make_job(program, ["assert add(1, 2) == 3"], cpu_s=1, wall_s=3))
    assert result.tests[0].verdict is Verdict.TIMEOUT, show(result)
    assert "loading" in (result.tests[0].message or ""), show(result)


def test_a_match_statements_costly_compile_is_charged_to_the_program(solo_pool):
    # Thousands of captures in one pattern cost the compiler most of a second and most of a
    # gigabyte: compiled in the program's child, the program's limits end it.
    import keyword
    import string

    letters = string.ascii_letters
    names = [a for a in letters] + [a + b for a in letters for b in letters + string.digits]
    names = [n for n in names if not keyword.iskeyword(n) and not keyword.issoftkeyword(n)]
    program = WRONG_ADD + "match 0:\n case [" + ",".join(names) + "]: pass\n"
    assert len(program.encode()) < 16 << 10  # small enough that the zygote compiled it
    result = solo_pool.run(make_job(program, ["assert add(1, 2) == 3"], cpu_s=2))
    assert result.verdict is Verdict.FAILED and result.attempts == 1, show(result)
    # The compile (hundreds of ms) is in the job's CPU; in the zygote the job said ~1 ms.
    assert result.cpu_ms is not None and result.cpu_ms > 100, show(result)
