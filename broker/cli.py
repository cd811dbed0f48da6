"""The `acefarm` command line. Configuration is read here and passed down."""

from __future__ import annotations

import gc
import json
import logging
import pathlib
import sys
import threading
from collections.abc import Callable
from typing import Any, TypeVar

import click
import grpc
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from executor import ExecutorConfig, SandboxUnavailable
from executor.errors import InvalidJob
from executor.languages import NAMES
from executor.limits import DEFAULTS as DEFAULT_LIMITS

from .dispatcher import Dispatcher, LocalDispatcher
from .errors import OutputUnusable
from .memory import give_back_large_blocks
from .progress import ProgressReport
from .records import LineParser, parse_job
from .scoring import Summary, score_file
from .sources import count_lines

F = TypeVar("F", bound=Callable[..., Any])

EXIT_REJECTED = 3  # some input lines were rejected (the rest was scored)
err = Console(stderr=True)
console = Console()


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.option("-v", "--verbose", count=True, help="More logging (-vv for debug).")
def main(verbose: int) -> None:
    """AceFarm: run untrusted programs against tests, safely and fast."""
    level = logging.WARNING - 10 * verbose
    logging.basicConfig(level=level, format="%(asctime)s %(levelname)s %(name)s: %(message)s")


def executor_options(fn: F) -> F:
    """Flags shared by every command that runs programs locally and sets its jobs' limits."""
    return _slot_options(_limit_options(fn))


def _limit_options(fn: F) -> F:
    """The default limits of the jobs that name none. Not a worker's: a cluster's jobs reach
    their workers with the limits their server gave them (which the result cache keys on)."""
    opts = [
        click.option("--cpu-s", type=float, default=None, help="CPU seconds per test (default 2)."),
        click.option("--wall-s", type=float, default=None, help="Wall-clock seconds per test (default 6)."),
        click.option("--memory-mb", type=int, default=None, help="Address-space limit in MiB (default 512)."),
        click.option("--output-kb", type=int, default=None, help="stdout+stderr cap in KiB (default 256)."),
    ]
    for opt in reversed(opts):
        fn = opt(fn)
    return fn


def _slot_options(fn: F) -> F:
    """The sandbox slots of a command that runs programs on this machine."""
    opts = [
        click.option(
            "--workers", type=click.IntRange(1, 512), default=None, help="Sandbox slots (default: one per core)."
        ),
        click.option(
            "--cpus",
            default=None,
            metavar="LIST",
            help="CPUs to pin the slots to, e.g. 0,1 (default: one slot per usable CPU, "
            "pinned, when --workers is the CPU count; else unpinned).",
            callback=_cpu_list,
        ),
        click.option(
            "--languages",
            default=None,
            metavar="LIST",
            help="Languages to offer besides Python, e.g. c,cpp (default: every one whose toolchain "
            "is installed, or env ACEFARM_LANGUAGES); 'python' alone offers Python only.",
            callback=_language_list,
        ),
        click.option(
            "--sandbox-python",
            default="/usr/bin/python3",
            show_default=True,
            help="Interpreter that runs programs inside the sandbox.",
        ),
        click.option(
            "--insecure-no-sandbox",
            is_flag=True,
            help="Run WITHOUT firejail. Only for trusted code on a throwaway machine.",
        ),
    ]
    for opt in reversed(opts):
        fn = opt(fn)
    return fn


def _cpu_list(ctx: click.Context, param: click.Parameter, value: str | None) -> tuple[int, ...]:
    if not value:
        return ()
    try:  # which CPUs exist here is ExecutorConfig's check
        return tuple(int(c) for c in value.split(","))
    except ValueError:
        raise click.BadParameter(f"not a comma-separated list of CPU numbers: {value!r}") from None


def _language_list(ctx: click.Context, param: click.Parameter, value: str | None) -> tuple[str, ...] | None:
    if value is None:
        return None
    chosen = tuple(value.replace(",", " ").split())
    unknown = [name for name in chosen if name not in NAMES]
    if unknown or not chosen:
        raise click.BadParameter(f"unknown language {unknown[0] if unknown else value!r} (known: {', '.join(NAMES)})")
    return chosen


def build_config(
    *,
    workers: int | None,
    cpus: tuple[int, ...],
    sandbox_python: str,
    insecure_no_sandbox: bool,
    languages: tuple[str, ...] | None = None,
    cpu_s: float | None = None,
    wall_s: float | None = None,
    memory_mb: int | None = None,
    output_kb: int | None = None,
) -> ExecutorConfig:
    """The executor's config from the flags; unset limits (a worker has none) keep the defaults."""
    given = {"cpu_s": cpu_s, "wall_s": wall_s, "memory_mb": memory_mb, "output_kb": output_kb}
    try:
        limits = DEFAULT_LIMITS.merged({k: v for k, v in given.items() if v is not None})
    except InvalidJob as exc:
        raise click.BadParameter(str(exc)) from None
    if cpu_s is not None and wall_s is None:
        limits = limits.merged({"wall_s": max(limits.wall_s, min(300.0, cpu_s * 3))})
    # Unset ones keep ExecutorConfig's defaults (the CPU count; ACEFARM_LANGUAGES).
    chosen: dict[str, Any] = {"slots": workers, "languages": languages}
    try:
        return ExecutorConfig(
            limits=limits,
            python=sandbox_python,
            insecure_no_sandbox=insecure_no_sandbox,
            cpus=cpus,
            **{k: v for k, v in chosen.items() if v},
        )
    except ValueError as exc:
        raise click.BadParameter(str(exc)) from None


def score_command(parse: LineParser = parse_job, what: str = "jobs") -> click.Command:
    """The `score` verb over a line parser: the broker's reads jobs; the trainer's (trainer/cli.py)
    adds AceCode-87K rows and puts its own `score` in this command group."""

    @click.command(name="score", help=f"Score SRC ({what}; JSONL or Parquet) into OUTPUT.")
    @click.argument("src", type=click.Path(exists=True, dir_okay=False))
    @click.option(
        "-o",
        "--output",
        "dst",
        required=True,
        type=click.Path(dir_okay=False),
        help="Where results go (JSONL, one line per input line).",
    )
    @click.option("--resume", is_flag=True, help="Skip ids already in OUTPUT and append the rest.")
    @click.option(
        "--server",
        default=None,
        metavar="HOST:PORT",
        help="Score through a farm's gRPC API instead of a local sandbox pool.",
    )
    @click.option(
        "--token", envvar="ACEFARM_TOKEN", default=None, help="Bearer token for --server (env ACEFARM_TOKEN)."
    )
    @click.option("--tls-ca", default=None, help="CA certificate (PEM) to verify the --server's TLS certificate.")
    @click.option(
        "--summary-json",
        default=None,
        type=click.Path(dir_okay=False),
        help="Also write the summary (counts, pass@k overall and per problem) here as JSON.",
    )
    @click.option(
        "--progress-interval",
        default=10.0,
        show_default=True,
        type=click.FloatRange(0),
        help="Seconds between progress lines when stderr is not a terminal.",
    )
    @executor_options
    def score(
        src: str,
        dst: str,
        resume: bool,
        server: str | None,
        token: str | None,
        tls_ca: str | None,
        summary_json: str | None,
        progress_interval: float,
        **opts: object,
    ) -> None:
        if opts["insecure_no_sandbox"]:
            _warn_insecure()
        config = build_config(**opts)  # type: ignore[arg-type]
        total = count_lines(src)
        dispatcher: Dispatcher
        try:
            if server:
                from .remote import RemoteDispatcher

                dispatcher = RemoteDispatcher(server, token=token, tls=tls_ca)
            else:
                dispatcher = LocalDispatcher(config)
        except SandboxUnavailable as exc:
            err.print(f"[bold red]error:[/] {exc}")
            sys.exit(1)
        except grpc.RpcError as exc:
            err.print(f"[bold red]error:[/] cannot reach the farm at {server}: {exc.code().name}: {exc.details()}")
            sys.exit(1)
        try:
            with dispatcher, ProgressReport(err, total, "scoring", interval_s=progress_interval) as progress:
                summary = score_file(
                    src,
                    dst,
                    dispatcher,
                    config.limits,
                    config.rules,
                    resume,
                    on_line=progress.advance,
                    parse=parse,
                )
        except OutputUnusable as exc:
            err.print(f"[bold red]error:[/] {escape(str(exc))}", soft_wrap=True)
            sys.exit(2)
        for rej in summary.rejected:
            err.print(f"[red]rejected[/] {escape(f'line {rej.line}: {rej.field}: {rej.message}')}", soft_wrap=True)
        err.print(summary_table(summary))
        if summary_json:
            pathlib.Path(summary_json).write_text(json.dumps(summary.to_dict(), indent=1) + "\n", encoding="utf-8")
        if summary.rejected:
            sys.exit(EXIT_REJECTED)

    return score


main.add_command(score_command())


def masked(url: str) -> str:
    """A broker URL fit to print: its password replaced by `**` (as Celery's banner does)."""
    from urllib.parse import urlsplit, urlunsplit

    parts = urlsplit(url)
    if parts.password is None:
        return url
    user = parts.username or ""
    host = parts.hostname or ""
    if ":" in host:
        host = f"[{host}]"
    netloc = f"{user}:**@{host}" + (f":{parts.port}" if parts.port else "")
    return urlunsplit(parts._replace(netloc=netloc))


def _warn_insecure() -> None:
    err.print(
        "[bold red]WARNING: --insecure-no-sandbox: untrusted programs run WITHOUT isolation. "
        "They can read and destroy this machine's files and reach its network.[/]"
    )


@main.command()
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on (0.0.0.0 for all).")
@click.option(
    "--port", default=50051, show_default=True, type=click.IntRange(0, 65535), help="gRPC port (0: any free)."
)
@click.option(
    "--broker",
    "broker_url",
    default=None,
    metavar="redis://HOST:PORT/DB",
    help="Cluster mode: send jobs to `acefarm worker`s through this Redis. Default: embedded pool.",
)
@click.option(
    "--token", envvar="ACEFARM_TOKEN", default=None, help="Require this bearer token from clients (env ACEFARM_TOKEN)."
)
@click.option("--tls-cert", default=None, type=click.Path(exists=True, dir_okay=False), help="TLS certificate (PEM).")
@click.option("--tls-key", default=None, type=click.Path(exists=True, dir_okay=False), help="TLS private key (PEM).")
@click.option("--metrics-port", default=0, type=click.IntRange(0, 65535), help="Prometheus metrics port (0: off).")
@click.option(
    "--http-port",
    default=None,
    type=click.IntRange(0, 65535),
    help="Also serve the HTTP API (SandboxFusion /run_code, OpenRLHF /get_reward, /v1/...) here (0: any free).",
)
@click.option(
    "--http-port-file",
    default=None,
    type=click.Path(dir_okay=False),
    help="Write the HTTP API's bound port here once serving (useful with --http-port 0).",
)
@click.option(
    "--max-queue",
    default=20_000,
    show_default=True,
    type=click.IntRange(1),
    help="Jobs in flight before RESOURCE_EXHAUSTED.",
)
@click.option("--max-batch-jobs", default=4096, show_default=True, type=click.IntRange(1), help="Jobs per request.")
@click.option(
    "--port-file",
    default=None,
    type=click.Path(dir_okay=False),
    help="Write the bound port here once serving (useful with --port 0).",
)
@click.option(
    "--visibility-timeout",
    default=600,
    show_default=True,
    type=click.IntRange(1),
    help="Cluster mode: must match the workers' --visibility-timeout.",
)
@click.option(
    "--resend-after",
    default=None,
    type=click.FloatRange(1),
    help="Cluster mode: resend a job unanswered this long (default 2 x visibility timeout + 30 s); "
    "covers chunks lost with a frozen worker or a Redis that lost its data.",
)
@click.option(
    "--cache-mb",
    default=None,
    type=click.IntRange(1),
    help="Bound of the result cache (least recently used out first): the embedded server's in memory "
    "(default 512), or in cluster mode a cap on the workers' --cache-mb for the whole cluster.",
)
@executor_options
def serve(
    host: str,
    port: int,
    broker_url: str | None,
    token: str | None,
    tls_cert: str | None,
    tls_key: str | None,
    metrics_port: int,
    http_port: int | None,
    http_port_file: str | None,
    max_queue: int,
    max_batch_jobs: int,
    port_file: str | None,
    visibility_timeout: int,
    resend_after: float | None,
    cache_mb: int | None,
    **opts: object,
) -> None:
    """Serve the farm's gRPC API, and its HTTP API with --http-port (embedded sandbox pool, or a
    Celery cluster with --broker)."""
    import signal as _signal

    from .config import ServerConfig
    from .server import FarmServer

    if bool(tls_cert) != bool(tls_key):
        raise click.UsageError("--tls-cert and --tls-key go together")
    if opts["insecure_no_sandbox"]:
        _warn_insecure()
    give_back_large_blocks()  # before any thread starts: a request's megabytes go back after it
    executor_config = build_config(**opts)  # type: ignore[arg-type]
    config = ServerConfig(
        host=host,
        port=port,
        broker_url=broker_url,
        token=token,
        tls_cert=tls_cert,
        tls_key=tls_key,
        metrics_port=metrics_port,
        http_port=http_port,
        max_queue=max_queue,
        max_batch_jobs=max_batch_jobs,
        executor=executor_config,
    )
    dispatcher: Dispatcher
    try:
        if broker_url:
            from .cluster_dispatcher import CeleryDispatcher

            dispatcher = CeleryDispatcher(
                broker_url,
                executor_config,
                visibility_timeout_s=visibility_timeout,
                resend_after_s=resend_after,
                cache_mb=cache_mb,
            )
        else:
            from .cache import CachingDispatcher

            dispatcher = CachingDispatcher(LocalDispatcher(executor_config), (cache_mb or 512) << 20)
    except SandboxUnavailable as exc:
        err.print(f"[bold red]error:[/] {exc}")
        sys.exit(1)
    server = FarmServer(config, dispatcher).start()
    # What start-up built (modules, gRPC, protobuf, metrics) lives as long as the process: out
    # of the collector's sight, a full collection no longer walks it (~20 ms, all threads held).
    gc.collect()
    gc.freeze()
    mode = f"cluster via {masked(broker_url)}" if broker_url else f"embedded, {dispatcher.capacity} slots"
    http = f"; HTTP API on {host}:{server.http.port}" if server.http is not None else ""
    err.print(
        f"acefarm serving on {host}:{server.port} ({mode}{', TLS' if tls_cert else ''}"
        f"{', token auth' if token else ''}){http}",
        soft_wrap=True,
    )
    if http_port_file and server.http is not None:
        pathlib.Path(http_port_file).write_text(str(server.http.port))
    if port_file:
        pathlib.Path(port_file).write_text(str(server.port))
    stop = threading.Event()
    for sig in (_signal.SIGTERM, _signal.SIGINT):
        _signal.signal(sig, lambda *_: stop.set())
    stop.wait()
    server.stop()
    dispatcher.close()


@main.command()
@click.option(
    "--broker",
    "broker_url",
    required=True,
    metavar="redis://HOST:PORT/DB",
    help="The Redis that `acefarm serve --broker` uses.",
)
@click.option(
    "--threads",
    default=2,
    show_default=True,
    type=click.IntRange(1, 64),
    help="Chunks in progress at once (their jobs share this worker's sandbox slots). Past the first, "
    "a chunk is taken only while the current one's last jobs run; 1: only once it is done.",
)
@click.option(
    "--visibility-timeout",
    default=600,
    show_default=True,
    type=click.IntRange(1),
    help="Seconds before Redis hands an unacknowledged chunk to another worker.",
)
@click.option("--name", default=None, help="Worker name (default: host-pid).")
@click.option(
    "--cache-mb",
    default=512,
    show_default=True,
    type=click.IntRange(1),
    help="Bound of the cluster's result cache in Redis (least recently used out first; the "
    "smallest bound among the workers applies).",
)
@click.option(
    "--metrics-port", default=0, type=click.IntRange(0, 65535), help="Prometheus metrics of this worker (0: off)."
)
@click.option("--metrics-host", default="0.0.0.0", show_default=True, help="Address the metrics listen on.")
@_slot_options  # no limit flags: jobs come with their server's limits
def worker(
    broker_url: str,
    threads: int,
    visibility_timeout: int,
    name: str | None,
    cache_mb: int,
    metrics_port: int,
    metrics_host: str,
    **opts: object,
) -> None:
    """Run chunks of jobs from the cluster's Redis on this machine's sandbox slots."""
    from .worker import run_worker

    if opts["insecure_no_sandbox"]:
        _warn_insecure()
    give_back_large_blocks()
    config = build_config(**opts)  # type: ignore[arg-type]
    try:
        run_worker(
            broker_url,
            config,
            threads=threads,
            visibility_timeout_s=visibility_timeout,
            name=name,
            cache_mb=cache_mb,
            metrics_port=metrics_port,
            metrics_host=metrics_host,
        )
    except SandboxUnavailable as exc:
        err.print(f"[bold red]error:[/] {exc}")
        sys.exit(1)


@main.command()
@click.option("--broker", "broker_url", required=True, metavar="redis://HOST:PORT/DB", help="The cluster's Redis.")
@click.option("--watch", is_flag=True, help="Refresh until interrupted.")
@click.option(
    "--interval", default=4.0, show_default=True, type=click.FloatRange(0.5), help="Seconds between readings."
)
def status(broker_url: str, watch: bool, interval: float) -> None:
    """The cluster's live view: workers (slots, busy, jobs, errors, host load), the queue, and
    throughput over the last interval (one reading, or refreshed with --watch)."""
    import time as _time

    import redis as _redis
    from rich.live import Live

    from .farmview import FarmView

    view = FarmView(_redis.Redis.from_url(broker_url))
    try:
        view.read()
        if not watch:
            _time.sleep(interval)  # throughput needs two readings
            console.print(view.read().table())
            return
        with Live(view.read().table(), console=console, auto_refresh=False) as live:
            while True:
                _time.sleep(interval)
                live.update(view.read().table(), refresh=True)
    except _redis.RedisError as exc:
        err.print(f"[bold red]error:[/] cannot read the cluster at {masked(broker_url)}: {exc}")
        sys.exit(1)
    except KeyboardInterrupt:
        pass


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
    if s.passk.shared:  # several programs per problem: pass@k (the unbiased estimator)
        table.add_row("problems", str(len(s.passk.counts)))
        for name, value in s.passk.overall().items():
            table.add_row(name, f"{value:.4f}")
    table.add_row("seconds", f"{s.seconds:.2f}")
    table.add_row("programs/s", f"{s.programs_per_s:.1f}")
    return table


if __name__ == "__main__":  # pragma: no cover
    main()
