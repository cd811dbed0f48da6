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

import pytest

from broker.client import Client
from executor import Verdict

from .procs import start_server, start_worker

BURST = 200
SLEEPY = {"program": "import time\n", "tests": ["assert time.sleep(0.05) is None"], "limits": {"wall_s": 5}}
QUICK = {"program": "def add(a, b):\n    return a + b\n", "tests": ["assert add(1, 2) == 3"]}


def race(port: int, burst_name: str | None = None, late_name: str | None = None) -> tuple[int, list[Verdict]]:
    """The burst, then the late client's 4 jobs: (the burst's results in when the late
    client had all of its own, the late client's verdicts)."""
    stamp = time.time_ns()  # programs unseen by any result cache
    burst = [dict(SLEEPY, id=f"b{i}", program=f"{SLEEPY['program']}# {stamp} {i}\n") for i in range(BURST)]
    late = [dict(QUICK, id=f"late{i}", program=f"{QUICK['program']}# {stamp} {i}\n") for i in range(4)]
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
        with Client(f"127.0.0.1:{port}", name=late_name) as farm:
            verdicts = [r.verdict for r in farm.execute_batch(late)]
        at = done[0]
    finally:
        t.join(120)
    assert not failed, failed
    assert done[0] == BURST
    return at, verdicts


@pytest.fixture(scope="module")
def serve(tmp_path_factory):
    proc, port = start_server(tmp_path_factory.mktemp("turns"), "--workers", "2")
    yield port
    proc.kill()


@contextlib.contextmanager
def cluster(redis_server, tmp):
    workers = [start_worker(redis_server, tmp, f"w{n}", "--workers", "1") for n in range(2)]
    server = None
    try:
        server, port = start_server(tmp, "--broker", redis_server.url)
        yield port
    finally:
        if server is not None:
            server.kill()
        for w in workers:
            w.kill()


@pytest.mark.slow
def test_a_late_client_takes_turns_with_a_burst_on_the_embedded_server(serve):
    at, verdicts = race(serve)
    assert verdicts == [Verdict.PASSED] * 4
    assert at < BURST // 2, f"the late client waited for {at} of the burst's {BURST} jobs"


@pytest.mark.slow
def test_clients_that_give_one_name_share_one_turn(serve):
    at, verdicts = race(serve, burst_name="team", late_name="team")
    assert verdicts == [Verdict.PASSED] * 4
    assert at > BURST * 3 // 4, f"the late client, in the burst's turn, came back after only {at} of its jobs"


@pytest.mark.slow
def test_a_late_client_takes_turns_with_a_burst_on_the_cluster(redis_server, tmp_path):
    with cluster(redis_server, tmp_path) as port:
        at, verdicts = race(port)
    assert verdicts == [Verdict.PASSED] * 4
    assert at < BURST // 2, f"the late client waited for {at} of the burst's {BURST} jobs"
