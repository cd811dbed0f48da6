"""CPU smoke test of train-rm, train-rl and bon: a tiny random Llama built from a config, with a
BPE tokenizer trained here on the bundled examples. No downloads."""

import json
import math
import os
import pathlib
import subprocess
import sys

import pytest

pytest.importorskip("trl")

from trainer.farm import EmbeddedFarm
from trainer.rewards import FarmReward, compute_score
from trainer.train import train_rl

ROOT = pathlib.Path(__file__).resolve().parents[2]
EXAMPLES = ROOT / "trainer" / "examples"
pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def tiny_model(tmp_path_factory):
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers
    from transformers import LlamaConfig, LlamaForCausalLM, PreTrainedTokenizerFast

    rows = [json.loads(line) for line in (EXAMPLES / "acecode_sample.jsonl").read_text().splitlines()]
    corpus = [r["question"] for r in rows] + [i["completion"] for r in rows for i in r["inferences"]]
    tok = Tokenizer(models.BPE(unk_token="<unk>"))
    tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tok.decoder = decoders.ByteLevel()
    tok.train_from_iterator(
        corpus,
        trainers.BpeTrainer(
            vocab_size=400,
            special_tokens=["<unk>", "<pad>", "<s>", "</s>"],
            initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),
        ),
    )
    hf = PreTrainedTokenizerFast(
        tokenizer_object=tok, unk_token="<unk>", pad_token="<pad>", bos_token="<s>", eos_token="</s>"
    )
    hf.chat_template = (
        "{% for m in messages %}<s>{{ m['role'] }}: {{ m['content'] }}</s>{% endfor %}"
        "{% if add_generation_prompt %}<s>assistant: {% endif %}"
    )
    config = LlamaConfig(
        vocab_size=len(hf),
        hidden_size=32,
        intermediate_size=64,
        num_hidden_layers=2,
        num_attention_heads=2,
        num_key_value_heads=2,
        max_position_embeddings=512,
        pad_token_id=hf.pad_token_id,
        bos_token_id=hf.bos_token_id,
        eos_token_id=hf.eos_token_id,
    )
    path = tmp_path_factory.mktemp("tiny")
    LlamaForCausalLM(config).save_pretrained(path)
    hf.save_pretrained(path)
    return path


@pytest.fixture(scope="module")
def pairs_file(tmp_path_factory):
    out = tmp_path_factory.mktemp("pairs")
    cli = [sys.executable, "-m", "trainer.cli"]
    subprocess.run(
        [*cli, "score", str(EXAMPLES / "acecode_sample.jsonl"), "-o", str(out / "scored.jsonl")],
        check=True,
        capture_output=True,
        cwd=ROOT,
        timeout=300,
    )
    subprocess.run(
        [*cli, "pairs", str(out / "scored.jsonl"), "-o", str(out / "pairs.jsonl")],
        check=True,
        capture_output=True,
        cwd=ROOT,
        timeout=300,
    )
    return out


def test_train_rm_then_best_of_n(tiny_model, pairs_file, tmp_path):
    cli = [sys.executable, "-m", "trainer.cli"]
    rm = tmp_path / "rm"
    proc = subprocess.run(
        [
            *cli,
            "train-rm",
            str(pairs_file / "pairs.jsonl"),
            "-o",
            str(rm),
            "--model",
            str(tiny_model),
            "--max-steps",
            "3",
            "--batch-size",
            "4",
            "--max-length",
            "256",
        ],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=600,
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    loss = float(proc.stderr.split("final loss ")[1].split()[0])
    assert math.isfinite(loss) and (rm / "config.json").exists()
    proc = subprocess.run(
        [*cli, "bon", str(pairs_file / "scored.jsonl"), "--reward-model", str(rm)],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=600,
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert "greedy (completion 0)" in proc.stderr and "best-of-N by the reward model" in proc.stderr
    rows = tmp_path / "rows.jsonl"
    rows.write_text("\n".join((EXAMPLES / "acecode_sample.jsonl").read_text().splitlines()[:4]) + "\n")
    proc = subprocess.run(
        [
            *cli,
            "train-rl",
            str(rows),
            "-o",
            str(tmp_path / "policy"),
            "--model",
            str(tiny_model),
            "--reward-model",
            str(rm),
            "--num-generations",
            "2",
            "--batch-size",
            "4",
            "--max-steps",
            "1",
            "--max-completion-length",
            "8",
        ],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=600,
    )
    assert proc.returncode == 0, proc.stderr[-3000:]  # GRPO with the trained reward model
    assert math.isfinite(float(proc.stderr.split("final loss ")[1].split()[0]))


def test_train_rl_rewards_come_from_the_farm(tiny_model, tmp_path):
    rows = tmp_path / "rows.jsonl"
    lines = (EXAMPLES / "acecode_sample.jsonl").read_text().splitlines()[:4]
    rows.write_text("\n".join(lines) + "\n")
    farm = EmbeddedFarm()
    try:
        out = train_rl(
            str(rows),
            str(tiny_model),
            str(tmp_path / "policy"),
            farm,
            num_generations=2,
            batch_size=4,
            max_steps=2,
            max_completion_length=8,
        )
        reward = out["reward"]
        assert reward.calls == 2 and reward.scored == 8  # every completion went through the farm
        assert farm.pool.stats["jobs"] >= 8
        assert all(math.isfinite(h["loss"]) for h in out["history"] if "loss" in h)
        logged = [h for h in out["history"] if "rewards/farm_pass_rate/mean" in h]
        assert logged and all(0.0 <= h["rewards/farm_pass_rate/mean"] <= 1.0 for h in logged)
    finally:
        farm.close()


def test_the_readme_trl_recipe_with_the_async_reward_and_a_server(tiny_model, tmp_path):
    """trainer/examples/trl_grpo.py: trl awaits AsyncFarmReward, and its log_metric reaches the logs."""
    from tests.cluster.procs import start_server

    rows = tmp_path / "rows.jsonl"
    rows.write_text("\n".join((EXAMPLES / "acecode_sample.jsonl").read_text().splitlines()[:4]) + "\n")
    server, port = start_server(tmp_path, "--workers", "2")
    try:
        proc = subprocess.run(
            [
                sys.executable,
                str(EXAMPLES / "trl_grpo.py"),
                str(rows),
                "--model",
                str(tiny_model),
                "--server",
                f"127.0.0.1:{port}",
                "--async",
                "--num-generations",
                "2",
                "--batch-size",
                "4",
                "--max-steps",
                "2",
                "--max-completion-length",
                "8",
                "--output-dir",
                str(tmp_path / "grpo"),
            ],
            capture_output=True,
            text=True,
            cwd=ROOT,
            env=dict(os.environ, PYTHONPATH=str(ROOT)),  # this checkout's acefarm, as if installed
            timeout=600,
        )
    finally:
        server.kill()
    assert proc.returncode == 0, proc.stderr[-3000:]
    out = json.loads(proc.stdout.strip().splitlines()[-1])
    assert out["steps"] == 2 and out["reward_calls"] == 2 and out["samples"] == 8 and out["infra_errors"] == 0
    assert out["logged_infra_errors"] == [0.0, 0.0]  # reported through trl's log_metric
    assert all(0.0 <= r <= 1.0 for r in out["logged_rewards"])


def test_farm_reward_groups_and_infra_errors_are_not_zero():
    farm = EmbeddedFarm()
    try:
        reward = FarmReward(farm)
        tests = ["assert f(1) == 2", "assert f(2) == 4"]
        got = reward(
            ["p"] * 3,
            [
                "def f(x):\n    return 2 * x\n",
                [{"role": "assistant", "content": "```python\ndef f(x):\n    return x + 1\n```"}],
                "def f(x) return",
            ],
            test_cases=[tests, tests, tests],
        )
        assert got == [1.0, 0.5, 0.0] and reward.calls == 1
        binary = FarmReward(farm, binary=True)
        assert binary(
            ["p"] * 2,
            ["def f(x):\n    return 2 * x\n", "def f(x):\n    return x + 1\n"],
            test_cases=[tests, json.dumps(tests)],
        ) == [1.0, 0.0]

        class BrokenFarm:  # a farm whose sandbox failed: infra_error, which is no reward
            def score(self, programs, tests, group_id):
                from executor import JobResult

                return [
                    JobResult.infra_error(f"{group_id}/{i}", len(tests), "zygote died") for i in range(len(programs))
                ]

        assert FarmReward(BrokenFarm())(["p"], ["x"], test_cases=[tests]) == [None]
    finally:
        farm.close()


def test_verl_compute_score():
    tests = ["assert f(1) == 2", "assert f(2) == 4"]
    assert compute_score("acecode", "```python\ndef f(x):\n    return 2 * x\n```", tests) == 1.0
    assert compute_score("acecode", "def f(x):\n    return x + 1\n", json.dumps(tests)) == 0.5
    assert compute_score("acecode", "def f(x):\n    return x + 1\n", tests, {"binary": True}) == 0.0


def test_score_row_recomputes_pass_rates_per_question():
    from trainer.steps import score_row

    row = json.loads((EXAMPLES / "acecode_sample.jsonl").read_text().splitlines()[0])
    farm = EmbeddedFarm()
    try:
        scored = score_row(row, farm)
    finally:
        farm.close()
    assert [i["pass_rate"] for i in scored["inferences"]] == [1.0, 1.0, 0.125, 0.25]  # input said 1.0 for all
    assert (
        len(scored["inferences"][2]["test_verdicts"]) == 8
        and scored["inferences"][2]["test_verdicts"].count("passed") == 1
    )
