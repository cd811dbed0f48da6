"""Reward-model and RL training with trl, and best-of-N evaluation (AceCoder steps 6-8).

Heavy imports (torch, transformers, trl) happen inside the functions, so the rest of the
trainer works without the `train` extra.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from executor import Verdict

from .extract import extract_code
from .farm import Farm
from .rewards import FarmReward


def _device() -> dict[str, Any]:
    """Trainer flags for this machine: bf16 on a GPU that has it, the CPU otherwise."""
    import torch

    if torch.cuda.is_available():
        return {"bf16": torch.cuda.is_bf16_supported()}
    return {"use_cpu": True, "bf16": False}


def _rows(path: str) -> list[dict[str, Any]]:
    with open(path, encoding="utf-8") as fh:
        return [json.loads(line) for line in fh if line.strip()]


def train_rm(
    pairs_path: str,
    model: str,
    output_dir: str,
    epochs: float = 1.0,
    lr: float = 1e-5,
    batch_size: int = 8,
    max_steps: int = -1,
    max_length: int = 2048,
) -> dict[str, Any]:
    """Bradley-Terry reward model with trl's RewardTrainer (AceCoder defaults: 1 epoch, lr 1e-5, cosine)."""
    from datasets import Dataset
    from transformers import AutoTokenizer
    from trl import RewardConfig, RewardTrainer

    pairs = [{k: p[k] for k in ("prompt", "chosen", "rejected")} for p in _rows(pairs_path)]
    if not pairs:
        raise ValueError(f"{pairs_path}: no preference pairs")
    tokenizer = AutoTokenizer.from_pretrained(model)
    args = RewardConfig(
        output_dir=output_dir,
        num_train_epochs=epochs,
        max_steps=max_steps,
        learning_rate=lr,
        lr_scheduler_type="cosine",
        per_device_train_batch_size=batch_size,
        max_length=max_length,
        logging_steps=1,
        save_strategy="no",
        report_to=[],
        **_device(),
    )
    trainer = RewardTrainer(model=model, args=args, train_dataset=Dataset.from_list(pairs), processing_class=tokenizer)
    out = trainer.train()
    trainer.save_model(output_dir)
    tokenizer.save_pretrained(output_dir)
    return {"loss": out.training_loss, "steps": out.global_step, "history": trainer.state.log_history}


def train_rl(
    rows_path: str,
    model: str,
    output_dir: str,
    farm: Farm | None = None,
    reward: str = "pass_rate",
    reward_model: str | None = None,
    num_generations: int = 8,
    batch_size: int = 8,
    max_steps: int = -1,
    max_completion_length: int = 1024,
    lr: float = 1e-6,
    temperature: float = 1.0,
) -> dict[str, Any]:
    """GRPO with a farm-backed reward (`pass_rate` or `binary`), or with a trained reward model."""
    from datasets import Dataset
    from transformers import AutoTokenizer
    from trl import GRPOConfig, GRPOTrainer

    rows = _rows(rows_path)
    data = [
        {
            "prompt": r.get("context_messages") or [{"role": "user", "content": r["question"]}],
            "test_cases": r["test_cases"],
        }
        for r in rows
    ]
    if reward_model:
        reward_funcs: Any = reward_model
    else:
        if farm is None:
            raise ValueError("a farm is needed for a farm-backed reward")
        reward_funcs = FarmReward(farm, binary=(reward == "binary"))
    tokenizer = AutoTokenizer.from_pretrained(model)
    args = GRPOConfig(
        output_dir=output_dir,
        max_steps=max_steps,
        per_device_train_batch_size=batch_size,
        num_generations=num_generations,
        max_completion_length=max_completion_length,
        learning_rate=lr,
        temperature=temperature,
        logging_steps=1,
        save_strategy="no",
        report_to=[],
        **_device(),
    )
    trainer = GRPOTrainer(
        model=model,
        reward_funcs=reward_funcs,
        args=args,
        train_dataset=Dataset.from_list(data),
        processing_class=tokenizer,
    )
    out = trainer.train()
    trainer.save_model(output_dir)
    return {
        "loss": out.training_loss,
        "steps": out.global_step,
        "history": trainer.state.log_history,
        "reward": reward_funcs if not reward_model else None,
    }


@dataclass
class BestOfN:
    questions: int
    greedy_pass_at_1: float
    best_of_n_pass_at_1: float
    n: float


def best_of_n(rows_path: str, reward_model: str, farm: Farm) -> BestOfN:
    """Rank each question's samples by the RM, score the top one with the farm; compare with greedy.

    Greedy is the inference with `completion_id` 0 (the first one when absent).
    """
    import torch
    from transformers import AutoModelForSequenceClassification, AutoTokenizer

    tokenizer = AutoTokenizer.from_pretrained(reward_model)
    rm = AutoModelForSequenceClassification.from_pretrained(reward_model).eval()
    greedy_hits = best_hits = questions = samples = 0
    for row in _rows(rows_path):
        infs = row.get("inferences", [])
        if not infs:
            continue
        prompt = row.get("context_messages") or [{"role": "user", "content": row["question"]}]
        with torch.no_grad():
            scores = []
            for inf in infs:
                text = tokenizer.apply_chat_template(
                    prompt + [{"role": "assistant", "content": inf["completion"]}], tokenize=False
                )
                enc = tokenizer(text, return_tensors="pt", truncation=True, max_length=2048)
                scores.append(float(rm(**enc).logits[0, 0]))
        top = infs[max(range(len(infs)), key=scores.__getitem__)]
        greedy = next((i for i in infs if i.get("completion_id") == 0), infs[0])
        tests = row["test_cases"]
        res_greedy, res_top = farm.score(
            [extract_code(greedy["completion"], tests), extract_code(top["completion"], tests)],
            tests,
            f"bon/{row['id']}",
        )
        greedy_hits += res_greedy.verdict is Verdict.PASSED
        best_hits += res_top.verdict is Verdict.PASSED
        questions += 1
        samples += len(infs)
    if not questions:
        raise ValueError(f"{rows_path}: no rows with inferences")
    return BestOfN(questions, greedy_hits / questions, best_hits / questions, samples / questions)
