"""Failover in seconds, with real parts: chunks lost between the queue and a worker, and the
kill -9 of a worker under load with the default visibility timeout."""

import json
import threading
import time

import pytest
import redis

from broker.client import Client
from broker.cluster import QUEUE

from .procs import start_server, start_worker

pytestmark = pytest.mark.slow


def test_a_chunk_taken_from_the_queue_by_a_worker_that_vanished_is_sent_again(redis_server, tmp_path):
    """A worker whose network dies while it waits for work can take a chunk from the queue
    and never record it: not queued, not unacknowledged, held by no one. The server sees a
    chunk in none of those places and sends its jobs again within seconds (not after
    --resend-after)."""
    server, port = start_server(tmp_path, "--broker", redis_server.url)
    r = redis.Redis.from_url(redis_server.url)
    try:
        results = []
        with Client(f"127.0.0.1:{port}", timeout_s=120) as farm:
            call = threading.Thread(
                target=lambda: results.append(farm.execute({"id": "j", "program": "X = 3", "tests": ["assert X == 3"]}))
            )
            call.start()
            taken = r.brpop([QUEUE], timeout=30)  # the vanished worker takes it, and is gone
            assert taken is not None
            lost_at = time.monotonic()
            assert json.loads(taken[1])["headers"]["task"] == "acefarm.run_chunk"
            # Sent again: back in the queue within the grace period and two checks.
            deadline = time.monotonic() + 20
            while r.llen(QUEUE) == 0 and time.monotonic() < deadline:
                time.sleep(0.1)
            assert r.llen(QUEUE) == 1, "the lost chunk was not sent again"
            assert time.monotonic() - lost_at < 12
            worker = start_worker(redis_server, tmp_path, "w", "--workers", "1")
            call.join(timeout=60)
        assert [(x.id, x.pass_rate) for x in results] == [("j", 1.0)]
        worker.kill()
    finally:
        server.kill()


def test_a_live_worker_keeps_its_chunks_young(redis_server, tmp_path):
    """kombu in every worker requeues any chunk unacknowledged for the visibility timeout (a
    sweep about every 100 s), whoever runs it. A live worker renews the age of the chunks it
    holds with each heartbeat (2 s), so a chunk that runs longer than the timeout stays with
    it; a dead or frozen worker's chunks age (and its heartbeats lapse: failover)."""
    worker = start_worker(redis_server, tmp_path, "w", "--workers", "1")
    server, port = start_server(tmp_path, "--broker", redis_server.url)
    r = redis.Redis.from_url(redis_server.url)
    try:
        jobs = [
            {"id": f"j{i}", "program": f"import time\ntime.sleep(0.25)\nX = {i}\n", "tests": [f"assert X == {i}"]}
            for i in range(32)
        ]
        results = []
        ages = []
        with Client(f"127.0.0.1:{port}", timeout_s=120) as farm:
            call = threading.Thread(target=lambda: results.extend(farm.execute_batch(jobs, chunk=32)))
            call.start()
            deadline = time.monotonic() + 30
            while not r.hlen("unacked") and time.monotonic() < deadline:
                time.sleep(0.05)
            taken = time.monotonic()
            while call.is_alive() and time.monotonic() - taken < 6:
                ages += [time.time() - score for _, score in r.zrange("unacked_index", 0, -1, withscores=True)]
                time.sleep(0.2)
            call.join(timeout=60)
        assert sorted(x.id for x in results) == sorted(j["id"] for j in jobs) and all(x.pass_rate == 1 for x in results)
        assert time.monotonic() - taken > 5 and max(ages) < 4, max(ages)  # held 5 s and more, never 4 s old
    finally:
        server.kill()
        worker.kill()


def test_a_worker_restarted_under_the_same_name_gives_back_what_its_predecessor_held(redis_server, tmp_path):
    """A container restarted in place keeps its hostname (the default name's start): the new
    worker beats under the dead one's name before its liveness lapses, so no dispatcher sees a
    death. The new worker gives its predecessor's chunks back when it starts, instead of their
    waiting for the visibility timeout (600 s) or the resend (1230 s)."""
    worker = start_worker(redis_server, tmp_path, "same", "--workers", "1", visibility_timeout=None)
    server, port = start_server(tmp_path, "--broker", redis_server.url)
    r = redis.Redis.from_url(redis_server.url)
    slow = "import time\nt = time.process_time()\nwhile time.process_time() - t < 0.3:\n    pass\nX = 3\n"
    try:
        results = []
        with Client(f"127.0.0.1:{port}", timeout_s=90) as farm:
            call = threading.Thread(
                target=lambda: results.append(farm.score([slow + f"# {i}\n" for i in range(6)], ["assert X == 3"]))
            )
            call.start()
            deadline = time.monotonic() + 30
            while not r.hlen("acefarm:holds:same") and time.monotonic() < deadline:
                time.sleep(0.05)
            assert r.hlen("acefarm:holds:same"), "the worker never took the chunk"
            worker.kill()
            started = time.monotonic()
            worker = start_worker(redis_server, tmp_path, "same", "--workers", "1", visibility_timeout=None)
            call.join(timeout=85)
            assert results and results[0].pass_rates == [1.0] * 6, results
            assert time.monotonic() - started < 45
        worker.kill()
    finally:
        server.kill()


def test_jobs_sent_while_redis_restarts_for_20_s_are_answered_when_it_is_back(redis_server, tmp_path):
    """A Redis restart from its append-only file can take tens of seconds: jobs that arrive
    meanwhile wait for it (about two minutes), not answered infra_error after 16 s."""
    worker = start_worker(redis_server, tmp_path, "w", "--workers", "1")
    server, port = start_server(tmp_path, "--broker", redis_server.url)
    try:
        results = []
        with Client(f"127.0.0.1:{port}", timeout_s=120) as farm:
            redis_server.stop()
            call = threading.Thread(
                target=lambda: results.append(
                    farm.execute({"id": "r", "program": "X = 3  # redis down", "tests": ["assert X == 3"]})
                )
            )
            call.start()
            time.sleep(20)
            redis_server.start()
            call.join(timeout=110)
        assert [(x.id, x.verdict.value) for x in results] == [("r", "passed")], results
    finally:
        server.kill()
        worker.kill()
