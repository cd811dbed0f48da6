"""Real processes for cluster tests: a private redis-server, `acefarm worker`s, `acefarm serve`.

Everything binds to 127.0.0.1 on free ports and is killed at the end.
"""

from __future__ import annotations

import os
import pathlib
import signal
import socket
import subprocess
import sys
import time

import grpc
from grpc_health.v1 import health_pb2, health_pb2_grpc

ROOT = pathlib.Path(__file__).resolve().parents[2]
ACEFARM = [sys.executable, "-m", "trainer.cli"]  # the console script `acefarm` (trainer.cli:main)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _wait(predicate, timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(0.05)
    raise TimeoutError(f"timed out waiting for {what}")


class RedisServer:
    def __init__(self, workdir: pathlib.Path, persistent: bool = True) -> None:
        self.port = free_port()
        self.dir = workdir
        self.persistent = persistent
        self.proc: subprocess.Popen | None = None
        self.start()

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> None:
        args = [
            "redis-server",
            "--port",
            str(self.port),
            "--bind",
            "127.0.0.1",
            "--dir",
            str(self.dir),
            "--save",
            "",
            "--protected-mode",
            "yes",
        ]
        args += ["--appendonly", "yes", "--appendfsync", "always"] if self.persistent else ["--appendonly", "no"]
        self.proc = subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        _wait(self.ping, 10, "redis-server")

    def ping(self) -> bool:
        out = subprocess.run(["redis-cli", "-p", str(self.port), "ping"], capture_output=True, text=True)
        return out.stdout.strip() == "PONG"

    def stop(self) -> None:
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)  # redis persists the AOF on SIGTERM
            self.proc.wait(timeout=10)

    def restart(self) -> None:
        self.stop()
        self.start()


class Proc:
    """An acefarm subprocess in its own process group."""

    def __init__(self, args: list[str], log: pathlib.Path) -> None:
        self.log = log
        self.fh = open(log, "wb")
        self.proc = subprocess.Popen(
            [*ACEFARM, *args], cwd=ROOT, stdout=self.fh, stderr=subprocess.STDOUT, start_new_session=True
        )

    def kill(self, sig: int = signal.SIGKILL) -> None:
        try:
            os.killpg(self.proc.pid, sig)
        except ProcessLookupError:
            pass
        if sig in (signal.SIGKILL, signal.SIGTERM):
            try:
                self.proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait()
            self.fh.close()

    def output(self) -> str:
        return self.log.read_text(errors="replace")


def start_worker(redis: RedisServer, tmp: pathlib.Path, name: str, *extra: str) -> Proc:
    w = Proc(
        ["worker", "--broker", redis.url, "--name", name, "--visibility-timeout", "5", *extra],
        tmp / f"worker-{name}.log",
    )
    import redis as redis_lib

    r = redis_lib.Redis.from_url(redis.url)
    _wait(lambda: r.exists(f"acefarm:worker:{name}"), 30, f"worker {name} heartbeat")
    return w


def start_server(tmp: pathlib.Path, *args: str, port: int | None = None, name: str = "server") -> tuple[Proc, int]:
    port_file = tmp / f"{name}.port"
    if port_file.exists():
        port_file.unlink()
    p = Proc(["serve", "--port", str(port or 0), "--port-file", str(port_file), *args], tmp / f"{name}.log")
    _wait(lambda: port_file.exists() and port_file.read_text().strip(), 30, "server port")
    bound = int(port_file.read_text())
    wait_healthy(bound)
    return p, bound


def wait_healthy(port: int, timeout: float = 30) -> None:
    def ok() -> bool:
        with grpc.insecure_channel(f"127.0.0.1:{port}") as ch:
            try:
                resp = health_pb2_grpc.HealthStub(ch).Check(health_pb2.HealthCheckRequest(service=""), timeout=1)
            except grpc.RpcError:
                return False
            return resp.status == health_pb2.HealthCheckResponse.SERVING

    _wait(ok, timeout, f"server on {port} healthy")


def start_http_server(tmp: pathlib.Path, *args: str, name: str = "http") -> tuple[Proc, int, int]:
    """`acefarm serve --http-port 0`: (the process, its gRPC port, its HTTP API's port)."""
    http_file = tmp / f"{name}.http-port"
    if http_file.exists():
        http_file.unlink()
    proc, port = start_server(tmp, "--http-port", "0", "--http-port-file", str(http_file), *args, name=name)
    _wait(lambda: http_file.exists() and http_file.read_text().strip(), 30, "HTTP API port")
    return proc, port, int(http_file.read_text())
