"""Resource bombs: processes, threads, memory, CPU, wall clock, recursion, output, disk,
file descriptors. Each must end in its own precise verdict (never passed, never
infra_error), leave the zygote working, and leave the host alone.
"""

from __future__ import annotations

import pytest

from executor import Verdict

from .security_support import make_job, show, verdicts

pytestmark = pytest.mark.security

RE, TO, MEM, OUT, F, SK = (
    Verdict.RUNTIME_ERROR,
    Verdict.TIMEOUT,
    Verdict.MEMORY_EXCEEDED,
    Verdict.OUTPUT_EXCEEDED,
    Verdict.FAILED,
    Verdict.SKIPPED,
)


def run_bomb(pool, program, tests, **limits):
    before = dict(pool.stats)
    result = pool.run(make_job(program, tests, **limits))
    assert result.verdict is not Verdict.INFRA_ERROR, show(result)
    assert pool.stats["slot_restarts"] == before["slot_restarts"], "a bomb took its zygote down"
    return result


# -- processes and threads -------------------------------------------------------------


def test_fork_bomb(pool, host):
    program = "import os\ndef bomb():\n    while True:\n        os.fork()\n"
    result = run_bomb(pool, program, ["assert bomb() == 1", "assert bomb() == 1"])
    assert verdicts(result) == [RE, RE], show(result)
    assert "BlockingIOError" in result.tests[0].message, show(result)
    host.check()


def test_fork_bomb_at_load(pool, host):
    program = "import os\nwhile True:\n    os.fork()\n"
    result = run_bomb(pool, program, ["assert 1 == 1"])
    assert verdicts(result) == [RE], show(result)
    host.check()


def test_fork_is_refused_and_the_program_can_tell(pool, host):
    program = r"""
import os, errno, subprocess
def try_fork():
    try:
        pid = os.fork()
    except OSError as e:
        return errno.errorcode[e.errno]
    if pid == 0:
        os._exit(0)
    return "forked"
def try_subprocess():
    try:
        subprocess.run(["/bin/true"])
    except OSError as e:
        return errno.errorcode[e.errno]
    return "spawned"
def try_spawn():
    try:
        os.posix_spawn("/bin/true", ["/bin/true"], {})
    except OSError as e:
        return errno.errorcode[e.errno]
    return "spawned"
"""
    result = run_bomb(
        pool,
        program,
        ["assert try_fork() == 'EAGAIN'", "assert try_subprocess() == 'EAGAIN'", "assert try_spawn() == 'EAGAIN'"],
    )
    assert result.verdict is Verdict.PASSED, show(result)
    host.check()


def test_fork_bomb_with_processes_allowed_is_bounded(pool, host):
    """With a few processes allowed, a fork bomb still hits the process cap, and every
    process it made is gone afterwards (host.check counts them)."""
    program = r"""
import os, time
def bomb():
    children = 0
    try:
        while True:
            if os.fork() == 0:
                time.sleep(30)
                os._exit(0)
            children += 1
    except OSError:
        return "capped"
"""
    result = run_bomb(pool, program, ["assert bomb() == 'capped'"], processes=8)
    assert result.verdict is Verdict.PASSED, show(result)
    host.check()


def test_thread_bomb(pool, host):
    program = r"""
import threading, time
def bomb():
    while True:
        threading.Thread(target=time.sleep, args=(30,), daemon=True).start()
"""
    result = run_bomb(pool, program, ["assert bomb() == 1"])
    assert verdicts(result) == [RE], show(result)
    assert "can't start new thread" in result.tests[0].message, show(result)
    host.check()


def test_threads_are_capped_never_processes_and_the_program_can_tell(pool, host):
    # A Python program may start a few threads (a contest program's big-stack worker thread),
    # up to the cap, past which it is refused as Python reports it; a process never.
    program = r"""
import os, threading, time
def threads():
    threading.stack_size(1 << 18)  # the cap, not the job's memory, is what stops it
    n = 0
    try:
        while n < 10000:
            threading.Thread(target=time.sleep, args=(2,), daemon=True).start()
            n += 1
    except RuntimeError:
        return n
def fork():
    try:
        if os.fork() == 0:
            os._exit(0)
    except OSError:
        return "refused"
    return "forked"
"""
    result = run_bomb(pool, program, ["assert threads() >= 8", "assert threads() < 1000", "assert fork() == 'refused'"])
    assert result.verdict is Verdict.PASSED, show(result)
    host.check()


# -- memory ------------------------------------------------------------------------------


def test_memory_bomb(pool, host):
    program = "def bomb():\n    hog = []\n    while True:\n        hog.append(bytearray(8 << 20))\n"
    result = run_bomb(pool, program, ["assert bomb() == 1", "assert 1 == 1"])
    assert verdicts(result)[0] is MEM, show(result)
    host.check()


def test_memory_bomb_one_allocation(pool, host):
    result = run_bomb(pool, "def bomb():\n    return len(bytearray(1 << 30))\n", ["assert bomb() == 1"])
    assert verdicts(result) == [MEM], show(result)
    host.check()


def test_memory_bomb_at_load(pool, host):
    result = run_bomb(pool, "hog = 'x' * (1 << 30)\ndef f():\n    return 1\n", ["assert f() == 1", "assert f() == 1"])
    assert verdicts(result) == [MEM, MEM], show(result)
    host.check()


def test_memory_bomb_through_mmap(pool, host):
    """Anonymous mmap is bounded by the same address-space limit (it fails with ENOMEM)."""
    program = "import mmap\ndef bomb():\n    m = mmap.mmap(-1, 1 << 30)\n    m[-1] = 1\n    return 1\n"
    result = run_bomb(pool, program, ["assert bomb() == 1"])
    assert verdicts(result) == [RE], show(result)
    assert "Cannot allocate memory" in result.tests[0].message, show(result)
    host.check()


def test_memory_limit_cannot_be_escaped_by_catching_memoryerror(pool, host):
    program = r"""
def grab():
    hog, got = [], 0
    for _ in range(200):
        try:
            hog.append(bytearray(16 << 20))
            got += 16
        except MemoryError:
            break
    return got
"""
    result = run_bomb(pool, program, ["assert grab() < 256"])
    assert result.verdict is Verdict.PASSED, show(result)
    host.check()


# -- time ----------------------------------------------------------------------------------


def test_cpu_loop(pool, host):
    result = run_bomb(pool, "def spin():\n    while True:\n        pass\n", ["assert spin() == 1", "assert 1 == 1"])
    assert verdicts(result) == [TO, SK], show(result)
    assert "CPU time limit" in result.tests[0].message, show(result)
    host.check()


def test_cpu_loop_at_load(pool, host):
    result = run_bomb(pool, "while True:\n    pass\n", ["assert 1 == 1"])
    assert verdicts(result) == [TO], show(result)
    host.check()


def test_sleep_loop_hits_the_wall_clock_backstop(pool, host):
    program = "import time\ndef nap():\n    while True:\n        time.sleep(0.5)\n"
    result = run_bomb(pool, program, ["assert nap() == 1"], wall_s=1.5)
    assert verdicts(result) == [TO], show(result)
    assert "wall-clock" in result.tests[0].message, show(result)
    host.check()


def test_blocking_forever_hits_the_wall_clock_backstop(pool, host):
    program = "import signal\ndef wait():\n    signal.pause()\n"
    result = run_bomb(pool, program, ["assert wait() == 1"], wall_s=1.5)
    assert verdicts(result) == [TO], show(result)
    host.check()


def test_ignoring_sigxcpu_and_sigterm_does_not_help(pool, host):
    program = r"""
import signal
for sig in (signal.SIGXCPU, signal.SIGTERM, signal.SIGINT, signal.SIGHUP, signal.SIGALRM, signal.SIGVTALRM):
    signal.signal(sig, signal.SIG_IGN)
signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGXCPU, signal.SIGTERM})
def spin():
    while True:
        pass
"""
    result = run_bomb(pool, program, ["assert spin() == 1"])
    assert verdicts(result) == [TO], show(result)
    host.check()


def test_cpu_spent_across_tests_is_bounded_per_test(pool, host):
    """Each test gets its own CPU budget; spinning 0.5 s in each of three tests is fine,
    a fourth that spins forever times out alone."""
    program = r"""
import time
def burn(seconds):
    end = time.process_time() + seconds
    while time.process_time() < end:
        pass
    return seconds
def spin():
    while True:
        pass
"""
    result = run_bomb(pool, program, ["assert burn(0.5) == 0.5"] * 3 + ["assert spin() == 1"], wall_s=6)
    assert verdicts(result) == [Verdict.PASSED] * 3 + [TO], show(result)
    host.check()


# -- recursion --------------------------------------------------------------------------


def test_deep_recursion(pool, host):
    result = run_bomb(pool, "def down(n=0):\n    return down(n + 1)\n", ["assert down() == 1", "assert 1 == 1"])
    assert verdicts(result) == [RE, Verdict.PASSED], show(result)
    assert "RecursionError" in result.tests[0].message, show(result)
    host.check()


def test_raised_recursion_limit_overflows_the_c_stack(pool, host):
    """With the limit raised, recursion through C (map) runs until the real stack overflows
    (the child dies of SIGSEGV: the next test is skipped) or the heap beside it is spent first
    (MemoryError, that test's memory_exceeded: the child lives on to the next). Either fails
    that test, and neither is the farm's."""
    program = "import sys\nsys.setrecursionlimit(10 ** 8)\ndef down(n):\n    return list(map(down, [n + 1]))\n"
    result = run_bomb(pool, program, ["assert down(0) == 1", "assert 1 == 1"])
    assert verdicts(result) in ([RE, SK], [MEM, Verdict.PASSED]), show(result)
    assert "SIGSEGV" in result.tests[0].message or "MemoryError" in result.tests[0].message, show(result)
    host.check()


def test_raised_recursion_limit_through_repr(pool, host):
    program = r"""
import sys
sys.setrecursionlimit(10 ** 8)
class Loop:
    def __repr__(self):
        return repr(self)
def show():
    return repr(Loop())
"""
    result = run_bomb(pool, program, ["assert show() == 'x'"])
    assert verdicts(result) == [RE], show(result)
    host.check()


# -- output -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "how",
    [
        "sys.stdout.write('x' * 4096)",
        "sys.stderr.write('x' * 4096)",
        "print('y' * 1000, flush=True)",
        "os.write(1, b'z' * 65536)",
        "os.write(2, b'z' * 65536)",
    ],
)
def test_output_flood(pool, host, how):
    program = f"import os, sys\ndef flood():\n    while True:\n        {how}\n"
    result = run_bomb(pool, program, ["assert flood() == 1", "assert 1 == 1"])
    assert verdicts(result) == [OUT, SK], show(result)
    host.check()


def test_output_flood_at_load(pool, host):
    result = run_bomb(pool, "while True:\n    print('y' * 1000)\n", ["assert 1 == 1"])
    assert verdicts(result) == [OUT], show(result)
    host.check()


def test_output_flood_in_stdio_mode(pool, host):
    program = "import sys\nwhile True:\n    sys.stdout.write('x' * 4096)\n"
    result = run_bomb(pool, program, [{"stdin": "", "expected_stdout": "x"}, {"stdin": "", "expected_stdout": "x"}])
    assert verdicts(result) == [OUT, OUT], show(result)
    host.check()


def test_output_flood_in_tiny_pieces(pool, host):
    """Many small writes add up to the same cap."""
    program = "import os\ndef flood():\n    while True:\n        os.write(1, b'.')\n"
    result = run_bomb(pool, program, ["assert flood() == 1"], output_kb=4)
    assert verdicts(result) == [OUT], show(result)
    host.check()


# -- disk -------------------------------------------------------------------------------


def test_disk_fill_with_many_files(pool, host):
    program = r"""
def fill():
    i = 0
    while True:
        with open("f%d" % i, "wb") as fh:
            fh.write(b"x" * (1 << 20))
        i += 1
"""
    result = run_bomb(pool, program, ["assert fill() == 1", "assert 1 == 1"])
    assert verdicts(result) == [OUT, SK], show(result)
    assert "scratch disk" in result.tests[0].message, show(result)
    host.check()


def test_disk_fill_outside_the_workdir(pool, host):
    program = r"""
import os
def fill():
    os.makedirs("/tmp/elsewhere", exist_ok=True)
    i = 0
    while True:
        with open("/tmp/elsewhere/f%d" % i, "wb") as fh:
            fh.write(b"x" * (1 << 20))
        i += 1
"""
    result = run_bomb(pool, program, ["assert fill() == 1"])
    assert verdicts(result) == [OUT], show(result)
    host.check()


def test_disk_fill_with_one_huge_file(pool, host):
    """RLIMIT_FSIZE stops one file at disk_mb; Python ignores SIGXFSZ, so the write fails with
    EFBIG and the program dies of the OSError."""
    program = (
        "def fill():\n    with open('big', 'wb') as fh:\n        while True:\n            fh.write(b'x' * (1 << 20))\n"
    )
    result = run_bomb(pool, program, ["assert fill() == 1"])
    assert verdicts(result) == [RE], show(result)
    assert "File too large" in result.tests[0].message, show(result)
    host.check()


def test_huge_sparse_file_is_refused(pool, host):
    program = r"""
import errno, os
def grow():
    out = []
    fd = os.open("sparse", os.O_CREAT | os.O_WRONLY)
    for how in (lambda: os.ftruncate(fd, 1 << 40), lambda: os.posix_fallocate(fd, 0, 1 << 30),
                lambda: (os.lseek(fd, 1 << 40, 0), os.write(fd, b"x"))):
        try:
            how()
            out.append("grew")
        except OSError as e:
            out.append(errno.errorcode[e.errno])
    return out
"""
    result = run_bomb(pool, program, ["assert grow() == ['EFBIG', 'EFBIG', 'EFBIG']"])
    assert result.verdict is Verdict.PASSED, show(result)
    host.check()


def test_disk_is_clean_for_the_next_run(solo_pool, host):
    """After a run filled its scratch space, the next run on the same zygote has it all back."""
    filler = (
        "def fill():\n    for i in range(12):\n        open('/tmp/f%d' % i, 'wb').write(b'x' * (1 << 20))\n"
        "    return 12\n"
    )
    a = solo_pool.run(make_job(filler, ["assert fill() == 12"]))
    assert a.verdict is Verdict.PASSED, show(a)
    b = solo_pool.run(make_job(filler, ["assert fill() == 12"]))
    assert b.verdict is Verdict.PASSED, show(b)
    host.check()


# -- file descriptors ---------------------------------------------------------------------


def test_file_descriptor_exhaustion(pool, host):
    program = r"""
import os
def hog():
    fds = []
    try:
        while True:
            fds.append(os.open("/dev/null", os.O_RDONLY))
    except OSError:
        return len(fds) < 64
"""
    result = run_bomb(pool, program, ["assert hog() is True"])
    assert result.verdict is Verdict.PASSED, show(result)
    host.check()


@pytest.mark.parametrize("reaped_by", ["the program", "the sandbox's init"])
def test_cpu_of_exited_helper_processes_counts(pool, host, reaped_by):
    """With processes allowed, CPU burned in short-lived helper processes counts against the
    test's CPU limit (found in a review: exited workers' time used to vanish)."""
    program = r"""
import os, time
def burn(seconds):
    t = time.process_time()
    while time.process_time() - t < seconds:
        pass
def solve(wait):
    for _ in range(12):
        pid = os.fork()
        if pid == 0:
            if not wait and os.fork() != 0:
                os._exit(0)  # the grandchild burns as an orphan, reaped by init
            burn(0.25)
            os._exit(0)
        os.waitpid(pid, 0)
        if not wait:
            time.sleep(0.3)
    return 1
"""
    wait = reaped_by == "the program"
    result = pool.run(make_job(program, [f"assert solve({wait}) == 1"], processes=4, cpu_s=1, wall_s=30))
    assert result.tests[0].verdict is Verdict.TIMEOUT, show(result)
    assert "CPU time limit" in (result.tests[0].message or ""), show(result)
    host.check()


def test_one_slots_processes_do_not_use_up_anothers(host):
    """Each slot runs as its own user (`make setup` makes them), so the kernel's per-user
    process count of one slot's job does not starve a job on another slot (found in a review:
    with one shared user, a job holding 150 processes made another's single fork fail)."""
    import time

    from executor import ExecutorConfig, Job, Pool
    from executor.firejail import slot_user

    config = ExecutorConfig(slots=2)
    if slot_user(config, 0)[0].pw_uid == slot_user(config, 1)[0].pw_uid:
        pytest.skip("no per-slot sandbox users on this machine (run `make setup`)")
    hog = (
        "import os, time\ndef hold(n):\n    for _ in range(n):\n        if os.fork() == 0:\n"
        "            time.sleep(3)\n            os._exit(0)\n    time.sleep(2)\n    return n\n"
    )
    fork_once = (
        "import os\ndef once():\n    pid = os.fork()\n    if pid == 0:\n        os._exit(0)\n"
        "    os.waitpid(pid, 0)\n    return 'forked'\n"
    )
    with Pool(config) as pool:
        held = pool.submit(
            Job.from_dict(
                {
                    "id": "hog",
                    "program": hog,
                    "tests": ["assert hold(150) == 150"],
                    "limits": {"processes": 200, "cpu_s": 5, "wall_s": 10},
                }
            )
        )
        time.sleep(1.0)
        victim = pool.run(
            Job.from_dict(
                {
                    "id": "victim",
                    "program": fork_once,
                    "tests": ["assert once() == 'forked'"],
                    "limits": {"processes": 4},
                }
            )
        )
        assert victim.verdict is Verdict.PASSED, show(victim)
        assert held.result(timeout=30).verdict is Verdict.PASSED
    host.check()


def test_a_programs_threads_count_in_each_tests_cpu_limit(pool, host):
    # Threads left spinning by one test are the program's CPU in the next, even while the
    # test process, not the program's main thread, runs that test.
    program = (
        "import threading\ndef spin():\n    while True:\n        pass\n"
        "def start(n):\n    for _ in range(n):\n        threading.Thread(target=spin, daemon=True).start()\n    return n\n"
    )
    tests = ["assert start(3) == 3", "import time\ntime.sleep(2)\nassert start(0) == 0"]
    result = run_bomb(pool, program, tests, cpu_s=0.5, wall_s=5)
    assert [t.verdict for t in result.tests] == [Verdict.PASSED, Verdict.TIMEOUT], show(result)
    host.check()


def test_a_thread_that_did_part_of_a_tests_work_and_ended_is_still_counted(pool, host):
    # 0.7 s of CPU in a thread that is joined (and gone), then 0.7 s in the main thread, against
    # cpu_s=1: counted from the main thread alone once the process is back to one thread, it
    # passed, for call and assert tests alike. Each part spins on its own thread's CPU clock,
    # so the test means the same on a fast machine and a slow one.
    program = (
        "import threading, time\n"
        "def spin(s):\n    end = time.thread_time() + s\n    while time.thread_time() < end:\n        pass\n"
        "def f():\n    t = threading.Thread(target=spin, args=(0.7,))\n    t.start()\n    t.join()\n"
        "    spin(0.7)\n    return 1\n"
    )
    for tests in ([{"call": "f", "args": [], "expected": 1}], ["assert f() == 1"]):
        result = run_bomb(pool, program, tests, cpu_s=1, wall_s=20)
        assert result.tests[0].verdict is Verdict.TIMEOUT, show(result)
    host.check()
