"""Clients take turns (executor/fair.py, broker/pace.py), with real parts: `acefarm serve`
with its embedded pool, and a cluster (redis-server, two `acefarm worker`s, `acefarm serve
--broker`).

One client streams a burst of 200 jobs of 0.05 s (5 s of work on the 2 slots); once its
first result is in, a second client, on a connection of its own, sends 4 quick jobs. They
must come back while most of the burst still waits: the farm starts queued jobs one client
at a time in turn, and the cluster's server keeps only about half a second of work sent
ahead of its workers. First come, first served would answer them after the whole burst.
Two clients that give the same name (`Client(name=...)`) share one turn: the second then
waits for the first's burst, which is what shows that the turn is by client.
"""

from __future__ import annotations

import contextlib
import threading
import time
from collections.abc import Callable
from types import SimpleNamespace

import grpc
import pytest
import requests

from broker.client import Client
from executor import Verdict

from .procs import free_port, scrape, start_http_server, start_server, start_worker

BURST = 200
SLEEPY = {"program": "import time\n", "tests": ["assert time.sleep(0.05) is None"], "limits": {"wall_s": 5}}
QUICK = {"program": "def add(a, b):\n    return a + b\n", "tests": ["assert add(1, 2) == 3"]}


def by_grpc(port: int, name: str | None) -> Callable[[list[dict]], list[Verdict]]:
    def send(jobs: list[dict]) -> list[Verdict]:
        with Client(f"127.0.0.1:{port}", name=name) as farm:
            return [r.verdict for r in farm.execute_batch(jobs)]

    return send


def race(
    port: int, burst_name: str | None = None, late: Callable[[list[dict]], list[Verdict]] | None = None
) -> tuple[int, list[Verdict]]:
    """The burst, then the late client's 4 jobs (`late`: how it sends them; by default a gRPC
    client of its own): (the burst's results in when the late client had all of its own, the
    late client's verdicts)."""
    stamp = time.time_ns()  # programs unseen by any result cache
    burst = [dict(SLEEPY, id=f"b{i}", program=f"{SLEEPY['program']}# {stamp} {i}\n") for i in range(BURST)]
    late_jobs = [dict(QUICK, id=f"late{i}", program=f"{QUICK['program']}# {stamp} {i}\n") for i in range(4)]
    done = [0]
    first = threading.Event()
    failed: list[BaseException] = []

    def run_burst() -> None:
        try:
            with Client(f"127.0.0.1:{port}", name=burst_name) as farm:
                for result in farm.execute_batch(burst):
                    assert result.verdict is Verdict.PASSED, result
                    done[0] += 1
                    first.set()
        except BaseException as exc:
            failed.append(exc)
            first.set()

    t = threading.Thread(target=run_burst)
    t.start()
    try:
        assert first.wait(60) and not failed, failed
        verdicts = (late or by_grpc(port, None))(late_jobs)
        at = done[0]
    finally:
        t.join(120)
    assert not failed, failed
    assert done[0] == BURST
    return at, verdicts


@pytest.fixture(scope="module")
def serve(tmp_path_factory):
    """`acefarm serve --workers 2` with its HTTP API and metrics."""
    metrics = free_port()
    proc, port, http = start_http_server(
        tmp_path_factory.mktemp("turns"), "--workers", "2", "--metrics-port", str(metrics)
    )
    yield SimpleNamespace(port=port, url=f"http://127.0.0.1:{http}", metrics=metrics)
    proc.kill()


@contextlib.contextmanager
def cluster(redis_server, tmp):
    """Two one-slot workers and `acefarm serve --broker` with metrics: (its port, metrics port)."""
    workers = [start_worker(redis_server, tmp, f"w{n}", "--workers", "1") for n in range(2)]
    server = None
    try:
        metrics = free_port()
        server, port = start_server(tmp, "--broker", redis_server.url, "--metrics-port", str(metrics))
        yield port, metrics
    finally:
        if server is not None:
            server.kill()
        for w in workers:
            w.kill()


@pytest.mark.slow
def test_a_late_client_takes_turns_with_a_burst_on_the_embedded_server(serve):
    seen: list[dict[str, float]] = []

    def late(jobs: list[dict]) -> list[Verdict]:
        seen.append(scrape(serve.metrics))  # the burst waits for its turns: one client, jobs queued
        return by_grpc(serve.port, None)(jobs)

    at, verdicts = race(serve.port, late=late)
    assert verdicts == [Verdict.PASSED] * 4
    assert at < BURST // 2, f"the late client waited for {at} of the burst's {BURST} jobs"
    assert seen[0]["acefarm_flows_waiting"] == 1 and seen[0]["acefarm_jobs_waiting"] > BURST // 2


@pytest.mark.slow
def test_a_late_http_client_takes_turns_with_a_grpc_burst(serve):
    def late(jobs: list[dict]) -> list[Verdict]:
        def one(job: dict) -> Verdict:
            reply = requests.post(f"{serve.url}/v1/execute", json=job, timeout=60)
            assert reply.status_code == 200, reply.text
            return Verdict(reply.json()["verdict"])

        return [one(job) for job in jobs]  # one after another: each a request of its own

    at, verdicts = race(serve.port, late=late)
    assert verdicts == [Verdict.PASSED] * 4
    assert at < BURST // 2, f"the late HTTP client waited for {at} of the burst's {BURST} jobs"


@pytest.mark.slow
def test_clients_that_give_one_name_share_one_turn(serve):
    at, verdicts = race(serve.port, burst_name="team", late=by_grpc(serve.port, "team"))
    assert verdicts == [Verdict.PASSED] * 4
    assert at > BURST * 3 // 4, f"the late client, in the burst's turn, came back after only {at} of its jobs"


@pytest.mark.slow
def test_a_late_client_takes_turns_with_a_burst_on_the_cluster(redis_server, tmp_path):
    seen: list[dict[str, float]] = []
    with cluster(redis_server, tmp_path) as (port, metrics):

        def late(jobs: list[dict]) -> list[Verdict]:
            seen.append(scrape(metrics))  # most of the burst is held by the server, not in Redis
            # A client that gives up while its jobs are held: they are dropped, it is no longer counted.
            quitter = [dict(SLEEPY, id=f"q{i}", program=f"{SLEEPY['program']}# {time.time_ns()}\n") for i in range(30)]
            with Client(f"127.0.0.1:{port}", timeout_s=0.5, retries=0) as farm:
                with pytest.raises(grpc.RpcError) as gave_up:
                    list(farm.execute_batch(quitter))
            assert gave_up.value.code() is grpc.StatusCode.DEADLINE_EXCEEDED
            seen.append(scrape(metrics))
            return by_grpc(port, None)(jobs)

        at, verdicts = race(port, late=late)
    assert verdicts == [Verdict.PASSED] * 4
    assert at < BURST // 2, f"the late client waited for {at} of the burst's {BURST} jobs"
    assert seen[0]["acefarm_flows_waiting"] == 1 and seen[0]["acefarm_jobs_waiting"] > BURST // 2
    assert seen[1]["acefarm_flows_waiting"] == 1 and seen[1]["acefarm_jobs_waiting"] <= seen[0]["acefarm_jobs_waiting"]
