"""A Slot: the host's handle on one zygote running inside firejail (and, where the machine
allows, in a memory cgroup of its own: memcg.py).

Started once and reused for many jobs (starting firejail costs tens of ms, so
it never happens per program). `run` sends one job and waits for the answer
with a deadline; a zygote that dies or stalls raises SlotCrashed and the slot
must be restarted. The wire protocol is specified in sandbox/zygote.py.
"""

from __future__ import annotations

import json
import logging
import os
import select
import signal
import subprocess
import tempfile
import time
from collections.abc import Callable
from importlib import resources
from typing import Any

from . import firejail, memcg, users
from .config import ExecutorConfig
from .errors import SandboxUnavailable, SlotCrashed
from .languages import python as python_lang
from .sandbox import zygote

log = logging.getLogger(__name__)

# In import order.
SANDBOX_MODULES = (
    "codec",
    "frames",
    "seccomp",
    "trusted",
    "statuses",
    "preludes",
    "rpc",
    "expected",
    "runner",
    "artifact",
    "packages",
    "capture",
    "tester",
    "process",
    "forker",
    "zygote",
)
SANDBOX_PACKAGE = "acefarm_sandbox"
MAX_ANSWER = 256 << 20
MAX_ARTIFACT = (64 << 20) + (4096 << 9)  # sandbox/artifact.py: MAX_BYTES and MAX_FILES records' headers
_READ_SIZE = 1 << 16  # per read from the zygote, at least (a pipe's default buffer)...
_READ_MAX = 1 << 20  # ...and at most
# The zygote's whole environment. A fixed hash seed (with the zygote's fixed
# `random` seed) makes a program's behaviour the same in every slot and run.
_ENV = {"PATH": "/usr/bin:/bin", "LANG": "C.UTF-8", "PYTHONHASHSEED": "0"}
# firejail runs its command with no sandbox at all when it believes it already is in one: a
# pid namespace without kernel threads (any container) whose `container` variable (its own or
# pid 1's) is not a kind it knows. Naming one makes it build the sandbox in containers too;
# Slot.start checks it did (`_confined`).
_FIREJAIL_ENV = {**_ENV, "container": "docker"}
NAMESPACES = ("net", "pid", "mnt", "ipc")


_warned: set[str] = set()


def _shared_namespaces(theirs: dict[str, Any]) -> list[str]:
    """The namespaces (of NAMESPACES) the sandbox did not get its own of: the ones it reports
    (or does not) that are this process's."""
    shared = []
    for name in NAMESPACES:
        try:
            ours = os.readlink(f"/proc/self/ns/{name}")
        except OSError:
            continue
        if theirs.get(name) in (None, ours):
            shared.append(name)
    return shared


def _warn_once(message: str) -> None:
    if message not in _warned:
        _warned.add(message)
        log.warning("%s", message)


def _sandbox_sources() -> list[list[str]]:
    pkg = resources.files("executor.sandbox")
    return [[m, pkg.joinpath(m + ".py").read_text("utf-8")] for m in SANDBOX_MODULES]


class Slot:
    """One zygote process. Not thread-safe: one caller at a time."""

    def __init__(self, config: ExecutorConfig, index: int = 0) -> None:
        self.config = config
        self.index = index
        self.proc: subprocess.Popen[bytes] | None = None
        self.info: dict[str, Any] = {}
        self._scratch: str | None = None
        self.cgroup: memcg.SlotCgroup | None = None  # where the job's processes' memory counts
        self.jobs_run = 0
        self.busy = False  # a job is in flight
        self.cancel_requested = False
        self._unread = bytearray()  # bytes read from the zygote past the last frame taken
        self._user: users.UserLease | None = None  # the sandbox user it runs as (users.py)

    @property
    def alive(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def start(self) -> dict[str, Any]:
        """Start the zygote and wait until it is ready. Returns its boot info."""
        self.close()
        self._unread.clear()
        # Not -I: it would ignore PYTHONHASHSEED. -s -P -S give the same isolation
        # from the host's site-packages and cwd; the environment is ours entirely.
        argv = [self.config.python, "-s", "-P", "-S", "-B", "-c", zygote.BOOTSTRAP]
        if not os.access(self.config.python, os.X_OK):
            raise SandboxUnavailable(f"sandbox interpreter {self.config.python} not found (apt-get install python3)")
        memory = self._make_cgroup()
        fds = self.cgroup.sandbox_fds() if self.cgroup is not None else {}
        try:
            if self.config.insecure_no_sandbox:
                self._scratch = tempfile.mkdtemp(prefix="acefarm-insecure-")
                cmd = argv
            else:
                if os.geteuid() == 0:  # as another user, firejail's own setuid bit decides
                    firejail.check_privileges()
                firejail.build_state(self.config)
                cmd = firejail.command(self.config, argv, self._user_index(), tuple(fds.values()))
        except BaseException:
            self.close()  # the cgroup just made
            raise
        if self.cgroup is not None:
            cmd = self.cgroup.wrap(cmd)
        errlog = tempfile.TemporaryFile()
        try:
            self.proc = subprocess.Popen(
                cmd,
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                stderr=errlog,
                env=dict(_ENV if self.config.insecure_no_sandbox else _FIREJAIL_ENV),
                start_new_session=True,
                close_fds=True,
                cwd="/",
                pass_fds=tuple(fds.values()),
            )
        except OSError as exc:
            self.close()
            raise SandboxUnavailable(f"cannot start the sandbox: {exc}") from exc
        finally:
            if self.cgroup is not None:
                self.cgroup.started()
        packages = python_lang.installed_packages(self.config.python_packages)
        boot = {
            "name": SANDBOX_PACKAGE,
            "package": _sandbox_sources(),
            "preimport": list(self.config.preimport or python_lang.PREIMPORT)
            + [p for p in (*python_lang.PREIMPORT_PACKAGES, *self.config.preimport_packages) if p in packages],
            "packages": {"dir": python_lang.DIST_PACKAGES, "names": list(packages)},
            "thread_env": python_lang.THREAD_ENV,
            "scratch": self._scratch or "/tmp",
            "own_pid_namespace": not self.config.insecure_no_sandbox,
            "cpu": self.config.slot_cpu(self.index),
            # Room in the per-user process count for the processes of the slots sharing it.
            "nproc_slack": 16 + 8 * self._sharing(),
            # The job cgroup's fds, as the sandbox has them (see memcg.SlotCgroup.sandbox_fds).
            "memcg": fds or None,
        }
        try:
            self._send(boot)
            info = self._receive(time.monotonic() + self.config.start_timeout_s)
        except SlotCrashed as exc:
            errlog.seek(0)
            detail = errlog.read().decode("utf-8", "replace").strip()[-2000:]
            self.close()
            why = "" if self.config.insecure_no_sandbox else firejail.diagnosis()
            raise SandboxUnavailable(
                f"sandbox failed to start: {exc}; {detail or 'no output'}" + (f" ({why})" if why else "")
            ) from None
        finally:
            errlog.close()
        if not info.get("ready"):
            self.close()
            raise SandboxUnavailable(f"sandbox sent an unexpected boot answer: {info!r}")
        shared = [] if self.config.insecure_no_sandbox else _shared_namespaces(info.get("ns") or {})
        if shared:
            self.close()
            raise SandboxUnavailable(
                f"the sandbox shares this process's {', '.join(shared)} namespace(s): firejail did not "
                "confine it (it runs commands unsandboxed when it believes it is already inside a sandbox, "
                "or lacks the privileges to build one; see the README's container section); refusing to run "
                "untrusted code"
            )
        info["memory"] = memory
        if self.cgroup is not None:
            info["oom_protected"] = self.cgroup.protect()
        self.info = info
        return info

    def _make_cgroup(self) -> str:
        """The slot's memory cgroup, where the machine has one we may use. Returns how memory
        is bounded, for the slot's info."""
        if self.config.insecure_no_sandbox or not self.config.memory_cgroup:
            return "rlimits (memory cgroup off)"
        try:
            self.cgroup = memcg.SlotCgroup()
            self.cgroup.set_limit(self.config.limits.memory_mb)
        except (memcg.Unavailable, OSError) as exc:
            if self.cgroup is not None:
                self.cgroup.close()
                self.cgroup = None
            _warn_once(
                f"no memory cgroup ({exc}): a job's memory is bounded per process "
                "(address space, scratch files), not across its processes"
            )
            return f"rlimits (no memory cgroup: {exc})"
        return self.cgroup.describe()

    def _sharing(self) -> int:
        """How many slots of the pool run as this slot's user."""
        if self.config.insecure_no_sandbox or os.geteuid() != 0:
            return self.config.slots
        if self._user is not None and self._user.fd is not None:
            return 1  # leased: no other slot on this machine runs as it
        return firejail.slot_user(self.config, self._user_index())[1]

    def _user_index(self) -> int:
        """The sandbox user this slot runs as (users.py: leased for its life, when root)."""
        if self._user is None:
            self._user = users.lease(self.index) if os.geteuid() == 0 else users.UserLease(self.index)
        return self._user.index

    def run(
        self,
        request: dict[str, Any],
        timeout_s: float,
        on_part: Callable[[Any, Any], bool] | None = None,
        snippets: list[str] | None = None,
    ) -> dict[str, Any]:
        """Send one job (zygote form) and return the zygote's answer (`send` + `answer`)."""
        self.send(request, snippets)
        return self.answer(timeout_s, on_part)

    def send(self, request: dict[str, Any], snippets: list[str] | None = None) -> None:
        """Send one job (zygote form); `answer` reads what the zygote makes of it. Raises
        SlotCrashed when the zygote is gone.

        `snippets`: the sources of the job's snippet tests, sent after the job's frame; the
        zygote leaves them to the test process, which reads them itself.
        """
        if not self.alive:
            raise SlotCrashed("slot is not running")
        if self.cgroup is not None:
            try:
                self.cgroup.set_limit(request["limits"]["memory_mb"])  # a build request's: the build's
            except OSError as exc:  # the job runs under the last one's limit; retried next job
                log.warning("slot %d: cannot set the job's memory limit: %s", self.index, exc)
        self.busy = True
        try:
            self._send_job(request, snippets)
        except BaseException:
            self.busy = False
            raise

    def answer(self, timeout_s: float, on_part: Callable[[Any, Any], bool] | None = None) -> dict[str, Any]:
        """The zygote's answer to the job sent last, within `timeout_s` from now (SlotCrashed
        past it, the slot then closed). `on_part(test index, values)` sees the values a slow
        phase streams before the answer; when it returns True the zygote is told to stop that
        phase."""
        deadline = time.monotonic() + timeout_s
        try:
            while True:
                answer = self._receive(deadline)
                if "part" not in answer:
                    break
                if on_part is not None and on_part(answer["part"], answer.get("v")):
                    self._send({"stop": answer["part"]})
            size = answer.get("artifact_bytes")
            if isinstance(size, int) and 0 <= size <= MAX_ARTIFACT:  # a build's files follow the answer
                assert self.proc is not None and self.proc.stdout is not None
                answer["artifact"] = self._read_exact(self.proc.stdout.fileno(), size, deadline)
            elif size is not None:
                raise SlotCrashed("zygote announced a malformed build")
        finally:
            self.busy = False
        self.jobs_run += 1
        return answer

    def kill(self) -> None:
        """Kill the sandbox now (from any thread); the owner's pending read sees EOF."""
        proc = self.proc
        if proc is not None:
            try:
                os.killpg(proc.pid, signal.SIGKILL)
            except OSError:
                pass

    def close(self) -> None:
        """Kill the zygote and everything in its sandbox."""
        proc, self.proc = self.proc, None
        if proc is not None:
            try:
                os.killpg(proc.pid, signal.SIGKILL)
            except OSError:
                pass
            for stream in (proc.stdin, proc.stdout):
                try:
                    stream.close()  # type: ignore[union-attr]
                except OSError:
                    pass
            proc.wait()
        if self.cgroup is not None:
            self.cgroup.close()
            self.cgroup = None
        if self._user is not None:  # its processes are dead: the user is free again
            self._user.release()
            self._user = None
        if self._scratch:
            import shutil

            shutil.rmtree(self._scratch, ignore_errors=True)
            self._scratch = None

    def _send_job(self, request: dict[str, Any], snippets: list[str] | None) -> None:
        """The job frame, then the program's source and the snippets as raw bytes (the zygote
        moves those into memfds for its children without reading them)."""
        head = dict(request)
        source = head.pop("program", "")  # text, or a blob of files (a language other than Python)
        program = source if isinstance(source, bytes) else str(source).encode("utf-8", "surrogatepass")
        sources = json.dumps(snippets).encode("ascii") if snippets else b""
        head["program_bytes"] = len(program)
        head["snippets_bytes"] = len(sources)
        data = json.dumps(head, separators=(",", ":"), ensure_ascii=False).encode("utf-8", "surrogatepass")
        self._write(len(data).to_bytes(4, "big") + data + program + sources)

    def _send(self, obj: Any) -> None:
        data = json.dumps(obj, separators=(",", ":"), ensure_ascii=False).encode("utf-8", "surrogatepass")
        self._write(len(data).to_bytes(4, "big") + data)

    def _write(self, data: bytes) -> None:
        assert self.proc is not None and self.proc.stdin is not None
        fd = self.proc.stdin.fileno()  # written directly: one system call for a whole frame
        view = memoryview(data)
        try:
            while view:
                view = view[os.write(fd, view) :]
        except (BrokenPipeError, OSError) as exc:
            raise SlotCrashed(f"zygote is gone: {exc}") from None

    def _receive(self, deadline: float) -> dict[str, Any]:
        assert self.proc is not None and self.proc.stdout is not None
        fd = self.proc.stdout.fileno()
        head = self._read_exact(fd, 4, deadline)
        n = int.from_bytes(head, "big")
        if n > MAX_ANSWER:
            raise SlotCrashed("zygote sent an oversized frame")
        try:
            answer: dict[str, Any] = json.loads(self._read_exact(fd, n, deadline))
            return answer
        except (ValueError, RecursionError, MemoryError) as exc:
            raise SlotCrashed(f"zygote sent a malformed frame: {type(exc).__name__}") from None

    def _read_exact(self, fd: int, n: int, deadline: float) -> bytes:
        """The next `n` bytes from the zygote. Reads take what the pipe holds (a frame's head
        and body usually come in one read); bytes past the `n` wait for the next call."""
        unread = self._unread
        while len(unread) < n:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                self.close()
                raise SlotCrashed("zygote did not answer in time")
            ready, _, _ = select.select([fd], [], [], remaining)
            if not ready:
                continue
            chunk = os.read(fd, min(max(n - len(unread), _READ_SIZE), _READ_MAX))
            if not chunk:
                code = self.proc.poll() if self.proc else None
                raise SlotCrashed(f"zygote exited (status {code})")
            unread += chunk
        with memoryview(unread) as view:
            data = bytes(view[:n])
        del unread[:n]
        return data
