"""trainer/farm.py: many groups in flight at once, pickling, and groups the farm could not answer.

Concurrency is shown by a Gate in front of the real pool (tests/trainer/gate.py): it lets no job
run until the expected number are waiting together, which only a client with every group in
flight can reach. No assertion depends on elapsed time.
"""

import asyncio
import pickle

import pytest

from executor import InvalidJob, Verdict
from tests.cluster.procs import free_port
from trainer.farm import EmbeddedFarm, Group, RemoteFarm, open_farm, read_tests, score_groups, shared_farm

from .conftest import groups_of_two


def _rates(results):
    return [[r.pass_rate for r in group] for group in results]


def test_embedded_farm_has_every_group_in_flight(gated_farm):
    farm, gate = gated_farm
    gate.reset(expect=16)
    groups = groups_of_two(8, "emb")
    results = farm.score_groups(groups)
    assert _rates(results) == [[1.0, 0.0]] * 8
    assert [r.id for r in results[3]] == ["t/emb3/0", "t/emb3/1"]
    assert gate.most_waiting == 16  # all 8 groups x 2 programs waited together before any ran


def test_the_gate_tells_groups_sent_one_after_another(gated_farm):
    farm, gate = gated_farm
    gate.reset(expect=4, patience=0.5)  # never full: each group is let go on its own
    for group in groups_of_two(2, "seq"):
        assert _rates(farm.score_groups([group])) == [[1.0, 0.0]]
    assert gate.most_waiting == 2


def test_embedded_farm_async_has_every_group_in_flight(gated_farm):
    farm, gate = gated_farm
    gate.reset(expect=16)
    results = asyncio.run(farm.ascore_groups(groups_of_two(8, "aemb")))
    assert _rates(results) == [[1.0, 0.0]] * 8 and gate.most_waiting == 16


def test_remote_farm_has_every_group_in_flight(gated_server):
    port, gate = gated_server
    farm = RemoteFarm(f"127.0.0.1:{port}")
    try:
        gate.reset(expect=16)
        assert _rates(farm.score_groups(groups_of_two(8, "rem"))) == [[1.0, 0.0]] * 8
        assert gate.most_waiting == 16  # 8 Score calls on the server at once

        gate.reset(expect=16)
        assert _rates(asyncio.run(farm.ascore_groups(groups_of_two(8, "arem")))) == [[1.0, 0.0]] * 8
        assert gate.most_waiting == 16
        # a second event loop gets its own asyncio channel
        gate.reset(expect=2)
        assert _rates(asyncio.run(farm.ascore_groups(groups_of_two(1, "loop2")))) == [[1.0, 0.0]]
    finally:
        farm.close()


def test_remote_farm_pickles_as_its_address_and_reconnects(gated_server):
    port, gate = gated_server
    gate.reset(expect=1)
    farm = RemoteFarm(f"127.0.0.1:{port}", token=None, timeout_s=120, retries=2)
    try:
        assert _rates(farm.score_groups(groups_of_two(2, "pk"))) == [[1.0, 0.0]] * 2  # connected, threads made
        copy = pickle.loads(pickle.dumps(farm))
        assert (copy.target, copy.timeout_s, copy.retries) == (farm.target, 120, 2)
        assert copy._client is None and copy._threads is None  # nothing live travelled
        assert _rates(copy.score_groups(groups_of_two(2, "pk2"))) == [[1.0, 0.0]] * 2
        assert [r.pass_rate for r in copy.score(["def f(x):\n    return x + 1\n"], ["assert f(1) == 2"], "one")] == [
            1.0
        ]
        copy.close()
    finally:
        farm.close()


def test_embedded_farm_refuses_pickling_with_a_way_out(embedded_farm):
    with pytest.raises(TypeError, match=r"EmbeddedFarm cannot be pickled.*acefarm serve.*RemoteFarm"):
        pickle.dumps(embedded_farm)


def test_a_farm_that_does_not_answer_gives_infra_error_results():
    farm = RemoteFarm(f"127.0.0.1:{free_port()}", retries=1)  # nothing listens there
    try:
        groups = groups_of_two(2, "down")
        for results in (farm.score_groups(groups), asyncio.run(farm.ascore_groups(groups))):
            assert [[r.verdict for r in g] for g in results] == [[Verdict.INFRA_ERROR] * 2] * 2
            assert all(r.total == 2 for g in results for r in g)
            assert "UNAVAILABLE" in results[0][0].message
            assert [r.id for r in results[1]] == ["t/down1/0", "t/down1/1"]
    finally:
        farm.close()


def test_a_deadline_passed_is_an_infra_error(gated_server):
    port, gate = gated_server
    gate.reset(expect=1)
    farm = RemoteFarm(f"127.0.0.1:{port}", timeout_s=0.5, retries=0)
    try:
        slow = Group(["import time\ntime.sleep(3)\ndef f(x):\n    return x\n"], ["assert f(1) == 1"], "slow")
        (results,) = farm.score_groups([slow])
        assert results[0].verdict is Verdict.INFRA_ERROR and "DEADLINE_EXCEEDED" in results[0].message
    finally:
        farm.close()


def test_a_bad_request_is_raised_not_hidden(gated_server, embedded_farm):
    port, gate = gated_server
    gate.reset(expect=1)
    farm = RemoteFarm(f"127.0.0.1:{port}")
    bad = Group(["x = 1"], [{"call": "f"}], "bad")  # a call test without args/expected
    try:
        with pytest.raises(InvalidJob):
            farm.score_groups([bad, *groups_of_two(1, "bad")])
    finally:
        farm.close()
    with pytest.raises(InvalidJob):
        embedded_farm.score_groups([bad])


def test_score_groups_helper_takes_a_farm_with_score_only(embedded_farm):
    class Minimal:
        def score(self, programs, tests, group_id):
            return embedded_farm.score(programs, tests, group_id)

    assert _rates(score_groups(Minimal(), groups_of_two(2, "min"))) == [[1.0, 0.0]] * 2


def test_read_tests_reads_json_text_and_leaves_the_rest():
    assert read_tests('["assert f() == 1"]') == ["assert f() == 1"]
    assert read_tests('{"inputs": ["1\\n"], "outputs": ["1\\n"]}') == {"inputs": ["1\n"], "outputs": ["1\n"]}
    assert read_tests(("a", "b")) == ["a", "b"]
    assert read_tests("assert f() == 1") == "assert f() == 1"  # not JSON: the farm names the problem


def test_open_and_shared_farms():
    remote = open_farm("127.0.0.1:1", timeout_s=5)
    assert isinstance(remote, RemoteFarm) and remote.timeout_s == 5
    remote.close()
    a = shared_farm("127.0.0.1:2", "tok", None, 30.0)
    assert shared_farm("127.0.0.1:2", "tok", None, 30.0) is a and shared_farm("127.0.0.1:2", "other") is not a
    assert not isinstance(a, EmbeddedFarm)


def test_a_group_larger_than_one_call_goes_in_several(tmp_path, monkeypatch):
    # Best-of-N with N past the server's --max-batch-jobs: scored whole, in order, as an
    # embedded farm scores it (one Score call refused it: INVALID_ARGUMENT for the batch).
    from tests.cluster.procs import start_server
    from trainer import farm as farm_module

    monkeypatch.setattr(farm_module, "GROUP_CALL_MAX", 3)
    assert [len(p) for p in farm_module._pieces(["x" * 10] * 7)] == [3, 3, 1]
    monkeypatch.setattr(farm_module, "GROUP_CALL_BYTES", 25)  # and by their text's size
    assert [len(p) for p in farm_module._pieces(["x" * 10] * 7)] == [2, 2, 2, 1]
    proc, port = start_server(tmp_path, "--workers", "1", "--max-batch-jobs", "3")
    farm = RemoteFarm(f"127.0.0.1:{port}")
    try:
        programs = [f"def f():\n    return {i % 2}\n" for i in range(7)]
        group = Group(programs, ["assert f() == 1"], "big")
        for results in (farm.score_groups([group])[0], asyncio.run(farm.ascore_groups([group]))[0]):
            assert [r.pass_rate for r in results] == [0.0, 1.0, 0.0, 1.0, 0.0, 1.0, 0.0]
    finally:
        farm.close()
        proc.kill()
