"""The systemd units' commands for real: ExecStart rendered as systemd renders it (instance CPUs,
environment file), run through its shell against a real Redis, the server answering jobs through
the worker, then stopped the way systemd stops them (SIGTERM to the main process)."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import urllib.request

import pytest
import redis as redis_lib

from broker.client import Client
from executor import Verdict

from ..cluster.procs import ROOT, RedisServer, free_port, wait_healthy
from .containers import wait_for
from .manifests import unit_argv

JOBS = [
    {"id": "ok", "program": "def f(x):\n    return x + 1\n", "tests": ["assert f(1) == 2"]},
    {"id": "wrong", "program": "def f(x):\n    return x\n", "tests": ["assert f(1) == 2"]},
    {"id": "loop", "program": "def f(x):\n    while True:\n        pass\n", "tests": ["assert f(1) == 2"]},
]
VERDICTS = {"ok": Verdict.PASSED, "wrong": Verdict.FAILED, "loop": Verdict.FAILED}


def start(argv: list[str], env: dict[str, str], log) -> subprocess.Popen:
    return subprocess.Popen(
        argv,
        cwd=ROOT,
        env={"PATH": os.environ["PATH"], **env},
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )


def stop(proc: subprocess.Popen, timeout: float) -> int:
    """systemd's stop (KillSignal=SIGTERM to the main process), SIGKILL past the timeout."""
    proc.send_signal(signal.SIGTERM)
    try:
        return proc.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()
        raise


@pytest.mark.slow
def test_units_serve_jobs_and_stop_cleanly(tmp_path):
    redis = RedisServer(tmp_path)
    shim = tmp_path / "acefarm"  # the unit's /opt/acefarm/.venv/bin/acefarm: this checkout's CLI
    shim.write_text(f'#!/bin/sh\nexec {sys.executable} -m trainer.cli "$@"\n')
    shim.chmod(0o755)
    token = "unit-token"
    env = {"ACEFARM_BROKER": redis.url, "ACEFARM_TOKEN": token}
    cpus = sorted(os.sched_getaffinity(0))[:2]
    instance = ",".join(map(str, cpus))
    metrics = free_port()
    # Ports of their own on a shared machine: the units' fixed ones moved to free ones.
    worker_argv = [
        re.sub(
            r"\b9465 \+ first", f"{metrics - cpus[0]} + first", a.replace("/opt/acefarm/.venv/bin/acefarm", str(shim))
        )
        for a in unit_argv("acefarm-worker@.service", instance, env)
    ]
    ports = {"--port": free_port(), "--metrics-port": free_port(), "--http-port": free_port()}
    serve_argv = [str(shim) if a.endswith("/acefarm") else a for a in unit_argv("acefarm-serve.service", "", env)]
    for flag, port in ports.items():
        serve_argv[serve_argv.index(flag) + 1] = str(port)
    procs = []
    try:
        with open(tmp_path / "worker.log", "wb") as wlog, open(tmp_path / "serve.log", "wb") as slog:
            worker = start(worker_argv, env, wlog)
            server = start(serve_argv, env, slog)
            procs = [worker, server]
            wait_healthy(ports["--port"], timeout=60)
            with Client(f"127.0.0.1:{ports['--port']}", token=token, timeout_s=120) as client:
                wait_for(lambda: client.info().slots == len(cpus), 60, f"the worker's {len(cpus)} slots")
                results = client.execute_many(JOBS)
                assert {r.id: r.verdict for r in results} == VERDICTS
                page = urllib.request.urlopen(f"http://127.0.0.1:{metrics}/metrics", timeout=10).read().decode()
                assert f"acefarm_worker_slots {float(len(cpus))}" in page
                assert stop(worker, 60) == 0
                # It left on its way out: no liveness key, and the server's view drops it.
                assert redis_lib.Redis.from_url(redis.url).keys("acefarm:worker:*") == []
                wait_for(lambda: client.info().slots == 0, 10, "the server to drop the stopped worker")
            assert stop(server, 30) == 0
            procs = []
    finally:
        for p in procs:
            if p.poll() is None:
                os.killpg(p.pid, signal.SIGKILL)
                p.wait()
        for name in ("worker", "serve"):
            print(f"--- {name}\n" + (tmp_path / f"{name}.log").read_text(errors="replace")[-2000:])
        redis.stop()
