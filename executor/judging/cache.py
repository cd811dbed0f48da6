"""A least-recently-used cache bounded by the bytes of its keys, for plans of test text.

A GRPO group's samples share one suite, so plans are worth keeping; but a bound on entries
alone lets 60 distinct 1 MiB tests keep 177 MB of syntax trees. Each entry is charged the
size of the source it was made from (a plan's trees grow with it); sources larger than a
tenth of the budget are computed every time, never kept.
"""

from __future__ import annotations

import functools
import threading
from collections import OrderedDict
from collections.abc import Callable
from typing import Generic, TypeVar

T = TypeVar("T")


class SourceCache(Generic[T]):
    """`cache(source)` is `compute(source)`, kept while the sources kept total `max_bytes`."""

    def __init__(self, compute: Callable[[str], T], max_bytes: int) -> None:
        self._compute = compute
        self._max = max_bytes
        self._entries: OrderedDict[str, T] = OrderedDict()
        self._bytes = 0
        self._lock = threading.Lock()
        functools.update_wrapper(self, compute)

    def __call__(self, source: str) -> T:
        with self._lock:
            if source in self._entries:
                self._entries.move_to_end(source)
                return self._entries[source]
        value = self._compute(source)
        size = len(source) + 64
        if size * 10 > self._max:
            return value
        with self._lock:
            if source not in self._entries:
                self._entries[source] = value
                self._bytes += size
                while self._bytes > self._max:
                    old, _ = self._entries.popitem(last=False)
                    self._bytes -= len(old) + 64
        return value

    @property
    def bytes(self) -> int:
        """The source bytes kept now (for tests and metrics)."""
        return self._bytes

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()
            self._bytes = 0


def source_cache(max_bytes: int) -> Callable[[Callable[[str], T]], SourceCache[T]]:
    """Decorator form: `@source_cache(8 << 20)` over a function of one source string."""
    return lambda compute: SourceCache(compute, max_bytes)
