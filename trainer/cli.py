"""The trainer's CLI verbs, added to the `acefarm` command (whose farm verbs live in broker/cli.py).

    acefarm synth  SEEDS.jsonl -o rows.jsonl --base-url http://localhost:8000/v1 --model M
    acefarm filter rows.jsonl -o filtered.jsonl [--min-tests 5] [--server HOST:PORT]
    acefarm sample filtered.jsonl -o sampled.jsonl --base-url ... --model M [--n 16]
    acefarm score  sampled.jsonl -o scored.jsonl          (recomputes pass rates)
    acefarm pairs  scored.jsonl -o pairs.jsonl
    acefarm convert humaneval HumanEval.jsonl.gz -o jobs.jsonl [--to rows]

`acefarm score` is broker's resumable runner with this package's line parser (acecode.py):
jobs, and AceCode-87K rows. This module is the console script's (`acefarm = trainer.cli:main`).
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from typing import Any

import click

from broker.cli import build_config, err, executor_options, main, score_command
from broker.errors import OutputUnusable
from broker.progress import ProgressReport

from .acecode import parse_line
from .convert import FORMATS, convert_file
from .data import read_rows
from .farm import Farm, open_farm
from .llm import Backend, OpenAIBackend, VLLMBackend
from .pairs import PairRule, pairs_or_error
from .pipeline import StepReport, run_step
from .steps import filter_row, sample_rows
from .synth import ParseError, synth_rows

# `acefarm score` takes AceCode-87K rows too: the same verb, over the trainer's line parser.
main.add_command(score_command(parse_line, "jobs or AceCode-87K rows"))


def llm_options(fn: Callable[..., Any]) -> Callable[..., Any]:
    opts = [
        click.option(
            "--base-url",
            envvar="OPENAI_BASE_URL",
            default=None,
            help="OpenAI-compatible endpoint, e.g. http://localhost:8000/v1 (vllm serve).",
        ),
        click.option("--model", required=True, help="Model name at the endpoint (or a path with --vllm)."),
        click.option(
            "--api-key",
            envvar="OPENAI_API_KEY",
            default="EMPTY",
            show_default=False,
            help="API key (env OPENAI_API_KEY).",
        ),
        click.option(
            "--concurrency", default=8, show_default=True, type=click.IntRange(1, 512), help="Requests in flight."
        ),
        click.option("--vllm", "in_process", is_flag=True, help="Run vLLM in this process (GPU) instead."),
    ]
    for opt in reversed(opts):
        fn = opt(fn)
    return fn


def make_backend(base_url: str | None, model: str, api_key: str, concurrency: int, in_process: bool) -> Backend:
    if in_process:
        return VLLMBackend(model)
    if not base_url:
        raise click.UsageError("give --base-url (an OpenAI-compatible endpoint) or --vllm")
    return OpenAIBackend(base_url, model, api_key=api_key, concurrency=concurrency)


def farm_options(fn: Callable[..., Any]) -> Callable[..., Any]:
    fn = click.option("--tls-ca", default=None, help="CA certificate (PEM) of a TLS --server.")(fn)
    fn = click.option("--token", envvar="ACEFARM_TOKEN", default=None, help="Bearer token for --server.")(fn)
    fn = click.option(
        "--server", default=None, metavar="HOST:PORT", help="A farm server; default: an embedded sandbox pool."
    )(fn)
    return executor_options(fn)


def _open(server: str | None, token: str | None, opts: dict[str, Any]) -> Farm:
    tls_ca = opts.pop("tls_ca", None)
    return open_farm(server, token, tls_ca, config=build_config(**opts))


def _run(
    src: str, dst: str, step: Callable[[list[dict[str, Any]]], Any], resume: bool, batch: int, need_tests: bool = True
) -> StepReport:
    total = sum(1 for _ in read_rows(src, need_tests=False))
    try:
        with ProgressReport(err, total, "rows", unit="rows") as progress:
            report = run_step(src, dst, step, resume, batch, need_tests, progress=progress.advance)
    except OutputUnusable as exc:
        click.echo(f"error: {exc}", err=True)
        sys.exit(2)
    for e in report.errors:
        click.echo(f"skipped {e}", err=True)
    click.echo(
        f"rows in {report.rows_in}, out {report.rows_out}, dropped {report.dropped}, "
        f"already done {report.skipped}, errors {len(report.errors)}",
        err=True,
    )
    return report


def _exit(report: StepReport) -> None:
    if report.errors:
        sys.exit(3)


@main.command()
@click.argument("src", type=click.Path(exists=True, dir_okay=False))
@click.option("-o", "--output", "dst", required=True, type=click.Path(dir_okay=False))
@click.option("--tests", "n_tests", default=20, show_default=True, help="Tests to ask for per question.")
@click.option("--resume", is_flag=True)
@llm_options
def synth(src: str, dst: str, n_tests: int, resume: bool, **llm: Any) -> None:
    """Seeds ({id, question, program}) -> LeetCode-style questions with assert tests."""
    backend = make_backend(**llm)

    def step(rows: list[dict[str, Any]]) -> list[Any]:
        return [str(r) if isinstance(r, ParseError) else r for r in synth_rows(rows, backend, n_tests)]

    _exit(_run(src, dst, step, resume, batch=32, need_tests=False))


@main.command(name="filter")
@click.argument("src", type=click.Path(exists=True, dir_okay=False))
@click.option("-o", "--output", "dst", required=True, type=click.Path(dir_okay=False))
@click.option("--min-tests", default=5, show_default=True, help="Drop questions with fewer tests left.")
@click.option("--resume", is_flag=True)
@click.option(
    "--reference-model",
    default=None,
    help="Sample a reference from this (strong) model for rows without one (needs --base-url).",
)
@click.option("--base-url", envvar="OPENAI_BASE_URL", default=None, help="Endpoint of --reference-model.")
@click.option("--api-key", envvar="OPENAI_API_KEY", default="EMPTY", show_default=False)
@farm_options
def filter_cmd(
    src: str,
    dst: str,
    min_tests: int,
    resume: bool,
    reference_model: str | None,
    base_url: str | None,
    api_key: str,
    server: str | None,
    token: str | None,
    **opts: Any,
) -> None:
    """Keep the tests each question's reference solution passes (given, or sampled from a strong model)."""
    backend = make_backend(base_url, reference_model, api_key, 8, False) if reference_model else None
    farm = _open(server, token, opts)

    def step(rows: list[dict[str, Any]]) -> list[Any]:
        if backend is not None:
            need = [r for r in rows if not r.get("reference")]
            for row, (answer,) in zip(
                need,
                backend.complete(
                    [r.get("context_messages") or [{"role": "user", "content": r["question"]}] for r in need],
                    n=1,
                    temperature=0.0,
                )
                if need
                else [],
            ):
                row["reference"] = answer
        return [filter_row(r, farm, min_tests) for r in rows]

    try:
        _exit(_run(src, dst, step, resume, batch=8))
    finally:
        farm.close()


@main.command()
@click.argument("src", type=click.Path(exists=True, dir_okay=False))
@click.option("-o", "--output", "dst", required=True, type=click.Path(dir_okay=False))
@click.option("--n", default=16, show_default=True, help="Completions per question.")
@click.option("--temperature", default=0.7, show_default=True)
@click.option("--max-tokens", default=1024, show_default=True)
@click.option("--resume", is_flag=True)
@llm_options
def sample(src: str, dst: str, n: int, temperature: float, max_tokens: int, resume: bool, **llm: Any) -> None:
    """Sample N programs per question from the policy model into `inferences`."""
    backend = make_backend(**llm)
    _exit(_run(src, dst, lambda rows: sample_rows(rows, backend, n, temperature, max_tokens), resume, batch=16))


@main.command()
@click.argument("src", type=click.Path(exists=True, dir_okay=False))
@click.option("-o", "--output", "dst", required=True, type=click.Path(dir_okay=False))
@click.option("--min-chosen", default=0.8, show_default=True)
@click.option("--min-gap", default=0.4, show_default=True)
@click.option("--min-rejected", default=0.0, show_default=True, help="Rejected must be strictly above this.")
@click.option("--resume", is_flag=True)
def pairs(src: str, dst: str, min_chosen: float, min_gap: float, min_rejected: float, resume: bool) -> None:
    """Scored rows -> preference pairs (trl format) by AceCoder's rule."""
    rule = PairRule(min_chosen, min_gap, min_rejected)
    _exit(_run(src, dst, lambda rows: [p for r in rows for p in pairs_or_error(r, rule)], resume, batch=64))


@main.command()
@click.argument("fmt", metavar="FORMAT", type=click.Choice(FORMATS))
@click.argument("src", type=click.Path(exists=True, dir_okay=False))
@click.option("-o", "--output", "dst", required=True, type=click.Path(dir_okay=False))
@click.option(
    "--to",
    type=click.Choice(["jobs", "rows"]),
    default="jobs",
    show_default=True,
    help="jobs: each problem's reference solution as a job (for `acefarm score`); "
    "rows: AceCode-87K rows (question, test_cases, reference) for `acefarm sample`.",
)
def convert(fmt: str, src: str, dst: str, to: str) -> None:
    """A published benchmark file (HumanEval, MBPP, EvalPlus, LiveCodeBench, APPS) -> jobs or rows."""
    report = convert_file(fmt, src, dst, to)
    for e in report.errors:
        click.echo(f"skipped {e}", err=True)
    note = f", {report.without_reference} without a reference solution (use --to rows)" if to == "jobs" else ""
    click.echo(
        f"records {report.records}, written {report.written}{note}, errors {len(report.errors)}",
        err=True,
    )
    if report.errors:
        sys.exit(3)


@main.command(name="train-rm")
@click.argument("pairs_path", metavar="PAIRS", type=click.Path(exists=True, dir_okay=False))
@click.option("-o", "--output", "output_dir", required=True, type=click.Path(file_okay=False))
@click.option("--model", required=True, help="Base model (path or hub id) for the reward model.")
@click.option("--epochs", default=1.0, show_default=True)
@click.option("--lr", default=1e-5, show_default=True)
@click.option("--batch-size", default=8, show_default=True)
@click.option("--max-steps", default=-1, show_default=True, help="Stop after this many steps (-1: epochs).")
@click.option("--max-length", default=2048, show_default=True)
def train_rm_cmd(
    pairs_path: str,
    output_dir: str,
    model: str,
    epochs: float,
    lr: float,
    batch_size: int,
    max_steps: int,
    max_length: int,
) -> None:
    """Train a Bradley-Terry reward model on preference pairs (trl RewardTrainer, cosine schedule)."""
    from .train import train_rm

    out = train_rm(pairs_path, model, output_dir, epochs, lr, batch_size, max_steps, max_length)
    click.echo(f"reward model saved to {output_dir}: {out['steps']} steps, final loss {out['loss']:.4f}", err=True)


@main.command(name="train-rl")
@click.argument("rows_path", metavar="ROWS", type=click.Path(exists=True, dir_okay=False))
@click.option("-o", "--output", "output_dir", required=True, type=click.Path(file_okay=False))
@click.option("--model", required=True, help="Policy model (path or hub id).")
@click.option(
    "--reward",
    type=click.Choice(["pass_rate", "binary"]),
    default="pass_rate",
    show_default=True,
    help="Farm-backed reward: fractional pass rate, or 1 only when every test passes.",
)
@click.option("--reward-model", default=None, help="Use this trained reward model instead of the farm.")
@click.option("--num-generations", default=8, show_default=True)
@click.option("--batch-size", default=8, show_default=True)
@click.option("--max-steps", default=-1, show_default=True)
@click.option("--max-completion-length", default=1024, show_default=True)
@click.option("--lr", default=1e-6, show_default=True)
@farm_options
def train_rl_cmd(
    rows_path: str,
    output_dir: str,
    model: str,
    reward: str,
    reward_model: str | None,
    num_generations: int,
    batch_size: int,
    max_steps: int,
    max_completion_length: int,
    lr: float,
    server: str | None,
    token: str | None,
    **opts: Any,
) -> None:
    """GRPO (trl GRPOTrainer) with rewards from the farm, or from a reward model."""
    from .train import train_rl

    farm = None if reward_model else _open(server, token, opts)
    try:
        out = train_rl(
            rows_path,
            model,
            output_dir,
            farm,
            reward,
            reward_model,
            num_generations,
            batch_size,
            max_steps,
            max_completion_length,
            lr,
        )
    finally:
        if farm is not None:
            farm.close()
    click.echo(f"policy saved to {output_dir}: {out['steps']} steps, final loss {out['loss']:.4f}", err=True)


@main.command()
@click.argument("rows_path", metavar="ROWS", type=click.Path(exists=True, dir_okay=False))
@click.option("--reward-model", required=True, help="The trained reward model that ranks the samples.")
@farm_options
def bon(rows_path: str, reward_model: str, server: str | None, token: str | None, **opts: Any) -> None:
    """Best-of-N: rank each question's samples by the reward model; greedy vs best-of-N pass@1."""
    from rich.table import Table

    from .train import best_of_n

    farm = _open(server, token, opts)
    try:
        res = best_of_n(rows_path, reward_model, farm)
    finally:
        farm.close()
    table = Table(title=f"best-of-N ({res.questions} questions, N = {res.n:.1f})")
    table.add_column("policy")
    table.add_column("pass@1", justify="right")
    table.add_row("greedy (completion 0)", f"{res.greedy_pass_at_1:.3f}")
    table.add_row("best-of-N by the reward model", f"{res.best_of_n_pass_at_1:.3f}")
    err.print(table)


if __name__ == "__main__":  # pragma: no cover
    main()
