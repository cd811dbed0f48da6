"""GRPO in your own trl script, rewarded by the farm (the README's trl recipe).

    acefarm serve --port 50051 &
    python trainer/examples/trl_grpo.py ROWS.jsonl --model Qwen/Qwen2.5-Coder-7B-Instruct \
        --server 127.0.0.1:50051 [--async] [--binary] [--max-steps N]

ROWS are AceCode-87K rows (`question`, `test_cases`: any test format the farm takes). Without
`--server` the farm is an embedded sandbox pool in this process. Prints the run's last logged
rewards and the farm's infra-error count as one JSON line.
"""

from __future__ import annotations

import argparse
import json

import torch
from datasets import Dataset
from trl import GRPOConfig, GRPOTrainer

from trainer.farm import EmbeddedFarm
from trainer.rewards import AsyncFarmReward, FarmReward


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("rows")
    ap.add_argument("--model", required=True)
    ap.add_argument("--server", default=None, help="a farm server HOST:PORT (default: an embedded pool)")
    ap.add_argument("--token", default=None)
    ap.add_argument("--async", dest="use_async", action="store_true", help="the asyncio reward (AsyncFarmReward)")
    ap.add_argument("--binary", action="store_true", help="1 only when every test passes")
    ap.add_argument("--num-generations", type=int, default=8)
    ap.add_argument("--batch-size", type=int, default=8)
    ap.add_argument("--max-steps", type=int, default=-1)
    ap.add_argument("--max-completion-length", type=int, default=1024)
    ap.add_argument("--output-dir", default="out/grpo")
    args = ap.parse_args()

    with open(args.rows, encoding="utf-8") as fh:
        rows = [json.loads(line) for line in fh if line.strip()]
    data = Dataset.from_list(
        [
            {
                "prompt": [{"role": "user", "content": r["question"]}],
                "test_cases": json.dumps(r["test_cases"]),  # one column type for every test format
            }
            for r in rows
        ]
    )
    farm = args.server or EmbeddedFarm()
    reward_cls = AsyncFarmReward if args.use_async else FarmReward
    reward = reward_cls(farm, binary=args.binary, token=args.token)  # test_cases column -> pass rate
    trainer = GRPOTrainer(
        model=args.model,
        reward_funcs=reward,
        args=GRPOConfig(
            output_dir=args.output_dir,
            num_generations=args.num_generations,
            per_device_train_batch_size=args.batch_size,
            max_completion_length=args.max_completion_length,
            max_steps=args.max_steps,
            logging_steps=1,
            save_strategy="no",
            report_to=[],
            use_cpu=not torch.cuda.is_available(),
            bf16=torch.cuda.is_available() and torch.cuda.is_bf16_supported(),
        ),
        train_dataset=data,
    )
    trainer.train()
    logged = [h for h in trainer.state.log_history if f"rewards/{reward.__name__}/mean" in h]
    print(
        json.dumps(
            {
                "steps": trainer.state.global_step,
                "reward_calls": reward.calls,
                "samples": reward.scored,
                "infra_errors": reward.infra_errors,
                "logged_rewards": [h[f"rewards/{reward.__name__}/mean"] for h in logged],
                "logged_infra_errors": [h.get(f"{reward.__name__}/infra_errors") for h in logged],
            }
        )
    )
    reward.farm.close()


if __name__ == "__main__":
    main()
