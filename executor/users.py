"""Which sandbox user a slot runs as: one that no other slot on this machine holds.

The kernel counts processes and threads per user (RLIMIT_NPROC): two slots running as one
user share that count, so a thread bomb in one job (a JVM may start 48 threads) could make
an honest program of another job fail to start its own. `make setup` creates SLOT_USERS
users; each slot leases one for its life by taking an exclusive lock on a file of its own
(flock: the kernel drops it when the process dies, so a killed worker leaks nothing), first
the one its index names, else any free one. Pools in other processes (two workers on one
machine, a server and a test run) then never share a user while enough are free; past that,
a slot shares the user its index names, as before, and says so once.
"""

from __future__ import annotations

import fcntl
import logging
import os
import tempfile
from dataclasses import dataclass

log = logging.getLogger(__name__)

SLOT_USERS = 32  # `make setup` creates <sandbox_user>-0 .. -31
_warned = False


@dataclass
class UserLease:
    """Slot user `index` (firejail.slot_user), held while `fd` (its lock) is open; fd None:
    not exclusive."""

    index: int
    fd: int | None = None

    def release(self) -> None:
        if self.fd is not None:
            os.close(self.fd)  # closing drops the lock
            self.fd = None


def lock_dir() -> str:
    """Where the leases' lock files live: the host's own, never in the sandbox's view."""
    if os.geteuid() == 0 and os.path.isdir("/run"):
        return "/run/acefarm/slot-users"
    return os.path.join(tempfile.gettempdir(), f"acefarm-slot-users-{os.geteuid()}")


def lease(preferred: int) -> UserLease:
    """Lease a sandbox user for a slot: `preferred` (mod SLOT_USERS) when free, else the first
    free one, else `preferred` shared."""
    global _warned
    where = lock_dir()
    try:
        os.makedirs(where, mode=0o700, exist_ok=True)
    except OSError:
        return UserLease(preferred % SLOT_USERS)
    first = preferred % SLOT_USERS
    for index in [first, *(i for i in range(SLOT_USERS) if i != first)]:
        try:
            fd = os.open(os.path.join(where, str(index)), os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o600)
        except OSError:
            continue
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            os.close(fd)
            continue
        return UserLease(index, fd)
    if not _warned:
        _warned = True
        log.warning("all %d sandbox users are held by other slots: slots share users", SLOT_USERS)
    return UserLease(first)
