"""broker/pace.py: the lead a cluster dispatcher keeps ahead of its workers."""

from __future__ import annotations

from broker.pace import FOLD_AFTER, Pace, to_send


def answers(pace: Pace, start: float, gap_s: float, n: int, busy: bool = True) -> float:
    t = start
    for _ in range(n):
        pace.answered(t, busy)
        t += gap_s
    return t


def test_small_chunks_ahead_until_the_rate_is_known() -> None:
    pace = Pace()
    assert pace.rate is None
    assert pace.window(2, 8, 64) == 32
    assert pace.window(0, 8, 64) == 16  # no worker yet: as for one slot


def test_the_rate_is_answers_per_busy_second_and_sets_half_a_second_ahead() -> None:
    pace = Pace()
    answers(pace, 100.0, 0.01, FOLD_AFTER + 1)  # 100 answers a second: folded at once
    assert pace.rate is not None and abs(pace.rate - 100) < 1e-6
    assert pace.window(2, 8, 64) == 50


def test_the_window_stays_within_two_jobs_and_two_largest_chunks_a_slot() -> None:
    slow, fast = Pace(), Pace()
    answers(slow, 0.0, 1.0, FOLD_AFTER + 1)  # 1 a second: 0.5 ahead, at least 2 a slot
    answers(fast, 0.0, 0.0001, FOLD_AFTER + 1)  # 10,000 a second: 5,000 ahead, at most 128 a slot
    assert slow.window(3, 8, 64) == 6
    assert fast.window(3, 8, 64) == 384


def test_idle_time_and_a_bursts_tail_are_not_counted() -> None:
    pace = Pace()
    t = answers(pace, 0.0, 0.01, 10)  # a busy stretch: 9 gaps of 10 ms
    pace.answered(t, False)  # the tail: fewer jobs in flight than slots
    t = answers(pace, t + 30.0, 0.01, 10)  # 30 s idle, then busy again: that gap is not a busy one
    assert pace.fold(least=1)
    assert pace.rate is not None and abs(pace.rate - 100) < 1e-6


def test_a_slower_pace_is_taken_at_once_a_faster_one_as_a_running_average() -> None:
    pace = Pace()
    t = answers(pace, 0.0, 0.01, FOLD_AFTER + 1)
    t = answers(pace, t, 0.1, FOLD_AFTER + 1)  # the jobs got 10x slower
    assert pace.rate is not None and 10 <= pace.rate < 11  # (one gap of the quick stretch in it)
    answers(pace, t, 0.01, FOLD_AFTER + 1)  # and quick again: halfway there
    assert 30 < pace.rate < 70


def test_a_fold_needs_enough_answers() -> None:
    pace = Pace()
    answers(pace, 0.0, 0.01, 3)  # 2 busy gaps
    assert not pace.fold(least=4) and pace.rate is None
    assert pace.fold(least=2) and pace.rate is not None


def test_to_send_waits_for_room_for_a_chunk_and_takes_what_the_room_holds() -> None:
    assert to_send(64, 0, 100, 8, 64) == 64
    assert to_send(64, 60, 100, 8, 64) == 0  # room for 4: wait for a chunk's worth
    assert to_send(64, 56, 100, 8, 64) == 8
    assert to_send(64, 60, 3, 8, 64) == 3  # all that waits fits
    assert to_send(300, 0, 1000, 8, 64) == 64  # a largest chunk at a time
    assert to_send(64, 0, 0, 8, 64) == 0
    assert to_send(64, 70, 10, 8, 64) == 0  # past the window (it shrank)


def test_to_send_never_waits_for_more_room_than_the_window_has() -> None:
    """A window smaller than a smallest chunk (slow jobs on few slots) sends as half of it
    opens: waiting for room for a chunk of 8 in a window of 4 would wait for ever."""
    assert to_send(4, 0, 8, 8, 64) == 4
    assert to_send(4, 2, 8, 8, 64) == 2
    assert to_send(4, 3, 8, 8, 64) == 0
    assert to_send(1, 0, 8, 8, 64) == 1
