"""The trainer's CLI verbs, added to the `acefarm` command (whose farm verbs live in broker/cli.py).

    acefarm synth  SEEDS.jsonl -o rows.jsonl --base-url http://localhost:8000/v1 --model M
    acefarm filter rows.jsonl -o filtered.jsonl [--min-tests 5] [--server HOST:PORT]
    acefarm sample filtered.jsonl -o sampled.jsonl --base-url ... --model M [--n 16]
    acefarm score  sampled.jsonl -o scored.jsonl          (broker: recomputes pass rates)
    acefarm pairs  scored.jsonl -o pairs.jsonl
"""

from __future__ import annotations

import sys
from typing import Any, Callable

import click
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from broker.cli import build_config, err, executor_options, main

from .data import read_rows
from .farm import Farm, open_farm
from .llm import Backend, OpenAIBackend, VLLMBackend
from .pairs import PairRule, make_pairs
from .pipeline import StepReport, run_step
from .steps import filter_row, sample_rows
from .synth import ParseError, synth_rows


def llm_options(fn: Callable[..., Any]) -> Callable[..., Any]:
    opts = [
        click.option("--base-url", envvar="OPENAI_BASE_URL", default=None,
                     help="OpenAI-compatible endpoint, e.g. http://localhost:8000/v1 (vllm serve)."),
        click.option("--model", required=True, help="Model name at the endpoint (or a path with --vllm)."),
        click.option("--api-key", envvar="OPENAI_API_KEY", default="EMPTY", show_default=False,
                     help="API key (env OPENAI_API_KEY)."),
        click.option("--concurrency", default=8, show_default=True, type=click.IntRange(1, 512),
                     help="Requests in flight."),
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
    fn = click.option("--token", envvar="ACEFARM_TOKEN", default=None, help="Bearer token for --server.")(fn)
    fn = click.option("--server", default=None, metavar="HOST:PORT",
                      help="A farm server; default: an embedded sandbox pool.")(fn)
    return executor_options(fn)


def _open(server: str | None, token: str | None, opts: dict[str, Any]) -> Farm:
    return open_farm(server, token, config=build_config(**opts))


def _run(src: str, dst: str, step: Callable[[list[dict[str, Any]]], Any], resume: bool, batch: int,
         need_tests: bool = True) -> StepReport:
    total = sum(1 for _ in read_rows(src, need_tests=False))
    with Progress(TextColumn("rows"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(), console=err,
                  disable=not err.is_terminal) as bar:
        task = bar.add_task("rows", total=total)
        report = run_step(src, dst, step, resume, batch, need_tests, progress=lambda n: bar.advance(task, n))
    for e in report.errors:
        err.print(f"skipped {e}", markup=False)
    err.print(f"rows in {report.rows_in}, out {report.rows_out}, dropped {report.dropped}, "
              f"already done {report.skipped}, errors {len(report.errors)}")
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
@farm_options
def filter_cmd(src: str, dst: str, min_tests: int, resume: bool, server: str | None, token: str | None,
               **opts: Any) -> None:
    """Keep the tests each question's reference solution passes."""
    farm = _open(server, token, opts)
    try:
        _exit(_run(src, dst, lambda rows: [filter_row(r, farm, min_tests) for r in rows], resume, batch=8))
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
    _exit(_run(src, dst, lambda rows: [p for r in rows for p in make_pairs(r, rule)], resume, batch=64))


if __name__ == "__main__":  # pragma: no cover
    main()
