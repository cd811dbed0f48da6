"""broker/batching.py: gathering submitted jobs into a dispatcher's batches."""

from __future__ import annotations

import queue
import threading
import time
from concurrent.futures import Future
from typing import Any

from broker.batching import STOP, WAKE, next_batch


def _items(n: int) -> list[tuple[int, Future[Any]]]:
    return [(i, Future()) for i in range(n)]


def test_takes_what_waits_up_to_the_limit_and_skips_cancelled_jobs():
    q: queue.Queue[Any] = queue.Queue()
    items = _items(10)
    items[3][1].cancel()
    for item in items:
        q.put(item)
    batch = next_batch(q, 6, 0.01)
    assert batch is not None and [job for job, _ in batch] == [0, 1, 2, 4, 5]
    assert all(fut.running() for _, fut in batch) and q.qsize() == 4
    assert [job for job, _ in next_batch(q, lambda: 100, 0.01) or []] == [6, 7, 8, 9]


def test_stop_ends_a_batch_and_stays_for_the_other_threads():
    q: queue.Queue[Any] = queue.Queue()
    for item in _items(2):
        q.put(item)
    q.put(STOP)
    assert [job for job, _ in next_batch(q, 10, 0.01) or []] == [0, 1]
    assert next_batch(q, 10, 0.01) is None and q.get_nowait() is STOP


def test_wake_first_returns_at_once_with_nothing_and_is_skipped_later():
    q: queue.Queue[Any] = queue.Queue()
    q.put(WAKE)
    t0 = time.monotonic()
    assert next_batch(q, 10, 1.0) == []
    assert time.monotonic() - t0 < 0.5  # no linger for more
    items = _items(2)
    q.put(items[0])
    q.put(WAKE)
    q.put(items[1])
    assert [job for job, _ in next_batch(q, 10, 0.01) or []] == [0, 1]


def test_a_window_bounds_how_long_a_trickle_of_jobs_is_gathered():
    """Jobs 2 ms apart: each comes within the 10 ms linger, so without a window the first
    would wait for all 60 (~120 ms); a 20 ms window sends it with the ~10 there by then, and
    leaves the rest for the next batch."""
    q: queue.Queue[Any] = queue.Queue()
    items = _items(60)

    def trickle() -> None:
        for item in items:
            q.put(item)
            time.sleep(0.002)

    thread = threading.Thread(target=trickle)
    thread.start()
    try:
        batch = next_batch(q, 64, 0.01, window_s=0.02)
        assert batch is not None and 1 <= len(batch) < 40, len(batch)
        assert [job for job, _ in batch] == list(range(len(batch)))  # in order, none lost
    finally:
        thread.join()
    rest = []
    while len(batch) + len(rest) < 60:
        more = next_batch(q, 64, 0.01, window_s=0.02)
        assert more is not None
        rest += [job for job, _ in more]
    assert rest == list(range(len(batch), 60))
