"""FairQueue: round robin across flows, in order within each, stop markers last."""

from __future__ import annotations

import queue
import threading
import time

import pytest

from executor.fair import FairQueue


def drain(q: FairQueue[str]) -> list[str]:
    out = []
    while True:
        try:
            out.append(q.get_nowait())
        except queue.Empty:
            return out


def test_one_flow_is_first_in_first_out() -> None:
    q: FairQueue[str] = FairQueue()
    for i in range(5):
        q.put(f"a{i}", "a")
    assert drain(q) == ["a0", "a1", "a2", "a3", "a4"]


def test_flows_take_turns_and_a_late_flow_waits_one_turn_not_a_burst() -> None:
    q: FairQueue[str] = FairQueue()
    for i in range(1000):
        q.put(f"big{i}", "big")
    for i in range(3):
        q.put(f"small{i}", "small")
    out = drain(q)
    assert out[:6] == ["big0", "small0", "big1", "small1", "big2", "small2"]
    assert out[6:] == [f"big{i}" for i in range(3, 1000)]


def test_a_flow_that_empties_and_comes_back_joins_the_back_of_the_turn() -> None:
    q: FairQueue[str] = FairQueue()
    q.put("a0", "a")
    q.put("b0", "b")
    q.put("b1", "b")
    assert q.get() == "a0"
    q.put("a1", "a")  # a's line was empty: it queues behind b
    q.put("c0", "c")
    assert drain(q) == ["b0", "a1", "c0", "b1"]


def test_put_last_waits_for_every_flow_even_later_ones() -> None:
    q: FairQueue[str] = FairQueue()
    q.put("a0", "a")
    q.put_last("stop")
    q.put("b0", "b")
    assert q.qsize() == 3
    assert drain(q) == ["a0", "b0", "stop"]
    assert q.qsize() == 0


def test_none_is_a_flow_like_any_other() -> None:
    q: FairQueue[str] = FairQueue()
    q.put("x0")
    q.put("x1")
    q.put("y0", "y")
    assert drain(q) == ["x0", "y0", "x1"]


def test_get_blocks_until_put_and_times_out_empty() -> None:
    q: FairQueue[str] = FairQueue()
    with pytest.raises(queue.Empty):
        q.get(timeout=0.05)
    got: list[str] = []
    t = threading.Thread(target=lambda: got.append(q.get()))
    t.start()
    time.sleep(0.05)
    assert not got
    q.put("late", "z")
    t.join(timeout=5)
    assert got == ["late"]


def test_many_threads_take_each_item_once() -> None:
    q: FairQueue[int] = FairQueue()
    for i in range(4000):
        q.put(i, i % 7)
    taken: list[int] = []
    lock = threading.Lock()

    def take() -> None:
        while True:
            try:
                item = q.get(timeout=0.1)
            except queue.Empty:
                return
            with lock:
                taken.append(item)

    threads = [threading.Thread(target=take) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(taken) == list(range(4000))
    assert q.qsize() == 0 and q.flows() == 0


def test_sweep_drops_dead_items_anywhere_and_keeps_the_turns() -> None:
    gone = {"b0", "b1", "b2", "a1"}
    dropped: list[str] = []
    q: FairQueue[str] = FairQueue(live=lambda item: item not in gone, on_drop=dropped.append)
    for flow in "abc":
        for i in range(3):
            q.put(f"{flow}{i}", flow)
    assert q.sweep() == 4 and sorted(dropped) == sorted(gone)
    assert q.qsize() == 5 and q.flows() == 2
    assert drain(q) == ["a0", "c0", "a2", "c1", "c2"]


def test_flows_counts_only_flows_with_a_live_item() -> None:
    q: FairQueue[str] = FairQueue(live=lambda item: "gone" not in item)
    q.put("a0", "a")
    q.put("a1", "a")
    q.put("gone0", "b")
    q.put("gone1", "b")
    q.put("c0", "c")
    q.put("c1:gone", "c")
    assert q.flows() == 2  # b has nothing live left
    q.put_last("stop")
    assert q.flows() == 2  # items put last are no flow's


def test_dead_items_take_no_turn_and_are_dropped_when_they_reach_the_head() -> None:
    """A client whose request was cancelled sends another: its new jobs take the next turn,
    not one turn per cancelled job ahead of them."""
    cancelled: set[str] = set()
    dropped: list[str] = []
    q: FairQueue[str] = FairQueue(live=lambda item: item not in cancelled, on_drop=dropped.append)
    for i in range(100):
        q.put(f"batch{i}", "batch")
    for i in range(50):
        q.put(f"old{i}", "trainer")
    cancelled.update(f"old{i}" for i in range(50))  # its deadline passed
    q.put("new0", "trainer")
    q.put("new1", "trainer")
    assert [q.get_nowait() for _ in range(4)] == ["batch0", "new0", "batch1", "new1"]
    assert dropped == [f"old{i}" for i in range(50)]  # all at once, at the trainer's first turn
    assert q.qsize() == 98


def test_a_queue_of_dead_items_only_is_empty() -> None:
    dropped: list[str] = []
    q: FairQueue[str] = FairQueue(live=lambda item: False, on_drop=dropped.append)
    q.put("a", "x")
    q.put("b", "y")
    with pytest.raises(queue.Empty):
        q.get(timeout=0.05)
    assert sorted(dropped) == ["a", "b"] and q.qsize() == 0 and q.flows() == 0
    q.put_last("stop")  # what is put last is never judged dead
    assert q.get_nowait() == "stop"
