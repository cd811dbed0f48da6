"""deploy/k8s's Deployments for real: Redis, one server and two workers run as their manifests
say (args, Secret, security contexts, limits, volumes, Service names; tests/deploy/kube.py), the
server's gRPC health answering as its probes ask, HumanEval scored through it."""

from __future__ import annotations

import json
import os
import secrets

import grpc
import pytest
from grpc_health.v1 import health_pb2, health_pb2_grpc

from broker.client import Client

from ..cluster.procs import free_port
from .containers import IMAGE, wait_for
from .jobs import NETWORK_PROBE, humaneval_jobs, tally
from .kube import Cluster
from .manifests import k8s_get

pytestmark = [pytest.mark.deploy, pytest.mark.timeout(1800)]


@pytest.fixture(scope="module")
def cluster(podman):
    password, token = secrets.token_hex(16), secrets.token_hex(16)
    secret = dict(k8s_get("Secret", "acefarm")["stringData"])
    secret["ACEFARM_BROKER"] = secret["ACEFARM_BROKER"].replace(secret["REDIS_PASSWORD"], password)
    secret.update(REDIS_PASSWORD=password, ACEFARM_TOKEN=token)
    port = free_port()
    c = Cluster(podman, f"acefarm-kube-{os.getpid()}", IMAGE, secret)
    try:
        # One server instead of two on this 2-core machine; the workers as written (2 x 2 slots).
        c.apply({"acefarm-server": 1}, {"acefarm-server": {50051: port}})
        with grpc.insecure_channel(f"127.0.0.1:{port}") as channel:  # the readiness probe's check
            health = health_pb2_grpc.HealthStub(channel)
            wait_for(
                lambda: (
                    health.Check(health_pb2.HealthCheckRequest(), timeout=2).status
                    == health_pb2.HealthCheckResponse.SERVING
                ),
                120,
                "the server's gRPC health",
            )
        c.target, c.token = f"127.0.0.1:{port}", token
        yield c
    except Exception:
        print(c.logs())
        raise
    finally:
        c.delete()


def test_manifests_run_the_farm(cluster):
    with Client(cluster.target, token=cluster.token, timeout_s=600) as client:
        info = wait_for(lambda: (i := client.info()).slots == 4 and i, 120, "two workers of two slots")
        assert info.mode == "cluster"
        counts = tally(client.execute_many(humaneval_jobs(f"kube-{os.getpid()}")))
        probe = client.execute(NETWORK_PROBE)
    assert counts == {"canonical_passed": 164, "wrong_passed": 0, "infra_error": 0, "n": 328}
    assert probe.verdict.value == "passed", probe


def test_pods_run_with_the_manifests_security_contexts(cluster):
    podman = cluster.podman
    server, worker = cluster.names["acefarm-server"][0], cluster.names["acefarm-worker"][0]
    status = podman.run("exec", server, "cat", "/proc/1/status").stdout
    assert "Uid:\t65534" in status and "CapEff:\t0000000000000000" in status and "NoNewPrivs:\t1" in status
    config = json.loads(podman.run("inspect", worker, "--format", "{{json .HostConfig}}").stdout)
    assert config["ReadonlyRootfs"] is True and config["Privileged"] is False
    assert config["Memory"] == 2 << 30
    caps = podman.run("exec", worker, "grep", "CapEff", "/proc/1/status").stdout.split()[1]
    assert caps != "0000000000000000"
