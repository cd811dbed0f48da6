"""Hostile programs in C, Java and Go (and node where a runtime's threads are the point), the
categories of tests/security that make sense outside Python: files outside the working
directory, the network, other processes and the slot's own (the zygote, the fork server), other
jobs' leftovers, process and thread bombs, a shell. Each ends in a verdict of its own (never
infra_error), leaves the host and the pool's slots as they were, and the job after it runs.
"""

from __future__ import annotations

import os
import secrets
import socket
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from executor import ExecutorConfig, Pool

from ..security.security_support import REPO, describe_processes, sandbox_processes
from . import hostile as H
from .programs import PROGRAMS, SUM_TESTS
from .support import failing, job, raw, require, show, stdin_test

pytestmark = pytest.mark.security

LANGS = H.HOSTILE_LANGUAGES


def probe(pool: Pool, lang: str, program: str, lines: list[str], **limits: object):
    """Run a probe (hostile.py) on `lines`: its result, which passes only if it breached nothing."""
    require(pool, lang)
    return pool.run(job(lang, program, [stdin_test("".join(x + "\n" for x in lines), "done\n")], **limits))


class Watch:
    """What a hostile test checks after its program ran: no slot of either pool was replaced,
    no sandbox process outlived its job, and the next job (a right program in the same
    language, on the same pool) passes."""

    def __init__(self, pools: tuple[Pool, ...]) -> None:
        self.before = [dict(p.stats) for p in pools]
        self.pools = pools
        self.procs = len(sandbox_processes())

    def check(self, pool: Pool, lang: str) -> None:
        for p, before in zip(self.pools, self.before):
            assert p.stats["slot_restarts"] == before["slot_restarts"], (before, p.stats)
            assert p.stats["infra_errors"] == before["infra_errors"], (before, p.stats)
        deadline = time.monotonic() + 3.0
        while len(sandbox_processes()) > self.procs and time.monotonic() < deadline:
            time.sleep(0.05)
        left = sandbox_processes()
        assert len(left) <= self.procs, describe_processes(left)
        r = pool.run(job(lang, PROGRAMS[lang]["right"], SUM_TESTS))
        assert r.verdict.value == "passed", show(r)


@pytest.fixture
def watch(pool: Pool, solo_pool: Pool) -> Watch:
    """Taken before the test (with both pools up, their processes counted)."""
    return Watch((pool, solo_pool))


@pytest.fixture
def host_dir(tmp_path: Path) -> Path:
    """A world-writable host directory holding a world-readable canary."""
    d = tmp_path / "host"
    d.mkdir()
    os.chmod(tmp_path, 0o777)
    os.chmod(d, 0o777)
    (d / "canary.txt").write_text("host canary " + secrets.token_hex(8))
    os.chmod(d / "canary.txt", 0o666)
    return d


# -- files ------------------------------------------------------------------------------------


@pytest.mark.parametrize("lang", LANGS)
def test_files_outside_the_working_directory_cannot_be_read(pool, watch, host_dir, lang):
    build_dir = ExecutorConfig().build_dir or "/nonexistent"
    targets = [
        "/etc/passwd",
        "/etc/shadow",
        "/etc/hostname",
        "/root",
        "/root/.bashrc",
        "/home",
        "/work",
        str(REPO),
        str(REPO / "pyproject.toml"),
        str(REPO / "executor" / "sandbox" / "zygote.py"),
        build_dir,  # other programs' builds
        str(host_dir),
        str(host_dir / "canary.txt"),
        "/proc/1/environ",
        "/proc/1/root/etc/shadow",
        "/proc/kcore",
        "/sys/kernel/notes",
        "/var/run/redis",
    ]
    r = probe(pool, lang, H.READ[lang], targets)
    assert r.verdict.value == "passed", show(r)
    watch.check(pool, lang)


@pytest.mark.parametrize("lang", LANGS)
def test_files_outside_the_working_directory_cannot_be_written(pool, watch, host_dir, lang):
    name = "acefarm-pwn-" + secrets.token_hex(4)
    build_dir = ExecutorConfig().build_dir or "/nonexistent"
    dirs = ["/", "/etc", "/root", "/home", "/usr/local", "/dev", str(REPO), str(REPO / "executor"), build_dir]
    dirs.append(str(host_dir))
    targets = [os.path.join(d, name) for d in dirs] + [str(host_dir / "canary.txt")]
    r = probe(pool, lang, H.WRITE[lang], targets)
    assert r.verdict.value == "passed", show(r)
    for d in dirs:
        assert not os.path.lexists(os.path.join(d, name)), f"a {lang} program created a file in host {d}"
    assert (host_dir / "canary.txt").read_text().startswith("host canary ")
    watch.check(pool, lang)


# -- the network ------------------------------------------------------------------------------


@pytest.fixture
def listener() -> Iterator[tuple[int, socket.socket]]:
    """A TCP listener on the host's 127.0.0.1: nothing from the sandbox may reach it."""
    srv = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    srv.bind(("127.0.0.1", 0))
    srv.listen(8)
    srv.setblocking(False)
    yield srv.getsockname()[1], srv
    srv.close()


@pytest.mark.parametrize("lang", LANGS)
def test_no_network(pool, watch, listener, lang):
    """The host's loopback (a listener of this test), the sandbox's own, and an address outside
    (192.0.2.1, TEST-NET-1: never routed) are all out of reach."""
    port, srv = listener
    targets = [f"127.0.0.1 {port}", f"::1 {port}", "127.0.0.1 22", "192.0.2.1 80", "10.0.0.1 53"]
    r = probe(pool, lang, H.CONNECT[lang], targets, wall_s=15)
    assert r.verdict.value == "passed", show(r)
    with pytest.raises(BlockingIOError):
        srv.accept()
    watch.check(pool, lang)


# -- other processes: the slot's own and the host's ---------------------------------------------


@pytest.mark.parametrize("lang", LANGS)
def test_other_processes_cannot_be_seen_read_or_signalled(solo_pool, watch, lang):
    """/proc shows the sandbox's init, the zygote, the fork server and the program alone; none
    of the first three can be read or sent a signal, nor any other pid or process group."""
    r = probe(solo_pool, lang, H.PROCESSES[lang], [], wall_s=15)
    assert r.verdict.value == "passed", show(r)
    watch.check(solo_pool, lang)


# -- other jobs' leftovers ----------------------------------------------------------------------


@pytest.mark.parametrize("lang", LANGS)
def test_leftovers_of_one_job_are_gone_for_the_next(solo_pool, watch, lang):
    """A job writes a secret in its working directory, /tmp and wherever else it can; the next
    job on the same zygote finds nothing."""
    require(solo_pool, lang)
    secret = "leftover-" + secrets.token_hex(8)
    planted = solo_pool.run(job(lang, H.plant(lang), raw(secret + "\n")))
    assert planted.tests[0].output.stdout.startswith("planted "), show(planted)
    assert int(planted.tests[0].output.stdout.split()[1]) >= 3, show(planted)  # its own dir, /tmp
    r = solo_pool.run(job(lang, H.search(lang), [stdin_test("", "done\n")]))
    assert r.verdict.value == "passed", show(r)
    watch.check(solo_pool, lang)


# -- bombs --------------------------------------------------------------------------------------


@pytest.mark.parametrize("lang", LANGS)
def test_a_process_bomb_ends_as_a_verdict(pool, watch, lang):
    """C forks in a loop, Java and Go start themselves again and again: none of them gets a
    process (the runtime's own threads stay threads), and the CPU limit ends the loop."""
    require(pool, lang)
    r = pool.run(job(lang, H.FORK_BOMB[lang], SUM_TESTS[:1], cpu_s=0.5, wall_s=5))
    assert [t.verdict.value for t in r.tests] == ["timeout"], show(r)
    watch.check(pool, lang)


def test_threads_beyond_the_limit_c(pool, watch):
    """The language's threads (a worker thread with a big stack is a contest idiom; the
    per-user count leaves the slot's own processes some room beside them), then pthread_create
    fails: the program goes on and ends by itself, having started a few dozen at most."""
    require(pool, "c")
    r = pool.run(job("c", H.THREAD_BOMB["c"], raw(), wall_s=2))
    assert r.tests[0].output is not None and 0 < int(r.tests[0].output.stdout) < 64, show(r)
    watch.check(pool, "c")


def test_threads_beyond_the_limit_java(pool, watch):
    """The JVM gets its own threads and no more: the program's next Thread.start is an
    OutOfMemoryError, and the threads it did start (sleeping) keep it up until the wall clock."""
    require(pool, "java")
    r = pool.run(job("java", H.THREAD_BOMB["java"], raw(), wall_s=1))
    (test,) = r.tests
    assert test.verdict.value == "timeout" and failing(r), show(r)
    assert "unable to create native thread" in test.output.stderr, show(r)
    assert test.output.stdout == "", show(r)  # the JVM's warnings went to stderr, not into its answer
    watch.check(pool, "java")


def test_threads_beyond_the_limit_go(pool, watch):
    """Goroutines blocked in system calls each hold an OS thread: past the limit Go's runtime
    cannot start one and dies (its goroutine dump may pass the output limit)."""
    require(pool, "go")
    r = pool.run(job("go", H.THREAD_BOMB["go"], raw()))
    (test,) = r.tests
    assert test.verdict.value in ("runtime_error", "output_exceeded") and failing(r), show(r)
    assert "failed to create new OS thread" in test.output.stderr, show(r)
    watch.check(pool, "go")


# -- a shell ------------------------------------------------------------------------------------


@pytest.mark.parametrize("lang", ["c", "go"])
def test_a_shell_cannot_start_and_runs_only_in_place(pool, watch, lang):
    """system()/exec.Command cannot start a process. exec() of /bin/sh replaces the program,
    with its limits: the shell's builtins run, the first command it would start cannot."""
    require(pool, lang)
    r = pool.run(job(lang, H.SHELL[lang], raw()))
    (test,) = r.tests
    out = test.output
    assert out.stdout == H.SHELL_REFUSED[lang] + "in-place\n", show(r)
    assert "Cannot fork" in out.stderr and out.exit_code == 2 and test.verdict.value == "runtime_error", show(r)
    watch.check(pool, lang)


@pytest.mark.parametrize("lang", ["java", "javascript"])
def test_a_threaded_runtime_cannot_start_a_shell(pool, watch, lang):
    """The JVM and node may start threads of their own; a process (ProcessBuilder,
    child_process) is refused like any other program's."""
    require(pool, lang)
    r = pool.run(job(lang, H.SHELL[lang], raw()))
    (test,) = r.tests
    assert test.output.stdout == H.SHELL_REFUSED[lang] + "done\n", show(r)
    assert "SHELL-RAN" not in test.output.stdout + test.output.stderr, show(r)
    watch.check(pool, lang)


def test_a_job_that_allows_processes_may_start_a_shell(pool, watch):
    """The refusal is the job's `processes` limit, not the language's: allowed, Java runs it."""
    require(pool, "java")
    r = pool.run(job("java", H.SHELL["java"], raw(), processes=4))
    (test,) = r.tests
    assert test.output.stdout == "SHELL-RAN\nshell ran\ndone\n", show(r)
    watch.check(pool, "java")
