"""trainer/rewards.py: trl's FarmReward and AsyncFarmReward against real farms.

Concurrency is shown with the Gate of tests/trainer/gate.py (no timing); infra errors are real
ones: a test the farm cannot judge within the job's limits, a server that was stopped.
"""

import asyncio
import multiprocessing
import pickle

import pytest

from tests.cluster.procs import start_server
from trainer.farm import RemoteFarm
from trainer.rewards import AsyncFarmReward, FarmReward

NOT_JUDGEABLE = ['assert f(1) == "x" * 10 ** 11']  # the test's own text exceeds the job's memory


def batch(n_groups: int, tag: str):
    """A trl batch: each prompt repeated twice (2 generations), a right and a wrong completion."""
    prompts, completions, tests = [], [], []
    for g in range(n_groups):
        suite = [f"assert f({g}) == {g + 1}", f"assert f(-{g}) == {1 - g}"]
        right = f"```python\ndef f(x):\n    return x + 1  # {tag}{g}\n```"
        wrong = [{"role": "assistant", "content": f"def f(x):\n    return x  # {tag}{g}\n"}]
        prompts += [f"p{g}", f"p{g}"]
        completions += [right, wrong]
        tests += [suite, suite]
    return prompts, completions, tests


class TrlLog:
    """What trl hands a reward function to log with (`log_metric`, `log_extra`)."""

    def __init__(self):
        self.metrics, self.extra = [], []

    def kwargs(self):
        return {
            "log_metric": lambda name, value: self.metrics.append((name, value)),
            "log_extra": lambda column, values: self.extra.append((column, list(values))),
            "trainer_state": object(),
            "completion_ids": [[1, 2]],
        }


def test_every_group_of_a_batch_is_in_flight_at_once(gated_farm):
    farm, gate = gated_farm
    gate.reset(expect=16)
    prompts, completions, tests = batch(8, "trl")
    log = TrlLog()
    reward = FarmReward(farm)
    assert reward(prompts, completions, test_cases=tests, **log.kwargs()) == [1.0, 0.0] * 8
    assert gate.most_waiting == 16
    assert reward.calls == 1 and reward.scored == 16 and reward.infra_errors == 0
    assert log.metrics == [("farm_pass_rate/infra_errors", 0.0)]
    assert log.extra == [("farm_pass_rate/verdict", ["passed", "failed"] * 8)]


def test_async_twin_through_a_server(gated_server):
    port, gate = gated_server
    gate.reset(expect=16)
    prompts, completions, tests = batch(8, "async")
    reward = AsyncFarmReward(f"127.0.0.1:{port}", binary=True)
    log = TrlLog()
    got = asyncio.run(reward(prompts, completions, test_cases=tests, **log.kwargs()))
    assert got == [1.0, 0.0] * 8 and gate.most_waiting == 16
    assert reward.__name__ == "farm_binary" and log.metrics == [("farm_binary/infra_errors", 0.0)]
    reward.farm.close()


def test_trl_sees_the_twin_as_async_and_the_reward_as_sync(embedded_farm):
    utils = pytest.importorskip("trl.trainer.utils")
    assert utils.is_async_callable(AsyncFarmReward(embedded_farm))
    assert not utils.is_async_callable(FarmReward(embedded_farm))
    assert utils.get_callable_name(FarmReward(embedded_farm, binary=True)) == "farm_binary"


def test_groups_are_found_wherever_their_completions_sit(embedded_farm):
    a = ["assert f(1) == 2"]
    b = '["assert f(1) == 3"]'  # a JSON string column, as datasets often hold
    plus1, plus2 = "def f(x):\n    return x + 1\n", "def f(x):\n    return x + 2\n"
    reward = FarmReward(embedded_farm)
    got = reward(["p"] * 4, [plus1, plus2, plus2, plus1], test_cases=[a, b, a, '["assert f(1) == 3"]'])
    assert got == [1.0, 1.0, 0.0, 0.0]


def test_a_sample_the_farm_cannot_judge_gets_none_and_is_reported(embedded_farm):
    prompts, completions, tests = batch(2, "nj")
    tests[2] = tests[3] = NOT_JUDGEABLE  # the second group cannot be judged by any farm
    log = TrlLog()
    reward = FarmReward(embedded_farm)
    assert reward(prompts, completions, test_cases=tests, **log.kwargs()) == [1.0, 0.0, None, None]
    assert reward.infra_errors == 2 and log.metrics == [("farm_pass_rate/infra_errors", 2.0)]
    assert log.extra[0][1] == ["passed", "failed", "infra_error", "infra_error"]
    assert asyncio.run(AsyncFarmReward(embedded_farm)(prompts, completions, test_cases=tests)) == [
        1.0,
        0.0,
        None,
        None,
    ]


def test_a_stopped_server_gives_none_never_zero(tmp_path):
    proc, port = start_server(tmp_path, "--workers", "1")
    reward = FarmReward(RemoteFarm(f"127.0.0.1:{port}", retries=1))
    areward = AsyncFarmReward(RemoteFarm(f"127.0.0.1:{port}", retries=1))
    prompts, completions, tests = batch(2, "stop")
    try:
        assert reward(prompts, completions, test_cases=tests) == [1.0, 0.0] * 2
    finally:
        proc.kill()
    log = TrlLog()
    assert reward(prompts, completions, test_cases=tests, **log.kwargs()) == [None] * 4
    assert log.metrics == [("farm_pass_rate/infra_errors", 4.0)] and reward.infra_errors == 4
    assert asyncio.run(areward(prompts, completions, test_cases=tests)) == [None] * 4
    reward.farm.close()


def _score_in_child(blob, prompts, completions, tests, out):
    reward = pickle.loads(blob)
    out.put(reward(prompts, completions, test_cases=tests))


def test_pickle_round_trips_and_a_spawned_process(gated_server):
    port, gate = gated_server
    gate.reset(expect=1)
    prompts, completions, tests = batch(2, "pickle")
    reward = FarmReward(f"127.0.0.1:{port}", token=None)
    assert reward(prompts, completions, test_cases=tests) == [1.0, 0.0] * 2  # connected first
    blob = pickle.dumps(reward)
    copy = pickle.loads(blob)
    assert copy(prompts, completions, test_cases=tests) == [1.0, 0.0] * 2
    assert copy.farm.target == reward.farm.target and copy.farm.timeout_s == 300.0
    again = pickle.loads(pickle.dumps(copy))
    assert again.calls == copy.calls and again.binary is False
    acopy = pickle.loads(pickle.dumps(AsyncFarmReward(f"127.0.0.1:{port}")))
    assert asyncio.run(acopy(prompts, completions, test_cases=tests)) == [1.0, 0.0] * 2
    # trl's async GRPO scores in a spawned process, from a pickle of the reward function
    ctx = multiprocessing.get_context("spawn")
    out = ctx.Queue()
    child = ctx.Process(target=_score_in_child, args=(blob, prompts, completions, tests, out))
    child.start()
    try:
        assert out.get(timeout=120) == [1.0, 0.0] * 2
    finally:
        child.join(timeout=30)
    assert child.exitcode == 0
    for r in (reward, copy, again, acopy):
        r.farm.close()


def test_a_reward_on_an_embedded_farm_says_why_it_cannot_pickle(embedded_farm):
    with pytest.raises(TypeError, match="EmbeddedFarm cannot be pickled"):
        pickle.dumps(FarmReward(embedded_farm))


def test_a_missing_tests_column_is_named(embedded_farm):
    with pytest.raises(KeyError, match="tests"):
        FarmReward(embedded_farm, tests_column="tests")(["p"], ["x"], test_cases=[["assert True"]])


def test_rows_without_tests_get_none_and_a_malformed_row_is_named(embedded_farm, caplog):
    # A mixed math + code dataset: trl's "not applicable" is None; it is not an infra error.
    log = TrlLog()
    reward = FarmReward(embedded_farm)
    code = "def f(x):\n    return x + 1\n"
    rows = [["assert f(1) == 2"], None, [], "", {"inputs": [], "outputs": [], "fn_name": "f"}]
    assert reward(["p"] * 5, [code] * 5, test_cases=rows, **log.kwargs()) == [1.0, None, None, None, None]
    assert reward.infra_errors == 0 and log.metrics == [("farm_pass_rate/infra_errors", 0.0)]
    assert log.extra[0][1] == ["passed", "no_tests", "no_tests", "no_tests", "no_tests"]
    # A row whose tests the farm cannot take is named in the log; its reward is None, and the
    # batch's other rows are scored (one bad row must not stop a training run).
    log = TrlLog()
    with caplog.at_level("WARNING", logger="acefarm.trl"):
        got = reward(["p"] * 2, [code] * 2, test_cases=[["assert f(1) == 2"], [{"stdin": 3}]], **log.kwargs())
    assert got == [1.0, None] and log.extra[0][1] == ["passed", "invalid_tests"]
    assert "test_cases[1].tests" in caplog.text


def test_chat_completions_with_content_parts(embedded_farm):
    code = "```python\ndef f(x):\n    return x + 1\n```"
    parts = [{"role": "assistant", "content": [{"type": "text", "text": "Here:\n"}, {"type": "text", "text": code}]}]
    plain = [{"role": "assistant", "content": code}]
    assert FarmReward(embedded_farm)(["p"] * 2, [parts, plain], test_cases=[["assert f(1) == 2"]] * 2) == [1.0, 1.0]


def test_numpy_values_a_dataframe_leaves_in_a_row_are_plain_values(embedded_farm):
    # pandas and Parquet readers leave numpy numbers and arrays inside rows: they are the values
    # they hold (CPython and APPS say 4 == np.int64(4)), never "no result".
    np = pytest.importorskip("numpy")
    code = "def f(a):\n    return a + 1\ndef g(xs):\n    return sum(xs)\n"
    rows = [
        [{"call": "f", "args": [3], "expected": np.int64(4)}],
        [{"call": "f", "args": [np.int64(3)], "expected": 4}],
        [{"call": "g", "args": [np.array([1, 2])], "expected": np.float64(3.0)}],
        {"inputs": np.array([[3]]), "outputs": np.array([4]), "fn_name": "f"},
    ]
    assert FarmReward(embedded_farm)(["p"] * 4, [code] * 4, test_cases=rows) == [1.0, 1.0, 1.0, 1.0]


def test_a_completion_models_body_is_scored_with_its_prompt(embedded_farm):
    # trl's completion (non-chat) format: prompts are text, completions continue them.
    prompt = 'def add(a, b):\n    """Return a + b."""\n'
    check = "def check(candidate):\n    assert candidate(1, 2) == 3\ncheck(add)"
    reward = FarmReward(embedded_farm)
    assert reward([prompt] * 2, ["    return a + b\n", "    return a - b\n"], test_cases=[[check]] * 2) == [1.0, 0.0]
