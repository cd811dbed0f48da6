"""broker/chunks.py's chunk_size: how a backlog is cut into chunks (pure; the cluster test of
the burst, tests/cluster/test_cluster.py, sees the same through a real dispatcher)."""

from __future__ import annotations

from broker.chunks import chunk_size


def burst(jobs: int, slots: int, take: int = 64, smallest: int = 8, largest: int = 64) -> list[int]:
    """The chunks a sender cuts from `jobs` submitted at once, nothing answered meanwhile: it
    holds up to `take` at a time (one cache lookup), the rest wait behind them."""
    sizes: list[int] = []
    waiting, in_flight = jobs, 0
    while waiting:
        hand = min(take, waiting)
        waiting -= hand
        while hand:
            n = chunk_size(hand, waiting, in_flight, slots, smallest, largest)
            assert 1 <= n <= hand
            sizes.append(n)
            hand -= n
            in_flight += n
    return sizes


def test_a_burst_starts_small_goes_large_and_ends_small():
    assert burst(256, 2) == [8, 8, 48, 64, 64, 32, 16, 8, 8]
    assert burst(256, 2, take=256) == [8, 8, 60, 60, 60, 30, 15, 8, 7]
    sizes = burst(1024, 16)  # every slot's first chunk is small: all 16 start at once
    assert sizes[:16] == [8] * 16 and sum(sizes) == 1024 and max(sizes) <= 64 and sizes[-8:] == [8] * 8, sizes
    assert min(sizes) >= 7  # what is in hand goes in equal parts: no remnant of 1 or 2
    whole = burst(1024, 16, take=1024)  # all in hand: 896 left over 16 slots, then ever fewer
    assert whole[16] == 56 and whole[16:] == sorted(whole[16:], reverse=True), whole


def test_small_and_trickling_work_goes_as_it_is():
    assert chunk_size(1, 0, 0, 2, 8, 64) == 1  # one job: one chunk of one
    assert chunk_size(5, 0, 100, 2, 8, 64) == 5  # never more than is in hand
    assert chunk_size(64, 1000, 100, 2, 8, 64) == 64  # a large backlog: the largest
    assert chunk_size(64, 0, 100, 0, 8, 64) == 64  # no slot known yet: counted as one


def test_once_every_slot_has_work_the_backlog_is_split_over_the_slots():
    assert chunk_size(64, 0, 16, 2, 8, 64) == 32
    assert chunk_size(64, 0, 15, 2, 8, 64) == 8  # one slot may still be idle
    assert chunk_size(10, 0, 16, 4, 8, 64) == 8  # never below the smallest while there is more
