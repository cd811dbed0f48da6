"""The zygote: one long-lived process per slot, started once inside firejail.

It imports what programs commonly import, freezes the GC, and then, before any
job, forks the fork server (forker.py): every child of every job is a copy of
that process, which never sees a job's data, never of the zygote, which reads
jobs, parses what programs return and holds its caches. The zygote compiles
test probes (cached: a GRPO group shares its suite; they reach children
marshalled), never programs: a program is compiled in its child, under its own
CPU and memory limits. It runs each job's phases (nonces, limits, frames) and
answers the host. Standard library only.

Protocol (the spec; executor/slot.py is the other end)
=====================================================

Framing, both directions and on every pipe: a 4-byte big-endian length, then
that many bytes of UTF-8 JSON holding one object.

Host <-> zygote, over the zygote's stdin/stdout:

1. Boot. The host starts `python3 -I -S -c BOOTSTRAP` and writes one frame
   ``{"name": pkg, "package": [[module, source], ...], "preimport": [names],
   "scratch": "/tmp", "own_pid_namespace": true, "cpu": N | null,
   "memcg": {"join": fd, "oom": fd, "usage": fd, "peak": fd?} | null}``. With a
   "cpu", the zygote pins itself, and so every process of the slot, to that
   CPU (see ExecutorConfig.pin_slots). "memcg": descriptors of the job's memory
   cgroup the sandbox was started with (executor/memcg.py): every child joins it
   through "join"; a child the kernel's OOM killer ended gets status ``memory``,
   and "peak_kb" is the cgroup's. The bootstrap
   has a throwaway child of its own read that frame and compile the sources, and
   gets back the frame without them and the code objects (marshal, over a pipe):
   the compiler's scratch memory, megabytes that Python keeps once freed, never
   enters the zygote, so neither the fork server nor any child copies it at each
   fork. It then builds the package and calls `main()`, which answers
   ``{"ready": true, "python": "3.11.2", "pid": N, "ns": {"net": "net:[...]", ...}}``;
   "ns" names the namespaces it runs in, for the host to check they are the sandbox's own.
2. Jobs. The host writes one job frame at a time and reads exactly one
   answer frame before sending the next:

   job    = {"program_bytes": int, "snippets_bytes": int,
             "mode": "tests" | "stdio", "first_failure": bool,
             "prelude"?: name (preludes.PRELUDES: trusted source the child
                         runs before the program, in its namespace),
             "limits": {"cpu_s", "wall_s", "memory_mb", "output_kb", "disk_mb",
                        "files", "processes"},
             "tests": [test, ...]}
   test   = {"kind": "value", "exprs": [str, ...], "own"?: [bool, ...],
             "at"?: [index, ...]}                      (tests mode; "at": per probe,
                                                       the probe after which its
                                                       value is read: encoded)
          | {"kind": "call", "func": str, "args": [...], "method_of"?: str}
          | {"kind": "snippet"}                         (its source: see below)
          | {"stdin": str}                              (stdio mode)
          | {"stdin": str, "capture": {"files": {path: base64},
                                       "fetch": [path]}}  (stdio mode: a raw run)
   answer = {"load": phase | null, "tests": [phase, ...],
             "cpu_ms": float, "peak_kb": int}
   phase  = {"s": status, "m": message?, "v": encoded value?, "stdout": str?,
             "cpu_ms": float, "wall_ms": float}
   A raw run's phase always has "stdout" and "stderr" (each kept up to
   output_kb; the run is ended when both together pass it), "exit" (its exit
   status) or "sig" (the name of the signal that ended it, SIGKILL when the
   zygote ended it on a limit), "cpu_ms" (the child's, from its rusage),
   "wall_ms" (from its fork to its end) and "files" (fetched files,
   base64). Its status is ok only for exit status 0 within every limit.
   status = ok | fail | error | memory | syntax | timeout | output | disk
          | crash | protocol | stopped | skipped | infra

   The job frame holds neither the program nor the snippets' sources: it gives
   their sizes ("program_bytes", "snippets_bytes"), and those bytes follow it
   raw on the pipe (the program as UTF-8, the snippets as a JSON list). The
   zygote has the kernel move them into memfds (splice) for the children that
   read them, so they never enter its memory.
   A value phase that did not end "ok" still carries, in "v", the values
   computed before it ended (the host judges the asserts they cover first).
   A program in a language other than Python (an exec job) adds
   ``"exec": {"argv": [...], "env": {...}, "as_mb": int | null,
   "data_mb": int | null, "stack_mb": int, "threads": int, "threads_only": bool,
   "oom": [str]}``:
   its program bytes are a blob of files (artifact.py) each run unpacks in its
   working directory before it execs argv (forker.py, role X); mode is stdio.
   A build request adds ``"build": {"argv", "env", "limits", "keep": [pattern],
   "threads", "as_mb", "data_mb"}`` and has no tests: the blob holds the
   sources, the compiler runs under the build's limits (role B), and the answer
   carries ``"build": phase`` (a failed build also as "load", status compile;
   ``"stopped": true`` in it when a wall-clock limit ended the build)
   and ``"artifact_bytes": n``: the blob of what the build left that "keep"
   names follows the answer frame raw. A raw run's files to fetch are read back
   by a child of their own (role F).
   Expected outputs and assert literals never appear in a program's job: the
   host keeps them and judges the values and stdout that come back. A special
   judge's run (executor/checking.py) is a job of its own, sent after the
   program's runs ended: an exec job whose blob holds the checker and one
   test's input.txt, output.txt and answer.txt, and whose one test is a raw run.

   While a slow value phase runs, the zygote may write any number of
   ``{"part": test index, "v": [values]}`` frames before the answer (the
   phase's values so far, in order, each sent once). It never waits for the
   host to read them while the job runs (the host may be judging the job
   before, which it does after sending this one): what the pipe cannot take
   yet waits in the zygote and goes out as the pipe drains, all of it before
   the answer. The host may answer one
   with ``{"stop": test index}``: the zygote then ends that phase with status
   ``stopped`` (the host sends it only when an assert those values cover has
   failed, and the phase is the job's last or the job stops at its first
   failure). A stop that arrives after its job ended is ignored.
3. A zygote that cannot go on exits; the host sees EOF and replaces the slot.

Zygote <-> child (one child per program in tests mode, one per test in stdio
mode, forked by the fork server with the fds the zygote sent it; see forker.py),
over two pipes the child sees as fds 3 (control, read) and 4 (results, write);
fds 0/1/2 are the child's own stdin and capped stdout/stderr pipes. The child
reads its payload (limits, prepared tests) and its program from two memfds
first. In tests mode it also keeps fd 7, its values log: a memfd sealed at
LOG_MAX where it appends each probe value before computing the next (records
of a 4-byte length and JSON [test index, value]); the zygote reads it only when
a value phase ends without its frame, so the values before a loop or a crash
are judged first:

1. The child finishes its own set-up (session, rlimits, working dir)
   before any program code exists in it, then writes ``{"ready": true}``. EOF
   before that frame is an infrastructure fault; anything after it is the
   program's doing.
2. Tests mode: for each phase (loading the program, then each test in order)
   the zygote writes a fresh random nonce (32 hex chars + "\\n") and waits for
   one frame ``{"n": nonce, "s": status, "v"?, "m"?}``. Nonces are made after
   the fork. The load phase's is queued right after the fork (the runner
   consumes it before the program exists), with those of the value and call
   phases that follow it (see below); a snippet phase's is sent only when that
   phase starts, so a program cannot write a valid frame for it ahead of time; a frame
   with a wrong nonce, a malformed frame, or extra bytes after a phase's frame
   end the child with status ``protocol``.
   A value phase may also send ``{"n": nonce, "s": "part", "v": [values]}``
   frames before its last one (at most every PART_EVERY_S of runner.py).
   The nonces of value and call phases may be queued ahead (at most
   NONCE_QUEUE): their frames carry values the host judges, so a program that
   writes one itself gains nothing it could not return. A snippet phase's
   nonce is sent only when that phase starts, since its frame is its verdict.
   Snippet phases are run by the test process: the program's child gets
   SERVE_TOKEN (runner.py) in place of a nonce and answers the test process's
   requests on fds 5 (in) and 6 (out) until it is told the phase is done;
   the test process gets the nonce and writes the phase's frame.
   Stdio mode: the child closes fd 4 after ``ready``; its exit status and
   stdout are the whole report. A raw run's child keeps fd 4 and writes one
   report frame there as it ends (capture.py): what only it can see (the
   program does not compile, a MemoryError) and the files to fetch back.
3. Per phase the zygote enforces CPU time (from /proc/PID/schedstat), wall
   time, output bytes and scratch-disk use, and kills the child's process
   group on any limit. After the job it reads the child's CPU time and peak
   memory, kills the group (the fork server reaps it; its exit status is asked
   for when the child ended on its own) and wipes the scratch directory.

Zygote <-> test process (tester.py; only for a job with snippet tests). It is
forked before the program's child, in its own session, and sees fds 3
(control: a nonce per snippet phase), 4 (its frames), 5 and 6 (requests to and
replies from the program's child, rpc.py); it reads the snippets from the memfd
the zygote spliced them into, and writes ``{"ready": true}``. The program's
child gets a second seccomp filter (seccomp.SignalFloor) that refuses to
signal the test process's pid or anything older (the fork server has one at
its own pid: no child may signal it or the zygote). A snippet phase's CPU time
is both processes'. A snippet frame with ``"gone": true`` says the program's
process ended while serving it: that phase takes the program's exit, and the
tests after it are skipped. The test process is killed with the job.
"""

import fcntl
import gc
import json
import marshal
import os
import re
import resource
import signal
import socket
import struct
import sys
import time

from . import artifact, codec, forker, frames, packages, preludes, process, runner, seccomp, statuses

READY_TIMEOUT_S = 5.0
WIPE_BUDGET_S = 2.0
NONCE_QUEUE = 64  # nonces queued ahead of the child: 2 KiB, far below a pipe's buffer
ZYGOTE_MEMORY = 1 << 30
SANDBOX_PACKAGE = __name__.rpartition(".")[0]

_PR_SET_DUMPABLE = 4
_READY = {"ready": True}
MAX_SPLICED = 64 << 20  # bytes of one job's program or snippets
COMPILE_HERE_MAX = 16 << 10  # bytes: larger programs are compiled in their child
# Scopes (the keywords that open one: a comprehension's `for` too) times bytes: past this, a
# program is compiled in its child. Nested scopes x names bounds the compiler's closure work
# (about 4 us a pair): here 0.2 s at worst; ordinary programs (2 KiB, 10 defs: 20,000) pass.
COMPILE_HERE_SCOPE_BYTES = 200_000
# Not \b: `0for` is a number and a keyword to the tokenizer.
_SCOPES = re.compile(r"(?<![A-Za-z_])(?:lambda|def|class|for)(?![A-Za-z0-9_])")
# A match statement's patterns: thousands of captures in one cost the compiler a second and
# most of a gigabyte. Such programs, rare, are compiled in their child.
_CASE = re.compile(r"^[ \t]*case(?![A-Za-z0-9_])", re.M)
BUILD_MESSAGE_MAX = 4000  # characters of a failed build's compiler output kept (its start and its end)
# A string/bytes/tuple literal (or a closing bracket) and `*`, with anything a tokenizer would
# skip between them: blanks, newlines, backslash continuations, comments. Possessive: the
# source is the program's, and a backtracking gap (a comment is `#` and the rest of its line,
# never part of it) would let a line of `#`s hang the zygote for minutes.
_GAP = r"""(?:\s|\\\r?\n|#[^\n]*+)*+"""
_SEQUENCE_TIMES = re.compile(r"""['")\]]""" + _GAP + r"""\*|\*""" + _GAP + r"""[bBrRuUfF]*['"(\[]""")
GROWTH_LIMIT_KB = 256 * 1024
_PAGE = os.sysconf("SC_PAGE_SIZE")
_PAGE_KB = _PAGE // 1024


def _wipe_scratch(scratch, workdir):
    """Leave `scratch` holding only an empty `workdir` (cheap when already clean). Returns
    False when it could not: the zygote should then take no more jobs.

    Everything in the scratch belongs to our uid, so a child's chmod tricks are undone before
    removal. The walk is iterative (a 1000-deep chain is fine) and has a time budget: a scratch
    that cannot be cleaned in time makes the zygote exit after answering the job, so the slot
    comes back with a fresh private /tmp and nobody's job is charged for it.
    """
    try:
        if os.listdir(scratch) == ["w"] and not os.listdir(workdir):
            return True
    except OSError:
        pass
    deadline = time.monotonic() + WIPE_BUDGET_S
    stack = [(os.path.join(scratch, n), False) for n in os.listdir(scratch)]
    while stack:
        if time.monotonic() > deadline:
            return False
        path, emptied = stack.pop()
        try:
            if emptied or not os.path.isdir(path) or os.path.islink(path):
                (os.rmdir if emptied else os.unlink)(path)
                continue
            os.chmod(path, 0o700)
            stack.append((path, True))
            stack.extend((os.path.join(path, n), False) for n in os.listdir(path))
        except OSError:
            pass
    try:
        os.mkdir(workdir, 0o700)
    except OSError:
        return False
    return True


class _Unmarshallable(Exception):
    """A child's payload that marshal refuses (code nested past its depth limit)."""


class _Infra(Exception):
    pass


class _ForkServer:
    """Our end of the fork server's socket (forker.py speaks the other). `broken`: it is gone
    or answered out of step, and this zygote should take no more jobs."""

    def __init__(self, sock):
        self.sock = sock
        self.broken = False

    def spawn(self, role, fds, payload, sources_fd, log_fd=None):
        """Have the fork server fork a child with `fds` as its 0..4 (+ the rpc pipes), `payload`
        (marshalled into a memfd) as its 5, `sources_fd` as its 6 and, for a program's tests,
        `log_fd` (its values log) as its 7. Returns its pid."""
        try:
            data = marshal.dumps(payload)
        except ValueError as exc:  # code nested too deep to marshal: the job's, not the fork server's
            raise _Unmarshallable(str(exc)) from None
        payload_fd = os.memfd_create("payload", os.MFD_CLOEXEC)
        try:
            while data:
                data = data[os.write(payload_fd, data) :]
            all_fds = (
                list(fds[:5]) + [payload_fd, sources_fd] + ([log_fd] if log_fd is not None else []) + list(fds[5:])
            )
            socket.send_fds(self.sock, [b"F" + role], all_fds)
            reply = self.sock.recv(16)
        except (OSError, ValueError) as exc:
            self.broken = True
            raise _Infra("the fork server is gone: %s" % (exc,)) from None
        finally:
            os.close(payload_fd)
        if reply[:1] != b"P":
            self.broken = True
            raise _Infra("the fork server answered out of step")
        return int.from_bytes(reply[1:5], "big")

    def reaped(self, pid):
        """Ask the fork server to reap `pid` (already killed): (status, CPU ms, peak KiB)."""
        try:
            self.sock.send(b"W" + pid.to_bytes(4, "big"))
            reply = self.sock.recv(64)
            if reply[:1] == b"W":
                return forker.REAPED.unpack(reply[1 : 1 + forker.REAPED.size])
        except (OSError, struct.error):
            pass
        self.broken = True
        return signal.SIGKILL, 0.0, 0


# All of a stdio job's stdout in its answer, as JSON: a job's tests carry at most 64 MiB of
# UTF-8 JSON (JobRules), and a right program's output for them fits three times over (spaced
# otherwise than the expected: tabs for spaces, CRLF for LF double its JSON), within the 256
# MiB the host reads of one answer (slot.py).
STDIO_ANSWER_BYTES = 192 << 20


def _frame_size(text):
    """Bytes `text` takes in a JSON frame (control characters become 6-byte escapes)."""
    return len(json.dumps(text, ensure_ascii=False).encode("utf-8", "surrogatepass"))


class Zygote:
    """A booted zygote: its sandbox (`env`, a process.Env), its children's working directory,
    its fork server (a _ForkServer) and a read-only /dev/null fd (reused as an empty stdin).
    It runs the host's jobs (`serve`) until EOF. `needs_restart`: it should take no more jobs
    (a scratch it could not clean); the host then replaces the slot."""

    def __init__(self, env, workdir, fork_server, devnull, needs_restart=False):
        self.env = env
        self.workdir = workdir
        self.forker = fork_server
        self.devnull = devnull
        self.needs_restart = needs_restart
        self._statm_fd = os.open("/proc/self/statm", os.O_RDONLY | os.O_CLOEXEC)  # read for each job
        self._boot_rss_kb = _rss_kb(self._statm_fd)

    def serve(self):
        """Answer the host's jobs until EOF (never returns)."""
        host_in, memcg = self.env.host_in, self.env.memcg
        while True:
            job = frames.read_frame(host_in)
            if job is None:
                os._exit(0)
            if "stop" in job:
                continue  # a stop that crossed the end of its job: nothing left to stop
            try:
                job["program_fd"] = _splice_in(host_in, job.get("program_bytes", 0))
                job["snippets_fd"] = _splice_in(host_in, job.get("snippets_bytes", 0))
            except (OSError, TypeError, ValueError):
                os._exit(3)  # out of step with the host: it sees EOF and replaces the slot
            memcg.job_started()
            built = None  # a build's files: they follow the answer
            try:
                if job.get("exec") is not None:
                    answer, built = self.run_exec_job(job)
                elif job.get("mode") == "stdio":
                    answer = self.run_stdio_job(job)
                else:
                    answer = self.run_tests_job(job)
                answer["peak_kb"] = memcg.job_peak_kb(answer["peak_kb"])
            except _Infra as exc:
                answer = {"infra": str(exc)}
            for fd in (job["program_fd"], job["snippets_fd"]):
                os.close(fd)
            if self.needs_restart or self.forker.broken or self._grown():
                answer["restart"] = True  # this zygote takes no more jobs: the host replaces the slot
            if built is not None:
                answer["artifact_bytes"] = len(built)
            self.env.to_host.write_frame(answer)  # after the job's part frames still pending
            if built is not None:
                frames.write_raw_bytes(self.env.host_out, memoryview(built))
            if answer.get("restart"):
                os._exit(0)

    def run_tests_job(self, job):
        limits = job["limits"]
        tests = job["tests"]
        prepared = [_prepare(spec) for spec in tests]
        checker, rpc, floor = None, (), None
        if any(spec["kind"] == "snippet" for spec in tests):
            checker, rpc = self._start_tester(limits, len(tests) + 1, job["snippets_fd"])
            floor = checker.pid
        log_fd = _values_log()
        records_max = 4 * sum(_probes(tests, k) for k in range(len(tests))) + 16  # the log's, in all
        try:
            child = self._start_program(
                limits,
                len(tests) + 1,
                None,
                False,
                prepared,
                job["program_fd"],
                rpc,
                floor,
                _compiled_program(job),
                log_fd,
                prelude=_prelude(job),
            )
        except _Infra:
            os.close(log_fd)
            if checker is not None:
                checker.finish()
            raise
        for fd in rpc:
            os.close(fd)
        n_phases = len(tests) + 1
        # The load phase's nonce is queued at once: the runner reads it only after
        # its set-up (and the ready frame), before any program code runs. So are those
        # of the value and call tests that follow (see _pipelined): the child can then
        # run every phase without waiting for us.
        # With a test process, the program runs no code before that process is ready: its
        # set-up (parsing the snippets) is the test's own cost, and a program that filled the
        # job's memory meanwhile could get it killed and call that the farm's failure.
        if checker is not None:
            self._both_ready(child, checker, limits)
        c0, t0 = 0, time.monotonic()
        sent = child.send_nonces(1 + _queueable(1, tests, 1))  # the load phase's, and those after it
        if checker is None:
            self._both_ready(child, checker, limits)
        phases, ended = [], False
        # While the child runs its phases, its frames do not preempt it to wake us (see
        # _batch): we read them when it waits, or at the scheduler's next tick.
        _batch(True)
        for i in range(n_phases):
            remote = i > 0 and tests[i - 1]["kind"] == "snippet"
            if remote:  # the test process runs it; the program's child serves its requests
                c0, t0 = child.cpu_ns() + checker.cpu_ns(), time.monotonic()
                child.send_token(runner.SERVE_TOKEN)
                sent.append(checker.send_nonce())
            elif i >= len(sent):  # the queue ran dry: this nonce starts the phase
                c0, t0 = child.cpu_ns(), time.monotonic()
                sent.append(child.send_nonce())
            child.start_phase(i - 1)
            try:
                # Bytes after this phase's frame may only be the next phase's, if its nonce is out.
                frame, cpu_ns, wall = child.wait(
                    True,
                    limits["cpu_s"],
                    limits["wall_s"],
                    c0,
                    t0,
                    strict=i + 1 >= len(sent),
                    nonce=sent[i],
                    reporter=checker if remote else None,
                )
                if frame is None and remote:
                    phases.append(
                        {
                            "s": statuses.MEMORY if self.env.memcg.oom_killed() else statuses.CRASH,
                            "m": "the test process ended during this test: "
                            + checker.stderr_tail.decode("utf-8", "replace")[-300:],
                        }
                    )
                    break
                if frame is None:
                    ended = True
                    break
                phases.append(_phase_result(frame, sent[i], cpu_ns, wall, child.part, remote))
                if child.ended_for_memory():  # one of its processes, while the main one lived on
                    phases[-1] = {"s": statuses.MEMORY, "m": process.OOM_MESSAGE}
                    break
                if remote and (frame.get("gone") is True or process.gone(child.pid)):  # the program died:
                    phases.pop()  # its end is this test's verdict, and the tests after it are skipped
                    ended = True
                    break
            except process.PhaseEnd as exc:
                phases.append({"s": exc.status, "m": exc.message})
                values = _logged(log_fd, i - 1, child.part, _probes(tests, i - 1), child, records_max)
                if values:  # what a value phase computed before the limit: an earlier
                    phases[-1]["v"] = values  # assert may have failed already
                break
            if phases[-1]["s"] != statuses.OK and (i == 0 or job.get("first_failure")):
                break
            if remote:
                c0, t0 = child.cpu_ns(), time.monotonic()
            else:
                c0, t0 = c0 + cpu_ns, t0 + wall  # a queued phase began when this one ended
            _queue_nonces(child, sent, tests, i + 1)
        _batch(False)
        if checker is not None:
            checker.finish(status=False)
        status, cpu_ms, peak_kb = child.finish(strays=limits.get("processes", 0) > 0, status=ended)
        if ended:
            kind, why = process.describe_exit(status, self.env.memcg)
            phases.append({"s": kind, "m": "program ended during this phase: " + why})
            values = _logged(log_fd, len(phases) - 2, child.part, _probes(tests, len(phases) - 2), child, records_max)
            if values:
                phases[-1]["v"] = values
        os.close(log_fd)
        if child.stderr_tail and phases and phases[-1]["s"] == statuses.CRASH:
            phases[-1]["m"] += "; stderr: " + child.stderr_tail.decode("utf-8", "replace")[-400:]
        self._wipe()
        load, rest = phases[0], phases[1:]
        rest += [{"s": statuses.SKIPPED}] * (len(tests) - len(rest))
        return {"load": load, "tests": rest, "cpu_ms": cpu_ms, "peak_kb": peak_kb}

    def run_stdio_job(self, job):
        limits = job["limits"]
        results, cpu_total, peak = [], 0.0, 0
        sent = 0  # bytes of stdout in the answer so far, as its frame will carry them
        program = _compiled_program(job)  # once for all its runs
        prelude = _prelude(job)
        for test in job["tests"]:
            if results and results[-1]["s"] != statuses.OK and job.get("first_failure"):
                results.append({"s": statuses.SKIPPED})
                continue
            capture = test.get("capture")
            if limits.get("processes", 0) > 0:
                self.env.memcg.rebase_oom()  # each run's OOM kills its own
            t0 = time.monotonic()
            child = self._start_program(
                limits,
                1,
                test.get("stdin", ""),
                True,
                None,
                job["program_fd"],
                program=program,
                capture=capture,
                prelude=prelude,
            )
            phase, status, cpu_ms, peak_kb, wall_ms = self._run_child(
                child, limits, capture, t0, strays=limits.get("processes", 0) > 0
            )
            cpu_total += cpu_ms
            peak = max(peak, peak_kb)
            if capture is not None:
                results.append(_captured(phase, status, child, cpu_ms, wall_ms, self.env.memcg))
                self._wipe()
                continue
            if phase["s"] == statuses.OK and status == 0 and child.ended_for_memory():
                phase = {"s": statuses.MEMORY, "m": process.OOM_MESSAGE}  # a process it started
            if phase["s"] == statuses.OK and status != 0:
                code = os.WEXITSTATUS(status) if os.WIFEXITED(status) else None
                if code == runner.MEMORY_EXIT:
                    phase = {"s": statuses.MEMORY, "m": "MemoryError"}
                elif code == runner.SYNTAX_EXIT:
                    phase = {"s": statuses.SYNTAX, "m": child.stderr_tail.decode("utf-8", "replace")[-400:]}
                else:
                    phase["s"], phase["m"] = process.describe_exit(status, self.env.memcg)
                    tail = child.stderr_tail.decode("utf-8", "replace")[-400:]
                    if tail:
                        phase["m"] += ": " + tail
                    phase["s"] = statuses.ERROR if code is not None else phase["s"]
            phase, sent = _with_stdout(phase, child, sent)
            results.append(phase)
            self._wipe()
        return {"load": None, "tests": results, "cpu_ms": cpu_total, "peak_kb": peak}

    def _run_child(self, child, limits, capture, t0, strays):
        """Wait for a stdio-mode child (a test's run) under the job's limits, then end it:
        (its phase, exit status, CPU ms, peak KiB, wall ms). The CPU its exit reports (all of
        it, to the last instant) is held to the limit too: a run the wait's checks missed is a
        timeout all the same."""
        self._ready(child)
        try:
            _, cpu_ns, wall = child.wait(False, limits["cpu_s"], limits["wall_s"], 0)
            phase = {"s": statuses.OK, "cpu_ms": cpu_ns / 1e6, "wall_ms": wall * 1000.0}
        except process.PhaseEnd as exc:
            # What the wait counted (all the job's processes): a killed process's exit
            # status carries none of its children's time.
            phase = {"s": exc.status, "m": exc.message, "cpu_ms": child.cpu_ns() / 1e6}
            if capture is not None:  # ended by the limit, then what it wrote before is read
                child.kill()
                child.drain_rest()
        wall_ms = (time.monotonic() - t0) * 1000.0
        status, cpu_ms, peak_kb = child.finish(strays=strays)
        cpu_ms = max(cpu_ms, phase.get("cpu_ms", 0.0))
        phase["cpu_ms"] = cpu_ms  # its exit's, exact (a threaded run's wait counts clock ticks)
        if phase["s"] == statuses.OK and cpu_ms > limits["cpu_s"] * 1000.0:
            phase = {"s": statuses.TIMEOUT, "m": "CPU time limit of %gs exceeded" % limits["cpu_s"], "cpu_ms": cpu_ms}
        return phase, status, cpu_ms, peak_kb, wall_ms

    def run_exec_job(self, job):
        """A program that is not Python, as a command: a build request (a "build", the blob its
        sources, no tests) builds it, and its answer's files are what the build left; any other
        runs it once per test with the blob's files (its sources, or its build's) in its working
        directory. Returns (the answer, the build's files or None)."""
        limits, spec = job["limits"], job["exec"]
        blob = frames.read_all(job["program_fd"])
        answer = {"load": None, "tests": [], "cpu_ms": 0.0, "peak_kb": 0}
        build = job.get("build")
        if build is not None:  # a build request runs nothing else (executor/builds.py)
            phase, built = self._build(build, blob)
            answer["build"] = phase
            answer["cpu_ms"] += phase.get("cpu_ms", 0.0)
            if phase["s"] != statuses.OK:
                answer["load"] = {"s": statuses.COMPILE, "m": phase.get("m") or "the build failed"}
            return answer, built
        run_limits = dict(limits, processes=int(limits.get("processes", 0)) + int(spec.get("threads", 0)))
        sent = 0
        for test in job["tests"]:
            if answer["tests"] and answer["tests"][-1]["s"] != statuses.OK and job.get("first_failure"):
                answer["tests"].append({"s": statuses.SKIPPED})
                continue
            capture = test.get("capture")
            t0 = time.monotonic()
            child = self._start_exec(b"X", run_limits, spec, blob, test.get("stdin", ""), capture)
            phase, status, cpu_ms, peak_kb, wall_ms = self._run_child(child, limits, capture, t0, strays=True)
            answer["cpu_ms"] += cpu_ms
            answer["peak_kb"] = max(answer["peak_kb"], peak_kb)
            oom = _claims_memory(child, spec)
            if capture is not None:
                fetched = self._fetch(limits, capture.get("fetch") or [])
                phase = _captured(
                    phase, status, child, cpu_ms, wall_ms, self.env.memcg, {"f": fetched}, child.stderr_gist()
                )
                if oom and phase["s"] in (statuses.ERROR, statuses.CRASH):
                    phase["s"] = statuses.MEMORY
                answer["tests"].append(phase)
                self._wipe()
                continue
            if phase["s"] == statuses.OK and status != 0:
                phase["s"], phase["m"] = process.describe_exit(status, self.env.memcg)
                if phase["s"] == statuses.CRASH:  # its own end: no limit, not the OOM killer
                    if oom:
                        phase["s"] = statuses.MEMORY
                    elif os.WIFEXITED(status):
                        phase["s"] = statuses.ERROR
                gist = child.stderr_gist()
                if gist:
                    phase["m"] += ": " + gist
            phase, sent = _with_stdout(phase, child, sent)
            answer["tests"].append(phase)
            self._wipe()
        return answer, None

    def _build(self, build, sources):
        """Run the build `build` on the `sources` blob: (its phase, the blob of the files it
        left that `build["keep"]` names, or None when it failed). The compiler's output is its
        message, capped by the build's output_kb."""
        limits = dict(build["limits"])
        limits["processes"] = int(limits.get("processes", 0)) + int(build.get("threads", 0))
        t0 = time.monotonic()
        child = self._start_exec(b"B", limits, build, sources, "", None, keep_stderr=True)
        self._ready(child)
        seen_ms = 0.0
        try:
            child.wait(False, limits["cpu_s"], limits["wall_s"], 0)
            ended = None
        except process.PhaseEnd as exc:
            ended = exc
            # What the wait counted: the compiler proper (cc1plus, rustc's codegen) is a child of
            # the driver, and a killed driver's exit status carries none of its time.
            seen_ms = child.cpu_ns() / 1e6
            child.kill()
            child.drain_rest()
        status, cpu_ms, _ = child.finish(strays=True)
        cpu_ms = max(cpu_ms, seen_ms)
        phase = {"s": statuses.OK, "cpu_ms": cpu_ms, "wall_ms": (time.monotonic() - t0) * 1000.0}
        said = (child.stdout + child.stderr).decode("utf-8", "replace").strip()
        files = None
        if ended is not None:
            phase["s"] = statuses.COMPILE
            phase["m"] = "the build was stopped: %s" % ended.message + (": " + said if said else "")
            if ended.status == statuses.TIMEOUT and "wall-clock" in ended.message:
                phase["stopped"] = True  # a loaded machine's doing, maybe: not kept (builds.py), nor its result
        elif status != 0:
            phase["s"] = statuses.COMPILE
            phase["m"] = said or "the compiler %s" % process.describe_exit(status, self.env.memcg)[1]
            if said and not os.WIFEXITED(status):
                phase["m"] += "\n(the compiler %s)" % process.describe_exit(status, self.env.memcg)[1]
        else:
            try:
                files = artifact.pack_found(self.workdir, build["keep"])
            except (artifact.Invalid, OSError) as exc:
                phase["s"], phase["m"] = statuses.COMPILE, "the build's output cannot be kept: %s" % exc
            else:
                if files is None:
                    phase["s"], phase["m"] = (
                        statuses.COMPILE,
                        said
                        or (
                            "the build made nothing to run (it must leave %s in the working directory)"
                            % " or ".join(build["keep"])
                        ),
                    )
        if phase["s"] != statuses.OK and len(phase["m"]) > BUILD_MESSAGE_MAX:
            # The first error is the one that matters (later ones often follow from it); the
            # end says how the compiler finished.
            head, tail = BUILD_MESSAGE_MAX * 3 // 4, BUILD_MESSAGE_MAX // 4 - 7
            phase["m"] = phase["m"][:head] + "\n[...]\n" + phase["m"][-tail:]
        self._wipe()
        return phase, files

    def _start_exec(self, role, limits, spec, blob, stdin_data, capture, keep_stderr=False):
        """A child of role B (a build) or X (a run) that unpacks `blob` and execs `spec`'s
        command (forker._exec_child). The blob's files are the program's own (its source, its
        binary), not scratch it made: the job's disk limit (and the size of a file it may
        write) grows by their size."""
        own = sum(-(-len(data) // _PAGE) * _PAGE for _, data, _ in artifact.read(blob))  # tmpfs: whole pages
        limits = dict(limits, disk_mb=limits["disk_mb"] + own / (1 << 20))
        stdin_fd = self._stdin(stdin_data)
        blob_fd = os.memfd_create("blob", os.MFD_CLOEXEC)
        exec_spec = {k: spec.get(k) for k in ("argv", "env", "as_mb", "data_mb", "stack_mb", "files", "threads_only")}
        if spec.get("as_without_cgroup") and self.env.memcg.oom_fd is not None:
            exec_spec["as_mb"] = None  # the job's cgroup bounds it, and says when it was exceeded
        try:
            frames.write_raw_bytes(blob_fd, memoryview(blob))
            os.lseek(blob_fd, 0, 0)
            theirs, ours = self._child_pipes(control=False)
            payload = {
                "limits": limits,
                "phases": 1,
                "program": None,
                "exec": exec_spec,
                "capture": capture,
            }
            try:
                pid = self.forker.spawn(role, (stdin_fd, *theirs), payload, blob_fd)
            finally:
                for fd in (*theirs, stdin_fd):
                    if fd != self.devnull:
                        os.close(fd)
        finally:
            os.close(blob_fd)
        return process.Child(self.env, pid, *ours, limits, True, keep_stderr or capture is not None)

    def _fetch(self, limits, paths):
        """The files a raw run asked for back, read by a child of their own (role F) in the
        run's working directory: {path: base64}."""
        if not paths:
            return {}
        theirs, ours = self._child_pipes(control=False)
        cap = min(capture_fetch_max(), int(limits["output_kb"]) * 1024)
        try:
            pid = self.forker.spawn(
                b"F",
                (self.devnull, *theirs),
                {"limits": limits, "phases": 1, "program": None, "fetch": list(paths), "cap": cap},
                self.devnull,
            )
        finally:
            for fd in theirs:
                if fd != self.devnull:  # its fd 3 (no control pipe) is the zygote's own /dev/null
                    os.close(fd)
        child = process.Child(self.env, pid, *ours, dict(limits, processes=0), False)
        try:
            child.wait(False, READY_TIMEOUT_S, READY_TIMEOUT_S, 0)
        except process.PhaseEnd:
            pass
        report = _report(child)
        child.finish()
        files = report.get("f") if isinstance(report.get("f"), dict) else {}
        return {k: v for k, v in files.items() if isinstance(k, str) and isinstance(v, str)}

    def _stdin(self, stdin_data):
        """A sealed memfd holding `stdin_data` (the child's fd 0), or /dev/null when empty."""
        if not stdin_data:
            return self.devnull
        stdin_fd = os.memfd_create("stdin", os.MFD_ALLOW_SEALING)
        os.write(stdin_fd, stdin_data.encode("utf-8"))
        os.lseek(stdin_fd, 0, 0)
        # The program's fd 0: sealed, or it could grow it into memory no rlimit sees.
        fcntl.fcntl(
            stdin_fd,
            fcntl.F_ADD_SEALS,
            fcntl.F_SEAL_WRITE | fcntl.F_SEAL_GROW | fcntl.F_SEAL_SHRINK | fcntl.F_SEAL_SEAL,
        )
        return stdin_fd

    def _start_program(
        self,
        limits,
        n_phases,
        stdin_data,
        keep_stdout,
        prepared,
        program_fd,
        rpc=(),
        floor=None,
        program=None,
        log_fd=None,
        capture=None,
        prelude=None,
    ):
        """The program's child: `prepared` tests (None: stdio mode), its source in `program_fd`
        (or `program` compiled already); `rpc`: its ends of the pipes to the test process, whose
        pid is the `floor` it may not signal (seccomp.SignalFloor); `log_fd`: its values log;
        `capture`: a raw run's spec (stdio mode: stderr kept, a report frame on fd 4);
        `prelude`: the job's prelude, compiled (None: none)."""
        stdin_fd = self._stdin(stdin_data)
        theirs, ours = self._child_pipes(control=prepared is not None)
        payload = {
            "limits": limits,
            "phases": n_phases,
            "tests": prepared,
            "floor": floor,
            "program": program,
            "prelude": prelude,
        }
        if capture is not None:
            payload["capture"] = capture
        role = b"P" if prepared is not None else b"S"
        try:
            try:
                pid = self.forker.spawn(role, (stdin_fd, *theirs, *rpc), payload, program_fd, log_fd)
            except _Unmarshallable as exc:
                if payload["program"] is None:
                    raise _Infra("the job's tests cannot be handed to the sandbox: %s" % exc) from None
                payload["program"] = None  # its child compiles it, as it would a large program
                pid = self.forker.spawn(role, (stdin_fd, *theirs, *rpc), payload, program_fd, log_fd)
        finally:
            for fd in (*theirs, stdin_fd):
                if fd != self.devnull:
                    os.close(fd)
        return process.Child(self.env, pid, *ours, limits, keep_stdout, capture is not None)

    def _child_pipes(self, control=True):
        """A child's stdout, stderr, control and results pipes: (its ends in its fd order 1-4,
        ours in process.Child's order). Without `control` (stdio mode) its fd 3 is /dev/null."""
        out_r, out_w = os.pipe()
        err_r, err_w = os.pipe()
        res_r, res_w = os.pipe()
        ctl_r, ctl_w = os.pipe() if control else (self.devnull, None)
        return (out_w, err_w, ctl_r, res_w), (ctl_w, res_r, out_r, err_r)

    def _start_tester(self, limits, n_phases, snippets_fd):
        """The test process (see tester.py), forked before the program's child, so the program
        can never signal it. It reads the snippets from `snippets_fd`: they never pass through
        the zygote's memory. Returns (its Child, the program child's ends of the pipes between
        them)."""
        to_program_r, to_program_w = os.pipe()
        from_program_r, from_program_w = os.pipe()
        theirs, ours = self._child_pipes()
        try:
            pid = self.forker.spawn(
                b"T",
                (self.devnull, *theirs, to_program_w, from_program_r),
                {"limits": limits, "phases": n_phases},
                snippets_fd,
            )
        finally:
            for fd in (*theirs, to_program_w, from_program_r):
                os.close(fd)
        return process.Child(self.env, pid, *ours, limits, False), (to_program_r, from_program_w)

    def _ready(self, child, deadline_s=READY_TIMEOUT_S):
        try:
            frame, _, _ = child.wait(True, deadline_s, deadline_s, strict=False)
        except process.PhaseEnd as exc:
            frame = None
            reason = exc.message
        else:
            reason = "child exited during set-up"
        if frame != _READY:
            status, _, _ = child.finish()
            self._wipe()
            raise _Infra(
                "sandbox child failed to start: %s (%s) %s"
                % (
                    reason,
                    process.describe_exit(status, self.env.memcg)[1],
                    child.stderr_tail.decode("utf-8", "replace"),
                )
            )

    def _both_ready(self, child, checker, limits):
        """Wait for the program's child and, if there is one, the test process: it compiles the
        tests first, their own cost, which may take up to the job's wall-clock limit."""
        try:
            self._ready(child)
        except _Infra:
            if checker is not None:
                checker.finish()
            raise
        if checker is None:
            return
        try:
            self._ready(checker, max(READY_TIMEOUT_S, float(limits["wall_s"])))
        except _Infra:
            child.finish()
            self._wipe()
            raise

    def _wipe(self):
        """Empty the scratch for the next job (see _wipe_scratch)."""
        if not _wipe_scratch(self.env.scratch, self.workdir):
            self.needs_restart = True

    def _grown(self):
        """True when the zygote holds much more memory than at boot (a leak would only grow)."""
        return self._boot_rss_kb and _rss_kb(self._statm_fd) > self._boot_rss_kb + GROWTH_LIMIT_KB


def _compiled_program(job):
    """The program compiled here, where the compiler is warm, if that is safe; else None: its
    child compiles it, under the program's own limits. Safe: small; no string, bytes or tuple
    literal multiplied (CPython folds `'A' * 4096 + 'A' * 4096 + ...` at compile time,
    quadratically: 8 KiB of such source costs 0.6 s and 800 MB); no match statement (see
    _CASE); and few scopes for its size (each name a closure uses is passed down every scope
    between: 990 nested lambdas over 1,509 names, 16 KiB, compile in 6 s)."""
    size = job.get("program_bytes", 0)
    if size > COMPILE_HERE_MAX:
        return None
    source = frames.read_all(job["program_fd"]).decode("utf-8", "surrogatepass")
    if (
        _SEQUENCE_TIMES.search(source)
        or _CASE.search(source)
        or len(_SCOPES.findall(source)) * size > COMPILE_HERE_SCOPE_BYTES
    ):
        return None
    return runner.compile_program(source)


def _with_stdout(phase, child, sent):
    """(`phase` with the run's stdout when it ended well, the answer's stdout bytes so far):
    each run is within output_kb, and all of a job's runs together within STDIO_ANSWER_BYTES."""
    if phase["s"] != statuses.OK:
        return phase, sent
    stdout = child.stdout.decode("utf-8", "replace")
    sent += _frame_size(stdout)
    if sent > STDIO_ANSWER_BYTES:
        return {
            "s": statuses.OUTPUT,
            "m": "output across the job's runs exceeded %d MiB" % (STDIO_ANSWER_BYTES >> 20),
        }, sent
    phase["stdout"] = stdout
    return phase, sent


def capture_fetch_max():
    return forker.capture.FETCH_MAX


def _claims_memory(child, spec):
    """Does the stderr of a run say its runtime ran out of memory (Java's OutOfMemoryError,
    Go's "out of memory", node's heap, C++'s bad_alloc)? Runtimes say it first and then print a
    stack trace (or abort), so the start of stderr is searched as well as its end. A claim of
    the program's own process: it can only turn its failed run into another failure."""
    return any(child.stderr_says(marker.encode("utf-8")) for marker in spec.get("oom") or ())


def _captured(phase, status, child, cpu_ms, wall_ms, memcg, report=None, said=None):
    """A raw run's phase: its output, its end (exit status or signal), and the status that
    names it: a limit the zygote enforced (`phase`, when not ok), what the child's report
    claims (syntax, memory), else its exit: ok for 0, error for any other, or the signal's.
    `said`: what of its stderr a message quotes (None: its last 400 characters)."""
    out = {
        "stdout": child.stdout.decode("utf-8", "replace"),
        "stderr": child.stderr.decode("utf-8", "replace"),
        "cpu_ms": cpu_ms,
        "wall_ms": wall_ms,
        "files": {},
    }
    report = _report(child) if report is None else report
    if isinstance(report.get("f"), dict):
        out["files"] = {k: v for k, v in report["f"].items() if isinstance(v, str)}
    exited = os.WIFEXITED(status)
    if exited:
        out["exit"] = os.WEXITSTATUS(status)
    else:
        sig = os.WTERMSIG(status)
        try:
            out["sig"] = signal.Signals(sig).name
        except ValueError:
            out["sig"] = str(sig)
    tail = (child.stderr_tail.decode("utf-8", "replace")[-400:] if said is None else said).rstrip()
    if phase["s"] != statuses.OK:
        out["s"], out["m"] = phase["s"], phase["m"]
    elif exited and out["exit"] == 0:
        out["s"] = statuses.OK
    elif exited and report.get("c") in (statuses.SYNTAX, statuses.MEMORY):
        out["s"], out["m"] = report["c"], tail or report["c"]
    elif exited:
        out["s"], out["m"] = statuses.ERROR, "exited with status %d" % out["exit"] + (": " + tail if tail else "")
    else:
        out["s"], out["m"] = process.describe_exit(status, memcg)
        if tail and out["s"] == statuses.CRASH:
            out["m"] += ": " + tail
    return out


def _report(child):
    """The last report frame a raw run's child wrote on fd 4 ({} when none can be read: the
    program wrote there itself, and only loses its own report)."""
    report = {}
    while True:
        try:
            frame = child._take_frame()
        except process.PhaseEnd:
            return report
        if frame is None:
            return report
        report = frame


_preludes = {}  # name -> compiled prelude (preludes.PRELUDES: a handful of fixed texts)


def _prelude(job):
    """The job's prelude, compiled once per zygote (None when it has none)."""
    name = job.get("prelude")
    if not name:
        return None
    code = _preludes.get(name)
    if code is None:
        source = preludes.PRELUDES.get(name)
        if source is None:
            raise _Infra("unknown prelude %r" % (name,))
        code = _preludes[name] = compile(source, "<prelude>", "exec")
    return code


def _phase_result(frame, nonce, cpu_ns, wall, part, from_tester=False):
    out = {"cpu_ms": cpu_ns / 1e6, "wall_ms": wall * 1000.0}
    if frame.get("n") != nonce or frame.get("s") not in (statuses.TESTER if from_tester else statuses.CHILD):
        raise process.PhaseEnd(statuses.PROTOCOL, "result frame with a wrong nonce or status")
    out["s"] = frame["s"]
    if frame.get("m") is not None:
        out["m"] = str(frame["m"])[: runner.MESSAGE_MAX]
    if "v" in frame and frame["v"] is not None:
        if part:
            if type(frame["v"]) is not list:
                raise process.PhaseEnd(statuses.PROTOCOL, "result frame with a malformed value")
            out["v"] = part + frame["v"]
        else:
            out["v"] = frame["v"]
    return out


_compiled = {}  # value-test spec -> its compiled probes (no literals in them); RL groups share suites
_COMPILED_MAX = 8192


def _prepare(spec):
    kind = spec["kind"]
    if kind == "snippet":  # its source goes from the host to the test process, never here
        return "remote", True, None
    if kind != "value":
        # Nothing to compile, and each test its own arguments: tests with equal ones sharing a
        # cached entry reached the child as one object (marshal keeps sharing), so a program
        # that pops from its argument handed the next such test what it left.
        return runner.prepare_test(spec)
    key = (kind, (tuple(spec["exprs"]), tuple(spec.get("own", ())), tuple(spec.get("at", ()))))
    hit = _compiled.get(key)
    if hit is None:
        if len(_compiled) >= _COMPILED_MAX:
            _compiled.clear()
        hit = _compiled[key] = runner.prepare_test(spec)
    return hit


def _pipelined(spec):
    """May this test's nonce be queued before its phase starts?

    Value and call tests report values the host judges: a program that reads a queued nonce
    and writes that phase's frame itself only reports values it could have returned anyway.
    A snippet's frame is its verdict, so its nonce is sent only when its phase starts.
    """
    return spec["kind"] != "snippet"


LOG_MAX = 16 << 20  # bytes of a job's values log (runner.py): a sparse memfd, sealed at this size


def _values_log():
    """A fresh values log for a program's child (see runner.log_value): sealed at LOG_MAX so the
    program cannot grow it into memory no limit sees; pages exist only where it writes."""
    fd = os.memfd_create("values", os.MFD_CLOEXEC | os.MFD_ALLOW_SEALING)
    os.ftruncate(fd, LOG_MAX)
    fcntl.fcntl(fd, fcntl.F_ADD_SEALS, fcntl.F_SEAL_GROW | fcntl.F_SEAL_SHRINK | fcntl.F_SEAL_SEAL)
    return fd


_RECORD_INDEX = re.compile(rb"\[\s*(-?\d{1,9})\s*,")  # a log record's test index, at its start


def _logged(log_fd, test_index, known, probes, child, records_max):
    """The values a value phase logged before it ended abnormally (a limit, a crash, an
    os._exit in a later probe), or `known` (what its part frames brought) if those are as many.
    Records: a 4-byte length, then JSON [test index, encoded value]; a zero length ends the
    log. What the program wrote there itself only claims values it could have returned; it
    costs the zygote and the host no more than frames of the same size: at most `probes`
    values are taken, none larger or deeper than a value a frame carries, and all within what
    the job's answer may still hold (`child`'s frames spent the rest of
    process.MAX_ANSWER_NODES and MAX_ANSWER_BYTES). Earlier tests' records (their values came
    in their own frames, counted there) are stepped over unread; at most `records_max` records
    (4 per probe of the job) are looked at in all."""
    values, at, records = [], 0, 0
    nodes, size = child.answer_nodes, child.answer_bytes
    try:
        while at + 4 <= LOG_MAX and len(values) < probes and records < records_max:
            n = int.from_bytes(os.pread(log_fd, 4, at), "big")
            if not n or at + 4 + n > LOG_MAX:
                break
            records += 1
            index = _RECORD_INDEX.match(os.pread(log_fd, min(n, 16), at + 4))
            if index is None:
                break
            if int(index.group(1)) != test_index:
                at += 4 + n
                continue
            body = os.pread(log_fd, n, at + 4)
            counted = 1 + process.frame_nodes(body)
            nodes, size = nodes + counted, size + n
            if counted > codec.MAX_ENCODED_NODES + 4 or nodes > process.MAX_ANSWER_NODES:
                break
            if size > process.MAX_ANSWER_BYTES:
                break
            record = frames.loads(body)
            if type(record) is not list or len(record) != 2 or process.too_deep(record[1]):
                break
            if record[0] == test_index:
                values.append(record[1])
            at += 4 + n
    except Exception:  # a log the program scribbled on: what was read before stands
        pass
    return values if len(values) > len(known) else known


def _probes(tests, index):
    """How many values test `index` computes (0 for the load phase and non-value tests)."""
    if 0 <= index < len(tests) and tests[index]["kind"] == "value":
        return len(tests[index]["exprs"])
    return 0


def _splice_in(host_in, n):
    """A memfd holding the next `n` bytes of the host's pipe, moved by the kernel (splice):
    the program's source and the snippets' sources never pass through the zygote's memory,
    where freed bytes would stay for later children to find."""
    if type(n) is not int or not 0 <= n <= MAX_SPLICED:
        raise ValueError("bad length")
    fd = os.memfd_create("job", os.MFD_CLOEXEC)
    while n:
        moved = os.splice(host_in, fd, n)
        if not moved:
            os.close(fd)
            raise OSError("the host's pipe ended")
        n -= moved
    return fd


def _queue_nonces(child, sent, tests, done):
    """Send the nonces of the value/call phases that follow phase `done` - 1, up to a
    bounded queue (a program that never reads them cannot block the zygote on a full pipe),
    in one write."""
    n = _queueable(len(sent), tests, done)
    if n:
        sent.extend(child.send_nonces(n))


def _queueable(n_sent, tests, done):
    """How many nonces may be queued after the first `n_sent` (see _queue_nonces)."""
    n = n_sent
    while n <= len(tests) and n < done + NONCE_QUEUE and _pipelined(tests[n - 1]):
        n += 1
    return n - n_sent


def _batch(on):
    """The zygote's own scheduling policy: SCHED_BATCH while a child runs its phases (`on`),
    else SCHED_OTHER. A waking SCHED_BATCH task does not preempt the running one: the frames
    of a child's queued phases no longer switch to the zygote and back for each phase (16
    switches for a job of 15 asserts); the zygote reads them together when the child waits,
    or at the scheduler's next tick, when its limits are checked as before. Phases that end
    within one such period share their CPU time: the first is charged it."""
    try:
        os.sched_setscheduler(0, os.SCHED_BATCH if on else os.SCHED_OTHER, _SCHED_PARAM)
    except OSError:
        pass


_SCHED_PARAM = os.sched_param(0)


def _rss_kb(statm_fd):
    """The zygote's resident memory, from its open /proc/self/statm."""
    try:
        return int(os.pread(statm_fd, 256, 0).split()[1]) * _PAGE_KB
    except (OSError, TypeError, ValueError, IndexError):
        return 0


def _pin(cpu):
    """Run on `cpu` only, with the fork server and every child (they inherit it): each step
    of a job wakes the next process on the same CPU instead of another CPU's."""
    if type(cpu) is int:
        try:
            os.sched_setaffinity(0, {cpu})
        except OSError:
            pass  # not ours to use any more: run unpinned


def _preimport(names):
    done = []
    for name in names:
        try:
            __import__(name)
            done.append(name)
        except Exception:
            pass
    return done


def _vm_kb():
    """This process's address space (VmSize), in KiB (0 if unreadable)."""
    try:
        with open("/proc/self/status", "rb") as fh:
            for line in fh:
                if line.startswith(b"VmSize:"):
                    return int(line.split()[1])
    except (OSError, ValueError, IndexError):
        pass
    return 0


def _start_forker(workdir, nproc_slack, join_fd, hidden, preloaded_mb=0):
    """Fork the fork server now, before any job: every child is a copy of it, never of us.
    `workdir` and `nproc_slack`: its children's (forker.Settings); `join_fd`: the job memory
    cgroup's cgroup.procs (v1: tasks), for the fork server's children only; `hidden`: the names of our own
    modules, which programs must not find in sys.modules. Returns our end, a _ForkServer."""
    ours, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
    pid = forker._fork_raw()
    if pid == 0:
        try:
            # Nothing below its socket: the fds of each request then arrive as 0, 1, 2, ...,
            # where the child wants them (recvmsg takes the lowest free numbers, in order).
            keep = top = fcntl.fcntl(theirs.fileno(), fcntl.F_DUPFD_CLOEXEC, 1000)
            if join_fd is not None:
                join_fd = top = fcntl.fcntl(join_fd, fcntl.F_DUPFD_CLOEXEC, keep + 1)
            os.closerange(0, keep)
            os.closerange(top + 1, 1 << 16)
            theirs = socket.socket(fileno=keep)
            # Its children may not signal it, nor us, nor make memfds.
            seccomp.SignalFloor(os.getpid(), seccomp.UNMAPPED_MEMORY).install()
            # Our modules are hidden from programs: dropped here once, so that no child writes
            # to (and copies) the pages of sys.modules to drop them itself.
            for name in hidden:
                sys.modules.pop(name, None)
            forker.serve(theirs, forker.Settings(workdir, nproc_slack, join_fd, seccomp.ThreadsOnly(), preloaded_mb))
        finally:
            os._exit(70)
    theirs.close()
    if join_fd is not None:
        os.close(join_fd)  # the children's, not ours
    return _ForkServer(ours)


def _namespaces():
    """The namespaces this process is in, by their /proc/self/ns names."""
    out = {}
    for name in NAMESPACES:
        try:
            out[name] = os.readlink("/proc/self/ns/" + name)
        except OSError:
            out[name] = None
    return out


NAMESPACES = ("net", "pid", "mnt", "ipc")


def main(boot):
    """Boot from the host's boot frame `boot`, then serve jobs from the host until EOF."""
    # "/tmp" is firejail's private tmpfs; the unsandboxed (insecure) mode gets a fresh
    # private directory instead.
    bare_kb = boot.get("bare_kb", 0)  # the bare interpreter's (BOOTSTRAP's first line; 0: unread)
    scratch = boot.get("scratch", "/tmp")
    workdir = os.path.join(scratch, "w")
    # Far from the fds children get (0-4); children close everything from 5 up.
    host_in = fcntl.fcntl(0, fcntl.F_DUPFD_CLOEXEC, 100)
    host_out = fcntl.fcntl(1, fcntl.F_DUPFD_CLOEXEC, 100)
    memcg = boot.get("memcg") or {}
    devnull = os.open(os.devnull, os.O_RDONLY)
    null = os.open(os.devnull, os.O_RDWR)
    for fd in (0, 1, 2):
        os.dup2(null, fd)
    os.close(null)
    seccomp._libc.prctl(_PR_SET_DUMPABLE, 0, 0, 0, 0)
    _pin(boot.get("cpu"))
    seccomp.install(os.getpid())
    signal.signal(signal.SIGPIPE, signal.SIG_IGN)
    os.environ.update(boot.get("thread_env") or {})  # before the imports that read them
    packages.install(boot.get("packages"))
    preimported = _preimport(boot.get("preimport", []))
    codec.bind_numpy()
    runner.bind_trusted()
    ours = tuple(m for m in sys.modules if m == SANDBOX_PACKAGE or m.startswith(SANDBOX_PACKAGE + "."))
    os.environ.clear()  # children inherit this environment: nothing from the host
    os.environ.update({"PATH": "/usr/bin:/bin", "LANG": "C.UTF-8", "HOME": workdir, **(boot.get("thread_env") or {})})
    # A backstop for compiling hostile sources here; children set their own, lower.
    resource.setrlimit(resource.RLIMIT_AS, (ZYGOTE_MEMORY, resource.RLIM_INFINITY))
    clean = _wipe_scratch(scratch, workdir)
    if "random" in sys.modules:  # children inherit this state (no reseed at fork)
        sys.modules["random"].seed(0)
    gc.collect()
    gc.freeze()
    preloaded_mb = max(0, _vm_kb() - bare_kb) >> 10 if bare_kb else 0
    fork_server = _start_forker(
        workdir, int(boot.get("nproc_slack", forker.NPROC_SLACK)), memcg.get("join"), ours, preloaded_mb
    )
    env = process.Env(
        scratch=scratch,
        own_pid_namespace=bool(boot.get("own_pid_namespace", True)),
        host_in=host_in,
        host_out=host_out,
        reap=fork_server.reaped,
        memcg=process.MemoryCgroup(memcg.get("oom"), memcg.get("usage"), memcg.get("peak")),
        protected=frozenset(int(n) for n in os.listdir("/proc") if n.isdigit()),
        to_host=process.HostPipe(host_out),
    )
    zygote = Zygote(env, workdir, fork_server, devnull, needs_restart=not clean)
    frames.write_frame(
        host_out,
        {
            "ready": True,
            "python": sys.version.split()[0],
            "pid": os.getpid(),
            "preimported": preimported,
            "preloaded_mb": preloaded_mb,
            "ns": _namespaces(),
        },
    )
    zygote.serve()


# Run as `python -c`: standard library only, and nothing of it is kept but the package.
BOOTSTRAP = r"""
import marshal, os, sys, types
with open("/proc/self/status", "rb") as f:  # the bare interpreter's address space (zygote._vm_kb)
    bare_kb = ([int(line.split()[1]) for line in f if line.startswith(b"VmSize:")] or [0])[0]
def _read(fd, n):
    b = b""
    while len(b) < n:
        c = os.read(fd, n - len(b))
        if not c:
            os._exit(3)
        b += c
    return b
r, w = os.pipe()
if os.fork() == 0:
    import json
    boot = json.loads(_read(0, int.from_bytes(_read(0, 4), "big")))
    codes = [(m, compile(src, "<sandbox:%s>" % m, "exec")) for m, src in boot.pop("package")]
    out = marshal.dumps((boot, codes))
    out = memoryview(len(out).to_bytes(8, "big") + out)
    while out:
        out = out[os.write(w, out):]
    os._exit(0)
os.close(w)
boot, codes = marshal.loads(_read(r, int.from_bytes(_read(r, 8), "big")))
os.close(r)
os.wait()
boot["bare_kb"] = bare_kb
pkg_name = boot["name"]
pkg = types.ModuleType(pkg_name)
pkg.__path__ = []
sys.modules[pkg_name] = pkg
for mod, code in codes:
    m = types.ModuleType(pkg_name + "." + mod)
    m.__package__ = pkg_name
    sys.modules[m.__name__] = m
    setattr(pkg, mod, m)
    exec(code, m.__dict__)
del codes, code
sys.modules[pkg_name + ".zygote"].main(boot)
"""
