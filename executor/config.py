"""The executor's configuration: one frozen object, built at the entry point."""

from __future__ import annotations

import os
import shutil
from dataclasses import dataclass, field

from .job import JobRules
from .limits import DEFAULTS as DEFAULT_LIMITS
from .limits import Limits


def _usable_cpus() -> list[int] | None:
    """The CPUs this process may run on, in order; None where the OS cannot say (non-Linux)."""
    try:
        return sorted(os.sched_getaffinity(0))
    except AttributeError:  # pragma: no cover - non-Linux
        return None


def _default_build_dir() -> str:
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return os.path.join(base, "acefarm", "builds")


def _names_from_env(name: str) -> tuple[str, ...] | None:
    """Names listed in the environment variable `name` (spaces or commas), or None when unset;
    "none" or an empty value: no names."""
    value = os.environ.get(name)
    if value is None:
        return None
    chosen = value.replace(",", " ").split()
    return () if chosen in ([], ["none"]) else tuple(chosen)


def _default_slots() -> int:
    usable = _usable_cpus()
    return max(1, len(usable) if usable is not None else os.cpu_count() or 1)


@dataclass(frozen=True)
class ExecutorConfig:
    """How slots are built and what jobs may ask for.

    python:      the interpreter programs run under, inside the sandbox (its
                 stdlib is all they see); Debian's /usr/bin/python3 by default.
    firejail:    path to firejail; None when it is not installed.
    sandbox_user: the unprivileged user the sandbox runs as when we are root; slot N runs as
                 `<sandbox_user>-N` where `make setup` made those (a process budget per slot).
    insecure_no_sandbox: run zygotes without firejail. Never the default.
    slots:       concurrent zygotes (one per core by default).
    pin_slots:   run each slot's sandbox on one CPU. A job's processes hand work to each
                 other many times; on one CPU that is a context switch, across CPUs a
                 wake-up of another CPU, which costs far more (on a VM above all).
    cpus:        the CPUs slots are pinned to, slot N on cpus[N % len(cpus)]. Empty (the
                 default): the usable CPUs, and only when there are exactly as many slots,
                 so that a pool smaller than the machine does not crowd its first CPUs. (Two
                 full pools on one machine both pin slot N to CPU N: each CPU gets two slots,
                 as it would unpinned. A job with `processes` > 0 has its slot's one CPU.)
    memory_cgroup: give each slot a memory cgroup (executor/memcg.py) where the machine has one
                 we may use, so that all a job's processes hold counts against its memory_mb.
                 Without one, rlimits and the sandbox's filters bound memory per process.
    languages:   the languages besides Python this pool offers (None: every one whose toolchain
                 is installed; ACEFARM_LANGUAGES="c cpp java" chooses a subset).
    python_packages: the packages beyond the standard library Python programs may import
                 (languages/python.py PACKAGES; None: every one installed, () none;
                 ACEFARM_PYTHON_PACKAGES="numpy sortedcontainers" chooses).
    preimport_packages: packages of python_packages the zygote imports at start (numpy: a
                 program's import then costs ~2 ms, not ~44 ms; every fork costs more: off by
                 default; ACEFARM_PREIMPORT_PACKAGES="numpy").
    build_cache_mb: what kept builds of compiled programs may hold (executor/builds.py), in
                 memory and in `build_dir` (None: memory only).
    """

    python: str = "/usr/bin/python3"
    firejail: str | None = field(default_factory=lambda: shutil.which("firejail"))
    sandbox_user: str = "acefarm-sandbox"
    insecure_no_sandbox: bool = False
    slots: int = field(default_factory=_default_slots)
    pin_slots: bool = True
    cpus: tuple[int, ...] = ()
    memory_cgroup: bool = True
    limits: Limits = DEFAULT_LIMITS
    rules: JobRules = JobRules()
    start_timeout_s: float = 20.0
    preimport: tuple[str, ...] = ()
    languages: tuple[str, ...] | None = field(default_factory=lambda: _names_from_env("ACEFARM_LANGUAGES"))
    python_packages: tuple[str, ...] | None = field(default_factory=lambda: _names_from_env("ACEFARM_PYTHON_PACKAGES"))
    preimport_packages: tuple[str, ...] = field(
        default_factory=lambda: _names_from_env("ACEFARM_PREIMPORT_PACKAGES") or ()
    )
    build_cache_mb: int = 256
    build_dir: str | None = field(default_factory=_default_build_dir)

    def __post_init__(self) -> None:
        if self.slots < 1:
            raise ValueError("slots must be >= 1")
        usable = _usable_cpus()
        unusable = sorted(set(self.cpus) - set(usable)) if usable is not None else []
        if unusable:
            raise ValueError(
                f"cpus {','.join(map(str, unusable))} not usable here (usable: {','.join(map(str, usable or []))})"
            )

    def slot_cpu(self, index: int) -> int | None:
        """The CPU slot `index` is pinned to, or None (see `pin_slots`)."""
        if not self.pin_slots:
            return None
        if self.cpus:
            return self.cpus[index % len(self.cpus)]
        usable = _usable_cpus()
        return usable[index] if usable is not None and len(usable) == self.slots else None
