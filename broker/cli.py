"""The `acefarm` command line. Configuration is read here and passed down."""

from __future__ import annotations

import logging
import os
import sys

import click
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from executor import ExecutorConfig, Limits, SandboxUnavailable
from executor.errors import InvalidJob

from .dispatcher import LocalDispatcher
from .scoring import Summary, count_lines, score_file

EXIT_REJECTED = 3  # some input lines were rejected (the rest was scored)
err = Console(stderr=True)


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.option("-v", "--verbose", count=True, help="More logging (-vv for debug).")
def main(verbose: int) -> None:
    """AceFarm: run untrusted programs against tests, safely and fast."""
    level = logging.WARNING - 10 * verbose
    logging.basicConfig(level=level, format="%(asctime)s %(levelname)s %(name)s: %(message)s")


def executor_options(fn):  # type: ignore[no-untyped-def]
    """Flags shared by every command that runs programs locally."""
    opts = [
        click.option("--workers", type=click.IntRange(1, 512), default=None,
                     help="Sandbox slots (default: one per core)."),
        click.option("--cpu-s", type=float, default=None, help="CPU seconds per test (default 2)."),
        click.option("--wall-s", type=float, default=None, help="Wall-clock seconds per test (default 6)."),
        click.option("--memory-mb", type=int, default=None, help="Address-space limit in MiB (default 512)."),
        click.option("--output-kb", type=int, default=None, help="stdout+stderr cap in KiB (default 256)."),
        click.option("--sandbox-python", default="/usr/bin/python3", show_default=True,
                     help="Interpreter that runs programs inside the sandbox."),
        click.option("--insecure-no-sandbox", is_flag=True,
                     help="Run WITHOUT firejail. Only for trusted code on a throwaway machine."),
    ]
    for opt in reversed(opts):
        fn = opt(fn)
    return fn


def build_config(workers: int | None, cpu_s: float | None, wall_s: float | None, memory_mb: int | None,
                 output_kb: int | None, sandbox_python: str, insecure_no_sandbox: bool) -> ExecutorConfig:
    given = {"cpu_s": cpu_s, "wall_s": wall_s, "memory_mb": memory_mb, "output_kb": output_kb}
    try:
        limits = Limits().merged({k: v for k, v in given.items() if v is not None})
    except InvalidJob as exc:
        raise click.BadParameter(str(exc)) from None
    if cpu_s is not None and wall_s is None:
        limits = limits.merged({"wall_s": max(limits.wall_s, min(300.0, cpu_s * 3))})
    kwargs = {"limits": limits, "python": sandbox_python, "insecure_no_sandbox": insecure_no_sandbox}
    if workers:
        kwargs["slots"] = workers
    return ExecutorConfig(**kwargs)


@main.command()
@click.argument("src", type=click.Path(exists=True, dir_okay=False))
@click.option("-o", "--output", "dst", required=True, type=click.Path(dir_okay=False),
              help="Where results go (JSONL, one line per input line).")
@click.option("--resume", is_flag=True, help="Skip ids already in OUTPUT and append the rest.")
@executor_options
def score(src: str, dst: str, resume: bool, **opts: object) -> None:
    """Score SRC (jobs or AceCode-87K rows, JSONL) into OUTPUT."""
    if opts["insecure_no_sandbox"]:
        err.print("[bold red]WARNING: --insecure-no-sandbox: untrusted programs run WITHOUT isolation. "
                  "They can read and destroy this machine's files and reach its network.[/]")
    config = build_config(**opts)  # type: ignore[arg-type]
    total = count_lines(src)
    try:
        dispatcher = LocalDispatcher(config)
    except SandboxUnavailable as exc:
        err.print(f"[bold red]error:[/] {exc}")
        sys.exit(1)
    with dispatcher, Progress(TextColumn("scoring"), BarColumn(), MofNCompleteColumn(),
                              TimeElapsedColumn(), console=err, transient=False,
                              disable=not err.is_terminal and not os.environ.get("ACEFARM_PROGRESS")) as bar:
        task = bar.add_task("score", total=total)
        summary = score_file(src, dst, dispatcher, config.limits, config.rules, resume,
                             on_line=lambda: bar.advance(task))
    for rej in summary.rejected:
        err.print(f"[red]rejected[/] line {rej.line}: {rej.field}: {rej.message}", markup=False)
    err.print(summary_table(summary))
    if summary.rejected:
        sys.exit(EXIT_REJECTED)


def summary_table(s: Summary) -> Table:
    table = Table(title="acefarm score", show_header=False)
    table.add_column("what")
    table.add_column("value", justify="right")
    table.add_row("input lines", str(s.lines))
    table.add_row("jobs scored", str(s.jobs))
    table.add_row("jobs passed (all tests)", str(s.jobs_passed))
    table.add_row("mean pass rate", f"{s.mean_pass_rate:.4f}")
    for verdict, n in sorted(s.verdicts.items()):
        table.add_row(f"verdict {verdict}", str(n))
    table.add_row("rejected lines", str(len(s.rejected)))
    if s.resumed:
        table.add_row("already done (resumed)", str(s.resumed))
    table.add_row("seconds", f"{s.seconds:.2f}")
    table.add_row("programs/s", f"{s.programs_per_s:.1f}")
    return table


if __name__ == "__main__":  # pragma: no cover
    main()
