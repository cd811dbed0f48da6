"""Fixtures of the per-language suite: real sandboxed pools (firejail, the zygote, the memory
cgroup where the machine has one), shared by every test of a session.

A language whose toolchain this machine lacks is skipped (`make setup` installs them all); one
whose toolchain is here but that the pool does not offer failed its self-test, and its tests
fail."""

from __future__ import annotations

import shutil
from collections.abc import Iterator

import pytest

from executor import ExecutorConfig, Pool


def start_pool(slots: int, **config: object) -> Pool:
    if not shutil.which("firejail"):
        pytest.skip("firejail is not installed (make setup): the language suite needs the real sandbox")
    pool = Pool(ExecutorConfig(slots=slots, **config))  # type: ignore[arg-type]
    pool.start()
    return pool


@pytest.fixture(scope="session")
def pool() -> Iterator[Pool]:
    """Two slots: the jobs of a module go out together and run side by side."""
    p = start_pool(2)
    yield p
    p.close()


@pytest.fixture(scope="session")
def solo_pool() -> Iterator[Pool]:
    """One slot: consecutive jobs share one zygote (leftovers), and its stats show every
    restart."""
    p = start_pool(1)
    yield p
    p.close()
