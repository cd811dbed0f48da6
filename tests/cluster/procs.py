"""Real processes for cluster tests: a private redis-server, `acefarm worker`s, `acefarm serve`.

Everything binds to 127.0.0.1 on free ports and is killed at the end, unless a test places a
process on another host of its own (a `prefix` such as `ip netns exec NS`, see netns.py). What
the load tests watch from outside is here too: a process tree's RSS and peak RSS (psutil,
/proc), Redis's INFO, and a server's Prometheus metrics.
"""

from __future__ import annotations

import os
import pathlib
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Sequence

import grpc
import psutil
import redis as redis_lib
from grpc_health.v1 import health_pb2, health_pb2_grpc
from prometheus_client.parser import text_string_to_metric_families

ROOT = pathlib.Path(__file__).resolve().parents[2]
ACEFARM = [sys.executable, "-m", "trainer.cli"]  # the console script `acefarm` (trainer.cli:main)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_until(predicate, timeout: float, what: str, proc: Proc | None = None) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc is not None and proc.proc.poll() is not None:
            raise RuntimeError(f"{what}: the process exited with {proc.proc.returncode}:\n{proc.output()[-2000:]}")
        if predicate():
            return
        time.sleep(0.05)
    raise TimeoutError(f"timed out waiting for {what}")


class RedisServer:
    """A private redis-server. On another host (`prefix`, `host`) it also listens on `unixsocket`,
    which tests use to watch it (`client`) without a network path of their own; off the loopback
    interface Redis wants a `password` (protected mode)."""

    def __init__(
        self,
        workdir: pathlib.Path,
        persistent: bool = True,
        host: str = "127.0.0.1",
        prefix: Sequence[str] = (),
        unixsocket: pathlib.Path | None = None,
        password: str | None = None,
        extra: Sequence[str] = (),
    ) -> None:
        self.port = free_port()
        self.extra = list(extra)  # more redis-server arguments
        self.dir = workdir
        self.persistent = persistent
        self.host = host
        self.prefix = list(prefix)
        self.unixsocket = unixsocket
        self.password = password
        self.proc: subprocess.Popen | None = None
        self.start()

    @property
    def url(self) -> str:
        auth = f":{self.password}@" if self.password else ""
        return f"redis://{auth}{self.host}:{self.port}/0"

    def client(self) -> redis_lib.Redis:
        """A client for the test itself: over the unix socket when there is one."""
        if self.unixsocket is not None:
            return redis_lib.Redis(unix_socket_path=str(self.unixsocket), password=self.password)
        return redis_lib.Redis.from_url(self.url)

    def start(self) -> None:
        args = [
            *self.prefix,
            "redis-server",
            "--port",
            str(self.port),
            "--bind",
            self.host,
            "--dir",
            str(self.dir),
            "--save",
            "",
            "--protected-mode",
            "yes",
        ]
        args += ["--appendonly", "yes", "--appendfsync", "always"] if self.persistent else ["--appendonly", "no"]
        if self.unixsocket is not None:
            args += ["--unixsocket", str(self.unixsocket), "--unixsocketperm", "700"]
        if self.password:
            args += ["--requirepass", self.password]
        args += self.extra
        self.proc = subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        wait_until(self.ping, 10, "redis-server")

    def ping(self) -> bool:
        where = ["-s", str(self.unixsocket)] if self.unixsocket else ["-h", self.host, "-p", str(self.port)]
        env = {**os.environ, "REDISCLI_AUTH": self.password} if self.password else None
        out = subprocess.run(["redis-cli", *where, "ping"], capture_output=True, text=True, env=env)
        return out.stdout.strip() == "PONG"

    def stop(self) -> None:
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)  # redis persists the AOF on SIGTERM
            self.proc.wait(timeout=10)

    def restart(self) -> None:
        self.stop()
        self.start()

    def info(self, section: str = "memory") -> dict:
        """`INFO <section>` as a dict (used_memory, used_memory_peak, ...)."""
        with self.client() as r:
            return r.info(section)

    def used_memory(self) -> int:
        return int(self.info("memory")["used_memory"])


class Proc:
    """An acefarm subprocess in its own process group; `prefix` runs it through another command
    that execs it (`ip netns exec NS`), `command` replaces `acefarm`."""

    def __init__(
        self, args: list[str], log: pathlib.Path, prefix: Sequence[str] = (), command: Sequence[str] = ACEFARM
    ) -> None:
        self.log = log
        self.fh = open(log, "wb")
        self.proc = subprocess.Popen(
            [*prefix, *command, *args], cwd=ROOT, stdout=self.fh, stderr=subprocess.STDOUT, start_new_session=True
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

    def signal(self, sig: int) -> None:
        """Send `sig` to the main process only (as `kill PID`, `docker stop` do), not its group."""
        try:
            self.proc.send_signal(sig)
        except ProcessLookupError:
            pass

    def output(self) -> str:
        return self.log.read_text(errors="replace")

    def processes(self) -> list[psutil.Process]:
        """The main process and its descendants (sandboxes included), those still alive."""
        try:
            main = psutil.Process(self.proc.pid)
            return [main, *main.children(recursive=True)]
        except psutil.NoSuchProcess:
            return []

    def rss(self) -> int:
        """Resident memory of the whole process tree, in bytes."""
        total = 0
        for p in self.processes():
            try:
                total += p.memory_info().rss
            except psutil.NoSuchProcess:
                pass
        return total

    def peak_rss(self) -> int:
        """The main process's high-water mark of resident memory (VmHWM), in bytes."""
        with open(f"/proc/{self.proc.pid}/status") as fh:
            for line in fh:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) * 1024
        raise RuntimeError(f"no VmHWM for pid {self.proc.pid}")

    def reset_peak_rss(self) -> None:
        """Start the high-water mark of resident memory again from the current RSS."""
        with open(f"/proc/{self.proc.pid}/clear_refs", "w") as fh:
            fh.write("5")


def start_worker(
    redis: RedisServer, tmp: pathlib.Path, name: str, *extra: str, visibility_timeout: int | None = 5
) -> Proc:
    """`acefarm worker --name NAME`, waited for until its heartbeat is in Redis. A short
    visibility timeout (5 s) by default, so that fault tests recover fast; None: the CLI's default."""
    vt = ["--visibility-timeout", str(visibility_timeout)] if visibility_timeout is not None else []
    w = Proc(["worker", "--broker", redis.url, "--name", name, *vt, *extra], tmp / f"worker-{name}.log")
    r = redis.client()
    wait_until(lambda: r.exists(f"acefarm:worker:{name}"), 30, f"worker {name} heartbeat", w)
    return w


def start_server(tmp: pathlib.Path, *args: str, port: int | None = None, name: str = "server") -> tuple[Proc, int]:
    port_file = tmp / f"{name}.port"
    if port_file.exists():
        port_file.unlink()
    p = Proc(["serve", "--port", str(port or 0), "--port-file", str(port_file), *args], tmp / f"{name}.log")
    wait_until(lambda: port_file.exists() and port_file.read_text().strip(), 30, "server port", p)
    bound = int(port_file.read_text())
    wait_healthy(bound)
    return p, bound


def raw_call(port, method, data, timeout=30, metadata=()):
    """Send raw bytes to a Farm method; returns (status code, details, response bytes)."""
    with grpc.insecure_channel(f"127.0.0.1:{port}") as ch:
        call = ch.unary_unary(f"/acefarm.v1.Farm/{method}")
        try:
            return grpc.StatusCode.OK, "", call(data, timeout=timeout, metadata=metadata)
        except grpc.RpcError as exc:
            return exc.code(), exc.details(), b""


def wait_healthy(port: int, timeout: float = 30) -> None:
    def ok() -> bool:
        with grpc.insecure_channel(f"127.0.0.1:{port}") as ch:
            try:
                resp = health_pb2_grpc.HealthStub(ch).Check(health_pb2.HealthCheckRequest(service=""), timeout=1)
            except grpc.RpcError:
                return False
            return resp.status == health_pb2.HealthCheckResponse.SERVING

    wait_until(ok, timeout, f"server on {port} healthy")


def start_http_server(tmp: pathlib.Path, *args: str, name: str = "http") -> tuple[Proc, int, int]:
    """`acefarm serve --http-port 0`: (the process, its gRPC port, its HTTP API's port)."""
    http_file = tmp / f"{name}.http-port"
    if http_file.exists():
        http_file.unlink()
    proc, port = start_server(tmp, "--http-port", "0", "--http-port-file", str(http_file), *args, name=name)
    wait_until(lambda: http_file.exists() and http_file.read_text().strip(), 30, "HTTP API port")
    return proc, port, int(http_file.read_text())


def scrape(metrics_port: int) -> dict[str, float]:
    """A server's Prometheus metrics (`--metrics-port`): sample name (with its labels, as
    `name{k="v"}`) -> value; a labelled family's samples are also summed under its bare name."""
    text = urllib.request.urlopen(f"http://127.0.0.1:{metrics_port}/metrics", timeout=10).read().decode()
    out: dict[str, float] = {}
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            labels = ",".join(f'{k}="{v}"' for k, v in sorted(sample.labels.items()))
            out[f"{sample.name}{{{labels}}}" if labels else sample.name] = sample.value
            if labels:
                out[sample.name] = out.get(sample.name, 0.0) + sample.value
    return out


def cli_help(command: str) -> str:
    """`acefarm COMMAND --help`: which flags this checkout's CLI has."""
    out = subprocess.run([*ACEFARM, command, "--help"], cwd=ROOT, capture_output=True, text=True, timeout=60)
    return out.stdout
