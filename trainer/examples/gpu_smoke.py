"""GPU smoke of the trainer: train-rm (trl's RewardTrainer) then train-rl (trl's GRPOTrainer with
the farm's pass-rate reward) on a small random Llama (20M parameters, built here: no downloads).

    make run                                         # writes out/acecode.pairs.jsonl
    OUT=out python trainer/examples/gpu_smoke.py [PAIRS.jsonl] [--insecure]

Writes OUT/gpu.json (versions, GPU, losses, rewards, farm stats). `--insecure` runs the farm
without firejail, for GPU images that lack it (never for untrusted programs in production).
Run on an H200 on 2026-11-28: see the README's trainer section.
"""

import json
import os
import pathlib
import sys
import time

PAIRS = next((a for a in sys.argv[1:] if not a.startswith("--")), "out/acecode.pairs.jsonl")
INSECURE = "--insecure" in sys.argv
out = pathlib.Path(os.environ.get("OUT", "/tmp/out"))
out.mkdir(parents=True, exist_ok=True)
report = {}


def save():
    (out / "gpu.json").write_text(json.dumps(report, indent=1, default=str))


import datasets
import google.protobuf
import pyarrow
import torch
import transformers
import trl

report["versions"] = {
    "python": sys.version.split()[0],
    "torch": torch.__version__,
    "cuda": torch.version.cuda,
    "transformers": transformers.__version__,
    "trl": trl.__version__,
    "datasets": datasets.__version__,
    "pyarrow": pyarrow.__version__,
    "protobuf": google.protobuf.__version__,
}
report["gpu"] = torch.cuda.get_device_name(0) if torch.cuda.is_available() else None
report["bf16"] = torch.cuda.is_available() and torch.cuda.is_bf16_supported()
print(report, flush=True)
save()
from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers
from transformers import LlamaConfig, LlamaForCausalLM, PreTrainedTokenizerFast

rows = [json.loads(l) for l in open("trainer/examples/acecode_sample.jsonl")]
corpus = [r["question"] for r in rows] + [i["completion"] for r in rows for i in r["inferences"]]
tok = Tokenizer(models.BPE(unk_token="<unk>"))
tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
tok.decoder = decoders.ByteLevel()
tok.train_from_iterator(
    corpus,
    trainers.BpeTrainer(
        vocab_size=2000,
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
cfg = LlamaConfig(
    vocab_size=len(hf),
    hidden_size=512,
    intermediate_size=1376,
    num_hidden_layers=6,
    num_attention_heads=8,
    num_key_value_heads=8,
    max_position_embeddings=2048,
    pad_token_id=hf.pad_token_id,
    bos_token_id=hf.bos_token_id,
    eos_token_id=hf.eos_token_id,
)
model_dir = "/tmp/tiny"
LlamaForCausalLM(cfg).save_pretrained(model_dir)
hf.save_pretrained(model_dir)
report["model_params_m"] = sum(p.numel() for p in LlamaForCausalLM(cfg).parameters()) / 1e6
from executor import ExecutorConfig
from trainer.farm import EmbeddedFarm
from trainer.train import train_rl, train_rm

t0 = time.time()
try:
    rm = train_rm(PAIRS, model_dir, "/tmp/rm", max_steps=30, batch_size=8, max_length=512)
    report["train_rm"] = {
        "loss": rm.get("loss"),
        "steps": rm.get("steps"),
        "seconds": round(time.time() - t0, 1),
        "first_losses": [h.get("loss") for h in rm.get("history", []) if "loss" in h][:5],
        "last_losses": [h.get("loss") for h in rm.get("history", []) if "loss" in h][-5:],
    }
except Exception:
    import traceback

    report["train_rm_error"] = traceback.format_exc()[-3000:]
print(report.get("train_rm") or report.get("train_rm_error"), flush=True)
save()
farm = EmbeddedFarm(
    ExecutorConfig(python=sys.executable, insecure_no_sandbox=True, slots=8) if INSECURE else ExecutorConfig(slots=8)
)
with open("/tmp/rows.jsonl", "w") as fh:
    fh.write("".join(json.dumps(r) + "\n" for r in rows[:8]))
t0 = time.time()
try:
    rl = train_rl(
        "/tmp/rows.jsonl",
        model_dir,
        "/tmp/policy",
        farm=farm,
        num_generations=8,
        batch_size=16,
        max_steps=4,
        max_completion_length=128,
        lr=1e-5,
    )
    hist = rl.get("history", [])
    report["train_rl"] = {
        "loss": rl.get("loss"),
        "steps": rl.get("steps"),
        "seconds": round(time.time() - t0, 1),
        "rewards": [h.get("reward") for h in hist if "reward" in h],
        "farm_pool_stats": dict(farm.pool.stats),
    }
    import torch as _t

    report["cuda_max_mem_mb"] = round(_t.cuda.max_memory_allocated() / 2**20, 1) if _t.cuda.is_available() else None
except Exception:
    import traceback

    report["train_rl_error"] = traceback.format_exc()[-3000:]
finally:
    farm.close()
print(report.get("train_rl") or report.get("train_rl_error"), flush=True)
save()
