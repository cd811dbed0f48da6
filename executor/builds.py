"""Builds of programs in compiled languages: done once per program, kept by hash.

A job in a language with a compiler is built inside the sandbox (sandbox/zygote.py, `build`)
and its tests run what the build left (sandbox/artifact.py). The build's outcome is kept here
by `Toolchain.build_key` (language, toolchain version, build command, source): the files on
success, the compiler's message on failure, so the 16 identical samples of a GRPO group
compile once. While one slot builds a program, jobs of the same program wait for it (`claim`
parks them) instead of building it again.

Kept outcomes are bounded by their bytes (least recently used first out). A build that a
wall-clock limit ended is not kept: on a loaded machine it may pass next time (it stands for
RECENT_S only, for the jobs of its program waiting for it or sent just after). With a
directory (ExecutorConfig.build_dir), outcomes are also written there, one file per key, and
read back by any process that misses in memory: a restarted worker, or the many pools of a
test run, build each program once. The directory is the farm's own (mode 0700, never in the
sandbox's view); it is bounded by the same size, oldest files first out.
"""

from __future__ import annotations

import json
import logging
import os
import tempfile
import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from .job import Job
from .languages import Toolchain
from .limits import Limits
from .sandbox import artifact, statuses

log = logging.getLogger(__name__)

DEFAULT_CACHE_MB = 256
RECENT_S = 60.0  # how long a build a wall-clock limit stopped stands for its program
RECENT_MAX = 1024
HOME = "/tmp/w"  # the sandbox's working directory (sandbox/zygote.py): HOME of builds and runs
_OVERHEAD = 256  # bytes counted per kept outcome beside its files and message


@dataclass(frozen=True)
class Built:
    """A build's outcome: `files` (the blob its runs unpack) on success, else None and the
    phase says why (`phase["m"]`, the compiler's output). `phase`: status, message, CPU and wall ms."""

    files: bytes | None
    phase: dict[str, Any]

    @property
    def size(self) -> int:
        return _OVERHEAD + len(self.files or b"") + len(str(self.phase.get("m") or ""))


@dataclass
class BuildStats:
    """Counters of a BuildCache: `builds` run, `hits` (jobs that reused a kept outcome),
    `waits` (jobs parked while their program was being built), `evictions`."""

    builds: int = 0
    hits: int = 0
    waits: int = 0
    evictions: int = 0
    kept: int = 0
    kept_bytes: int = 0

    def to_dict(self) -> dict[str, int]:
        return dict(self.__dict__)


@dataclass
class _InFlight:
    waiters: list[Any] = field(default_factory=list)


class BuildCache:
    """Kept build outcomes, bounded by `max_bytes`, and the builds in flight (thread-safe)."""

    def __init__(self, max_bytes: int = DEFAULT_CACHE_MB << 20, directory: str | None = None) -> None:
        self.max_bytes = max_bytes
        self.directory = directory
        if directory is not None:
            try:
                os.makedirs(directory, mode=0o700, exist_ok=True)
            except OSError as exc:
                log.warning("build cache directory %s unusable (%s): builds kept in memory only", directory, exc)
                self.directory = None
        self._kept: OrderedDict[str, Built] = OrderedDict()
        self._flying: dict[str, _InFlight] = {}
        self._recent: dict[str, tuple[Built, float]] = {}  # builds not kept, until when they stand
        self._lock = threading.Lock()
        self._parked = 0  # waiters parked that are queued jobs (not Events): `parked`
        self._disk_lock = threading.Lock()  # writes to the directory: never under _lock
        self._disk_bytes = self._scan()[1] if self.directory is not None else 0  # what it holds, about
        self.stats = BuildStats()

    def claim(self, key: str, waiter: Any) -> tuple[str, Built | None]:
        """("hit", the kept outcome), ("build", None): the caller builds it and must call
        `finish`, or ("parked", None): `waiter` is handed back by the `finish` of the build in flight."""
        with self._lock:
            kept = self._kept.get(key)
            if kept is None:
                kept = self._load(key)
                if kept is not None:
                    self._keep(key, kept)
            if kept is not None:
                self._kept.move_to_end(key)
                self.stats.hits += 1
                return "hit", kept
            recent = self._recent.get(key)
            if recent is not None and recent[1] > time.monotonic():
                self.stats.hits += 1
                return "hit", recent[0]
            flying = self._flying.get(key)
            if flying is not None:
                flying.waiters.append(waiter)
                self.stats.waits += 1
                self._parked += not isinstance(waiter, threading.Event)
                return "parked", None
            self._flying[key] = _InFlight()
            self.stats.builds += 1
            return "build", None

    @property
    def parked(self) -> int:
        """Queued jobs parked behind a build in flight (handed back by its `finish`)."""
        return self._parked

    def obtain(self, key: str, build: Callable[[], Built | None], wait_s: float) -> Built | None:
        """The outcome of `key`: kept, built elsewhere (waited for, at most `wait_s` a time),
        or built here by `build` (None: it did not finish; SlotCrashed and the like pass through,
        the claim ended). For callers that may block, and whose key no queued job waits on (a
        slot's self-test, a checker): their waiters are Events."""
        for _ in range(3):
            ready = threading.Event()
            state, kept = self.claim(key, ready)
            if state == "parked":  # built elsewhere: its end sets `ready`
                ready.wait(wait_s)
                continue
            if state == "hit":
                return kept
            built = None
            try:
                built = build()
            finally:
                for waiter in self.finish(key, built):
                    if isinstance(waiter, threading.Event):
                        waiter.set()
            return built
        return None

    def finish(self, key: str, built: Built | None) -> list[Any]:
        """End the build of `key` (None: it did not finish, nothing is kept); returns the
        waiters it parked, to be run again."""
        keep = built is not None and not built.phase.get("stopped") and built.size <= self.max_bytes
        with self._lock:
            flying = self._flying.pop(key, None)
            if flying is not None:
                self._parked -= sum(not isinstance(w, threading.Event) for w in flying.waiters)
            if keep and built is not None:
                self._keep(key, built)
            elif built is not None and built.files is None:
                # A build a wall-clock limit stopped: not kept, but the jobs waiting for it and
                # those of the next minute take its outcome, not a build each of 30 s (a GRPO
                # group of a program that blocks its compiler would cost a slot 8 minutes).
                now = time.monotonic()
                self._recent = {k: v for k, v in self._recent.items() if v[1] > now}
                if len(self._recent) < RECENT_MAX:
                    self._recent[key] = (built, now + RECENT_S)
        if keep and built is not None:
            self._store(key, built)  # outside the lock: claims of other programs never wait on the disk
        return flying.waiters if flying is not None else []

    def _keep(self, key: str, built: Built) -> None:
        old = self._kept.pop(key, None)
        if old is not None:
            self.stats.kept_bytes -= old.size
        self._kept[key] = built
        self.stats.kept_bytes += built.size
        while self.stats.kept_bytes > self.max_bytes:
            _, out = self._kept.popitem(last=False)
            self.stats.kept_bytes -= out.size
            self.stats.evictions += 1
        self.stats.kept = len(self._kept)

    def _path(self, key: str) -> str | None:
        if self.directory is None or not key.isalnum():
            return None
        return os.path.join(self.directory, key)

    def _load(self, key: str) -> Built | None:
        path = self._path(key)
        if path is None:
            return None
        try:
            with open(path, "rb") as fh:
                data = fh.read()
            n = int.from_bytes(data[:4], "big")
            phase = json.loads(data[4 : 4 + n])
            files = data[4 + n :] if phase.get("s") == statuses.OK else None
            os.utime(path)  # recently used: the last to go
            return Built(files, phase)
        except (OSError, ValueError):
            return None

    def _store(self, key: str, built: Built) -> None:
        path = self._path(key)
        if path is None:
            return
        head = json.dumps(built.phase).encode("utf-8")
        data = len(head).to_bytes(4, "big") + head + (built.files or b"")
        with self._disk_lock:
            try:
                fd, tmp = tempfile.mkstemp(dir=self.directory, prefix=".tmp-")
                with os.fdopen(fd, "wb") as fh:
                    fh.write(data)
                os.replace(tmp, path)
            except OSError as exc:
                log.warning("cannot keep a build in %s: %s", self.directory, exc)
                return
            self._disk_bytes += len(data)
            if self._disk_bytes > self.max_bytes:
                self._trim()

    def _scan(self) -> tuple[list[tuple[float, int, str]], int]:
        """The directory's files as (last use, size, path), and their total size."""
        assert self.directory is not None
        entries = []
        try:
            for entry in os.scandir(self.directory):
                try:
                    st = entry.stat()
                except OSError:
                    continue
                entries.append((st.st_mtime, st.st_size, entry.path))
        except OSError:
            return [], 0
        return entries, sum(size for _, size, _ in entries)

    def _trim(self) -> None:
        """Bound the directory by max_bytes, least recently used first out, down to 90% of it:
        a scan of the directory once per tenth of the bound written, not once per build (other
        processes write there too: the scan is the truth, the running total an estimate)."""
        entries, total = self._scan()
        for _, size, path in sorted(entries):
            if total <= self.max_bytes * 0.9:
                break
            try:
                os.unlink(path)
            except OSError:
                pass
            total -= size
        self._disk_bytes = total


def request(
    job: Job, toolchain: Toolchain, built: Built | None, tests: list[dict[str, Any]], run_limits: dict[str, Any]
) -> dict[str, Any]:
    """The zygote's request that runs `job` (a language run as a command): its sources, or for
    a language with a compiler the files of its build `built`; `tests`: the sandbox specs of
    its tests; `run_limits`: the limits of its runs (the job's, with room for its tests'
    expected outputs: prepare.sandbox_request)."""
    lang, limits = toolchain.language, job.limits
    run_spec: dict[str, Any] = {
        "argv": toolchain.command(lang.run, job.program, limits.memory_mb),
        "env": toolchain.environment(HOME),
        "threads": lang.threads,
        # The runtime's own threads stay threads: a new process only where the job allows them.
        "threads_only": lang.threads > 0 and not lang.forks and limits.processes == 0,
        "oom": list(lang.oom),
        # Deep recursion is an honest program's right in C, C++, Rust and node (the stack is
        # memory and counts against memory_mb like the heap); the usual 8 MiB is not enough.
        "stack_mb": limits.memory_mb,
    }
    _address_space(run_spec, lang.address_space, limits.memory_mb)
    if lang.compile is None:
        files = _sources(toolchain, job.program)
    elif built is not None and built.files is not None:
        files = built.files
    else:
        raise ValueError(f"job {job.id}: a {lang.name} program runs what its build made")
    return {
        "program": files,
        "mode": "stdio",
        "first_failure": job.first_failure,
        "limits": run_limits,
        "tests": tests,
        "exec": run_spec,
    }


def build_request(toolchain: Toolchain, program: str, limits: Limits) -> dict[str, Any]:
    """The zygote's request that builds `program` (a job's, under its `limits`, or a checker's)
    and runs nothing: its answer's "build" says how it went, and the build's files follow it.
    The build is a request of its own, under its own limits (the memory cgroup's too), so its
    runs never get the build's memory."""
    lang = toolchain.language
    build_limits = build_limits_for(toolchain, limits)
    memory = int(build_limits["memory_mb"])
    build: dict[str, Any] = {
        "argv": toolchain.command(lang.compile or (), program, memory),
        "env": toolchain.environment(HOME),
        "limits": build_limits,
        "keep": list(lang.keep),
        "threads": 0,
    }
    _address_space(build, lang.address_space, memory)
    return {
        "program": _sources(toolchain, program),
        "mode": "stdio",
        "first_failure": False,
        "limits": build_limits,
        "tests": [],
        "exec": {"argv": [], "env": {}},
        "build": build,
    }


def outcome(answer: dict[str, Any]) -> Built | None:
    """A build request's outcome from its answer (None: it did not finish)."""
    phase = answer.get("build")
    if "infra" in answer or not isinstance(phase, dict):
        return None
    if phase.get("s") != statuses.OK:
        return Built(None, phase)
    files = answer.get("artifact")
    return Built(files, phase) if isinstance(files, bytes) else None


def _sources(toolchain: Toolchain, program: str) -> bytes:
    source, _ = toolchain.language.files(program)
    blob: bytes = artifact.pack([(source, program.encode("utf-8", "surrogatepass"), False)])
    return blob


def build_limits_for(toolchain: Toolchain, limits: Limits) -> dict[str, Any]:
    """A build's limits: the language's, with the job's file and disk limits."""
    out: dict[str, Any] = dict(limits.to_dict())
    out.update(toolchain.language.compile_limits)
    out["disk_mb"] = max(int(limits.disk_mb), 256)
    out["files"] = max(int(limits.files), 256)
    return out


def _address_space(spec: dict[str, Any], how: str, memory_mb: int) -> None:
    """How a command's memory is bounded beside the memory cgroup: "limit", its address space
    at memory_mb; "cgroup", the memory cgroup alone where the slot has one (the zygote drops
    the address-space limit then: `as_without_cgroup`), else its address space; "data", its
    data (a runtime that reserves far more address space than it uses: Go); "none", only the
    cgroup and the runtime's own heap flag (the JVM and V8 map thread stacks and code as data
    too)."""
    spec["as_mb"] = memory_mb if how in ("limit", "cgroup") else None
    spec["as_without_cgroup"] = how == "cgroup"
    spec["data_mb"] = memory_mb if how == "data" else None


def answer_for(built: Built, n_tests: int, cached: bool) -> dict[str, Any]:
    """The answer a job gets from a failed build, without running anything (`cached`: a kept
    one; else its build's CPU time is the job's)."""
    return {
        "load": {"s": statuses.COMPILE, "m": built.phase.get("m") or "the build failed"},
        "tests": [{"s": statuses.SKIPPED} for _ in range(n_tests)],
        "cpu_ms": 0.0 if cached else float(built.phase.get("cpu_ms", 0.0)),
        "peak_kb": 0,
        "build": dict(built.phase, cached=cached),
    }
