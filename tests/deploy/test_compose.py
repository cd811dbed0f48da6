"""deploy/Dockerfile and deploy/compose.yaml for real: the image built on a Debian base made here,
Redis + one server + two workers + Prometheus brought up by podman-compose (`--scale worker=2`),
HumanEval scored through the server's published port from this machine.

Slow (an image build, six containers): marked `deploy`, deselected by `make test`, run by
`make test-deploy`.
"""

from __future__ import annotations

import json
import os
import secrets
import threading
import time
from types import SimpleNamespace

import grpc
import pytest
from grpc_health.v1 import health_pb2, health_pb2_grpc

from broker.client import Client
from executor import Verdict

from ..cluster.procs import free_port
from .containers import (
    DEPLOY,
    IMAGE,
    PROMETHEUS_IMAGE,
    ComposeProject,
    prometheus_query,
    wait_for,
)
from .jobs import NETWORK_PROBE, humaneval_jobs, tally

pytestmark = [pytest.mark.deploy, pytest.mark.timeout(1800)]


@pytest.fixture(scope="module")
def farm(podman):
    ports = {k: free_port() for k in ("grpc", "http", "prometheus")}
    token, password = secrets.token_hex(16), secrets.token_hex(16)
    project = ComposeProject(
        podman,
        f"acefarmtest{os.getpid()}",
        {
            "ACEFARM_IMAGE": IMAGE,
            "REDIS_IMAGE": IMAGE,  # the farm's image carries redis-server
            "PROMETHEUS_IMAGE": PROMETHEUS_IMAGE,
            "REDIS_PASSWORD": password,
            "ACEFARM_TOKEN": token,
            "ACEFARM_PORT": str(ports["grpc"]),
            "ACEFARM_HTTP_PORT": str(ports["http"]),
            "PROMETHEUS_PORT": str(ports["prometheus"]),
            "WORKER_SLOTS": "1",  # 2 workers x 1 slot on this 2-core machine
        },
    )
    try:
        project("up", "-d", "--scale", "worker=2", timeout=600)
        target = f"127.0.0.1:{ports['grpc']}"
        channel = grpc.insecure_channel(target)
        health = health_pb2_grpc.HealthStub(channel)
        wait_for(
            lambda: (
                health.Check(health_pb2.HealthCheckRequest(), timeout=2).status
                == health_pb2.HealthCheckResponse.SERVING
            ),
            120,
            "the server's gRPC health",
        )
        channel.close()
        yield SimpleNamespace(project=project, target=target, token=token, password=password, ports=ports)
    except Exception:
        print(project.logs())
        raise
    finally:
        project.remove()


def test_image_serves_humaneval_with_the_right_verdicts(farm):
    with Client(farm.target, token=farm.token, timeout_s=600) as client:
        info = wait_for(lambda: (i := client.info()).slots == 2 and i, 120, "two workers of one slot each")
        assert info.mode == "cluster"
        t0 = time.monotonic()
        results = client.execute_many(humaneval_jobs(f"compose-{os.getpid()}"))
        took = time.monotonic() - t0
        probe = client.execute(NETWORK_PROBE)
    counts = tally(results)
    print(f"HumanEval through compose: {counts} in {took:.1f} s ({counts['n'] / took:.0f} programs/s)")
    names = [*farm.project.containers("server"), *farm.project.containers("worker")]
    stats = farm.project.podman.run("stats", "--no-stream", "--format", "{{.Name}} {{.MemUsage}}", *names, check=False)
    print("memory after the batch:\n" + stats.stdout)
    assert counts == {"canonical_passed": 164, "wrong_passed": 0, "infra_error": 0, "n": 328}
    assert probe.verdict is Verdict.PASSED, probe


def test_the_api_requires_the_token(farm):
    with Client(farm.target, retries=0) as client, pytest.raises(grpc.RpcError) as err:
        client.info()
    assert err.value.code() is grpc.StatusCode.UNAUTHENTICATED


def test_prometheus_scrapes_server_and_each_worker(farm):
    port = farm.ports["prometheus"]

    def targets_up():
        up = prometheus_query(port, "up")["data"]["result"]
        jobs = sorted((r["metric"]["job"], r["value"][1]) for r in up)
        return jobs == [("acefarm-server", "1"), ("acefarm-worker", "1"), ("acefarm-worker", "1")] and jobs

    wait_for(targets_up, 90, "Prometheus to scrape the server and both workers", interval=2)
    workers = prometheus_query(port, "max(acefarm_workers)")["data"]["result"]
    assert workers and workers[0]["value"][1] == "2"
    # Every query of the Grafana dashboard is valid PromQL over series that exist here.
    dashboard = json.loads((DEPLOY / "grafana" / "acefarm.json").read_text())
    bad = []
    for panel in dashboard["panels"]:
        for target in panel.get("targets", []):
            answer = prometheus_query(port, target["expr"])
            if answer.get("status") != "success":
                bad.append((panel["title"], target["expr"], answer.get("error")))
    assert bad == []


def test_redis_appends_to_its_volume(farm):
    (redis,) = farm.project.containers("redis")
    podman = farm.project.podman
    conf = podman.run(
        "exec", redis, "redis-cli", "--no-auth-warning", "-a", farm.password, "config", "get", "appendonly"
    )
    assert conf.stdout.split() == ["appendonly", "yes"]
    assert "appendonlydir" in podman.run("exec", redis, "ls", "/data").stdout.split()
    mounts = json.loads(podman.run("inspect", redis, "--format", "{{json .Mounts}}").stdout)
    assert [(m["Type"], m["Destination"]) for m in mounts] == [("volume", "/data")]


def test_compose_healthchecks_pass(farm):
    """The healthchecks compose.yaml gives Redis and the server, run by podman on demand (its
    timers need systemd, which these machines do not run)."""
    for service in ("redis", "server"):
        (name,) = farm.project.containers(service)
        ran = farm.project.podman.run("healthcheck", "run", name, check=False)
        assert ran.returncode == 0, (service, ran.stdout, ran.stderr)


def test_server_runs_unprivileged(farm):
    (server,) = farm.project.containers("server")
    podman = farm.project.podman
    status = podman.run("exec", server, "cat", "/proc/1/status", "/proc/self/status").stdout
    assert "CapEff:\t0000000000000000" in status
    assert "Uid:\t65534" in status


def test_a_stopped_worker_finishes_its_chunks_and_loses_no_job(farm):
    """SIGTERM (podman stop, a scale-in, an upgrade) mid-batch: Celery's warm shutdown finishes
    the chunks the worker holds, it exits 0, and every job is answered right. Each program
    sleeps 30 ms so that the batch lasts seconds and the stop lands in its middle."""
    jobs = humaneval_jobs(f"stop-{os.getpid()}")
    for job in jobs:
        job["program"] = "import time\ntime.sleep(0.03)\n" + job["program"]
    first = farm.project.containers("worker")[0]
    podman = farm.project.podman
    stop: dict = {}

    def stop_first():
        t0 = time.monotonic()
        podman.run("stop", "-t", "120", first, timeout=180)
        stop["seconds"] = time.monotonic() - t0

    results, stopper = [], threading.Thread(target=stop_first)
    with Client(farm.target, token=farm.token, timeout_s=600) as client:
        for r in client.execute_batch(jobs):
            results.append(r)
            if len(results) == 40:
                stopper.start()
    stopper.join(180)
    code = podman.run("inspect", first, "--format", "{{.State.ExitCode}}").stdout.strip()
    counts = tally(results)
    print(f"worker stopped after 40 of 328 results, in {stop['seconds']:.1f} s with status {code}; {counts}")
    assert stop["seconds"] > 0.3  # it had chunks to finish
    assert code == "0"
    assert counts == {"canonical_passed": 164, "wrong_passed": 0, "infra_error": 0, "n": 328}
