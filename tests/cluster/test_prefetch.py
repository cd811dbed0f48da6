"""When a worker takes its next chunk (broker/prefetch.py): the gate's rules, then real workers
(redis-server, `acefarm worker`, `acefarm serve --broker`) watched through Redis."""

import threading
import time

import pytest
import redis

from broker import registry
from broker.client import Client
from broker.cluster import CHUNK_MAX
from broker.prefetch import FetchGate

from .procs import start_server, start_worker


class Consumer:
    """What kombu's loop does with the gate: look, and if shut, sleep until woken."""

    def __init__(self, gate: FetchGate) -> None:
        self.gate = gate
        self.woken = threading.Event()
        gate._wake = self.woken.set

    def looks(self) -> bool:
        self.woken.clear()
        return self.gate.open()


def test_the_gate_opens_at_low_water_and_stays_shut_while_a_chunk_is_on_its_way():
    waiting = [0]
    gate = FetchGate(lambda: waiting[0], low_water=1)
    consumer = Consumer(gate)
    assert consumer.looks()  # idle: fetch
    gate.received("a")
    assert not consumer.looks()  # its first chunk is not in the pool yet: no second fetch
    waiting[0] = 32
    gate.submitted("a")
    assert not consumer.looks() and not consumer.woken.is_set()  # 32 jobs wait
    for left in range(31, 1, -1):
        waiting[0] = left
        gate.poke()
        assert not consumer.woken.is_set(), left
    waiting[0] = 1  # the job before the last starts: one waits
    gate.poke()
    assert consumer.woken.is_set()  # the loop is woken at once
    assert consumer.looks()
    waiting[0] = 0
    gate.poke()
    assert not consumer.woken.is_set()  # open already, and the consumer knows it: no wake-up


def test_submitted_is_what_opens_a_gate_shut_by_a_received_chunk():
    gate = FetchGate(lambda: 0, low_water=0)
    consumer = Consumer(gate)
    gate.received("a")
    gate.received("b")
    assert not consumer.looks()
    gate.submitted("a")
    assert not consumer.woken.is_set() and not consumer.looks()  # b is still on its way
    gate.submitted("b")
    assert consumer.woken.is_set() and consumer.looks()
    gate.submitted("b")  # again (the task's end): nothing changes
    assert consumer.looks()


def test_a_chunk_received_and_never_submitted_does_not_shut_the_gate_for_good(monkeypatch):
    now = [1000.0]
    monkeypatch.setattr("broker.prefetch.time.monotonic", lambda: now[0])
    gate = FetchGate(lambda: 0, low_water=0)
    gate.received("lost")
    assert not gate.open()
    now[0] += 61
    assert gate.open()


def test_no_wake_up_is_lost_between_the_consumer_looking_and_a_job_starting():
    """A pool thread starts jobs while the consumer looks and sleeps, over and over: whenever the
    gate is open and the consumer saw it shut, it is woken (or it would sleep through it)."""
    waiting = [0]
    gate = FetchGate(lambda: waiting[0], low_water=2)
    consumer = Consumer(gate)
    go = threading.Semaphore(0)
    done = threading.Semaphore(0)

    def pool() -> None:  # starts six jobs each round, racing the consumer's look
        for _ in range(300):
            go.acquire()
            for _ in range(6):
                waiting[0] -= 1
                gate.poke()
            done.release()

    starter = threading.Thread(target=pool)
    starter.start()
    missed = []
    for round_ in range(300):
        waiting[0] = 6
        go.release()
        if not consumer.looks() and not consumer.woken.wait(2):
            missed.append(round_)
        done.acquire()
    starter.join()
    assert not missed


@pytest.mark.slow
def test_a_worker_takes_its_next_chunk_only_as_its_last_jobs_run(redis_server, tmp_path):
    """One one-slot worker, two chunks of slow jobs: it holds the second chunk before the first
    is acknowledged (its slot does not wait for the hand-over), but only once at most a few of
    the first chunk's jobs are left (till then the chunk stays in the queue, for any worker
    that frees up sooner); never more than two at once. Fails with `--threads 1` (no overlap)
    and with a gate always open (the second chunk taken at once)."""
    worker = start_worker(redis_server, tmp_path, "w", "--workers", "1")
    server, port = start_server(tmp_path, "--broker", redis_server.url)
    r = redis.Redis.from_url(redis_server.url)
    samples: list[tuple[int, dict[bytes, int]]] = []  # (chunks held, answers per chunk)
    stop = threading.Event()

    def watch() -> None:
        while not stop.is_set():
            held = r.hlen(registry.UNACKED)
            samples.append((held, {k: r.hlen(k) for k in r.scan_iter("acefarm:seen:*")}))
            time.sleep(0.003)

    watcher = threading.Thread(target=watch)
    n = 2 * CHUNK_MAX  # a backlog that one slot takes in two chunks of CHUNK_MAX
    try:
        jobs = [
            {"id": f"j{i}", "program": f"import time\ntime.sleep(0.02)\nX = {i}\n", "tests": [f"assert X == {i}"]}
            for i in range(n)
        ]
        watcher.start()
        with Client(f"127.0.0.1:{port}", timeout_s=120) as farm:
            results = list(farm.execute_batch(jobs, chunk=n))
        assert [res.verdict.value for res in results] == ["passed"] * n
    finally:
        stop.set()
        watcher.join()
        server.kill()
        worker.kill()
    assert max(held for held, _ in samples) <= 2
    sizes: dict[bytes, int] = {}  # each chunk's answers at their most (the key goes once all are in)
    for _, answered in samples:
        for k, v in answered.items():
            sizes[k] = max(sizes.get(k, 0), v)
    both = [answered for held, answered in samples if held == 2]
    assert both, "the second chunk was taken only after the first was acknowledged"
    assert both[0], "the second chunk was taken before any job of the first was answered"
    first = max(both[0], key=lambda k: both[0][k])  # the chunk it was working on
    left = sizes[first] - both[0][first]
    # Taken when one job waited and one ran (the gate), give or take a publish in flight.
    assert left <= 6, f"the second chunk was taken with {left} jobs of the first left ({sizes})"
