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
