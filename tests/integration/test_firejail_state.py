"""Sandboxes started side by side on a fresh boot, when firejail's state directory does not exist
yet (/run is a tmpfs): every one starts. Plain firejail sandboxes started three at once on a fresh
state failed here about one time in three ("invalid read-only mount", "invalid noexec mount"),
and a benchmark's first pool on a fresh machine failed to start that way."""

import os
import shutil
import subprocess
import sys
import textwrap

import pytest

from executor import ExecutorConfig, firejail
from executor.slot import Slot

RUN_DIR = "/run/firejail"

# Two slots started at once in one process: with two such processes, four sandboxes start together.
START_TWO = textwrap.dedent(
    """
    import threading
    from executor import ExecutorConfig
    from executor.slot import Slot

    slots = [Slot(ExecutorConfig(slots=2), i) for i in range(2)]
    errors = []

    def boot(slot):
        try:
            slot.start()
        except Exception as exc:
            errors.append(repr(exc))

    threads = [threading.Thread(target=boot, args=(s,)) for s in slots]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    for s in slots:
        s.close()
    print("ERRORS:" + " | ".join(errors) if errors else "OK")
    """
)


def _mount_points() -> list[str]:
    with open("/proc/self/mountinfo") as fh:
        return [line.split(" ", 5)[4] for line in fh]


def _forget_state() -> None:
    """Put /run/firejail as a fresh boot has it: absent."""
    for _ in range(16):  # marks can be mounted more than once over each other
        mounted = [p for p in _mount_points() if p == RUN_DIR or p.startswith(RUN_DIR + "/")]
        if not mounted:
            break
        for p in sorted(mounted, reverse=True):
            subprocess.run(["umount", p], capture_output=True, check=False)
    shutil.rmtree(RUN_DIR)


needs_reset = pytest.mark.skipif(
    os.geteuid() != 0 or shutil.which("firejail") is None, reason="resetting firejail's state needs root and firejail"
)


@needs_reset
def test_the_first_sandbox_of_a_boot_finds_the_state_built(monkeypatch):
    """Deterministic: a slot's firejail command line is made only once the state's marks are
    mounted, so no sandbox ever builds them beside another."""
    _forget_state()
    seen = []
    command = firejail.command

    def recording(*args, **kwargs):
        seen.append(all(m in _mount_points() for m in firejail.STATE_MARKS))
        return command(*args, **kwargs)

    monkeypatch.setattr(firejail, "command", recording)
    slot = Slot(ExecutorConfig(slots=1), 0)
    try:
        slot.start()
    finally:
        slot.close()
    assert seen == [True]


@needs_reset
def test_sandboxes_started_together_on_a_fresh_boot_all_start():
    root = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    for round_ in range(3):
        _forget_state()
        assert not os.path.exists(RUN_DIR)
        procs = [
            subprocess.Popen(
                [sys.executable, "-c", START_TWO], cwd=root, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
            )
            for _ in range(2)
        ]
        outputs = [p.communicate(timeout=120)[0] for p in procs]
        for out in outputs:
            assert out.strip().endswith("OK"), f"round {round_}: {out[-2000:]}"
    assert all(m in _mount_points() for m in firejail.STATE_MARKS)
