"""Helpers shared by the adversarial suite (plain functions; the fixtures live in conftest.py)."""

from __future__ import annotations

import hashlib
import json
import os
import pwd
import secrets
from pathlib import Path
from typing import Any

from executor import ExecutorConfig, Job, JobResult, Verdict

REPO = Path(__file__).resolve().parents[2]
SANDBOX_USER = ExecutorConfig().sandbox_user
SECRET_ENV = "ACEFARM_SECURITY_SECRET"

# Small limits so bombs are cheap; per test (and for loading the program).
SMALL = {"cpu_s": 1, "wall_s": 3, "memory_mb": 256, "output_kb": 64, "disk_mb": 16}

# Directories a program might try to drop files into; none may ever get one.
WATCHED_DIRS = (
    "/",
    "/tmp",
    "/etc",
    "/root",
    "/var/tmp",
    "/dev",
    "/dev/shm",
    "/home",
    "/usr/local",
    "/run",
    str(REPO),
    str(REPO / "executor"),
)
# Host files whose content must never change. (Repository files are not listed: the
# repository may legitimately change while the suite runs; a program's files appearing
# in it is caught through WATCHED_DIRS.)
WATCHED_FILES = ("/etc/passwd", "/etc/shadow", "/etc/group", "/etc/hosts")


def make_job(program: str, tests: list[Any], *, job_id: str | None = None, **limits: Any) -> Job:
    """A job with the suite's small limits (overridable per keyword)."""
    return Job.from_dict(
        {
            "id": job_id or "sec-" + secrets.token_hex(4),
            "program": program,
            "tests": tests,
            "limits": {**SMALL, **limits},
        }
    )


def show(result: JobResult) -> str:
    """The whole result, for assertion messages."""
    return json.dumps(result.to_dict(), indent=1)


def verdicts(result: JobResult) -> list[Verdict]:
    return [t.verdict for t in result.tests]


def digest(path: str) -> str | None:
    try:
        with open(path, "rb") as fh:
            return hashlib.sha256(fh.read()).hexdigest()
    except FileNotFoundError:
        return None


def _stat(pid: str) -> tuple[str, int, int] | None:
    """(state, ppid, real uid) of a live process, or None."""
    try:
        with open(f"/proc/{pid}/stat") as fh:
            rest = fh.read().rsplit(")", 1)[1].split()
        with open(f"/proc/{pid}/status") as fh:
            uid_line = next(line for line in fh if line.startswith("Uid:"))
    except (OSError, IndexError, StopIteration):
        return None
    return rest[0], int(rest[1]), int(uid_line.split()[1])


def sandbox_processes() -> list[int]:
    """Live (non-zombie) processes of the sandbox users (shared and per slot) that belong to
    this test run.

    That is the ones descending from this process (our pools' slots and whatever runs
    in them) plus orphans re-parented to the host's init, which is where an escaped
    process would end up. Other AceFarm pools on this machine are not counted.
    """
    uids = {
        pw.pw_uid for pw in pwd.getpwall() if pw.pw_name == SANDBOX_USER or pw.pw_name.startswith(SANDBOX_USER + "-")
    }
    if not uids:
        return []
    table = {}
    for name in os.listdir("/proc"):
        if name.isdigit():
            st = _stat(name)
            if st is not None:
                table[int(name)] = st
    me = os.getpid()
    ours = []
    for pid, (state, ppid, owner) in table.items():
        if owner not in uids or state in ("Z", "X"):
            continue
        if ppid == 1:
            ours.append(pid)
            continue
        seen = set()
        while ppid in table and ppid not in seen and ppid != me:
            seen.add(ppid)
            ppid = table[ppid][1]
        if ppid == me:
            ours.append(pid)
    return sorted(ours)


def describe_processes(pids: list[int]) -> list[str]:
    """'pid ppid state command' for each pid, for failure messages."""
    out = []
    for pid in pids:
        try:
            with open(f"/proc/{pid}/stat") as fh:
                stat = fh.read().rsplit(")", 1)[1].split()
            with open(f"/proc/{pid}/cmdline", "rb") as fh:
                cmd = fh.read().replace(b"\0", b" ").decode("utf-8", "replace")[:80]
            out.append(f"{pid} ppid={stat[1]} {stat[0]} {cmd}")
        except (OSError, IndexError):
            out.append(f"{pid} (gone)")
    return out


def assert_no_reward(result: JobResult, expected: list[Verdict] | None = None) -> None:
    """The hostile program earned nothing (and, if given, got exactly these verdicts)."""
    assert result.passed == 0, "a reward hack earned a pass:\n" + show(result)
    assert result.pass_rate == 0.0
    assert result.verdict is Verdict.FAILED, show(result)
    if expected is not None:
        assert verdicts(result) == expected, show(result)
