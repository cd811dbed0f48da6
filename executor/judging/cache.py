"""A least-recently-used cache bounded by the bytes of its keys, for plans of test text.

A GRPO group's samples share one suite, so plans are worth keeping; but a bound on entries
alone lets 60 distinct 1 MiB tests keep 177 MB of syntax trees. Each entry is charged the
size of the source it was made from (a plan's trees grow with it); sources larger than a
tenth of the budget are computed every time, never kept - unless what is computed is small
whatever the source (the names a test binds): then a source up to half the budget is kept,
and a test of 1 MiB repeated across a question's samples is parsed once.
"""

from __future__ import annotations

import functools
import threading
from collections import OrderedDict
from collections.abc import Callable
from typing import Generic, TypeVar

K = TypeVar("K")
T = TypeVar("T")


class BoundedLRU(Generic[K, T]):
    """Values by key, least recently used first out, while the sizes their owners give them
    total at most `max_bytes` (the newest entry is kept whatever its size). Thread-safe."""

    def __init__(self, max_bytes: int) -> None:
        self.max_bytes = max_bytes
        self._entries: OrderedDict[K, tuple[T, int]] = OrderedDict()
        self._bytes = 0
        self._lock = threading.Lock()

    def get(self, key: K) -> tuple[T] | None:
        """`(value,)` when `key` is kept (now the most recently used), else None."""
        with self._lock:
            hit = self._entries.get(key)
            if hit is None:
                return None
            self._entries.move_to_end(key)
            return (hit[0],)

    def put(self, key: K, value: T, size: int) -> None:
        """Keep `value` under `key`, charged `size`; the oldest entries go past the bound."""
        with self._lock:
            old = self._entries.pop(key, None)
            if old is not None:
                self._bytes -= old[1]
            self._entries[key] = (value, size)
            self._bytes += size
            while self._bytes > self.max_bytes and len(self._entries) > 1:
                _, (_, gone) = self._entries.popitem(last=False)
                self._bytes -= gone

    def __contains__(self, key: object) -> bool:
        return key in self._entries

    @property
    def bytes(self) -> int:
        """The bytes kept now (for tests and metrics)."""
        return self._bytes

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()
            self._bytes = 0


class SourceCache(Generic[T]):
    """`cache(source)` is `compute(source)`, kept while the sources kept total `max_bytes`."""

    def __init__(self, compute: Callable[[str], T], max_bytes: int, small_values: bool = False) -> None:
        self._compute = compute
        self._kept: BoundedLRU[str, T] = BoundedLRU(max_bytes)
        self._largest = max_bytes // 2 if small_values else max_bytes // 10
        functools.update_wrapper(self, compute)

    def __call__(self, source: str) -> T:
        hit = self._kept.get(source)
        if hit is not None:
            return hit[0]
        value = self._compute(source)
        size = len(source) + 64
        if size <= self._largest:  # larger ones are computed every time
            self._kept.put(source, value, size)
        return value

    @property
    def bytes(self) -> int:
        """The source bytes kept now (for tests and metrics)."""
        return self._kept.bytes

    def clear(self) -> None:
        self._kept.clear()


def source_cache(max_bytes: int, small_values: bool = False) -> Callable[[Callable[[str], T]], SourceCache[T]]:
    """Decorator form: `@source_cache(8 << 20)` over a function of one source string."""
    return lambda compute: SourceCache(compute, max_bytes, small_values)
