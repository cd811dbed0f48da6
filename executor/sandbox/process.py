"""A forked child as the zygote sees it: its pipes, its limits, its end.

`Child.wait` pumps a child's pipes until its phase's frame arrives, enforcing the phase's
CPU time (from /proc/PID/schedstat), wall time, output and scratch-disk caps (scratch files
are memory too: without a memory cgroup they count against memory_mb with the child's
resident memory), and takes the values a slow value phase streams (passing them on to the
host, which may answer with a stop). `Child.finish` kills the child's process group, reaps
it and hunts strays. The job's memory cgroup, where there is one, is read here too: its OOM
kills and its peak. What the zygote knows of its sandbox (scratch directory, pid namespace,
the host's pipes, how children are reaped, the memory cgroup, the slot's own processes) comes
in one `Env`, made at boot and handed to each Child. The protocol these speak is specified in
zygote.py. Standard library only.
"""

import os
import select
import signal
import time
from collections import namedtuple

from . import codec, frames
from .statuses import CRASH, DISK, MEMORY, OUTPUT, PART, PROTOCOL, STOPPED, TIMEOUT

POLL_S = 0.01
# A turn of the wait loop this much longer than its poll means the zygote itself did not run
# (a frozen worker, SIGSTOP of its tree, a stalled VM): that stretch of wall clock is not the
# program's, whose backstop is extended by it (a right program got `timeout` after a 7 s freeze
# with 0.25 s of its 2 s CPU used). CPU time, the real limit, is unaffected.
STALL_S = 1.0
MAX_ANSWER_BYTES = 64 << 20  # all result frames of one job together (the host takes 256 MiB)
# What parsing a job's frames may build, counted before parsing them: JSON's structural
# tokens (`[`, `{`, `,`), an upper bound on its values. Bytes alone do not bound it: 20 values
# of 200,000 references to one empty dict are 36 MB of JSON but 4 million dicts, which took
# the zygote past its address space (infra_error) and the host several seconds to read.
MAX_ANSWER_NODES = 1 << 20
# The codec nests to MAX_DEPTH; a level is at most four in JSON ({"DD": [factory, [[k, v]]]}).
# Deeper is forged.
MAX_VALUE_DEPTH = 4 * codec.MAX_DEPTH + 20
MAX_SCRATCH_FILES = 20_000  # inodes in the scratch: empty files cost no blocks
PART_FORWARD_S = 0.001  # at most this often a running phase's values go to the host
MAX_FRAME = 16 << 20
STDERR_TAIL = 2048
# Output nobody reads - stderr, and stdout beside assert and call tests - is drained and thrown
# away (its head and tail kept for messages), so its bound is this many times output_kb: a right
# program's debug prints over a job's 200 asserts, or 500 KB of them on stderr, are not its
# failure; a flood still ends (draining is the zygote's CPU, about what the writing costs).
DISCARDED_FACTOR = 64
STDERR_HEAD = 2048  # where runtimes name the error (Java's exception, Go's panic, node's SyntaxError)

read_frame, write_frame = frames.read_frame, frames.write_frame


class Env(namedtuple("Env", "scratch own_pid_namespace host_in host_out reap memcg protected to_host")):
    """What the zygote knows of its sandbox, fixed at boot.

    scratch: the children's scratch directory ("/tmp": firejail's private tmpfs; the insecure
        mode has a directory of its own).
    own_pid_namespace: does the sandbox have its own pid namespace (False in insecure mode)?
        Only then are processes newer than the slot's strays to kill, and only then is the
        scratch its own tmpfs, whose statvfs measures only this slot (the disk quota).
    host_in, host_out: the job pipe from the host and the answer pipe to it.
    reap: how a killed child is reaped (by the fork server, its parent):
        reap(pid) -> (status, CPU ms, peak KiB).
    memcg: the job memory cgroup (a MemoryCgroup, without fds when there is none).
    protected: the pids of the slot's own processes (init, firejail's, the zygote, the fork
        server), which no job owns.
    to_host: a HostPipe over host_out: how frames go to the host while a job runs.
    """

    __slots__ = ()


class HostPipe:
    """The answer pipe to the host (`fd`), as a running job writes to it: never blocking. A
    job's limits are enforced by the loop that would wait here, and the host may be busy
    (judging the job before) rather than reading. What the pipe cannot take now is kept
    (`pending`), written as the pipe drains (Child.wait watches it), and all of it before the
    job's answer (`write_frame`)."""

    def __init__(self, fd):
        self.fd = fd
        self.pending = bytearray()

    def send_soon(self, frame):
        """Queue `frame` behind what is pending, and write what the pipe takes now."""
        body = frames.dumps(frame).encode("utf-8")
        self.pending += _len(body).to_bytes(4, "big") + body
        self.flush(block=False)

    def flush(self, block):
        """Write what is pending: what the pipe takes now, or (`block`) all of it."""
        if not self.pending:
            return
        if block:
            frames.write_raw_bytes(self.fd, bytes(self.pending))
            self.pending.clear()
            return
        os.set_blocking(self.fd, False)
        try:
            del self.pending[: os.write(self.fd, self.pending)]
        except BlockingIOError:
            pass
        finally:
            os.set_blocking(self.fd, True)

    def write_frame(self, frame):
        """A frame after everything pending (the job's answer: no job runs now)."""
        self.flush(block=True)
        write_frame(self.fd, frame)


_len = len


OOM_MESSAGE = "killed by the kernel's OOM killer: the job's processes held more than its memory limit"


class MemoryCgroup:
    """The job memory cgroup's OOM-kill counter, usage and peak, through fds the sandbox was
    started with (executor/memcg.py); all None without a cgroup. Each job's start is marked
    (`job_started`): its OOM kills and its peak are counted from there."""

    def __init__(self, oom_fd=None, usage_fd=None, peak_fd=None):
        self.oom_fd, self.usage_fd, self.peak_fd = oom_fd, usage_fd, peak_fd
        self._oom_base = self._usage_base = 0

    def job_started(self):
        """Mark a job's start in its memory cgroup: the OOM kills so far, the peak reset."""
        if self.oom_fd is None:
            return
        self._oom_base = _cgroup_number(self.oom_fd, b"oom_kill ")
        if self.peak_fd is not None:
            try:
                os.pwrite(self.peak_fd, b"0", 0)  # v1: max := usage; v2: this fd's peak := current
            except OSError:
                pass
            self._usage_base = _cgroup_number(self.usage_fd)

    def rebase_oom(self):
        """Count OOM kills from now (a stdin/stdout test's run: each its own)."""
        if self.oom_fd is not None:
            self._oom_base = _cgroup_number(self.oom_fd, b"oom_kill ")

    def oom_killed(self):
        """Has the kernel's OOM killer ended one of this job's processes (its cgroup's limit)?"""
        return self.oom_fd is not None and _cgroup_number(self.oom_fd, b"oom_kill ") > self._oom_base

    def job_peak_kb(self, fallback):
        """The most memory the job's processes held together (its cgroup's peak, less what the
        cgroup held when the job began), or `fallback` (its children's own peak RSS) without one."""
        if self.peak_fd is None:
            return fallback
        peak = (_cgroup_number(self.peak_fd) - self._usage_base) >> 10
        return peak if peak > 0 else fallback


def _cgroup_number(fd, key=None):
    """An integer from a cgroup file: its whole content, or the `key` line's value."""
    try:
        text = os.pread(fd, 512, 0)
        if key is not None:
            at = text.index(key) + len(key)
            text = text[at : text.index(b"\n", at)]
        return int(text)
    except (OSError, ValueError):
        return 0


class PhaseEnd(Exception):
    """Ends a phase early with a status decided by the zygote (a limit, a protocol fault)."""

    def __init__(self, status, message):
        super().__init__(message)
        self.status = status
        self.message = message


class Child:
    """The zygote's view of one forked child and its pipes, in the sandbox `env` (an Env)."""

    def __init__(self, env, pid, ctl_w, res_r, out_r, err_r, limits, keep_stdout, keep_stderr=False):
        self.env = env
        self.pid = pid
        self.ctl_w = ctl_w
        self.res_r = res_r
        self.out_r = out_r
        self.err_r = err_r
        self.limits = limits
        self.keep_stdout = keep_stdout
        self.keep_stderr = keep_stderr  # a raw run's: all of it, as stdout, up to the output cap
        self.res_buf = bytearray()  # appended to in place: a 15 MiB frame arrives in 64 KiB reads
        self.stdout = bytearray()
        self.stderr = bytearray()
        self.stderr_head = b""
        self.stderr_tail = b""
        self.stderr_bytes = 0
        self.output_bytes = 0  # what is kept (a run's stdout; a raw run's stderr): output_kb
        self.discarded_bytes = 0  # what is only drained: DISCARDED_FACTOR times output_kb
        self.answer_bytes = 0
        self.answer_nodes = 0
        self.output_cap = int(limits["output_kb"] * 1024)
        self.disk_cap = int(limits["disk_mb"] * (1 << 20)) if env.own_pid_namespace else 0
        self.memory_cap = int(limits["memory_mb"] * (1 << 20))
        self.open = {fd for fd in (res_r, out_r, err_r) if fd is not None}
        self.all_processes = limits.get("processes", 0) > 0 and env.own_pid_namespace
        # A job that may start processes: one of them the OOM killer ends is the job's memory
        # verdict, whether or not the main process lives on (ended_for_memory).
        self.may_fork = limits.get("processes", 0) > 0
        self._cpu_seen = 0
        self._init_reaped_at_start = _init_reaped() if self.all_processes else 0
        self._pidfd = None  # opened only when its pipes close before it ends (see _ended)
        self.test_index = -1  # the test whose phase is running (-1: loading)
        self.undrained = False  # output came with the ready frame: drained before any later frame
        self.part = []  # values the running phase has sent ahead of its last frame
        self._forwarded = 0  # how many of them went to the host
        self._forwarded_at = 0.0
        self._clock = _cpu_clock(pid)
        self._cpu_read = 0  # its CPU time at the last reading

    def cpu_ns(self):
        """The child's CPU time to the nanosecond: all its threads', the live ones' and those
        that ended (a Python program's own threads, a runtime's, count in each test's CPU limit
        too, also once they have ended: a thread that did half a test's work and exited before
        the next poll is not forgotten). Read from its process CPU clock, which the kernel keeps
        until the child is reaped: one system call, no /proc file to open or format."""
        if self.all_processes:
            return self._cpu_all()
        try:
            self._cpu_read = max(self._cpu_read, time.clock_gettime_ns(self._clock))
        except OSError:  # reaped already: its last reading
            pass
        return self._cpu_read

    def _cpu_all(self):
        """CPU of the whole job (processes > 0): every job process's own time, its exited
        threads' and its reaped children's (utime, stime, cutime, cstime of /proc/PID/stat),
        plus what the sandbox's init has reaped since the job began (orphans). Kept at its
        maximum: a process moving from one account to the next never gives time back."""
        total = _init_reaped() - self._init_reaped_at_start
        for pid in _job_pids(self.env.protected):
            total += _process_ticks(pid)
        self._cpu_seen = max(self._cpu_seen, total * _NS_PER_TICK)
        return self._cpu_seen

    def _read(self, fd):
        """The next bytes of pipe `fd`; b"" at its end (the pipe then no longer watched)."""
        try:
            data = os.read(fd, 65536)
        except OSError:
            data = b""
        if not data:
            self.open.discard(fd)
        return data

    def _drain(self, fd):
        data = self._read(fd)
        if not data:
            return
        if fd == self.res_r:
            self.res_buf += data
            if len(self.res_buf) > MAX_FRAME + 4:
                raise PhaseEnd(OUTPUT, "result frame too large")
            return
        kept = (fd == self.out_r and self.keep_stdout) or (fd == self.err_r and self.keep_stderr)
        if kept:
            self.output_bytes += len(data)
        else:
            self.discarded_bytes += len(data)
        if fd == self.out_r and self.keep_stdout:
            self.stdout += data[: max(0, self.output_cap - len(self.stdout))]
        elif fd == self.err_r:
            if len(self.stderr_head) < STDERR_HEAD:
                self.stderr_head += data[: STDERR_HEAD - len(self.stderr_head)]
            self.stderr_bytes += len(data)
            self.stderr_tail = (self.stderr_tail + data)[-STDERR_TAIL:]
            if self.keep_stderr:
                self.stderr += data[: max(0, self.output_cap - len(self.stderr))]
        if self.output_bytes > self.output_cap:
            raise PhaseEnd(OUTPUT, "output exceeded %d KiB" % self.limits["output_kb"])
        if self.discarded_bytes > self.output_cap * DISCARDED_FACTOR:
            raise PhaseEnd(
                OUTPUT,
                "output nobody reads (stderr; stdout beside assert tests) exceeded %d KiB"
                % (self.limits["output_kb"] * DISCARDED_FACTOR),
            )

    def stderr_says(self, marker):
        """Does the child's stderr hold `marker` (bytes) in its first or last STDERR_HEAD bytes?"""
        return marker in self.stderr_head or marker in self.stderr_tail

    def stderr_gist(self, limit=400):
        """What the child wrote on stderr, for a message: all of it when short, else its start
        (where a runtime names the error: Java's exception, Go's panic, node's SyntaxError,
        before the stack trace) and its last lines."""
        if self.stderr_bytes <= limit:
            return self.stderr_tail.decode("utf-8", "replace")
        head = self.stderr_head[: limit * 3 // 4].decode("utf-8", "replace")
        tail = self.stderr_tail[-(limit // 4) :].decode("utf-8", "replace")
        return head + " [...] " + tail

    def kill(self):
        """End the child's process group now (a limit ended its phase); `finish` reaps it."""
        try:
            os.killpg(self.pid, signal.SIGKILL)
        except OSError:
            pass

    def drain_rest(self):
        """Keep what the output pipes hold now, as far as the caps allow, without waiting or
        counting it against a limit: a raw run that a limit ended keeps the output it wrote
        before the end (the other pipe may not have been read when the limit was hit)."""
        for fd, kept in ((self.out_r, self.stdout), (self.err_r, self.stderr)):
            for _ in range(64):  # at most 4 MiB a pipe, whatever a live writer still adds
                if fd not in self.open or len(kept) >= self.output_cap or not select.select([fd], [], [], 0)[0]:
                    break
                data = self._read(fd)
                if not data:
                    break
                kept += data[: self.output_cap - len(kept)]

    def _take_frame(self):
        if len(self.res_buf) < 4:
            return None
        n = int.from_bytes(self.res_buf[:4], "big")
        if len(self.res_buf) < 4 + n:
            return None
        body = bytes(self.res_buf[4 : 4 + n])
        del self.res_buf[: 4 + n]
        self.answer_bytes += n
        if self.answer_bytes > MAX_ANSWER_BYTES:
            raise PhaseEnd(OUTPUT, "result values exceeded %d MiB" % (MAX_ANSWER_BYTES >> 20))
        self.answer_nodes += frame_nodes(body)
        if self.answer_nodes > MAX_ANSWER_NODES:
            raise PhaseEnd(OUTPUT, "result values exceeded %d nodes" % MAX_ANSWER_NODES)
        try:
            frame = frames.loads(body)
            if type(frame) is not dict or _depth(frame.get("v"), 0) > MAX_VALUE_DEPTH:
                raise ValueError("bad frame")
        except Exception:  # malformed, too deep (RecursionError), too big: the program's doing
            raise PhaseEnd(PROTOCOL, "malformed result frame") from None
        return frame

    def wait(self, want_frame, cpu_s, wall_s, c0=None, t0=None, strict=True, nonce=None, reporter=None):
        """Pump pipes until a frame arrives (want_frame) or the child is done.

        c0/t0 are the child's CPU ns and the monotonic time when the phase
        started (taken before the nonce that starts it was sent). Returns
        (frame or None, cpu_ns used, wall seconds used). Raises PhaseEnd when a
        limit is hit. `strict`: bytes after the frame are a protocol violation
        (only the ready frame may be followed at once by the load frame).
        `nonce`: the running phase's, which its "part" frames must carry.
        `reporter`: the test process, when it runs this phase: the frame comes from it, and
        the CPU time of both counts.
        """
        source = reporter or self  # where this phase's frame comes from

        def cpu_used():
            return self.cpu_ns() + (reporter.cpu_ns() if reporter is not None else 0) - c0

        t0 = time.monotonic() if t0 is None else t0
        c0 = self.cpu_ns() if c0 is None else c0
        cpu_budget = cpu_s * 1e9
        deadline = t0 + wall_s
        checked = time.monotonic()  # CPU and disk are checked at least every POLL_S, output or not
        last = checked
        while True:
            if want_frame and not self.undrained:
                frame = source._take_frame()
                if frame is not None and reporter is None and frame.get("s") == PART:
                    self._take_part(frame, nonce)
                    continue
                if frame is not None:
                    if strict and source.res_buf:
                        raise PhaseEnd(PROTOCOL, "unexpected extra result bytes")
                    return frame, cpu_used(), time.monotonic() - t0
                if source.res_r not in source.open:
                    return None, cpu_used(), time.monotonic() - t0
            elif not want_frame and self.open == {self.res_r} and self._ended(0):
                # Its output pipes are closed and it has ended: what holds the report pipe now is
                # a process it left behind (a fork inherits every descriptor), whose end a run
                # never waits for. What the report pipe holds is its report; strays are killed.
                while self.res_r in self.open and select.select([self.res_r], [], [], 0)[0]:
                    self._drain(self.res_r)
                self.open.discard(self.res_r)
                continue
            elif not self.open:
                used = cpu_used()
                if used > cpu_budget:  # its last stretch, between the last check and its end
                    raise PhaseEnd(TIMEOUT, "CPU time limit of %gs exceeded" % cpu_s)
                now = time.monotonic()
                # Its pipes closed before it ended (fclose(stdout) and stderr, then more work):
                # it is waited for under its limits, so its exit status is its own, not our kill.
                if self._ended(max(0.0, min(POLL_S, deadline - now))):
                    return None, cpu_used(), time.monotonic() - t0
                if time.monotonic() >= deadline:
                    raise PhaseEnd(TIMEOUT, "wall-clock limit of %gs exceeded" % wall_s)
                self._check_disk()  # its scratch files are still bounded
                continue
            now = time.monotonic()
            if now - last > STALL_S:  # we did not run: the machine, or this sandbox, was stopped
                deadline += now - last - POLL_S
            last = now
            if now >= deadline:
                raise PhaseEnd(TIMEOUT, "wall-clock limit of %gs exceeded" % wall_s)
            watch = list(self.open) + (list(reporter.open) if reporter is not None else [])
            if self._forwarded:  # the host may answer a forwarded part with a stop
                watch.append(self.env.host_in)
            to_host = self.env.to_host
            ready, writable, _ = select.select(
                watch, [to_host.fd] if to_host.pending else [], [], min(POLL_S, deadline - now)
            )
            if writable:
                to_host.flush(block=False)
            if self.env.host_in in ready:
                ready.remove(self.env.host_in)
                self._host_says()
            if want_frame and not source.answer_bytes and source.res_r in ready:
                # The ready frame first: no program code runs before it, so output that came
                # with it is the program's, for the next wait to drain and count first.
                ready.remove(source.res_r)
                source._drain(source.res_r)
                frame = source._take_frame()
                if frame is not None:
                    if strict and source.res_buf:
                        raise PhaseEnd(PROTOCOL, "unexpected extra result bytes")
                    self.undrained = bool(ready)
                    return frame, cpu_used(), time.monotonic() - t0
            for fd in ready:
                (self if fd in self.open else reporter)._drain(fd)
            self.undrained = False
            now = time.monotonic()
            # Not only when the pipes are quiet: a program that writes a byte every 0.1 ms keeps
            # select busy, and would otherwise run on to its RLIMIT_CPU backstop unchecked.
            if reporter is not None or not ready or len(ready) < len(self.open) or now - checked >= POLL_S:
                checked = now
                if cpu_used() > cpu_budget:
                    raise PhaseEnd(TIMEOUT, "CPU time limit of %gs exceeded" % cpu_s)
                self._check_disk()
                if self.ended_for_memory():  # a process it waits on will never answer
                    raise PhaseEnd(MEMORY, OOM_MESSAGE)

    def _ended(self, timeout):
        """Has the child's main process ended (a zombie, or reaped)? Waits up to `timeout`
        seconds for it: on a pidfd, which the kernel makes readable at its exit, else by
        looking at its state in /proc."""
        if self._pidfd is None:
            try:
                self._pidfd = os.pidfd_open(self.pid)
            except ProcessLookupError:
                return True
            except OSError:
                self._pidfd = -1
        if self._pidfd >= 0:
            return bool(select.select([self._pidfd], [], [], timeout)[0])
        end, pause = time.monotonic() + timeout, 0.0005
        while True:
            try:
                with open("/proc/%d/stat" % self.pid, "rb") as fh:
                    state = _stat_fields(fh.read())[0]
            except (OSError, IndexError):
                return True
            if state in (b"Z", b"X"):
                return True
            if time.monotonic() >= end:
                return False
            time.sleep(pause)
            pause = min(pause * 2, 0.01)

    def _check_disk(self):
        if self.disk_cap:
            used, files = _scratch_used(self.env.scratch)
            if used > self.disk_cap:
                raise PhaseEnd(DISK, "scratch disk use exceeded %g MiB" % self.limits["disk_mb"])
            if files > MAX_SCRATCH_FILES:
                raise PhaseEnd(DISK, "more than %d files in the scratch directory" % MAX_SCRATCH_FILES)
            # Scratch files are tmpfs: memory, counted with the program's own. A memory cgroup
            # counts both exactly; without one, its resident anonymous memory stands in.
            if used and self.env.memcg.oom_fd is None and used + _anon_bytes(self.pid) > self.memory_cap:
                raise PhaseEnd(MEMORY, "scratch files and memory exceeded %g MiB" % self.limits["memory_mb"])

    def _take_part(self, frame, nonce):
        """A value phase's values so far: kept for its result, and passed on to the host
        (at most every PART_FORWARD_S) so it can stop a test that has already failed."""
        values = frame.get("v")
        if nonce is None or frame.get("n") != nonce or type(values) is not list:
            raise PhaseEnd(PROTOCOL, "malformed part frame")
        self.part.extend(values)
        now = time.monotonic()
        if self.test_index >= 0 and now - self._forwarded_at >= PART_FORWARD_S:
            self.env.to_host.send_soon({"part": self.test_index, "v": self.part[self._forwarded :]})
            self._forwarded, self._forwarded_at = len(self.part), now

    def _host_says(self):
        """The host wrote while a job runs: only {"stop": test index} is expected."""
        frame = read_frame(self.env.host_in)
        if frame is None:
            os._exit(0)  # the host is gone
        if type(frame) is dict and frame.get("stop") == self.test_index:
            raise PhaseEnd(STOPPED, "stopped: an earlier assert of this test already failed")

    def ended_for_memory(self):
        """Has the OOM killer ended one of this job's processes (a job that may start them)?"""
        return self.may_fork and self.env.memcg.oom_killed()

    def start_phase(self, test_index):
        self.test_index = test_index
        self.part, self._forwarded, self._forwarded_at = [], 0, 0.0

    def send_token(self, token):
        try:
            os.write(self.ctl_w, token)
        except OSError:
            pass

    def send_nonce(self):
        return self.send_nonces(1)[0]

    def send_nonces(self, n):
        """`n` fresh nonces, sent in one write (the zygote queues at most 65 at once: 2 KiB,
        one atomic pipe write). Returns them in order."""
        raw = os.urandom(16 * n).hex()
        nonces = [raw[i : i + 32] for i in range(0, 32 * n, 32)]
        try:
            os.write(self.ctl_w, "".join(x + "\n" for x in nonces).encode("ascii"))
        except OSError:
            pass  # the child is gone; the wait that follows sees EOF
        return nonces

    def finish(self, strays=False, status=True):
        """Kill whatever is left, close pipes. Returns (status, cpu_ms, peak_kb). With `status`
        the exit is asked of the fork server (a child that ended on its own, a stdio run);
        without, the child is still running: its CPU and peak memory are read before the kill
        and it is reaped in passing (its own peak read only where no memory cgroup gives the
        job's: formatting /proc/PID/status is costly)."""
        cpu_ms = peak_kb = 0
        if not status:
            cpu_ms = self.cpu_ns() / 1e6
            peak_kb = _peak_kb(self.pid) if self.env.memcg.peak_fd is None else 0
        for fd in (self.ctl_w, self.res_r, self.out_r, self.err_r, self._pidfd):
            if fd is not None and fd >= 0:
                try:
                    os.close(fd)
                except OSError:
                    pass
        try:
            os.killpg(self.pid, signal.SIGKILL)
        except OSError:
            pass
        if status:
            status, cpu_ms, peak_kb = self.env.reap(self.pid)
        else:
            status = signal.SIGKILL
        if strays and self.env.own_pid_namespace:
            _kill_strays(self.env.protected)
        return status, cpu_ms, peak_kb


def _anon_bytes(pid):
    """Resident memory of `pid` that is not file-backed or shared memory (statm), 0 if gone."""
    try:
        with open("/proc/%d/statm" % pid, "rb") as fh:
            fields = fh.read().split()
        return (int(fields[1]) - int(fields[2])) * _PAGE
    except (OSError, ValueError, IndexError):
        return 0


_PAGE = os.sysconf("SC_PAGE_SIZE")


def _peak_kb(pid):
    """Peak resident memory of a live process (VmHWM), 0 if unknown."""
    try:
        fd = os.open("/proc/%d/status" % pid, os.O_RDONLY)
        try:
            text = os.read(fd, 8192)  # the whole file: VmHWM is in its first 2 KiB
        finally:
            os.close(fd)
        at = text.index(b"VmHWM:")
        return int(text[at + 6 : text.index(b"kB", at)])
    except (OSError, ValueError):
        return 0


def _depth(value, level):
    """Nesting depth of a decoded frame value, without recursion."""
    deepest, todo = level, [(value, level)]
    while todo:
        v, d = todo.pop()
        if d > deepest:
            deepest = d
            if deepest > MAX_VALUE_DEPTH:
                return deepest
        if type(v) is list:
            if v and codec.all_scalars(v):  # one C-level pass
                todo.append((None, d + 1))  # a flat list: its items are one level down
            else:
                todo.extend((x, d + 1) for x in v)
        elif type(v) is dict:
            todo.extend((x, d + 1) for x in v.values())
    return deepest


def _scratch_used(scratch):
    """(bytes, inodes) in use in the scratch filesystem."""
    st = os.statvfs(scratch)
    return (st.f_blocks - st.f_bfree) * st.f_frsize, st.f_files - st.f_ffree


def _kill_strays(protected):
    """Kill every process of this slot's sandbox that is not one of the slot's own (the pids
    in `protected`): the job's descendants that left its process group, whatever their pid
    (pids wrap around).

    Repeated until a pass finds none alive: a process that forks in a loop changes pid
    between one listing and the next. (Orphans are reaped by the sandbox's init.)
    """
    for _ in range(200):
        if not _kill_job_processes(protected):
            return


_NS_PER_TICK = 1_000_000_000 // os.sysconf("SC_CLK_TCK")


def _cpu_clock(pid):
    """The clock id of process `pid`'s CPU time (glibc's clock_getcpuclockid, which Python
    does not offer): all its threads' scheduler time, in ns. The kernel lets any process read
    it, and it reads until the process is reaped."""
    return (~pid << 3) | 2  # CPUCLOCK_SCHED, a process (not a thread) clock


def _stat_fields(raw):
    """/proc/PID/stat's fields after the command name (which may hold spaces and parentheses):
    [0] is the state, [11] utime, [12] stime, [13] cutime, [14] cstime, [17] the thread count."""
    return raw.rsplit(b")", 1)[1].split()


def _process_ticks(pid, fields=(11, 12, 13, 14)):
    """utime + stime + cutime + cstime of `pid` (its own threads, exited ones too, and the
    children it reaped), in clock ticks; 0 if it is gone."""
    try:
        with open("/proc/%d/stat" % pid, "rb") as fh:
            parts = _stat_fields(fh.read())
        return sum(int(parts[i]) for i in fields)
    except (OSError, ValueError, IndexError):
        return 0


def _init_reaped():
    """CPU ticks of the processes the sandbox's init (pid 1) has reaped: orphans end there."""
    return _process_ticks(1, (13, 14))


def _job_pids(protected):
    for name in os.listdir("/proc"):
        if name.isdigit() and int(name) not in protected:
            yield int(name)


def _kill_job_processes(protected):
    found = False
    for pid in _job_pids(protected):
        if _dead(pid):
            continue
        try:
            os.kill(pid, signal.SIGKILL)
            found = True
        except OSError:
            pass
    return found


def frame_nodes(body):
    """About how many values a frame's JSON `body` holds, counted without parsing it (its
    separators and openings): what MAX_ANSWER_NODES bounds, for frames and the values log alike."""
    return body.count(b",") + body.count(b"[") + body.count(b"{")


def too_deep(value):
    """Is a decoded value nested deeper than any the codec makes (see MAX_VALUE_DEPTH)?"""
    return _depth(value, 0) > MAX_VALUE_DEPTH


def gone(pid):
    """Has process `pid` ended (see _dead)?"""
    return _dead(pid)


def _dead(pid):
    """Gone, or a zombie with no live thread left (a zombie thread-group leader whose other
    threads still run is alive: a signal to its pid still reaches them)."""
    try:
        with open("/proc/%d/stat" % pid, "rb") as fh:
            if fh.read().rsplit(b")", 1)[1].split()[0] != b"Z":
                return False
        return len(os.listdir("/proc/%d/task" % pid)) <= 1
    except (OSError, IndexError):
        return True


def describe_exit(status, memcg):
    """(phase status, message) for a child's exit `status`; `memcg` (a MemoryCgroup) tells
    whether a SIGKILL was the OOM killer's."""
    if os.WIFSIGNALED(status):
        sig = os.WTERMSIG(status)
        try:
            name = signal.Signals(sig).name
        except ValueError:
            name = str(sig)
        if sig == signal.SIGXCPU:
            return TIMEOUT, "CPU time limit exceeded (SIGXCPU)"
        if sig == signal.SIGXFSZ:
            return DISK, "file size limit exceeded (SIGXFSZ)"
        if sig == signal.SIGKILL and memcg.oom_killed():
            return MEMORY, OOM_MESSAGE
        return CRASH, "killed by " + name
    return CRASH, "exited with status %d" % os.WEXITSTATUS(status)
