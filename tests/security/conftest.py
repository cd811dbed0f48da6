"""Fixtures for the adversarial suite: real sandboxed pools, a real Redis, host canaries.

Every hostile program here runs in the real sandbox (firejail + zygote), never in
insecure mode. Tests assert two things: the verdict the trusted side gave, and that
the host is untouched (canary files, watched directories, the test's own Redis,
the number of processes the sandbox user owns).

Only addresses on this machine are ever used: 127.0.0.0/8, ::1 and unix sockets.
"""

from __future__ import annotations

import os
import secrets
import shutil
import socket
import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from executor import ExecutorConfig, Pool

from .security_support import SECRET_ENV, WATCHED_DIRS, WATCHED_FILES, describe_processes, digest, sandbox_processes

# -- the sandbox -----------------------------------------------------------------------


@pytest.fixture(scope="session")
def host_secret() -> Iterator[str]:
    """A secret in the test process's environment, set before any Pool starts."""
    value = "acefarm-host-secret-" + secrets.token_hex(16)
    old = os.environ.get(SECRET_ENV)
    os.environ[SECRET_ENV] = value
    yield value
    if old is None:
        os.environ.pop(SECRET_ENV, None)
    else:
        os.environ[SECRET_ENV] = old


def _start_pool(slots: int) -> Pool:
    if not shutil.which("firejail"):
        pytest.skip("firejail is not installed (make setup): the security suite needs the real sandbox")
    pool = Pool(ExecutorConfig(slots=slots))
    pool.start()  # SandboxUnavailable here is an error, not a skip: the sandbox must work
    return pool


@pytest.fixture(scope="session")
def pool(host_secret: str) -> Iterator[Pool]:
    """The shared two-slot pool every hostile program runs on (and that must stay healthy)."""
    p = _start_pool(2)
    yield p
    p.close()


@pytest.fixture(scope="session")
def solo_pool(host_secret: str) -> Iterator[Pool]:
    """A one-slot pool: consecutive jobs are guaranteed to share one zygote (leftover
    tests), and zygote attacks show up in its stats without noise from another slot."""
    p = _start_pool(1)
    yield p
    p.close()


# -- host canaries ---------------------------------------------------------------------


@dataclass
class Canary:
    path: Path
    content: str

    def intact(self) -> bool:
        try:
            return self.path.read_text() == self.content
        except OSError:
            return False


@pytest.fixture(scope="session")
def host_tmp_canary() -> Iterator[Canary]:
    """A canary directly in the host's real /tmp (the sandbox has its own private /tmp)."""
    path = Path("/tmp") / f"acefarm-host-canary-{secrets.token_hex(6)}"
    canary = Canary(path, "host canary " + secrets.token_hex(16))
    path.write_text(canary.content)
    os.chmod(path, 0o666)  # even world-writable, it must stay out of reach
    yield canary
    path.unlink(missing_ok=True)


@dataclass
class HostWatch:
    """What a test checks on the host after its hostile program ran."""

    pwn: str  # a unique name programs try to create everywhere
    canary: Canary  # a world-writable canary in a per-test host tmp dir
    tmp_canary: Canary  # the session canary in the host's real /tmp
    files: dict[str, str | None] = field(default_factory=dict)
    procs: int = 0

    def check(self) -> None:
        """Assert the host is untouched; call after every hostile job."""
        assert self.canary.intact(), "the per-test host canary was changed or removed"
        assert sorted(p.name for p in self.canary.path.parent.iterdir()) == [self.canary.path.name], (
            "something appeared next to the host canary"
        )
        assert self.tmp_canary.intact(), "the canary in the host's /tmp was changed or removed"
        for d in WATCHED_DIRS:
            try:
                names = os.listdir(d)
            except OSError:
                continue
            leaked = [n for n in names if self.pwn in n]
            assert not leaked, f"a sandboxed program created {leaked} in host {d}"
        for path, before in self.files.items():
            assert digest(path) == before, f"host file {path} changed"
        # Killed children and strays must not linger as live sandbox-user processes.
        deadline = time.monotonic() + 2.0
        while len(sandbox_processes()) > self.procs and time.monotonic() < deadline:
            time.sleep(0.05)
        now = sandbox_processes()
        assert len(now) <= self.procs, (
            f"sandbox user processes grew from {self.procs} to {len(now)}: {describe_processes(now)}"
        )


@pytest.fixture
def host(tmp_path: Path, host_tmp_canary: Canary, pool: Pool, solo_pool: Pool) -> Iterator[HostWatch]:
    """A fresh canary and name for this test, and a baseline of the host to check against.

    Depends on both session pools so that their processes are part of the baseline.
    """
    canary_dir = tmp_path / "canary"
    canary_dir.mkdir()
    os.chmod(tmp_path, 0o777)
    os.chmod(canary_dir, 0o777)
    path = canary_dir / "canary.txt"
    canary = Canary(path, "test canary " + secrets.token_hex(16))
    path.write_text(canary.content)
    os.chmod(path, 0o666)
    watch = HostWatch(
        "acefarm-pwn-" + secrets.token_hex(6),
        canary,
        host_tmp_canary,
        {p: digest(p) for p in WATCHED_FILES},
        len(sandbox_processes()),
    )
    yield watch
    # Clean up anything a broken sandbox might have left, after the test has judged it.
    for d in WATCHED_DIRS:
        try:
            names = [n for n in os.listdir(d) if watch.pwn in n]
        except OSError:
            continue
        for name in names:
            target = os.path.join(d, name)
            if os.path.isdir(target) and not os.path.islink(target):
                shutil.rmtree(target, ignore_errors=True)
            else:
                try:
                    os.unlink(target)
                except OSError:
                    pass


# -- a real Redis on 127.0.0.1 ---------------------------------------------------------


@dataclass
class Redis:
    port: int
    unixsocket: str
    proc: subprocess.Popen

    def cli(self, *args: str) -> str:
        out = subprocess.run(["redis-cli", "-p", str(self.port), *args], capture_output=True, text=True, timeout=10)
        return out.stdout.strip()

    def alive(self) -> bool:
        return self.proc.poll() is None and self.cli("ping") == "PONG"


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="session")
def redis_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Redis]:
    """redis-server on a free 127.0.0.1 port and a unix socket, with a canary key."""
    if not shutil.which("redis-server") or not shutil.which("redis-cli"):
        pytest.skip("redis-server is not installed (make setup)")
    sockdir = tmp_path_factory.mktemp("redis")
    os.chmod(sockdir, 0o755)
    unixsocket = str(sockdir / "redis.sock")
    port = _free_port()
    proc = subprocess.Popen(
        [
            "redis-server",
            "--port",
            str(port),
            "--bind",
            "127.0.0.1",
            "--save",
            "",
            "--appendonly",
            "no",
            "--daemonize",
            "no",
            "--unixsocket",
            unixsocket,
            "--unixsocketperm",
            "777",
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    redis = Redis(port, unixsocket, proc)
    deadline = time.monotonic() + 10
    while not redis.alive():
        if proc.poll() is not None or time.monotonic() > deadline:
            proc.kill()
            pytest.fail("redis-server did not start")
        time.sleep(0.05)
    assert redis.cli("set", "acefarm:canary", "untouched") == "OK"
    yield redis
    proc.terminate()
    try:
        proc.wait(10)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()
