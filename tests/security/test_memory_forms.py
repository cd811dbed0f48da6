"""Memory in every form a job's processes can hold counts against its memory_mb: heap,
memfds, shared memory, tmpfs files, pipe buffers, threads and processes.

Each hostile program runs twice: on the shared pool, which has a memory cgroup per slot where
the machine allows one (executor/memcg.py), and on a pool without one, where rlimits, the
seccomp filter (no memfds) and the zygote's scratch accounting must hold on their own. Each
must end in a verdict of its own (never passed, never infra_error), leave its slot running,
and raise the host's shared memory (Shmem: tmpfs, memfds) by far less than it asked for.
"""

from __future__ import annotations

import threading
import time

import pytest

from executor import ExecutorConfig, Pool, Verdict

from .security_support import make_job, show, verdicts

pytestmark = pytest.mark.security

MEM, RE, F, P, SK = (Verdict.MEMORY_EXCEEDED, Verdict.RUNTIME_ERROR, Verdict.FAILED, Verdict.PASSED, Verdict.SKIPPED)
LIMITS = {"memory_mb": 512, "disk_mb": 4096, "cpu_s": 5, "wall_s": 20}


@pytest.fixture(scope="module", params=["cgroup", "rlimits"])
def farm(request):
    """The shared pool (a memory cgroup per slot), then a pool without memory cgroups."""
    if request.param == "cgroup":
        pool = request.getfixturevalue("pool")
        if pool.slots[0].cgroup is None:
            pytest.skip("no memory cgroup on this machine: " + pool.slots[0].info["memory"])
        yield pool
        return
    with Pool(ExecutorConfig(slots=1, memory_cgroup=False)) as pool:
        assert pool.slots[0].cgroup is None and pool.slots[0].info["memory"].startswith("rlimits")
        yield pool


def _shmem_kb():
    with open("/proc/meminfo") as fh:
        for line in fh:
            if line.startswith("Shmem:"):
                return int(line.split()[1])
    return 0


def run_hostile(farm, program, tests, **limits):
    """Run the job while sampling the host's Shmem; returns (result, largest rise in MiB)."""
    before, base = dict(farm.stats), _shmem_kb()
    peak, done = [base], threading.Event()

    def sample():
        while not done.wait(0.002):
            peak[0] = max(peak[0], _shmem_kb())

    sampler = threading.Thread(target=sample)
    sampler.start()
    try:
        result = farm.run(make_job(program, tests, **{**LIMITS, **limits}))
    finally:
        done.set()
        sampler.join()
    assert result.verdict is not Verdict.INFRA_ERROR, show(result)
    assert farm.stats["slot_restarts"] == before["slot_restarts"], "a memory bomb took its zygote down"
    return result, (peak[0] - base) >> 10


# The find: 60 memfds of 64 MiB, filled with posix_fallocate, are never mapped, so the
# address-space limit never saw them: 3.8 GB of the host's memory under memory_mb=512.
MEMFDS = r"""
import os
def hold():
    fds = []
    for i in range(60):
        fd = os.memfd_create("m%d" % i)
        os.posix_fallocate(fd, 0, 64 << 20)
        fds.append(fd)
    return len(fds)
"""


def test_memfds_filled_with_fallocate(farm, host):
    result, rise = run_hostile(farm, MEMFDS, ["assert hold() == 60"])
    assert verdicts(result) == [RE], show(result)
    assert "Operation not permitted" in result.tests[0].message, show(result)
    assert rise < 256, f"host shared memory rose by {rise} MiB"
    host.check()


def test_memfd_secret_is_refused_and_the_program_can_tell(farm, host):
    program = r"""
import ctypes, errno
def try_secret():
    libc = ctypes.CDLL(None, use_errno=True)
    if libc.syscall(447, 0) >= 0:
        return "created"
    return errno.errorcode[ctypes.get_errno()]
"""
    result, _ = run_hostile(farm, program, ["assert try_secret() == 'EPERM'"])
    assert result.verdict is P, show(result)
    host.check()


# Each holds (or tries to) 60 x 64 MiB = 3.8 GB, with memory_mb=512 and disk_mb=4096.
HOLDERS = {
    "shared anonymous mmap": r"""
import mmap
def hold():
    maps = []
    for i in range(60):
        m = mmap.mmap(-1, 64 << 20, flags=mmap.MAP_SHARED | mmap.MAP_ANONYMOUS)
        for at in range(0, 64 << 20, 1 << 20):
            m[at:at + 1] = b"x"
        maps.append(m)
    return len(maps)
""",
    "tmpfs files in /tmp, fallocated": r"""
import os
def hold():
    os.makedirs("/tmp/hoard", exist_ok=True)
    for i in range(60):
        fd = os.open("/tmp/hoard/f%d" % i, os.O_CREAT | os.O_WRONLY)
        os.posix_fallocate(fd, 0, 64 << 20)
        os.close(fd)
    return 60
""",
    "tmpfs files in the work dir, written": r"""
def hold():
    block = b"x" * (16 << 20)
    for i in range(60):
        with open("f%d" % i, "wb") as fh:
            for _ in range(4):
                fh.write(block)
    return 60
""",
    "unlinked tmpfs files held open": r"""
import os
def hold():
    fds = []
    for i in range(60):
        fd = os.open("/tmp", os.O_TMPFILE | os.O_RDWR)
        os.posix_fallocate(fd, 0, 64 << 20)
        fds.append(fd)
    return len(fds)
""",
}


@pytest.mark.parametrize("form", sorted(HOLDERS))
def test_memory_beyond_the_limit_is_refused(farm, host, form):
    result, rise = run_hostile(farm, HOLDERS[form], ["assert hold() == 60"])
    assert verdicts(result)[0] in (MEM, RE), show(result)
    assert rise < 1024, f"host shared memory rose by {rise} MiB"
    host.check()


def test_a_killed_childs_tmpfs_does_not_reach_the_next_job(farm, host):
    """What a job left in tmpfs is gone before the next job on its slot starts."""
    first, _ = run_hostile(farm, HOLDERS["tmpfs files in /tmp, fallocated"], ["assert hold() == 60"])
    assert verdicts(first)[0] is MEM, show(first)
    program = "import os\ndef left():\n    return sorted(os.listdir('/tmp'))\n"
    result, _ = run_hostile(farm, program, ["assert left() == ['w']"] * 2)
    assert result.verdict is P, show(result)
    host.check()


def test_many_pipes_filled(farm, host):
    """Pipe buffers are kernel memory no address-space limit sees. With 4096 files a program
    tries to hold twice its memory_mb in them."""
    program = r"""
import fcntl, os
def hold():
    held, pipes = 0, []
    try:
        while held < (128 << 20):
            r, w = os.pipe()
            pipes.append((r, w))
            try:
                fcntl.fcntl(w, fcntl.F_SETPIPE_SZ, 1 << 20)
            except OSError:
                pass
            os.set_blocking(w, False)
            try:
                while True:
                    held += os.write(w, b"x" * 65536)
            except BlockingIOError:
                pass
    except OSError:
        pass
    return held >> 20
"""
    result, _ = run_hostile(farm, program, ["assert hold() >= 128"], memory_mb=64, files=4096)
    assert verdicts(result)[0] in (F, MEM, RE), show(result)
    host.check()


def test_threads_share_one_limit(farm, host):
    """With processes allowed, threads share the job's address space and its limit."""
    program = r"""
import threading
held = []
def grab():
    try:
        block = bytearray(200 << 20)
        for at in range(0, len(block), 4096):
            block[at] = 1
        held.append(block)
    except MemoryError:
        pass
def hold():
    workers = [threading.Thread(target=grab) for _ in range(5)]
    for t in workers:
        t.start()
    for t in workers:
        t.join()
    return len(held) * 200
"""
    result, _ = run_hostile(farm, program, ["assert hold() >= 1000"], processes=64)
    assert verdicts(result)[0] in (F, MEM), show(result)
    host.check()


def test_processes_share_one_limit(farm, host):
    """With processes allowed, each process has its own address space: only the slot's memory
    cgroup bounds what they hold together (4 x 300 MiB under memory_mb=512)."""
    if farm.slots[0].cgroup is None:
        pytest.skip("without a memory cgroup each process has its own memory_mb (README, Known limits)")
    program = r"""
import os, time
def hold():
    pids = []
    for _ in range(4):
        r, w = os.pipe()
        pid = os.fork()
        if pid == 0:
            block = bytearray(300 << 20)
            for at in range(0, len(block), 4096):
                block[at] = 1
            os.write(w, b"1")
            time.sleep(30)
            os._exit(0)
        os.close(w)
        os.read(r, 1)
        pids.append(pid)
    alive = 0
    for pid in pids:
        if os.waitpid(pid, os.WNOHANG) == (0, 0):
            alive += 1
    return alive
"""
    result, _ = run_hostile(farm, program, ["assert hold() == 4"], processes=64)
    assert verdicts(result)[0] in (F, MEM), show(result)
    host.check()


FORKS_PAST_THE_LIMIT = r"""
import os, time
def f(wait_forever=False):
    r, w = os.pipe()
    pids = []
    for _ in range(4):
        pid = os.fork()
        if pid == 0:
            block = bytearray(30 << 20)
            for at in range(0, len(block), 4096):
                block[at] = 1
            os.write(w, b"1")
            time.sleep(0.5)
            os._exit(0)
        pids.append(pid)
    os.close(w)
    if wait_forever:  # for the children's bytes: one the OOM killer ended never writes its own
        for _ in pids:
            os.read(r, 1)
    for pid in pids:
        os.waitpid(pid, 0)
    return 2
"""


def test_a_process_the_oom_killer_ends_is_the_jobs_memory_verdict(farm, host):
    """Four children of 30 MiB under memory_mb=64 (the job's cgroup holds 96): the OOM killer
    ends one, and the program reaps it and answers, or waits for its output. Both are the job's
    memory_exceeded (they were passed, and a timeout at the wall-clock backstop); in a
    stdin/stdout test too."""
    if farm.slots[0].cgroup is None:
        pytest.skip("without a memory cgroup each process has its own memory_mb (README, Known limits)")
    limits = {"memory_mb": 64, "processes": 8, "wall_s": 20}
    for test in ("assert f() == 2", "assert f(True) == 2"):
        t0 = time.monotonic()
        result = farm.run(make_job(FORKS_PAST_THE_LIMIT, [test, "assert f() == 2"], **{**LIMITS, **limits}))
        assert verdicts(result) == [MEM, SK], show(result)
        assert time.monotonic() - t0 < 10, "ended at the wall-clock backstop"
    stdio = [{"stdin": "", "expected_stdout": "2\n"}] * 2
    result = farm.run(make_job(FORKS_PAST_THE_LIMIT + "print(f())\n", stdio, **{**LIMITS, **limits}))
    assert verdicts(result) == [MEM, MEM], show(result)
    host.check()


def test_what_the_sandbox_preloads_is_not_the_programs_memory(farm, host):
    """A child's address space starts with the interpreter, the sandbox's code and its
    preimports: the program still gets about what `python3 prog.py` gets under memory_mb (a
    40 MiB buffer under 64 failed: `python3` holds it in 58 MiB), and no more than that."""
    right = "def f():\n    return len(bytearray(40 << 20))\n"
    assert verdicts(farm.run(make_job(right, ["assert f() == 40 << 20"], **{**LIMITS, "memory_mb": 64}))) == [P]
    over = "def f():\n    return len(bytearray(64 << 20))\n"
    assert verdicts(farm.run(make_job(over, ["assert f() == 64 << 20"], **{**LIMITS, "memory_mb": 64}))) == [MEM]
    host.check()


def test_stdin_cannot_grow(farm, host):
    """A stdin/stdout run's fd 0 is a sealed memfd: no writing, no growing it."""
    program = r"""
import errno, os
out = []
for how in (lambda: os.write(0, b"x"), lambda: os.ftruncate(0, 1 << 30),
            lambda: os.posix_fallocate(0, 0, 64 << 20)):
    try:
        how()
        out.append("grew")
    except OSError as e:
        out.append(errno.errorcode[e.errno])
print(" ".join(out))
"""
    result, _ = run_hostile(farm, program, [{"stdin": "hello\n", "expected_stdout": "x"}])
    assert result.tests[0].verdict is F, show(result)
    assert "grew" not in result.tests[0].message, show(result)
    host.check()


def test_stdio_run_filling_tmpfs(farm, host):
    program = (
        "import os\nfor i in range(60):\n    fd = os.open('/tmp/f%d' % i, os.O_CREAT | os.O_WRONLY)\n"
        "    os.posix_fallocate(fd, 0, 64 << 20)\nprint('held')\n"
    )
    result, rise = run_hostile(farm, program, [{"stdin": "", "expected_stdout": "held\n"}] * 2)
    assert verdicts(result) == [MEM, MEM], show(result)
    assert rise < 1024, f"host shared memory rose by {rise} MiB"
    host.check()


def test_a_right_program_with_half_its_memory_passes(farm, host):
    program = r"""
def use(mb):
    block = bytearray(mb << 20)
    for at in range(0, len(block), 4096):
        block[at] = 1
    return len(block) >> 20
"""
    result, _ = run_hostile(farm, program, ["assert use(256) == 256"])
    assert result.verdict is P, show(result)
    assert result.peak_kb >= 256 << 10, show(result)
    host.check()


def test_a_right_program_with_files_and_heap_passes(farm, host):
    """Scratch files and heap together within memory_mb are fine."""
    program = r"""
def use():
    with open("data", "wb") as fh:
        fh.write(b"x" * (128 << 20))
    block = bytearray(128 << 20)
    for at in range(0, len(block), 4096):
        block[at] = 1
    return len(block) >> 20
"""
    result, _ = run_hostile(farm, program, ["assert use() == 128"])
    assert result.verdict is P, show(result)
    host.check()
