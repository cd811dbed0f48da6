"""deploy/Dockerfile's image with the least privilege its sandbox needs: the default command (an
embedded `acefarm serve`) judges jobs right with the nine capabilities of the README's "Operating the farm" and
podman's default seccomp profile, not --privileged; and without any one of the nine, the sandbox
does not start (the farm refuses to score rather than run programs unconfined)."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import grpc
import pytest
from grpc_health.v1 import health_pb2, health_pb2_grpc

from broker.client import Client
from executor import Verdict

from ..cluster.procs import ROOT, free_port
from .containers import IMAGE, wait_for
from .manifests import SANDBOX_CAPS

pytestmark = [pytest.mark.deploy, pytest.mark.timeout(1800)]

DEMO = "broker/examples/demo.jsonl"
JOBS = [
    {"id": "ok", "program": "def f(x):\n    return x + 1\n", "tests": ["assert f(1) == 2"]},
    {"id": "wrong", "program": "def f(x):\n    return x\n", "tests": ["assert f(1) == 2"]},
    {
        "id": "network",
        "program": (
            "import socket\n"
            "def inet():\n"
            "    try:\n"
            "        socket.socket(socket.AF_INET, socket.SOCK_STREAM).close()\n"
            "        return 'opened'\n"
            "    except OSError:\n"
            "        return 'refused'\n"
        ),
        "tests": ["assert inet() == 'refused'"],
    },
]


def caps(*without: str) -> list[str]:
    return ["--cap-drop", "ALL", "--cap-add", ",".join(sorted(SANDBOX_CAPS - set(without)))]


def verdicts(path) -> dict[str, tuple[str, list[str]]]:
    rows = (json.loads(line) for line in open(path, encoding="utf-8"))
    return {r["id"]: (r["verdict"], [t["verdict"] for t in r["tests"]]) for r in rows if "verdict" in r}


def test_default_command_serves_with_the_sandbox_capabilities_only(podman):
    port, name = free_port(), f"acefarm-image-{os.getpid()}"
    podman.run("run", "-d", "--name", name, *caps(), "-p", f"127.0.0.1:{port}:50051", IMAGE)
    try:
        with grpc.insecure_channel(f"127.0.0.1:{port}") as channel:
            health = health_pb2_grpc.HealthStub(channel)
            wait_for(
                lambda: (
                    health.Check(health_pb2.HealthCheckRequest(), timeout=2).status
                    == health_pb2.HealthCheckResponse.SERVING
                ),
                60,
                "the embedded server",
            )
        with Client(f"127.0.0.1:{port}", timeout_s=120) as client:
            info = client.info()
            results = {r.id: r.verdict for r in client.execute_many(JOBS)}
        assert info.mode == "embedded" and info.slots >= 1
        assert results == {"ok": Verdict.PASSED, "wrong": Verdict.FAILED, "network": Verdict.PASSED}
        inspect = json.loads(podman.run("inspect", name, "--format", "{{json .HostConfig}}").stdout)
        assert inspect["Privileged"] is False
    finally:
        print(podman.run("logs", name, check=False).stderr[-2000:])
        podman.run("rm", "-f", "-t", "2", name, check=False)


def test_each_capability_is_needed_and_the_nine_suffice(podman, tmp_path):
    """`acefarm score` of the demo file in the container: with the nine capabilities, the same
    verdicts as on this machine; with any one of them dropped, no sandbox and no scores."""
    host = tmp_path / "host.jsonl"
    subprocess.run(
        [sys.executable, "-m", "trainer.cli", "score", DEMO, "-o", str(host)], cwd=ROOT, check=True, capture_output=True
    )
    score = ["acefarm", "score", DEMO, "-o", "/out/out.jsonl"]
    out = tmp_path / "out"
    out.mkdir()
    ran = podman.run("run", "--rm", *caps(), "-v", f"{out}:/out", IMAGE, *score, check=False)
    assert ran.returncode == 0, ran.stderr[-2000:]
    assert verdicts(out / "out.jsonl") == verdicts(host)
    for cap in sorted(SANDBOX_CAPS):
        ran = podman.run("run", "--rm", *caps(cap), IMAGE, *score, check=False)
        assert ran.returncode != 0, f"scored without {cap}"
        assert "sandbox" in ran.stderr, (cap, ran.stderr[-1000:])
