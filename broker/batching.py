"""Collecting submitted jobs into batches: the one piece both remote dispatchers share."""

from __future__ import annotations

import queue
import time
from collections.abc import Callable
from concurrent.futures import Future
from typing import Any

STOP = object()  # put on a dispatcher's queue to end its batching threads
WAKE = object()  # put on a dispatcher's queue to wake its batching thread with nothing to take


def next_batch(
    q: queue.Queue[Any], limit: int | Callable[[], int], linger_s: float, window_s: float | None = None
) -> list[tuple[Any, Future[Any]]] | None:
    """Block for one (job, future), then take more for up to `linger_s` each, `limit` in all
    (a callable: asked once the first is here, to size the batch by what is in flight then),
    and, with `window_s`, only until `window_s` after the first: jobs that trickle in just
    under `linger_s` apart would otherwise keep the first waiting `limit` times `linger_s`.

    Returns the items whose futures were not cancelled meanwhile (marked running), none
    when WAKE came first (WAKE after the first is skipped), or None once STOP is seen (which
    is put back for the other threads).
    """
    first = q.get()
    if first is STOP:
        q.put(STOP)
        return None
    if first is WAKE:
        return []
    if callable(limit):
        limit = limit()
    closes = None if window_s is None else time.monotonic() + window_s
    items = [first]
    while len(items) < limit:
        wait = linger_s if closes is None else min(linger_s, closes - time.monotonic())
        try:
            nxt = q.get(timeout=wait) if wait > 0 else q.get_nowait()
        except queue.Empty:
            break
        if nxt is STOP:
            q.put(STOP)
            break
        if nxt is not WAKE:
            items.append(nxt)
    return [(job, fut) for job, fut in items if fut.set_running_or_notify_cancel()]
