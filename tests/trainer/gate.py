"""A gate in front of a real sandbox pool: evidence of how many jobs a client had in flight at once.

`Gate(pool, expect)` is a Dispatcher (it can sit under a real FarmServer, or replace an
EmbeddedFarm's pool). It holds every job submitted to it until `expect` of them are waiting
together, then lets them all run on the pool. Jobs submitted one group after another can never
fill it (the first group waits for results the gate withholds), so after `patience` seconds
each waiting job is let go anyway and `most_waiting` stays below `expect`. Tests assert on
`most_waiting`, never on elapsed time.
"""

from __future__ import annotations

import threading
import time
from concurrent.futures import Future

from broker import languages
from broker.dispatcher import FarmStatus


class Gate:
    def __init__(self, pool, expect: int, patience: float = 60.0) -> None:
        self.pool = pool
        self.expect = expect
        self.patience = patience
        self.runtime = pool.runtime
        self.capacity = pool.config.slots
        self.languages = languages.of_pool(pool)
        self.config = pool.config
        self._lock = threading.Lock()
        self._full = threading.Event()
        self.waiting = 0
        self.most_waiting = 0
        self.submitted = 0

    def submit(self, job, on_start=None, flow=None) -> Future:
        outer: Future = Future()
        with self._lock:
            self.submitted += 1
            self.waiting += 1
            self.most_waiting = max(self.most_waiting, self.waiting)
            if self.waiting >= self.expect:
                self._full.set()
            full, patience = self._full, self.patience  # a reset later starts a new count
        threading.Thread(target=self._release, args=(job, on_start, outer, full, patience), daemon=True).start()
        return outer

    def _release(self, job, on_start, outer: Future, full: threading.Event, patience: float) -> None:
        full.wait(patience)
        with self._lock:
            if full is self._full:
                self.waiting -= 1
        if outer.cancelled():
            return
        # A Dispatcher's on_start takes when the job started; the pool's takes nothing.
        inner = self.pool.submit(job, None if on_start is None else lambda: on_start(time.monotonic()))
        outer.inner = inner  # what cancel() stops

        def chain(f: Future) -> None:
            if outer.done():
                return
            if f.cancelled():
                outer.cancel()
            elif f.exception() is not None:
                outer.set_exception(f.exception())
            else:
                outer.set_result(f.result())

        inner.add_done_callback(chain)

    def reset(self, expect: int, patience: float = 60.0) -> None:
        with self._lock:
            self.expect, self.patience = expect, patience
            self.waiting = self.most_waiting = self.submitted = 0
            self._full.set()  # jobs still held from before go now
            self._full = threading.Event()

    def cancel(self, fut: Future) -> bool:
        inner = getattr(fut, "inner", None)
        return self.pool.cancel(inner) if inner is not None else fut.cancel()

    def status(self) -> FarmStatus:
        return FarmStatus(workers=1, slots=self.capacity, busy=self.pool.busy)

    def close(self) -> None:  # the pool belongs to the test's fixture
        pass

    def map(self, jobs, window=None):
        return self.pool.map(jobs, window)
