"""The kernel bound under the trusted evaluator: judging a test in a process of its own.

The host judges assert plans in its own process while every value stays small (the in-process
bounds of judging/budget.py). A test those bounds refuse (`TooCostly`: a huge literal, power,
string or hash table) is judged again here, in a child forked by a judge server that has
imported the judge and never runs program code, under the job's own limits: RLIMIT_CPU of the
test's `cpu_s`, RLIMIT_AS of `memory_mb` over the server's size, and the test's `wall_s`, kept
by the caller; the child judges within `Budget.unbounded()`. So a cost vector nobody thought
of costs one test's limits, not the server.

Who pays is decided by where the limit is hit (DESIGN section 9, "Cost"):
1. the test's own text first - its probe-free parts folded to values (TrustedSnippet.folded):
   a limit hit there means the test cannot be judged within the job's limits: `infra_error`
   ("not judgeable", no reward), never the program's failure;
2. then the program's values against them: a limit hit there is the program's doing (huge,
   deep or colliding values): `failed`.
A test whose own text fits the host's in-process bounds (TrustedSnippet.cheap_text) came here
for the program's values alone: any limit it hits is the program's (`failed`), so a program
cannot make a test not judgeable by sending it here (a child holds all the test's folded
values at once, which the host never needed).

Protocol (a SOCK_SEQPACKET socket pair; `serve` is the server, started on first use):
    caller -> server  b"J" with two fds (SCM_RIGHTS): a memfd holding the request - JSON
                      {"code", "cpu_s", "memory_mb"}, a newline, the phase's JSON (the values) -
                      and the write end of a pipe on which the child answers
    server -> caller  the child's pid, 4 bytes big-endian (0: the fork failed)
    child -> pipe     b"F" once the test's own values are folded, then one line of JSON
                      [verdict, message]; EOF before it: a limit ended the child
"""

from __future__ import annotations

import json
import math
import os
import resource
import select
import signal
import socket
import subprocess
import sys
import threading
import time
from typing import Any

from ..limits import Limits
from ..result import TestResult
from ..sandbox.frames import read_all
from ..verdict import Verdict

_server: tuple[subprocess.Popen[bytes], socket.socket] | None = None
_lock = threading.Lock()


def _connection() -> socket.socket:
    """The socket to the judge server, started on first use (and again if it died)."""
    global _server
    if _server is not None and _server[0].poll() is None:
        return _server[1]
    ours, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
    # This package is importable there as it is here, however the caller's sys.path was made.
    root = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(p for p in (root, os.environ.get("PYTHONPATH")) if p))
    proc = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import sys; from executor.judging.bounded import serve; serve(int(sys.argv[1]))",
            str(theirs.fileno()),
        ],
        pass_fds=[theirs.fileno()],
        stdin=subprocess.DEVNULL,
        close_fds=True,
        env=env,
    )
    theirs.close()
    _server = (proc, ours)
    return ours


def judge(code: str, phase: dict[str, Any], limits: Limits, program_pays: bool = False) -> TestResult:
    """The verdict of assert test `code` on the values in `phase`, judged in a child process
    under `limits` (see the module's docstring for who pays for a limit). `program_pays`: the
    test's own text fits the host's in-process bounds (TrustedSnippet.cheap_text), so it came
    here for the program's values: any limit is theirs."""
    return _judged({"code": code, "program_pays": program_pays}, phase, limits)


def judge_output(checker: str, tolerance: float, accepted: tuple[str, ...], got: str, limits: Limits) -> TestResult:
    """Does the run's stdout `got` match one of `accepted` with `checker` (checkers.py)? Judged
    in a child process under `limits`; a limit hit there is the program's (it chose how to print
    its numbers), so the test fails. A failed match's message is None (the caller's)."""
    request = {"checker": checker, "tolerance": tolerance, "accepted": list(accepted), "program_pays": True}
    return _judged(request, got, limits)


def _judged(head: dict[str, Any], values: Any, limits: Limits) -> TestResult:
    read_end, write_end = os.pipe()
    request = os.memfd_create("judge-request", os.MFD_CLOEXEC)  # tests and values may be megabytes
    try:
        # The test and the limits, a newline, then the program's values: the child reads the
        # values only after the test's own text is computed, under the limits (see serve).
        head = head | {"cpu_s": limits.cpu_s, "memory_mb": limits.memory_mb}
        # Raw UTF-8, not escaped (an emoji would take 12 bytes): lone surrogates pass as such.
        data = (json.dumps(head) + "\n" + json.dumps(values, ensure_ascii=False)).encode("utf-8", "surrogatepass")
        while data:
            data = data[os.write(request, data) :]
        with _lock:
            conn = _connection()
            try:
                socket.send_fds(conn, [b"J"], [request, write_end])
                reply = conn.recv(4)
            except OSError:
                reply = b""
        os.close(write_end)
        write_end = -1
        pid = int.from_bytes(reply, "big") if len(reply) == 4 else 0
        if not pid:
            return TestResult(Verdict.INFRA_ERROR, "the judge server could not start a judge")
        return _outcome(read_end, pid, limits)
    finally:
        os.close(read_end)
        os.close(request)
        if write_end >= 0:
            os.close(write_end)


def _outcome(fd: int, pid: int, limits: Limits) -> TestResult:
    deadline = time.monotonic() + limits.wall_s
    data = b""
    while True:
        left = deadline - time.monotonic()
        if left <= 0:
            try:
                os.kill(pid, signal.SIGKILL)  # still holds the pipe open: it has not exited
            except OSError:
                pass
            break
        ready, _, _ = select.select([fd], [], [], left)
        if not ready:
            continue
        chunk = os.read(fd, 1 << 16)
        if not chunk:
            break
        data += chunk
    folded = data.startswith(b"F")
    body = data[1:] if folded else data
    if body.endswith(b"\n"):
        try:
            verdict, message = json.loads(body)
            return TestResult(Verdict(verdict), message)
        except (ValueError, TypeError):
            pass
    if not folded:
        return TestResult(
            Verdict.INFRA_ERROR,
            "not judgeable: the test's own values exceed the job's limits "
            f"({limits.cpu_s:g} s CPU, {limits.memory_mb} MB)",
        )
    return TestResult(
        Verdict.FAILED,
        "the program's values cost more than the job's limits to judge "
        f"({limits.cpu_s:g} s CPU, {limits.memory_mb} MB)",
    )


# -- the server and its children ------------------------------------------------------------


def serve(fd: int) -> None:
    """The judge server's loop, on the socket `fd` (it returns when the caller is gone)."""
    from . import checkers as _checkers  # noqa: F401  imported once here, before any fork
    from . import snippet as _snippet  # noqa: F401

    sock = socket.socket(fileno=fd)
    signal.signal(signal.SIGCHLD, signal.SIG_IGN)  # children are reaped by the kernel
    while True:
        try:
            msg, fds, _, _ = socket.recv_fds(sock, 16, 2)
        except OSError:
            return
        if not msg:
            return  # the caller is gone
        try:
            pid = os.fork() if len(fds) == 2 else 0
        except OSError:
            pid = 0
        if pid == 0 and len(fds) == 2:
            sock.close()
            code = 70
            try:
                _judge_in_child(read_all(fds[0]), fds[1])
                code = 0
            finally:
                os._exit(code)
        for fd in fds:
            os.close(fd)
        sock.send(pid.to_bytes(4, "big"))


def _address_space() -> int:
    """This process's virtual size in bytes (what RLIMIT_AS counts)."""
    with open("/proc/self/statm") as fh:
        return int(fh.read().split()[0]) * resource.getpagesize()


def _judge_in_child(data: bytes, out: int) -> None:
    """Judge one request: the test's own text first (a limit there: nothing written before
    EOF), then, after b"F", the program's values, parsed only now so that their cost is
    theirs. The limits count from here: the raw bytes are read, nothing of them parsed."""
    from . import asserts
    from .budget import Budget
    from .kind import JudgeContext, Plan
    from .snippet import KIND, AssertPlan, AssertTest, judge_here

    head, _, values = data.partition(b"\n")
    request = json.loads(head)
    seconds = max(1, math.ceil(float(request["cpu_s"])))
    used = resource.getrusage(resource.RUSAGE_SELF)
    seconds += math.ceil(used.ru_utime + used.ru_stime)  # RLIMIT_CPU counts from the fork
    resource.setrlimit(resource.RLIMIT_CPU, (seconds, seconds + 1))  # SIGXCPU ends the child
    room = _address_space() + int(request["memory_mb"]) * (1 << 20)
    resource.setrlimit(resource.RLIMIT_AS, (room, room))
    if request.get("program_pays"):
        os.write(out, b"F")  # the host computed the test's text within its bounds: limits are the values'
    if "checker" in request:  # a run's stdout against its accepted outputs (judge_output)
        from . import checkers

        try:
            ok = checkers.matches_any(
                request["checker"],
                float(request["tolerance"]),
                tuple(request["accepted"]),
                json.loads(values.decode("utf-8", "surrogatepass")),
            )
        except MemoryError:
            _answer(out, Verdict.FAILED, f"the program's output exceeds {request['memory_mb']} MB when judged")
            return
        _answer(out, Verdict.PASSED if ok else Verdict.FAILED, None)
        return
    code = request["code"]
    try:
        snippet = asserts.plan_snippet(code)
        if snippet is None:
            raise ValueError("the test is not an assert the trusted side plans")
        snippet = snippet.folded(Budget.unbounded())  # the kernel bounds this process instead
    except MemoryError:
        return  # EOF before "F": the test's own values exceed the job's memory
    except Exception as exc:
        _answer(out, Verdict.FAILED, f"the test itself raises {type(exc).__name__}")
        return
    if not request.get("program_pays"):
        os.write(out, b"F")
    try:
        plan = Plan(AssertTest(code), KIND, AssertPlan(snippet, frozenset()))
        result = judge_here(plan, json.loads(values.decode("utf-8", "surrogatepass")), JudgeContext(Budget.unbounded()))
    except MemoryError:
        _answer(out, Verdict.FAILED, f"the program's values exceed {request['memory_mb']} MB when judged")
        return
    _answer(out, result.verdict, result.message)


def _answer(out: int, verdict: Verdict, message: str | None) -> None:
    line = json.dumps([verdict.value, message]).encode("utf-8", "surrogatepass") + b"\n"
    while line:
        line = line[os.write(out, line) :]
