"""Cluster mode across hosts: Redis, the server, the workers and the client each in a network
namespace of their own (netns.py), talking over veth links on one bridge; a cable pulled and a
worker killed mid-batch; sandboxed programs on those hosts reach nothing."""

import collections
import json
import secrets
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pytest

from . import netns
from .procs import ROOT, Proc, RedisServer, wait_until

pytestmark = pytest.mark.slow

GRPC_PORT = 50051
CLIENT = [sys.executable, "-m", "tests.cluster.lan_client"]

PROBE = """\
import socket
def probe(host, port):
    try:
        socket.create_connection((host, port), timeout=2).close()
        return 'connected'
    except OSError as exc:
        return 'blocked: ' + type(exc).__name__
def interfaces():
    with open('/proc/net/dev') as fh:
        return sorted(line.split(':')[0].strip() for line in fh.readlines()[2:])
"""


@pytest.fixture
def lan():
    reason = netns.unavailable()
    if reason:
        pytest.skip(reason)
    net = netns.Lan()
    yield net
    net.close()


@pytest.fixture
def teardown():
    """Callables run at the end, last added first, whatever happened."""
    calls = []
    yield calls.append
    for call in reversed(calls):
        try:
            call()
        except Exception as exc:  # the others still run
            print(f"teardown: {call}: {exc!r}")


def jobs(n):
    return [
        {
            "id": f"s{i}",
            "program": f"import time\ntime.sleep(0.05)\nX = {i}\n",
            "tests": [f"assert X == {i}", f"assert X == {i + 1}"],
            "limits": {"wall_s": 10},
        }
        for i in range(n)
    ]


def run_client(lan, tmp, name, batch, timeout_s=120):
    """The SDK client on the `client` host, sending `batch` to the server's address."""
    path = tmp / f"{name}.jsonl"
    path.write_text("".join(json.dumps(j) + "\n" for j in batch))
    out = tmp / f"{name}.json"
    target = f"{lan.hosts['server']}:{GRPC_PORT}"
    proc = Proc(
        [target, str(path), str(out), "--timeout", str(timeout_s)], tmp / f"{name}.log", lan.exec("client"), CLIENT
    )
    return proc, out


def stream_lines(out: Path) -> list[dict]:
    stream = Path(str(out) + ".stream")
    if not stream.exists():
        return []
    return [json.loads(line) for line in stream.read_text().splitlines() if line.endswith("}")]


def finished(proc: Proc, timeout_s: float) -> int:
    try:
        return proc.proc.wait(timeout=timeout_s)
    except subprocess.TimeoutExpired:
        pytest.fail(f"{proc.log.name} still running after {timeout_s:.0f} s:\n{proc.output()[-3000:]}")


def test_a_cluster_across_hosts_survives_a_cut_link_and_a_killed_worker(lan, teardown, tmp_path):
    began = time.monotonic()
    for host, octet in [("redis", 1), ("server", 2), ("client", 3), ("w1", 11), ("w2", 12), ("w3", 13)]:
        lan.add(host, octet)
    sockets = Path(tempfile.mkdtemp(prefix="af", dir="/tmp"))  # short: a unix socket path is <= 107 bytes
    teardown(lambda: shutil.rmtree(sockets, ignore_errors=True))
    password = secrets.token_hex(16)
    redis_server = RedisServer(
        tmp_path,
        persistent=False,
        host=lan.hosts["redis"],
        prefix=lan.exec("redis"),
        unixsocket=sockets / "r.sock",
        password=password,
    )
    teardown(redis_server.stop)
    r = redis_server.client()  # the test watches Redis over its unix socket; the farm uses 10.77.0.1

    def start(args, host):
        proc = Proc(args, tmp_path / f"{host}.log", lan.exec(host))
        teardown(proc.kill)
        return proc

    def worker(name):
        return start(["worker", "--broker", redis_server.url, "--name", name, "--workers", "2"], name)

    port_file = tmp_path / "server.port"
    server = start(
        ["serve", "--host", lan.hosts["server"], "--port", str(GRPC_PORT), "--port-file", str(port_file),
         "--broker", redis_server.url],
        "server",
    )  # fmt: skip
    w1, w2 = worker("w1"), worker("w2")
    wait_until(lambda: r.exists("acefarm:worker:w1", "acefarm:worker:w2") == 2, 60, "w1 and w2 beating")
    wait_until(port_file.exists, 60, "the server's port file")

    n = 300
    client, out = run_client(lan, tmp_path, "batch", jobs(n))
    teardown(client.kill)

    def mid_batch():
        assert client.proc.poll() is None, client.output()
        return len(stream_lines(out)) >= 40 and r.hlen("acefarm:holds:w1") and r.hlen("acefarm:holds:w2")

    wait_until(mid_batch, 60, "both workers holding chunks, 40 results in")
    lan.cut("w1")  # its heartbeat, acks and results stop at the bridge; its sandbox keeps running
    w2.kill(signal.SIGKILL)  # the worker, its Celery threads and its sandboxes, at once
    cut_at = time.monotonic()
    held = {w: r.hlen(f"acefarm:holds:{w}") for w in ("w1", "w2")}
    assert all(held.values()), held  # each was mid-chunk
    w3 = worker("w3")  # a fresh worker on a fresh host takes the requeued chunks

    # The dispatcher sees both heartbeats lapse (8 s TTL) and requeues what they held.
    gone = lambda: not r.hexists("acefarm:workers", "w1") and not r.hexists("acefarm:workers", "w2")  # noqa: E731
    wait_until(gone, 20, "the dispatcher failing w1 and w2 over")
    failover_s = time.monotonic() - cut_at
    lan.mend("w1")  # its stale results, computed while cut off, now reach Redis too

    assert finished(client, 90) == 0, client.output()
    results = json.loads(out.read_text())
    assert sorted(x["id"] for x in results) == sorted(f"s{i}" for i in range(n))  # each exactly once
    assert all([t["verdict"] for t in x["tests"]] == ["passed", "failed"] for x in results)
    stream = stream_lines(out)
    twice = [k for k, c in collections.Counter((m["stream"], m["id"]) for m in stream).items() if c > 1]
    assert not twice, twice  # the server answered no job twice on the wire either
    assert all([t["verdict"] for t in m["tests"]] == ["passed", "failed"] for m in stream)
    log = server.output()
    assert "worker w1 stopped beating" in log and "worker w2 stopped beating" in log, log[-3000:]
    # The worker whose cable came back beats again, and is now the farm's only worker: it runs
    # the next jobs. Their programs, in its sandbox, reach neither Redis nor the server, which
    # its host reaches (the same code, run outside the sandbox on that host): the sandbox's
    # network namespace has a loopback interface only.
    wait_until(lambda: r.exists("acefarm:worker:w1"), 30, "w1 beating again after its link came back")
    w3.kill(signal.SIGKILL)
    before = int(r.hget("acefarm:stats:jobs", "w1") or 0)
    targets = [(lan.hosts["redis"], redis_server.port), (lan.hosts["server"], GRPC_PORT)]
    outside = subprocess.run(
        [*lan.exec("w1"), sys.executable, "-c",
         PROBE + "".join(f"\nprint(probe({h!r}, {p}))" for h, p in targets) + "\nprint(*interfaces())"],
        capture_output=True, text=True, timeout=30, cwd=ROOT,
    )  # fmt: skip
    assert outside.stdout.split() == ["connected", "connected", "eth0", "lo"], outside
    checks = [f"assert probe({h!r}, {p}) == 'connected'" for h, p in targets] + ["assert interfaces() == ['lo']"]
    probes = [{"id": f"probe{i}", "program": PROBE + f"# {i}\n", "tests": checks} for i in range(4)]
    client, out = run_client(lan, tmp_path, "probe", probes, timeout_s=60)
    teardown(client.kill)
    assert finished(client, 60) == 0, client.output()
    for x in json.loads(out.read_text()):
        assert [t["verdict"] for t in x["tests"]] == ["failed", "failed", "passed"], x
        assert all("blocked" in t["message"] for t in x["tests"][:2]), x
    # (w1 may still be finishing a chunk it ran while cut off: its count grows by 4 at least.)
    wait_until(lambda: int(r.hget("acefarm:stats:jobs", "w1") or 0) >= before + 4, 10, "w1 counting the probes")
    assert w1.proc.poll() is None, w1.output()[-3000:]
    # The workers keep the broker URL's password to themselves (for the server's banner, see
    # test_operator.py's test_the_broker_password_stays_out_of_what_operators_see).
    leaked = [p.name for p in tmp_path.glob("w*.log") if password in p.read_text(errors="replace")]
    assert not leaked, f"the broker URL's password is in {leaked}"
    published = {k.decode(): int(v) for k, v in r.hgetall("acefarm:stats:jobs").items()}
    print(f"failover {failover_s:.1f} s after the cut; jobs published first by {published}; "
          f"the test took {time.monotonic() - began:.1f} s")  # fmt: skip
