"""Sandbox users leased per slot (executor/users.py): no two slots on a machine share one."""

import subprocess
import sys
import textwrap

import pytest

from executor import users


@pytest.fixture(autouse=True)
def own_lock_dir(tmp_path, monkeypatch):
    monkeypatch.setattr(users, "lock_dir", lambda: str(tmp_path))


def test_a_slot_gets_the_user_its_index_names_when_free_else_another():
    a = users.lease(3)
    b = users.lease(3)
    try:
        assert a.index == 3 and a.fd is not None
        assert b.index != 3 and b.fd is not None
    finally:
        a.release()
        b.release()
    c = users.lease(3)
    assert c.index == 3  # released: free again
    c.release()


def test_a_user_held_by_another_process_is_not_leased_until_it_dies(tmp_path):
    holder = textwrap.dedent(
        f"""
        import fcntl, os, sys, time
        fd = os.open({str(tmp_path / "0")!r}, os.O_RDWR | os.O_CREAT)
        fcntl.flock(fd, fcntl.LOCK_EX)
        print("held", flush=True)
        time.sleep(60)
        """
    )
    proc = subprocess.Popen([sys.executable, "-c", holder], stdout=subprocess.PIPE, text=True)
    try:
        assert proc.stdout is not None and proc.stdout.readline().strip() == "held"
        lease = users.lease(0)
        assert lease.index != 0
        lease.release()
    finally:
        proc.kill()
        proc.wait()
    lease = users.lease(0)  # the kernel dropped the dead process's lock
    assert lease.index == 0
    lease.release()


def test_past_the_last_free_user_slots_share_the_one_their_index_names():
    held = [users.lease(i) for i in range(users.SLOT_USERS)]
    try:
        extra = users.lease(5)
        assert extra.index == 5 and extra.fd is None
    finally:
        for lease in held:
            lease.release()
