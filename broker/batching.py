"""Collecting submitted jobs into batches: the one piece both remote dispatchers share."""

from __future__ import annotations

import queue
from collections.abc import Callable
from concurrent.futures import Future
from typing import Any

STOP = object()  # put on a dispatcher's queue to end its batching threads


def next_batch(
    q: queue.Queue[Any], limit: int | Callable[[], int], linger_s: float
) -> list[tuple[Any, Future[Any]]] | None:
    """Block for one (job, future), then take more for up to `linger_s` each, `limit` in all
    (a callable: asked once the first is here, to size the batch by what is in flight then).

    Returns the items whose futures were not cancelled meanwhile (marked running),
    or None once STOP is seen (which is put back for the other threads).
    """
    first = q.get()
    if first is STOP:
        q.put(STOP)
        return None
    if callable(limit):
        limit = limit()
    items = [first]
    while len(items) < limit:
        try:
            nxt = q.get(timeout=linger_s)
        except queue.Empty:
            break
        if nxt is STOP:
            q.put(STOP)
            break
        items.append(nxt)
    return [(job, fut) for job, fut in items if fut.set_running_or_notify_cancel()]
