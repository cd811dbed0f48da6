"""The fork server: a copy of the zygote made at boot, before any job, that forks every child.

A child is a copy of the process that forks it. The zygote reads jobs, parses the values
programs return and keeps its caches; had it forked the children, all of that - freed or
not - would be in their memory, for a program to read. The fork server holds nothing of any
job: it gets a role and file descriptors, forks, and reports pids and exit statuses. Each
child then reads what it needs from two memfds the zygote filled (the payload, marshalled,
and the program or snippet sources the kernel moved there from the host's pipe).

It is also what makes forking cheap: a fork write-protects every page of the forking
process, and the next write to each costs a fault. This loop writes few pages; the zygote's
own work (JSON, pipes, limits) now runs in a process that never forks.

Protocol with the zygote (a SOCK_SEQPACKET socket pair, one message each way):
    zygote -> forker  b"F" + role, with the child's fds in order (role P: a program's tests,
                      S: a program run on stdin, T: the test process, B: a build, X: a run of
                      a program that is not Python, F: fetching a raw run's files), see `_child`
                    | b"W" + pid (4 bytes, big-endian): that child's exit (it waits if need be)
    forker -> zygote  b"P" + pid (4 bytes) | b"W" + status, CPU ms and peak KiB (struct "=idq")
Children the zygote killed and does not ask about are reaped at the next message.

A child's first act is to leave the slot's memory cgroup for the job's (executor/memcg.py), and
the fork server's seccomp filter (seccomp.SignalFloor, inherited) refuses memfds, whose pages
no address-space limit sees. Standard library only.
"""

import fcntl
import marshal
import os
import resource
import signal
import socket
import struct
from collections import namedtuple

from . import artifact, capture, frames, runner, seccomp, tester

REAPED = struct.Struct("=idq")
_READY_FRAME = frames.READY_FRAME
NPROC_SLACK = 64  # Settings.nproc_slack when the host gives none
# Threads a Python program may start whatever its job's `processes` (contest programs run their
# recursion in a thread with a big stack: threading.stack_size(2**27); Thread(target=main)).
PYTHON_THREADS = 8
EXEC_FAILED = 127  # roles B and X: the command could not be started (a shell's "not found")
_PR_SET_DUMPABLE = 4


class Settings(namedtuple("Settings", "workdir nproc_slack join_fd threads_only preloaded_mb")):
    """What the fork server's children need of the slot, fixed at boot.

    workdir: each child's working directory (the zygote empties it after every job).
    nproc_slack: RLIMIT_NPROC counts every process of the sandbox user, in every slot: a job
        allowed N processes gets N plus this much room for the slots' own (from the pool's size).
    join_fd: the job memory cgroup's cgroup.procs (v1: tasks; see executor/memcg.py), or None.
    threads_only: the seccomp.ThreadsOnly filter, built once here: a child that built its own
        would run the assembler and make ctypes objects, copying their pages, for each job.
    preloaded_mb: the address space the sandbox's own code and preimports added to the bare
        interpreter's (measured at boot): a Python child's RLIMIT_AS is memory_mb and this, so
        that the program gets what `python3 prog.py` under memory_mb would.
    """

    __slots__ = ()


_exited = {}  # pid -> packed status of children reaped before the zygote asked (bounded)


def serve(sock, settings):
    """The fork server's loop (it never returns); `settings`: a Settings."""
    recv_fds, fork = socket.recv_fds, _fork_raw
    while True:
        try:
            msg, fds, _, _ = recv_fds(sock, 16, 16)
        except OSError:
            os._exit(0)
        if not msg:
            os._exit(0)  # the zygote is gone
        _collect()
        if msg[:1] == b"F":
            pid = fork()
            if pid == 0:
                _child(msg[1:2], fds, settings)
            _exited.pop(pid, None)  # an older child's status under a reused pid is stale
            for fd in fds:
                os.close(fd)
            sock.send(b"P" + pid.to_bytes(4, "big"))
        elif msg[:1] == b"W":
            sock.send(b"W" + _wait(int.from_bytes(msg[1:5], "big")))


def _wait(pid):
    """The exit of `pid`, waiting for it if need be. The zygote asks only when it needs the
    status (a child that ended on its own, a stdio run); others are collected in passing."""
    packed = _exited.pop(pid, None)
    if packed is not None:
        return packed
    try:
        _, status, ru = os.wait4(pid, 0)
    except ChildProcessError:  # not ours, or asked twice
        return REAPED.pack(9, 0.0, 0)
    return REAPED.pack(status, (ru.ru_utime + ru.ru_stime) * 1000.0, ru.ru_maxrss)


def _collect():
    """Reap every child that has exited, keeping the last statuses for the zygote to ask."""
    while True:
        try:
            pid, status, ru = os.wait4(-1, os.WNOHANG)
        except ChildProcessError:
            return
        if pid == 0:
            return
        if len(_exited) >= 256:
            _exited.pop(next(iter(_exited)))
        _exited[pid] = REAPED.pack(status, (ru.ru_utime + ru.ru_stime) * 1000.0, ru.ru_maxrss)


def _fork_raw():
    """fork(2) through libc, without CPython's at-fork hooks.

    os.fork() would re-initialise interpreter state and run Python-level hooks
    (random's reseed, threading's bookkeeping) in both processes: ~60 extra
    copy-on-write faults per child. The fork server is single-threaded, so
    there is nothing to re-initialise; children inherit its fixed random seed,
    which makes programs that use `random` reproducible.
    """
    pid = seccomp._libc.fork()
    if pid < 0:
        raise OSError("fork failed")
    return pid


def _child(role, fds, settings):
    """In a new child: fds arrive as 0 stdin, 1 stdout, 2 stderr, 3 control, 4 results,
    5 payload, 6 sources[, 7 the values log (role P)][, then the two pipes between the program
    and the test process, which become 5 and 6]."""
    try:
        _leave_the_slot(settings.join_fd)
        os.setsid()
        _place_fds(fds)
        payload = marshal.loads(frames.read_all(5))
        # The sources: the snippets, or the program unless the zygote compiled it already.
        sources = frames.read_all(6) if role == b"T" or payload.get("program") is None else None
        first_rpc = 8 if role == b"P" else 7  # a program's child keeps its values log at 7
        if len(fds) > first_rpc:  # the rpc pipes become 5 and 6
            os.dup2(first_rpc, 5)
            os.dup2(first_rpc + 1, 6)
        else:
            os.close(5)
            os.close(6)
        os.closerange(first_rpc, 1 << 16)
        os.chdir(settings.workdir)
        limits = payload["limits"]
        if role in (b"B", b"X", b"F"):
            _exec_child(role, payload, sources, settings)
        # The main thread's stack may grow to memory_mb, as a compiled run's does (RLIMIT_STACK is
        # read at each growth; the address space below the stack is far larger): CPython's own
        # recursion is not on it, but recursion through C is (an lru_cache'd function, sorted's
        # key, repr of nested values), and contest programs recurse 10**5 deep.
        if role == b"T":  # the job's disk: a test may write the files it hands the program
            _set_limits(
                limits,
                payload["phases"],
                16,
                limits["disk_mb"],
                0,
                settings.nproc_slack,
                stack_mb=limits["memory_mb"],
                as_slack_mb=settings.preloaded_mb,
            )
            tester.main(sources, 3, 4, 5, 6)
        processes = int(limits.get("processes", 0))
        _set_limits(
            limits,
            payload["phases"],
            max(int(limits["files"]), 8),
            limits["disk_mb"],
            processes + PYTHON_THREADS,
            settings.nproc_slack,
            stack_mb=limits["memory_mb"],
            as_slack_mb=settings.preloaded_mb,
        )
        if payload.get("floor"):
            seccomp.SignalFloor(payload["floor"]).install()
        if processes == 0:  # threads, never a process (as for C's runs: builds.request)
            settings.threads_only.install()
        os.write(4, _READY_FRAME)  # pre-encoded: json here would cost copy-on-write faults
    except BaseException as exc:
        try:
            os.write(2, ("set-up failed: %r" % (exc,)).encode("utf-8", "replace"))
        except BaseException:
            pass
        os._exit(70)
    try:
        program = payload.get("program")  # compiled by the zygote (small programs)
        if program is None and role == b"P":  # compiled in its load phase (run_tests)
            program = sources.decode("utf-8", "surrogatepass")
        elif program is None:  # compiled here, after set-up: under the program's own limits
            program = runner.compile_program(sources.decode("utf-8", "surrogatepass"))
        if role == b"P":
            runner.run_tests(program, payload["tests"], 3, 4, payload.get("prelude"))
        os.close(3)  # stdio mode has no control pipe (fd 3 was /dev/null)
        if payload.get("capture") is not None:  # a raw run: its report goes out on fd 4
            capture.run(program, payload["capture"], limits, payload.get("prelude"))
        os.close(4)  # a stdin/stdout test reports through its exit status only
        runner.run_stdio(program, payload.get("prelude"))
    finally:  # never back into the fork server's loop, whatever was raised
        os._exit(71)


def _exec_child(role, payload, blob, settings):
    """Roles B and X: set the limits, then unpack the blob (fd 6: sources to build, or what a
    build made) into the working directory, write a raw run's input files and exec the command
    of `payload["exec"]` (a compiler or the program), whose exit status is the whole report.
    The files are written after the ready frame: they are the program's, and one that does not
    fit its limits (memory, disk) is the program's failure, not the sandbox's (the zygote counts
    the blob's own bytes out of the job's disk use). Role F: read the files a raw run asked for
    back, report them on fd 4 and exit."""
    limits = payload["limits"]
    if role == b"F":
        _set_limits(limits, 1, 16, limits["disk_mb"], 0, settings.nproc_slack)
        os.close(3)
        frames.write_frame(4, {"c": None, "f": capture._fetch(payload["fetch"], payload["cap"])})
        os._exit(0)
    spec = payload["exec"]
    _set_limits(
        limits,
        1,
        max(int(limits["files"]), 8) + int(spec.get("files") or 0),
        limits["disk_mb"],
        int(limits.get("processes", 0)),
        settings.nproc_slack,
        spec.get("as_mb"),
        spec.get("data_mb"),
        spec.get("stack_mb"),
    )
    if payload.get("floor"):
        seccomp.SignalFloor(payload["floor"]).install()
    if spec.get("threads_only"):
        settings.threads_only.install()
    files = artifact.read(blob)  # a malformed blob is the sandbox's fault: before the ready frame
    os.close(3)
    os.write(4, _READY_FRAME)
    os.close(4)
    try:
        artifact.write(files)
        if payload.get("capture") is not None:
            capture._write_files(payload["capture"].get("files") or {})
    except OSError as exc:
        os.write(2, ("cannot write the program's files: %s" % exc.strerror).encode("utf-8", "replace"))
        os._exit(EXEC_FAILED)
    argv, env = spec["argv"], spec["env"]
    # Ignored signals stay ignored across exec: the interpreter's SIGPIPE and SIGXFSZ would
    # let a program live on past a closed pipe or its file-size limit, as it never does natively.
    for sig in (signal.SIGPIPE, signal.SIGXFSZ):
        signal.signal(sig, signal.SIG_DFL)
    try:
        os.execve(argv[0], argv, env)
    except OSError as exc:
        os.write(2, ("cannot run %s: %s" % (argv[0], exc.strerror)).encode("utf-8", "replace"))
    os._exit(EXEC_FAILED)


def _leave_the_slot(join_fd):
    """A new child's first act: join the job's memory cgroup through `join_fd` (its
    cgroup.procs, v1: tasks, which moves this process's one thread; None without one), where
    all it allocates from here on counts against the job's limit (the slot's own processes are
    outside it), and become the OOM killer's first choice."""
    if join_fd is not None:
        os.write(join_fd, b"0")
    # A non-dumpable process's /proc files are root's: dumpable just long enough to write ours.
    # Raising is always allowed; a program may lower it again only to the floor the host left (0).
    prctl = seccomp._libc.prctl
    prctl(_PR_SET_DUMPABLE, 1, 0, 0, 0)
    try:
        fd = os.open("/proc/self/oom_score_adj", os.O_WRONLY)
        try:
            os.write(fd, b"1000")
        finally:
            os.close(fd)
    finally:
        prctl(_PR_SET_DUMPABLE, 0, 0, 0, 0)


def _place_fds(fds):
    """Make `fds` the process's 0, 1, 2, ... and close every other descriptor."""
    if fds == list(range(len(fds))):  # the usual case: they arrived there (see the zygote)
        os.closerange(len(fds), 1 << 16)
        return
    high = [fcntl.fcntl(fd, fcntl.F_DUPFD, 1000) for fd in fds]  # no source clobbered below
    for target, fd in enumerate(high):
        os.dup2(fd, target)
    os.closerange(len(fds), 1 << 16)


def _set_limits(
    limits, n_phases, files, disk_mb, processes, nproc_slack, as_mb=0, data_mb=None, stack_mb=None, as_slack_mb=0
):
    """The child's rlimits. `as_mb`: its address space (0: memory_mb and `as_slack_mb`, what its
    process holds before the program runs; None: unlimited, for runtimes that reserve far more
    than they use, held by the memory cgroup and `data_mb`, the limit on its data segments and
    private writable mappings). `stack_mb`: its main thread's stack (None: as inherited; never
    above the hard limit it inherited)."""
    mb = 1 << 20
    cpu_total = int(limits["cpu_s"] * n_phases) + 2
    nproc = 0 if processes <= 0 else int(processes) + nproc_slack
    resource.setrlimit(resource.RLIMIT_CPU, (cpu_total, cpu_total + 1))  # SIGXCPU first: a timeout
    address = resource.RLIM_INFINITY if as_mb is None else int((as_mb or limits["memory_mb"] + as_slack_mb) * mb)
    resource.setrlimit(resource.RLIMIT_AS, (address, address))
    if data_mb is not None:
        resource.setrlimit(resource.RLIMIT_DATA, (int(data_mb * mb),) * 2)
    if stack_mb:
        hard = resource.getrlimit(resource.RLIMIT_STACK)[1]
        stack = int(stack_mb * mb) if hard == resource.RLIM_INFINITY else min(int(stack_mb * mb), hard)
        resource.setrlimit(resource.RLIMIT_STACK, (stack, stack))
    # Scratch files are tmpfs, memory: no single file past memory_mb either.
    fsize = int(min(disk_mb, limits["memory_mb"]) * mb)
    resource.setrlimit(resource.RLIMIT_FSIZE, (fsize, fsize))
    resource.setrlimit(resource.RLIMIT_NOFILE, (int(files),) * 2)
    resource.setrlimit(resource.RLIMIT_NPROC, (nproc, nproc))
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
