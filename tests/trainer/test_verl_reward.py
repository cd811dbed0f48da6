"""trainer/verl_reward.py: verl's three call forms, its loader, and the on_infra_error policies.

The farm is a real gRPC server over a real pool (conftest.py), named in reward_kwargs as verl
passes them. verl's own loader (`verl/trainer/ppo/reward.py: get_custom_reward_fn`, with
`verl.utils.import_utils.load_extern_object`) is used where verl is installed (`pip install
--no-deps verl`: its package parents are stubbed, since importing verl pulls in ray and
torch); its five loading lines are replicated otherwise, and both load the file by path.
"""

import asyncio
import importlib.util
import inspect
import json
import logging
import os
import pathlib
import subprocess
import sys

import pytest

from broker.errors import FarmUnavailable
from executor import InvalidJob
from tests.cluster.procs import free_port
from trainer.verl_reward import compute_score, compute_score_async, compute_score_batch

ROOT = pathlib.Path(__file__).resolve().parents[2]
TESTS = ["assert f(1) == 2", "assert f(2) == 4"]
DOUBLE = "```python\ndef f(x):\n    return 2 * x\n```"
PLUS1 = "def f(x):\n    return x + 1\n"
NOT_JUDGEABLE = ['assert f(1) == "x" * 10 ** 11']
# verl installed in the environment, or where `make setup` puts the RL clients (--no-deps).
_VERL_SPEC = importlib.util.find_spec("verl")
_CLIENTS_VERL = pathlib.Path(sys.prefix) / "clients" / "verl"
VERL = (
    os.path.dirname(_VERL_SPEC.origin)
    if _VERL_SPEC is not None and _VERL_SPEC.origin
    else (str(_CLIENTS_VERL) if _CLIENTS_VERL.is_dir() else None)
)

# What verl's reward-loop managers add to every call besides reward_kwargs.
VERL_EXTRAS = {"reward_router_address": "127.0.0.1:1", "reward_model_tokenizer": object()}


def extra_info(**more):
    return {"index": 3, "num_turns": 2, "rollout_reward_scores": {}, **more}


@pytest.fixture
def farm_kwargs(gated_server):
    port, gate = gated_server
    gate.reset(expect=1)
    return {"farm_server": f"127.0.0.1:{port}"}, gate


def test_single_form_by_keyword_with_verls_extras(farm_kwargs):
    kw, _ = farm_kwargs
    got = compute_score(
        data_source="acecode", solution_str=DOUBLE, ground_truth=TESTS, extra_info=extra_info(), **kw, **VERL_EXTRAS
    )
    assert got == 1.0
    assert compute_score(data_source="x", solution_str=PLUS1, ground_truth=json.dumps(TESTS), **kw) == 0.5
    assert compute_score("x", PLUS1, TESTS, {"binary": True}, **kw) == 0.0  # positional, as the prime manager calls
    assert compute_score("x", DOUBLE, TESTS, None, binary=True, **kw) == 1.0


def test_batch_form_has_every_group_in_flight(farm_kwargs):
    kw, gate = farm_kwargs
    suites = [[f"assert f({g}) == {2 * g}", f"assert f({g + 1}) == {2 * g + 2}"] for g in range(8)]
    solutions = [s for g in range(8) for s in (DOUBLE + f"# {g}", PLUS1 + f"# {g}")]
    truths = [json.dumps(s) for s in suites for _ in range(2)]
    args = {
        "data_sources": ["acecode"] * 16,
        "solution_strs": solutions,
        "ground_truths": truths,
        "extra_infos": [extra_info()] * 16,
    }
    gate.reset(expect=16)
    by_name = compute_score(**args, **kw)  # verl's batch manager calls `compute_score` so
    assert gate.most_waiting == 16
    expected = [s for g in range(8) for s in (1.0, 0.5 if g in (0, 1) else 0.0)]
    assert by_name == expected
    gate.reset(expect=16)
    assert compute_score_batch(**args, **kw) == expected and gate.most_waiting == 16
    gate.reset(expect=16)
    assert asyncio.run(compute_score_async(**args, **kw)) == expected and gate.most_waiting == 16


def test_async_twin(farm_kwargs):
    kw, _ = farm_kwargs
    assert inspect.iscoroutinefunction(compute_score_async) and not inspect.iscoroutinefunction(compute_score)

    async def rollout_step():  # several samples awaited together on one loop, as verl's manager does
        return await asyncio.gather(
            compute_score_async(data_source="a", solution_str=DOUBLE, ground_truth=TESTS, extra_info={}, **kw),
            compute_score_async(data_source="a", solution_str=PLUS1, ground_truth=TESTS, **kw, **VERL_EXTRAS),
        )

    assert asyncio.run(rollout_step()) == [1.0, 0.5]


def test_policies_on_a_sample_the_farm_cannot_judge(farm_kwargs, caplog):
    kw, _ = farm_kwargs
    with caplog.at_level(logging.WARNING, logger="acefarm.verl"):
        assert compute_score("lcb", DOUBLE, NOT_JUDGEABLE, **kw) == 0.0
    assert "could not score a sample of 'lcb'" in caplog.text and "on_infra_error=zero" in caplog.text
    flagged = compute_score(
        data_sources=["a", "b"],
        solution_strs=[DOUBLE, DOUBLE],
        ground_truths=[TESTS, NOT_JUDGEABLE],
        **kw,
        on_infra_error="flag",
    )
    assert flagged == [{"score": 1.0, "infra_error": 0.0}, {"score": 0.0, "infra_error": 1.0}]  # one shape for all
    with pytest.raises(FarmUnavailable, match="could not score 1 sample"):
        compute_score("a", DOUBLE, NOT_JUDGEABLE, on_infra_error="raise", **kw)
    with pytest.raises(ValueError, match="on_infra_error must be one of"):
        compute_score("a", DOUBLE, TESTS, on_infra_error="ignore", **kw)


def test_policies_when_the_server_does_not_answer(caplog):
    kw = {"farm_server": f"127.0.0.1:{free_port()}", "farm_retries": 0}  # nothing listens there
    with caplog.at_level(logging.WARNING, logger="acefarm.verl"):
        assert compute_score("a", DOUBLE, TESTS, **kw) == 0.0
    assert "UNAVAILABLE" in caplog.text
    assert asyncio.run(compute_score_async("a", DOUBLE, TESTS, on_infra_error="flag", **kw)) == {
        "score": 0.0,
        "infra_error": 1.0,
    }
    with pytest.raises(FarmUnavailable):
        compute_score_batch(solution_strs=[DOUBLE], ground_truths=[TESTS], on_infra_error="raise", **kw)


def test_the_farm_comes_from_the_environment(farm_kwargs, monkeypatch):
    kw, gate = farm_kwargs
    monkeypatch.setenv("ACEFARM_SERVER", kw["farm_server"])
    before = gate.submitted
    assert compute_score("a", DOUBLE, TESTS) == 1.0
    assert gate.submitted == before + 1  # it went to that server


def test_missing_arguments_are_named():
    with pytest.raises(TypeError, match="solution_str and ground_truth"):
        compute_score("a")
    with pytest.raises(TypeError, match="ground_truths"):
        compute_score(solution_strs=[DOUBLE])
    with pytest.raises(ValueError, match="batch lengths differ"):
        compute_score_batch(solution_strs=[DOUBLE], ground_truths=[TESTS, TESTS], farm_server="127.0.0.1:1")


# -- loading the file the way verl does ---------------------------------------------------------

LOADER = r"""
import asyncio, importlib.util, inspect, json, os, sys, types

path, name, reward_kwargs, use_verl = sys.argv[1], sys.argv[2], json.loads(sys.argv[3]), sys.argv[4] == "1"
assert "trainer" not in sys.modules
if use_verl:  # verl's own loader; its package parents stubbed (importing verl needs ray, torch)
    site = os.environ["VERL_SITE"]
    for mod, sub, attrs in [("verl", "", {"DataProto": object}), ("verl.utils", "utils", {}),
                            ("verl.utils.reward_score", "utils/reward_score", {"get_default_compute_score": None})]:
        m = types.ModuleType(mod); m.__path__ = [os.path.join(site, sub)]; m.__dict__.update(attrs)
        sys.modules[mod] = m
    spec = importlib.util.spec_from_file_location("verl_ppo_reward", os.path.join(site, "trainer/ppo/reward.py"))
    ppo_reward = importlib.util.module_from_spec(spec); spec.loader.exec_module(ppo_reward)
    config = types.SimpleNamespace(reward={"custom_reward_function": {
        "path": path, "name": name, "reward_kwargs": reward_kwargs}})
    fn = ppo_reward.get_custom_reward_fn(config)
else:  # verl.utils.import_utils.load_module, replicated
    spec = importlib.util.spec_from_file_location(f"custom_module_{hash(os.path.abspath(path))}", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    raw = getattr(module, name)
    fn = (lambda *a, **k: raw(*a, **{**k, **reward_kwargs})) if not inspect.iscoroutinefunction(raw) else raw
assert not any(m.startswith("custom_module_") for m in sys.modules)  # verl does not register it

def call(**kw):
    if inspect.iscoroutinefunction(fn):
        return asyncio.run(fn(**kw) if use_verl else fn(**kw, **reward_kwargs))
    return fn(**kw)

tests = ["assert f(1) == 2", "assert f(2) == 4"]
single = call(data_source="acecode", solution_str="def f(x):\n    return 2 * x\n", ground_truth=tests,
              extra_info={"num_turns": 1})
batch = call(data_sources=["a", "a"], solution_strs=["def f(x):\n    return 2 * x\n", "def f(x):\n    return x + 1\n"],
             ground_truths=[tests, tests], extra_infos=[{}, {}])
print(json.dumps({"async": inspect.iscoroutinefunction(fn), "single": single, "batch": batch}))
"""


@pytest.mark.parametrize("use_verl", [True, False], ids=["verl-loader", "replica"])
@pytest.mark.parametrize(
    "file,name",
    [
        ("trainer/verl_reward.py", "compute_score"),
        ("trainer/verl_reward.py", "compute_score_async"),
        ("trainer/rewards.py", "compute_score"),
    ],
)
def test_loaded_by_path_as_verl_does(gated_server, tmp_path, file, name, use_verl):
    if use_verl and VERL is None:
        pytest.skip("verl is not installed (pip install --no-deps verl)")
    port, gate = gated_server
    gate.reset(expect=1)
    reward_kwargs = {"farm_server": f"127.0.0.1:{port}", "on_infra_error": "flag"}
    env = dict(os.environ, PYTHONPATH=str(ROOT), VERL_SITE=VERL or "")  # acefarm installed in the environment
    env.pop("ACEFARM_SERVER", None)
    proc = subprocess.run(
        [sys.executable, "-c", LOADER, str(ROOT / file), name, json.dumps(reward_kwargs), "1" if use_verl else "0"],
        cwd=tmp_path,  # not the repository: nothing relative to it can be found
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    out = json.loads(proc.stdout.strip().splitlines()[-1])
    assert out["async"] is (name == "compute_score_async")
    assert out["single"] == {"score": 1.0, "infra_error": 0.0}
    assert out["batch"] == [{"score": 1.0, "infra_error": 0.0}, {"score": 0.5, "infra_error": 0.0}]


def test_a_relative_import_would_fail_there(tmp_path):
    """The loader's premise: a file with relative imports cannot be loaded this way."""
    bad = tmp_path / "reward.py"
    bad.write_text("from .farm import shared_farm\n")
    spec = importlib.util.spec_from_file_location(f"custom_module_{hash(str(bad))}", bad)
    with pytest.raises(ImportError, match="no known parent package"):
        spec.loader.exec_module(importlib.util.module_from_spec(spec))


def test_a_sample_without_usable_tests_scores_zero_and_is_named(farm_kwargs, caplog):
    # A math row of a mixed set, or tests the farm cannot take: 0.0 for that sample (verl's own
    # prime_code scores it so) with a warning naming it, the batch's other samples scored.
    kw, _ = farm_kwargs
    good = {"inputs": ["1\n"], "outputs": ["1\n"]}
    bad = {"inputs": [], "outputs": []}
    with caplog.at_level("WARNING", logger="acefarm.verl"):
        scores = compute_score_batch(
            data_sources=["apps"] * 4,
            solution_strs=["print(input())"] * 4,
            ground_truths=[good, None, good, [{"stdin": 3}]],
            **kw,
        )
    assert scores == [1.0, 0.0, 1.0, 0.0]
    assert "2 sample(s) of this batch cannot be scored" in caplog.text and "sample 1 ('apps')" in caplog.text
    assert compute_score("apps", "print(input())", bad, **kw) == 0.0
    with pytest.raises(InvalidJob, match=r"ground_truth of sample 1"):  # the strict policy stops on it
        compute_score_batch(solution_strs=["x"] * 2, ground_truths=[good, [{"stdin": 3}]], on_infra_error="raise", **kw)
    flagged = compute_score_batch(solution_strs=["x"], ground_truths=[None], on_infra_error="flag", **kw)
    assert flagged == [{"score": 0.0, "infra_error": 0.0}]
    half = {"inputs": ["1\n", "2\n"], "outputs": ["1\n", "3\n"]}
    infos = [{"binary": "false"}, {"binary": "true"}]
    scores = compute_score_batch(
        solution_strs=["print(input())"] * 2, ground_truths=[half] * 2, extra_infos=infos, **kw
    )
    assert scores == [0.5, 0.0]
