"""What a language is to the farm: one declarative `Language` per module of this package.

A language other than Python runs as a command inside the slot's sandbox (sandbox/forker.py,
roles B and X): its sources are files of the run's working directory, a compiler (when it has
one) turns them into what `keep` names once per program (executor/builds.py caches that by
`build_key`), and each test runs `run` with those files, its stdin, the job's limits and the
sandbox's filters. Commands name their tools by `{tool}`: the host resolves each to its real
path (Debian's /etc/alternatives links are not in the sandbox's view).

Placeholders in `compile` and `run`: `{source}` (the source file's name), `{main}` (Java's
main class), `{heap_mb}` (the part of memory_mb a runtime may give its heap), `{memory_mb}`,
and each tool as `{name}`.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

SANDBOX_PATH = "/usr/local/bin:/usr/bin:/bin"


@dataclass(frozen=True)
class Language:
    """One language (see the module's docstring for the placeholders).

    name:       the job's `language`.
    title:      what GetInfo shows ("C++17 (g++ 12.2.0)" is title + version).
    source:     the source file's name; `source_name` may name it after the program (Java).
    run:        the command a test runs.
    compile:    the build command (None: the sources run as they are).
    keep:       file-name patterns of what a build leaves that its runs need.
    tools:      commands the language needs, found on PATH on the host.
    version:    argv (with `{tool}`s) whose first output line names the toolchain's version.
    packages:   the Debian packages that provide the tools (`make setup`).
    env:        the environment of builds and runs (PATH and HOME are added).
    threads:    processes/threads the runtime starts on its own, allowed beside the job's.
    forks:      its `threads` may be processes (bash runs commands); otherwise they are threads
                only (sandbox/seccomp.py ThreadsOnly) unless the job allows `processes`.
    address_space: "limit" (RLIMIT_AS at memory_mb), "cgroup" (the memory cgroup alone where the
                slot has one: a program that touches more than memory_mb is OOM-killed, which is
                memory_exceeded, where an address-space limit would hand it a NULL or a
                bad_alloc, a crash; RLIMIT_AS at memory_mb without one), "data" (RLIMIT_DATA at
                memory_mb: a runtime that reserves far more address space than it uses),
                "none" (the memory cgroup and the runtime's heap flag only: the JVM and V8 map
                stacks and code as data).
    heap_share: the part of memory_mb given to `{heap_mb}`.
    oom:        stderr text with which the runtime says it ran out of memory (at the start or
                the end of its stderr): the run is memory_exceeded, not a runtime error.
    etc:        entries of /etc the toolchain reads (kept in the sandbox's otherwise empty /etc).
    compile_limits: the build's own limits (cpu_s, wall_s, memory_mb, output_kb, processes).
    self_test:  (program, [(stdin, expected stdout)], expected verdicts), run on each slot at start.
    """

    name: str
    title: str
    source: str
    run: tuple[str, ...]
    tools: tuple[str, ...]
    version: tuple[str, ...]
    packages: tuple[str, ...]
    self_test: tuple[str, tuple[tuple[str, str], ...], tuple[str, ...]]
    compile: tuple[str, ...] | None = None
    keep: tuple[str, ...] = ("main",)
    env: tuple[tuple[str, str], ...] = ()
    threads: int = 0
    forks: bool = False
    address_space: str = "limit"
    heap_share: float = 1.0
    oom: tuple[str, ...] = ()
    etc: tuple[str, ...] = ()
    compile_limits: dict[str, float] = field(
        default_factory=lambda: {"cpu_s": 10.0, "wall_s": 30.0, "memory_mb": 1024, "output_kb": 1024, "processes": 16}
    )
    source_name: Callable[[str], tuple[str, str]] | None = None

    def files(self, program: str) -> tuple[str, str]:
        """(the source file's name, the main class or "main") for `program`."""
        if self.source_name is not None:
            return self.source_name(program)
        return self.source, "main"


@dataclass(frozen=True)
class Toolchain:
    """A language as this machine has it: its tools' real paths and its version line."""

    language: Language
    paths: dict[str, str]
    version: str

    @property
    def name(self) -> str:
        return self.language.name

    def describe(self) -> str:
        return f"{self.language.title} ({self.version})" if self.version else self.language.title

    def build_key(self, program: str) -> str:
        """What identifies a build of `program`: the language, its toolchain's version, the
        build command and the source."""
        body = "\0".join((self.name, self.version, *(self.language.compile or ()), program))
        return hashlib.sha256(body.encode("utf-8", "surrogatepass")).hexdigest()

    def command(self, template: tuple[str, ...], program: str, memory_mb: int) -> list[str]:
        source, main = self.language.files(program)
        values = dict(self.paths)
        values.update(
            source=source,
            main=main,
            memory_mb=str(memory_mb),
            heap_mb=str(max(16, int(memory_mb * self.language.heap_share))),
        )
        return [arg.format_map(values) for arg in template]

    def environment(self, home: str) -> dict[str, str]:
        env = {"PATH": SANDBOX_PATH, "HOME": home, "LANG": "C.UTF-8"}
        env.update(self.language.env)
        return env


def _version(argv: list[str]) -> str:
    try:
        out = subprocess.run(argv, capture_output=True, text=True, timeout=30, env={"PATH": SANDBOX_PATH})
    except (OSError, subprocess.SubprocessError):
        return ""
    lines = (out.stdout + out.stderr).strip().splitlines()
    return lines[0].strip()[:120] if lines else ""


_found: dict[str, Toolchain | None] = {}


def find(language: Language) -> Toolchain | None:
    """The language's toolchain on this machine, or None when a tool is missing (looked up
    once per process)."""
    if language.name not in _found:
        _found[language.name] = _find(language)
    return _found[language.name]


def _find(language: Language) -> Toolchain | None:
    paths: dict[str, str] = {}
    for tool in language.tools:
        found = shutil.which(tool, path=SANDBOX_PATH)
        if found is None:
            return None
        paths[tool] = os.path.realpath(found)
    version = _version([arg.format_map(paths) for arg in language.version])
    return Toolchain(language, paths, version)


def describe_all(toolchains: dict[str, Toolchain]) -> dict[str, Any]:
    """{name: "title (version)"} of `toolchains`."""
    return {name: tc.describe() for name, tc in sorted(toolchains.items())}
