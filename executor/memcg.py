"""A memory cgroup per slot, so that memory in any form a job's processes hold counts against
its `memory_mb`: heap, tmpfs files, pipe buffers, page tables, several processes together.

Layout, under the host's own memory cgroup (v1 or v2, whichever has the memory controller):

    <own>/acefarm-<host pid>-<n>/   one per slot, no processes of its own
        sandbox/   firejail, the zygote and the fork server (the slot's own processes): no limit
        job/       every child of every job, limited to memory_mb + HEADROOM_MB

The sandbox joins sandbox/ before firejail starts (`wrap`). A child joins job/ as the first act
of its set-up, writing to an fd of job/cgroup.procs (v1: job/tasks) the host opened and firejail
keeps open (`--keep-fd`): the kernel checks a migration against the credentials the file was
opened with. On v1 the child moves its one thread (it has no other yet) through `tasks`:
moving a whole process through cgroup.procs takes a global lock whose first writer after an
idle spell waits out an RCU grace period, 5-15 ms here, where moving the calling thread alone
takes 0.1 ms (v2 has no such file for a domain cgroup).
The zygote reads job/'s OOM-kill counter and peak through fds of their own (`sandbox_fds`).

Why the slot's own processes are not in the job's cgroup: tmpfs files a killed child leaves stay
charged where they were written, so a full job cgroup can hold nothing any process could free;
a slot process in it that then needed a page would wait in the kernel forever. And the OOM
killer would weigh the fork server against a program that exec'd a tiny binary and lowered its
oom_score_adj to 0 (only CAP_SYS_RESOURCE, which root in a container may lack, can set -1000).
Outside the job's cgroup they are never a candidate. Children still raise their own
oom_score_adj to 1000 (the host's global OOM killer takes a program first), and the host sets
the slot's own processes to -1000 where it may (`protect`).
"""

from __future__ import annotations

import atexit
import errno
import itertools
import logging
import os
import signal
import threading
import time

log = logging.getLogger(__name__)

HEADROOM_MB = 32  # the job's kernel objects, the test process, copies of the fork server's pages
PREFIX = "acefarm-"
_serial = itertools.count()
_base: tuple[int, str] | None = None  # (version, our memory cgroup's directory), found once
_base_lock = threading.Lock()  # slots start in threads of their own
_open: set[SlotCgroup] = set()  # not closed yet: removed at exit if a pool was never closed


class Unavailable(Exception):
    """No memory cgroup can be made here; the reason is the message."""


def _read(path: str) -> str:
    with open(path) as fh:
        return fh.read()


def _write(path: str, text: str) -> None:
    fd = os.open(path, os.O_WRONLY | os.O_CLOEXEC)
    try:
        os.write(fd, text.encode("ascii"))
    finally:
        os.close(fd)


def _mounts() -> list[tuple[str, str, str, list[str]]]:
    """(fs type, mount point, root within its hierarchy, super options) of each mount."""
    out = []
    for line in _read("/proc/self/mountinfo").splitlines():
        left, _, right = line.partition(" - ")
        fields, tail = left.split(), right.split()
        if len(fields) >= 5 and len(tail) >= 3:
            point = fields[4].replace("\\040", " ")
            out.append((tail[0], point, fields[3], tail[2].split(",")))
    return out


def _below(mount: str, root: str, path: str) -> str:
    """The directory of cgroup `path` (as /proc/self/cgroup says it) in a mount of `root`."""
    if root != "/" and (path == root or path.startswith(root + "/")):
        path = path[len(root) :]
    return os.path.join(mount, path.lstrip("/")).rstrip("/")


def _find() -> tuple[int, str]:
    own = {}
    for line in _read("/proc/self/cgroup").splitlines():
        hierarchy, controllers, path = line.split(":", 2)
        if hierarchy == "0" and not controllers:
            own["v2"] = path
        for name in controllers.split(","):
            own[name] = path
    mounts = _mounts()
    if "memory" in own:
        for fstype, point, root, options in mounts:
            if fstype == "cgroup" and "memory" in options:
                return 1, _below(point, root, own["memory"])
        raise Unavailable("the memory cgroup v1 controller is not mounted")
    if "v2" in own:
        if _kernel() < (5, 16):  # earlier v2 checks a migration against the writer, not the opener
            raise Unavailable("cgroup v2 needs Linux 5.16 or later here (a child joins through the host's fd)")
        for fstype, point, root, _ in mounts:
            if fstype == "cgroup2":
                base = _below(point, root, own["v2"])
                if "memory" not in _read(os.path.join(base, "cgroup.controllers")).split():
                    raise Unavailable("cgroup v2 has no memory controller for " + base)
                return 2, _enable_v2(base)
    raise Unavailable("no memory cgroup controller on this machine")


def _kernel() -> tuple[int, int]:
    try:
        major, minor = os.uname().release.split(".")[:2]
        return int(major), int("".join(c for c in minor if c.isdigit()) or 0)
    except ValueError:
        return (0, 0)


def _enable_v2(base: str) -> str:
    """A cgroup v2 directory under which slots get the memory controller: `base` itself, or a
    leaf our process moves into when `base` holds processes (v2 hands no controller down from
    a cgroup with processes of its own)."""
    control = os.path.join(base, "cgroup.subtree_control")
    if "memory" in _read(control).split():
        return base
    try:
        _write(control, "+memory")
        return base
    except OSError as exc:
        if exc.errno != errno.EBUSY:
            raise
    if _read(os.path.join(base, "cgroup.procs")).split() != [str(os.getpid())]:
        raise Unavailable("cgroup v2: other processes share our cgroup " + base)
    leaf = os.path.join(base, PREFIX + "host")
    os.makedirs(leaf, exist_ok=True)
    _write(os.path.join(leaf, "cgroup.procs"), str(os.getpid()))
    _write(control, "+memory")
    return base


def base() -> tuple[int, str]:
    """(cgroup version, the directory slots are made in), found once per process."""
    global _base
    with _base_lock:
        if _base is None:
            try:
                found = _find()
            except OSError as exc:
                raise Unavailable(f"cannot use the memory cgroup: {exc}") from None
            _remove_stale(found[1])
            log.info("slots get memory cgroups (v%d) under %s", *found)
            _base = found
        return _base


def _pid_namespace() -> str:
    """This process's pid namespace (its inode): a pid means a process only within it."""
    try:
        return str(os.stat("/proc/self/ns/pid").st_ino)
    except OSError:
        return "0"


def _remove_stale(parent: str) -> None:
    """Remove the empty slot cgroups of host processes that are gone (killed before closing).
    Only those made in this pid namespace: farms in other containers may share the cgroup
    tree, and their pids mean nothing in our /proc."""
    try:
        names = os.listdir(parent)
    except OSError:
        return
    ours = _pid_namespace()
    for name in names:
        parts = name[len(PREFIX) :].split("-")
        if not name.startswith(PREFIX) or len(parts) != 3 or parts[0] != ours or not parts[1].isdigit():
            continue
        if not os.path.exists(f"/proc/{parts[1]}"):
            for leaf in ("job", "sandbox", ""):
                try:
                    os.rmdir(os.path.join(parent, name, leaf))
                except OSError:
                    pass


class SlotCgroup:
    """The memory cgroups of one slot (see the module's docstring)."""

    def __init__(self) -> None:
        self.version, parent = base()
        self.path = os.path.join(parent, f"{PREFIX}{_pid_namespace()}-{os.getpid()}-{next(_serial)}")
        self.sandbox = os.path.join(self.path, "sandbox")
        self.job = os.path.join(self.path, "job")
        self._fds: dict[str, int] = {}
        self._limit_mb: int | None = None
        self._owner = os.getpid()
        try:
            os.mkdir(self.path, 0o755)
        except OSError as exc:
            raise Unavailable(f"cannot make a memory cgroup in {parent}: {exc}") from None
        _open.add(self)
        try:
            if self.version == 2:
                _write(os.path.join(self.path, "cgroup.subtree_control"), "+memory")
            os.mkdir(self.sandbox, 0o755)
            os.mkdir(self.job, 0o755)
            self._no_swap()
            self._open_fds()
        except OSError as exc:
            self.close()
            raise Unavailable(f"cannot set up the memory cgroup {self.path}: {exc}") from None

    def _file(self, v1: str, v2: str) -> str:
        return os.path.join(self.job, v1 if self.version == 1 else v2)

    def _no_swap(self) -> None:
        """v2: the job may not swap (its limit would not hold). v1 has memsw, set with the limit."""
        swap = os.path.join(self.job, "memory.swap.max")
        if self.version == 2 and os.path.exists(swap):
            _write(swap, "0")

    def _open_fds(self) -> None:
        flags = os.O_CLOEXEC
        join = "tasks" if self.version == 1 else "cgroup.procs"  # see the module's docstring
        self._fds["join"] = os.open(os.path.join(self.job, join), os.O_WRONLY | flags)
        self._fds["oom"] = os.open(self._file("memory.oom_control", "memory.events"), os.O_RDONLY | flags)
        self._fds["usage"] = os.open(self._file("memory.usage_in_bytes", "memory.current"), os.O_RDONLY | flags)
        try:  # v1, and v2 from Linux 6.12: a write resets the peak (v2: as read through that fd)
            peak = os.open(self._file("memory.max_usage_in_bytes", "memory.peak"), os.O_RDWR | flags)
            os.pwrite(peak, b"0", 0)
            self._fds["peak"] = peak
        except OSError:
            pass  # no resettable peak: the zygote reports its children's own peaks

    def sandbox_fds(self) -> dict[str, int]:
        """The fds the sandbox keeps open (firejail's --keep-fd), by use: `join` (the job's
        cgroup.procs, v1: tasks), `oom` (its OOM-kill counter), `usage` and `peak` (bytes)."""
        return dict(self._fds)

    def wrap(self, argv: list[str]) -> list[str]:
        """`argv` run by a shell that first moves itself into the slot's sandbox cgroup (so
        firejail and all it starts are born there)."""
        procs = os.path.join(self.sandbox, "cgroup.procs")
        return ["/bin/sh", "-c", 'echo $$ > "$0" && exec "$@"', procs, *argv]

    def started(self) -> None:
        """The sandbox is up: close the host's copies of the fds it keeps."""
        for fd in self._fds.values():
            os.close(fd)
        self._fds.clear()

    def protect(self) -> bool:
        """oom_score_adj -1000 for the slot's own processes, where the host may set it (it needs
        CAP_SYS_RESOURCE). Written through the legacy oom_adj, which leaves the floor children
        inherit at 0: a program that lowers its score again stays killable."""
        done = True
        for pid in _read(os.path.join(self.sandbox, "cgroup.procs")).split():
            try:
                _write(f"/proc/{pid}/oom_adj", "-17")
            except OSError:
                done = False
        return done

    def set_limit(self, memory_mb: int) -> None:
        """The job cgroup's limit for a job of `memory_mb`; written only when it changes."""
        if memory_mb == self._limit_mb:
            return
        limit = str((int(memory_mb) + HEADROOM_MB) << 20)
        if self.version == 2:
            _write(os.path.join(self.job, "memory.max"), limit)  # v2 reclaims, or OOM-kills
        else:
            files = ["memory.limit_in_bytes"]
            if os.path.exists(os.path.join(self.job, "memory.memsw.limit_in_bytes")):
                files.append("memory.memsw.limit_in_bytes")  # memory + swap: no swapping past it
            if self._limit_mb is not None and memory_mb > self._limit_mb:
                files.reverse()  # memsw may never be below the memory limit
            for name in files:
                self._write_limit(name, limit)
        self._limit_mb = memory_mb

    def _write_limit(self, name: str, limit: str) -> None:
        """v1 refuses (EBUSY) a limit below what it cannot reclaim: the last job's processes
        may still be exiting."""
        for _ in range(20):
            try:
                _write(os.path.join(self.job, name), limit)
                return
            except OSError as exc:
                if exc.errno != errno.EBUSY:
                    raise
            time.sleep(0.005)
        _write(os.path.join(self.job, name), limit)

    def limit_bytes(self) -> int:
        name = "memory.max" if self.version == 2 else "memory.limit_in_bytes"
        text = _read(os.path.join(self.job, name)).strip()
        return -1 if text == "max" else int(text)

    def describe(self) -> str:
        return f"cgroup v{self.version} {self.path}"

    def close(self, wait_s: float = 5.0, grace_s: float = 0.5) -> None:
        """Remove the cgroups once the sandbox's processes are gone (killing any that linger
        past `grace_s`)."""
        _open.discard(self)
        if os.getpid() != self._owner:
            return  # a forked copy of the host: the sandbox is its parent's
        self.started()
        start = time.monotonic()
        for leaf in (self.job, self.sandbox):
            killed = False
            while True:
                try:
                    pids = _read(os.path.join(leaf, "cgroup.procs")).split()
                except OSError:
                    break
                waited = time.monotonic() - start
                if not pids or waited > wait_s:
                    break
                if waited >= grace_s and not killed:  # the slot's own: its sandbox's init is gone
                    for pid in pids:
                        try:
                            os.kill(int(pid), signal.SIGKILL)
                        except OSError:
                            pass
                    killed = True
                time.sleep(0.005)
        for path in (self.job, self.sandbox, self.path):
            try:
                os.rmdir(path)
            except FileNotFoundError:
                pass
            except OSError as exc:
                log.warning("could not remove the memory cgroup %s: %s", path, exc)


@atexit.register
def _close_all() -> None:
    """A pool never closed leaves its sandboxes running until their stdin closes: end them and
    remove their cgroups as the host exits."""
    for cgroup in list(_open):
        cgroup.close(wait_s=2.0, grace_s=0.0)
