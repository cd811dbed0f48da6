"""The operator's view of a cluster, with real parts: a worker's own metrics, the server's view of
the farm behind it, and `acefarm status` while a batch runs."""

import re
import secrets
import signal
import subprocess
import threading
import time
import urllib.request

import pytest

from broker.client import Client
from broker.cluster import CHUNK_MAX

from .procs import ACEFARM, ROOT, RedisServer, free_port, start_server, start_worker

pytestmark = pytest.mark.slow


def scrape(port):
    text = urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=10).read().decode()
    values = {}
    for line in text.splitlines():
        if line and not line.startswith("#"):
            name, _, value = line.rpartition(" ")
            values[name] = float(value)
    return values


def jobs(n, tag):
    return [
        {"id": f"{tag}{i}", "program": f"import time\ntime.sleep(0.05)\nX = {i}\n", "tests": [f"assert X == {i}"]}
        for i in range(n)
    ]


def wait_for(predicate, timeout, what):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(0.1)
    raise AssertionError(f"timed out: {what}")


def test_worker_metrics_server_view_and_status_while_a_batch_runs(redis_server, tmp_path):
    wport = free_port()
    worker = start_worker(redis_server, tmp_path, "w1", "--workers", "1", "--metrics-port", str(wport))
    mport = free_port()
    server, port = start_server(tmp_path, "--broker", redis_server.url, "--metrics-port", str(mport))
    try:
        results = []
        with Client(f"127.0.0.1:{port}", timeout_s=120) as farm:
            batch = threading.Thread(target=lambda: results.extend(farm.execute_batch(jobs(120, "a"), chunk=120)))
            batch.start()
            status = subprocess.run(
                [*ACEFARM, "status", "--broker", redis_server.url, "--interval", "3"],
                cwd=ROOT,
                capture_output=True,
                text=True,
                timeout=60,
            )
            batch.join(timeout=120)
        assert status.returncode == 0, status.stderr
        assert "1 workers" in status.stdout and "w1" in status.stdout
        rate = re.search(r"([\d.]+) jobs/s", status.stdout)
        assert rate and float(rate.group(1)) > 0, status.stdout  # live numbers while it ran
        assert len(results) == 120 and all(r.pass_rate == 1 for r in results)

        w = scrape(wport)
        assert w["acefarm_worker_slots"] == 1
        assert w['acefarm_worker_jobs_total{outcome="passed"}'] == 120
        assert w['acefarm_worker_chunks_total{outcome="done"}'] >= 120 / CHUNK_MAX
        assert 0 <= w["acefarm_host_cpu_percent"] <= 100 and 0 < w["acefarm_host_memory_percent"] <= 100
        s = scrape(mport)
        assert s["acefarm_workers"] == 1 and s["acefarm_slots"] == 1
        assert 'acefarm_cluster_chunks{state="waiting"}' in s and 'acefarm_cluster_chunks{state="taken"}' in s
        assert s["acefarm_queue_wait_seconds_count"] == 120  # measured in cluster mode too
        assert s["acefarm_queue_depth"] == 0

        worker.kill(signal.SIGKILL)
        wait_for(lambda: scrape(mport)["acefarm_workers"] == 0, 15, "the dead worker leaves the server's view")
        with Client(f"127.0.0.1:{port}", timeout_s=30) as farm:
            assert farm.info().slots == 0  # none alive: none reported
        gone = subprocess.run(
            [*ACEFARM, "status", "--broker", redis_server.url, "--interval", "0.5"],
            cwd=ROOT,
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert gone.returncode == 0 and "0 workers" in gone.stdout
    finally:
        server.kill()
        worker.kill()


def test_status_names_an_unreachable_redis(tmp_path):
    out = subprocess.run(
        [*ACEFARM, "status", "--broker", f"redis://127.0.0.1:{free_port()}/0"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert out.returncode == 1 and "cannot read the cluster" in out.stderr


def test_the_broker_password_stays_out_of_what_operators_see(tmp_path):
    password = secrets.token_hex(16)
    redis_server = RedisServer(tmp_path, persistent=False, password=password)
    try:
        server, _ = start_server(tmp_path, "--broker", redis_server.url)
        server.kill()
        status = subprocess.run(
            [*ACEFARM, "status", "--broker", f"redis://:{password}@127.0.0.1:{free_port()}/0"],
            cwd=ROOT,
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert status.returncode == 1 and "cannot read the cluster" in status.stderr
        said = {"serve": server.output(), "status": status.stdout + status.stderr}
        assert [name for name, text in said.items() if password in text.replace("\n", "")] == []
    finally:
        redis_server.stop()
