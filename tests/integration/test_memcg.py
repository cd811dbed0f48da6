"""A slot's memory cgroup (executor/memcg.py), under real firejail: made when the slot starts,
holding the slot's own processes apart from the job's, limited per job (rewritten only when a
job's memory_mb differs), and removed when the slot closes or restarts."""

from __future__ import annotations

import os

import pytest

from executor import ExecutorConfig, Job, Pool, Verdict, memcg

P = Verdict.PASSED
WHERE = (
    "def where():  # the last two parts of the memory cgroup's path (the rest varies by host)\n"
    "    return ['/'.join(l.strip().split(':', 2)[2].split('/')[-2:]) for l in open('/proc/self/cgroup')\n"
    "            if ':memory:' in l or l.startswith('0::')]\n"
)


def _available() -> str | None:
    try:
        memcg.base()
    except memcg.Unavailable as exc:
        return str(exc)
    return None


needs_cgroup = pytest.mark.skipif(_available() is not None, reason=f"no memory cgroup here: {_available()}")


def _pids(path: str) -> list[int]:
    with open(os.path.join(path, "cgroup.procs")) as fh:
        return [int(p) for p in fh.read().split()]


def _job(memory_mb: int, program: str = "def f():\n    return 1\n", tests=("assert f() == 1",)) -> Job:
    return Job.from_dict(
        {"id": f"m{memory_mb}", "program": program, "tests": list(tests), "limits": {"memory_mb": memory_mb}}
    )


@needs_cgroup
def test_cgroup_lifecycle(monkeypatch):
    writes = []
    real_write = memcg._write

    def counting(path, text):
        if "limit_in_bytes" in path or path.endswith("memory.max"):
            writes.append((os.path.basename(path), text))
        real_write(path, text)

    monkeypatch.setattr(memcg, "_write", counting)
    with Pool(ExecutorConfig(slots=1)) as pool:
        slot = pool.slots[0]
        cg = slot.cgroup
        assert cg is not None and slot.info["memory"] == cg.describe()
        assert os.path.isdir(cg.sandbox) and os.path.isdir(cg.job)
        # firejail, the sandbox's init, the zygote and the fork server; no job runs.
        assert len(_pids(cg.sandbox)) >= 3 and _pids(cg.job) == []

        # A job's processes run in the job's cgroup, under memory_mb + the headroom.
        writes.clear()
        r = pool.run(_job(300, WHERE, ["assert where() == []"]))
        where = r.tests[0].message
        assert r.tests[0].verdict is Verdict.FAILED and "/job" in where and cg.path.split("/")[-1] in where, where
        assert cg.limit_bytes() == (300 + memcg.HEADROOM_MB) << 20
        assert writes, "the limit for a new memory_mb was not written"

        # The same memory_mb again: nothing is written.
        writes.clear()
        assert pool.run(_job(300)).verdict is P
        assert pool.run(_job(300)).verdict is P
        assert writes == []

        # Lower, then higher (v1: the memory + swap limit is written in the order the kernel needs).
        for mb in (64, 2048):
            assert pool.run(_job(mb)).verdict is P
            assert cg.limit_bytes() == (mb + memcg.HEADROOM_MB) << 20

        # A restart makes a new cgroup and removes the old one.
        old = cg.path
        slot.start()
        assert slot.cgroup is not None and slot.cgroup.path != old and not os.path.exists(old)
        cg = slot.cgroup
    assert not os.path.exists(cg.path), "the slot's cgroup outlived the pool"


@needs_cgroup
def test_a_child_killed_by_the_cgroup_gets_memory_exceeded_and_the_peak_is_the_cgroups():
    hog = (
        "import os\ndef fill():\n    for i in range(64):\n"
        "        fd = os.open('/tmp/f%d' % i, os.O_CREAT | os.O_WRONLY)\n"
        "        os.posix_fallocate(fd, 0, 16 << 20)\n    return 1\n"
    )
    with Pool(ExecutorConfig(slots=1)) as pool:
        r = pool.run(
            Job.from_dict(
                {
                    "id": "hog",
                    "program": hog,
                    "tests": ["assert fill() == 1", "assert 1 == 1"],
                    "limits": {"memory_mb": 128, "disk_mb": 4096},
                }
            )
        )
        assert [t.verdict for t in r.tests] == [Verdict.MEMORY_EXCEEDED, Verdict.SKIPPED], r.to_dict()
        assert "OOM killer" in r.tests[0].message
        # The peak is what the job's cgroup held: its files too, up to the limit.
        assert 128 << 10 <= r.peak_kb <= (128 + memcg.HEADROOM_MB) << 10, r.peak_kb
        # A child that kills itself with SIGKILL is not taken for an OOM kill.
        r = pool.run(_job(128, "import os, signal\ndef f():\n    os.kill(os.getpid(), signal.SIGKILL)\n"))
        assert r.tests[0].verdict is Verdict.RUNTIME_ERROR and "SIGKILL" in r.tests[0].message, r.to_dict()
        assert pool.stats["slot_restarts"] == 0


def test_without_a_cgroup_the_slot_says_so():
    with Pool(ExecutorConfig(slots=1, memory_cgroup=False)) as pool:
        slot = pool.slots[0]
        assert slot.cgroup is None and slot.info["memory"].startswith("rlimits")
        r = pool.run(_job(128, WHERE, ["assert where() == []"]))
        assert "acefarm-" not in (r.tests[0].message or ""), r.to_dict()


@needs_cgroup
def test_a_slot_that_cannot_start_leaves_no_cgroup():
    from executor import SandboxUnavailable

    parent = memcg.base()[1]
    mine = f"{memcg.PREFIX}{memcg._pid_namespace()}-{os.getpid()}-"
    before = {n for n in os.listdir(parent) if n.startswith(mine)}
    with pytest.raises(SandboxUnavailable):
        Pool(ExecutorConfig(firejail="/nonexistent/firejail", slots=1)).start()
    if os.geteuid() == 0:
        with pytest.raises(SandboxUnavailable):
            Pool(ExecutorConfig(sandbox_user="no-such-user-acefarm", slots=1)).start()
    assert {n for n in os.listdir(parent) if n.startswith(mine)} == before


@needs_cgroup
def test_stale_cleanup_leaves_other_pid_namespaces_cgroups_alone():
    """Farms in other containers may share the cgroup tree: a pid of theirs means nothing in our
    /proc, so only this pid namespace's slot cgroups of dead processes are removed."""
    parent = memcg.base()[1]
    dead = 4_000_000  # above any pid_max: no such process
    ours = os.path.join(parent, f"{memcg.PREFIX}{memcg._pid_namespace()}-{dead}-0")
    theirs = os.path.join(parent, f"{memcg.PREFIX}1-{dead}-0")
    for path in (ours, theirs):
        os.makedirs(os.path.join(path, "job"), exist_ok=True)
    try:
        memcg._remove_stale(parent)
        assert not os.path.exists(ours)
        assert os.path.exists(os.path.join(theirs, "job"))
    finally:
        for path in (os.path.join(theirs, "job"), theirs, os.path.join(ours, "job"), ours):
            try:
                os.rmdir(path)
            except OSError:
                pass
