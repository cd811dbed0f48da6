"""How a long-running farm process gives memory back (glibc's malloc settings).

A server reads requests of megabytes (a `Score` suite, a batch) on many threads. By default
glibc raises its mmap threshold each time a large block is freed, so that later large blocks
come from the heap, where freed memory is rarely returned, and it keeps up to 8 heaps per
core for threads: a 2 MB request left the server megabytes larger each time. A fixed
threshold (large blocks always mmapped, unmapped when freed) and few heaps keep a process's
resident memory near what it holds.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import logging

log = logging.getLogger(__name__)

_M_MMAP_THRESHOLD = -3
_M_ARENA_MAX = -8
MMAP_THRESHOLD = 128 * 1024
ARENA_MAX = 2


def give_back_large_blocks() -> bool:
    """Apply the settings above to this process (glibc only; elsewhere a no-op). Returns
    whether they took."""
    name = ctypes.util.find_library("c")
    if not name:
        return False
    try:
        libc = ctypes.CDLL(name)
        mallopt = libc.mallopt
    except (OSError, AttributeError):
        return False
    ok = bool(mallopt(_M_MMAP_THRESHOLD, MMAP_THRESHOLD)) and bool(mallopt(_M_ARENA_MAX, ARENA_MAX))
    if not ok:
        log.info("malloc settings not applied (not glibc?)")
    return ok
