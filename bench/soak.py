"""Soak: the cluster at full load for N minutes. Does its memory level off?

    .venv/bin/python bench/soak.py [--minutes 10] [--clients 4] [--cache-mb MB] [--json PATH]

What it does:

1. Starts a private `redis-server` (--save '' --appendonly no), two `acefarm worker --broker
   URL --workers 1` and `acefarm serve --broker URL`, real subprocesses on free 127.0.0.1
   ports, each in its own process group (bench/cluster.py's services). With `--cache-mb MB`
   (default 32) the server and the workers get `--cache-mb MB`, the bound on the result
   cache, when their CLI has the flag; the report says when it does not.
2. Keeps the farm at full load for `--minutes`: `--clients` threads, each its own SDK
   `Client`, alternately sending ExecuteBatch streams of 64 jobs and Score groups of 16
   programs. Every program is new (a unique comment line), so the cluster's content-hash
   result cache never answers and keeps growing. Each job has three assert tests, one of which
   fails with a ~600-character message (a result of ~1.5 KB); every result is checked
   (pass rate 2/3).
3. Every 30 s prints a line of the curve: elapsed time, jobs done and the rate since the last
   line, Redis `used_memory`, the number of keys, the server's RSS and the workers' RSS
   (process trees, sandboxes included). Samples are taken every 5 s for the verdict.
4. The verdict, after the load stops and the farm is idle:
   - every key in Redis has a TTL, except keys matching `broker.cluster.UNEXPIRING_KEYS`
     (a key name or glob -> why it is bounded); a missing allowlist is itself a failure;
   - Redis `used_memory` levels off: after a warm-up (the first tenth of the run), its growth
     over the second half is at most a quarter of its growth over the first half (or 1 MiB),
     or, with a cache bound, its peak stays within the bound + 16 MiB of the idle start;
   - the server's and the workers' RSS level off by the same half-against-half rule (8 MiB
     slack);
   - no wrong result and no failed request.

`--json PATH` also writes the samples and the verdict. Exits 0 when the verdict is good, 1
when it is not, 2 when a service cannot start.
"""

from __future__ import annotations

import argparse
import datetime as dt
import fnmatch
import json
import statistics
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

BENCH = Path(__file__).resolve().parent
ROOT = BENCH.parent
sys.path.insert(0, str(ROOT))  # this tree's code, in this process as in the services it starts

import psutil  # noqa: E402
import redis as redis_lib  # noqa: E402

from broker.client import Client  # noqa: E402

MiB = 1 << 20
BATCH = 64  # jobs per ExecuteBatch stream
GROUP = 16  # programs per Score group
LONG = 600  # characters of the value the failing test reports
TESTS = [
    "assert f(1).startswith('v')",
    f"assert len(f(1)) == {LONG + 1}",
    "assert f(1) == 'w'",  # fails, with a message of ~600 characters
]
PASS_RATE = 2 / 3
GROWTH_RATIO = 0.25  # "levels off": second-half growth at most this share of the first half's
MEMORY_SLACK = 1 * MiB
RSS_SLACK = 8 * MiB
CACHE_OVERHEAD = 16 * MiB  # above a --cache-mb bound: queues, reply lists, in-flight payloads


def program(tag: str, client: int, n: int) -> str:
    """A program no one has sent before (its comment), whose result is ~1.5 KB."""
    return f"def f(x):\n    return 'v' * {LONG} + str(x)\n# soak {tag} {client} {n}\n"


# -- the load -----------------------------------------------------------------------------


@dataclass
class LoadStats:
    jobs: int = 0
    wrong: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)


class Load:
    """`clients` threads keeping a farm at `target` busy with new programs until stop()."""

    def __init__(self, target: str, clients: int = 4, tag: str = "") -> None:
        self.target = target
        self.tag = tag or str(time.time_ns())
        self.stats = LoadStats()
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._threads = [threading.Thread(target=self._run, args=(i,), daemon=True) for i in range(clients)]

    def start(self) -> Load:
        for t in self._threads:
            t.start()
        return self

    def stop(self, timeout_s: float = 120) -> None:
        """Stop sending; wait for the requests in flight to end."""
        self._stop.set()
        deadline = time.monotonic() + timeout_s
        for t in self._threads:
            t.join(max(0.1, deadline - time.monotonic()))
        alive = sum(t.is_alive() for t in self._threads)
        if alive:
            self._error(f"{alive} client threads still waiting {timeout_s:.0f} s after the load stopped")

    @property
    def jobs(self) -> int:
        with self._lock:
            return self.stats.jobs

    def _error(self, what: str) -> None:
        with self._lock:
            self.stats.errors.append(what)

    def _run(self, client: int) -> None:
        n = 0
        with Client(self.target, timeout_s=300) as farm:
            while not self._stop.is_set():
                try:
                    if n % 2 == 0:
                        jobs = [
                            {
                                "id": f"{client}/{n}/{i}",
                                "program": program(self.tag, client, n * BATCH + i),
                                "tests": TESTS,
                            }
                            for i in range(BATCH)
                        ]
                        rates = [(r.id, r.pass_rate) for r in farm.execute_batch(jobs, chunk=BATCH)]
                    else:
                        programs = [program(self.tag, client, n * BATCH + i) for i in range(GROUP)]
                        group = farm.score(programs, TESTS, group_id=f"{client}/{n}")
                        rates = [(r.id, r.pass_rate) for r in group.results]
                except Exception as exc:  # a failed request is a finding, not the end of the run
                    self._error(f"client {client}: {type(exc).__name__}: {exc}")
                    time.sleep(1)
                    continue
                finally:
                    n += 1
                wrong = [f"{job_id}: pass rate {rate}" for job_id, rate in rates if abs(rate - PASS_RATE) > 1e-9]
                with self._lock:
                    self.stats.jobs += len(rates)
                    self.stats.wrong.extend(wrong[:10])


# -- what is watched ------------------------------------------------------------------------


def tree_rss(pids: Iterable[int]) -> int:
    """Resident memory of these processes and all their descendants, in bytes."""
    total = 0
    for pid in pids:
        try:
            main = psutil.Process(pid)
            procs = [main, *main.children(recursive=True)]
        except psutil.NoSuchProcess:
            continue
        for p in procs:
            try:
                total += p.memory_info().rss
            except psutil.NoSuchProcess:
                pass
    return total


@dataclass
class Sample:
    t: float  # seconds since the load started
    jobs: int
    used_memory: int
    keys: int
    server_rss: int
    worker_rss: int


def sample(r: redis_lib.Redis, t: float, jobs: int, server_pids: list[int], worker_pids: list[int]) -> Sample:
    return Sample(
        t, jobs, int(r.info("memory")["used_memory"]), int(r.dbsize()), tree_rss(server_pids), tree_rss(worker_pids)
    )


def keys_without_ttl(r: redis_lib.Redis) -> list[str]:
    """Every key that has no expiry (TTL -1)."""
    keys = list(r.scan_iter(count=1000))
    found = []
    for start in range(0, len(keys), 1000):
        part = keys[start : start + 1000]
        with r.pipeline(transaction=False) as p:
            for k in part:
                p.ttl(k)
            ttls = p.execute()
        found += [k.decode(errors="replace") for k, ttl in zip(part, ttls) if ttl == -1]
    return sorted(found)


def unexpiring_allowlist() -> dict[str, str] | None:
    """broker.cluster.UNEXPIRING_KEYS (key name or glob -> why it is bounded), None if missing."""
    from broker import cluster

    allow = getattr(cluster, "UNEXPIRING_KEYS", None)
    return dict(allow) if isinstance(allow, Mapping) else None


def unexplained(keys: Iterable[str], allow: Mapping[str, str]) -> list[str]:
    """The keys that match no name or glob of the allowlist."""
    return [k for k in keys if not any(fnmatch.fnmatchcase(k, pattern) for pattern in allow)]


def at(samples: list[Sample], t: float, attr: str) -> float:
    """The median of `attr` over the three samples nearest to time t."""
    near = sorted(samples, key=lambda s: abs(s.t - t))[:3]
    return float(statistics.median(getattr(s, attr) for s in near))


def halves(samples: list[Sample], attr: str, warmup_s: float) -> tuple[float, float]:
    """Growth of `attr` over the first and the second half of the run after the warm-up."""
    end = samples[-1].t
    mid = warmup_s + (end - warmup_s) / 2
    start, middle, last = at(samples, warmup_s, attr), at(samples, mid, attr), at(samples, end, attr)
    return middle - start, last - middle


def levels_off(first: float, second: float, slack: float) -> bool:
    """Second-half growth at most GROWTH_RATIO of the first half's, or within `slack`."""
    return second <= max(GROWTH_RATIO * first, slack)


def verdict(
    samples: list[Sample],
    warmup_s: float,
    idle_memory: int,
    no_ttl: list[str],
    allow: Mapping[str, str] | None,
    cache_mb: int | None,
    stats: LoadStats,
    check_rss: bool = True,
) -> dict[str, Any]:
    """What the soak found: {"ok", "problems": [...], and the numbers behind them}. With
    `check_rss` false, the processes' RSS is reported, not judged."""
    problems = []
    if allow is None:
        problems.append(
            "broker.cluster.UNEXPIRING_KEYS is missing: the allowlist of the keys that may live "
            "without a TTL (key name or glob -> why it is bounded)"
        )
    bad_keys = unexplained(no_ttl, allow or {})
    if bad_keys:
        problems.append(f"{len(bad_keys)} keys without a TTL and not in UNEXPIRING_KEYS: {summarize(bad_keys)}")
    mem1, mem2 = halves(samples, "used_memory", warmup_s)
    peak = max(s.used_memory for s in samples)
    bounded = cache_mb is not None and peak - idle_memory <= cache_mb * MiB + CACHE_OVERHEAD
    if not (levels_off(mem1, mem2, MEMORY_SLACK) or bounded):
        within = (
            f"; peak {(peak - idle_memory) / MiB:.1f} MiB above idle, over the --cache-mb {cache_mb}"
            if cache_mb
            else ""
        )
        problems.append(
            f"Redis used_memory does not level off: +{mem1 / MiB:.1f} MiB over the first half, "
            f"+{mem2 / MiB:.1f} MiB over the second{within}"
        )
    rss = {}
    for attr in ("server_rss", "worker_rss"):
        g1, g2 = halves(samples, attr, warmup_s)
        rss[attr] = (g1, g2)
        if check_rss and not levels_off(g1, g2, RSS_SLACK):
            problems.append(
                f"{attr.replace('_', ' ')} does not level off: +{g1 / MiB:.1f} MiB over the first half, "
                f"+{g2 / MiB:.1f} MiB over the second"
            )
    if stats.wrong:
        problems.append(f"wrong results: {stats.wrong[:5]}")
    if stats.errors:
        problems.append(f"{len(stats.errors)} failed requests: {stats.errors[:3]}")
    return {
        "ok": not problems,
        "problems": problems,
        "used_memory_growth": [mem1, mem2],
        "used_memory_peak_above_idle": peak - idle_memory,
        "rss_growth": rss,
        "keys_without_ttl": no_ttl,
        "unexplained_keys": bad_keys,
        "allowlist": allow,
        "cache_mb": cache_mb,
        "jobs": stats.jobs,
    }


def summarize(keys: list[str], show: int = 12) -> str:
    """A long key list, short: the first few, and how many more."""
    if not keys:
        return "none"
    more = f" and {len(keys) - show} more" if len(keys) > show else ""
    return ", ".join(keys[:show]) + more


def curve_line(s: Sample, prev: Sample | None) -> str:
    rate = (s.jobs - prev.jobs) / (s.t - prev.t) if prev is not None and s.t > prev.t else 0.0
    return (
        f"{s.t:7.0f} s  {s.jobs:9d} jobs ({rate:6.1f}/s)  redis {s.used_memory / MiB:8.1f} MiB"
        f"  {s.keys:8d} keys  server {s.server_rss / MiB:7.1f} MiB  workers {s.worker_rss / MiB:7.1f} MiB"
    )


def run_soak(
    r: redis_lib.Redis,
    target: str,
    seconds: float,
    server_pids: list[int],
    worker_pids: list[int],
    clients: int = 4,
    every_s: float = 5.0,
    print_every_s: float | None = 30.0,
    warmup_s: float | None = None,
    cache_mb: int | None = None,
    check_rss: bool = True,
    drain_s: float = 120,
    out: Callable[[str], None] = print,
) -> tuple[list[Sample], dict[str, Any]]:
    """Load the farm at `target` for `seconds`, sampling every `every_s`; then, once the requests
    in flight have ended (a failure if some have not after `drain_s`), the verdict."""
    warmup = seconds / 10 if warmup_s is None else warmup_s
    idle_memory = int(r.info("memory")["used_memory"])
    load = Load(target, clients).start()
    t0 = time.monotonic()
    samples = [sample(r, 0.0, 0, server_pids, worker_pids)]
    printed: Sample | None = None
    if print_every_s is not None:
        out(curve_line(samples[0], None))
        printed = samples[0]
    try:
        while (now := time.monotonic() - t0) < seconds:
            time.sleep(min(every_s, seconds - now))
            s = sample(r, time.monotonic() - t0, load.jobs, server_pids, worker_pids)
            samples.append(s)
            if print_every_s is not None and printed is not None and s.t - printed.t >= print_every_s - 0.5:
                out(curve_line(s, printed))
                printed = s
    finally:
        load.stop(drain_s)
    time.sleep(1.0)  # idle: what is left now is what stays
    no_ttl = keys_without_ttl(r)
    result = verdict(samples, warmup, idle_memory, no_ttl, unexpiring_allowlist(), cache_mb, load.stats, check_rss)
    return samples, result


# -- main ---------------------------------------------------------------------------------------


def has_flag(acefarm: list[str], command: str, flag: str) -> bool:
    import subprocess

    out = subprocess.run([*acefarm, command, "--help"], cwd=ROOT, capture_output=True, text=True, timeout=60)
    return flag in out.stdout


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(
        description=__doc__.split("\n\n")[0], formatter_class=argparse.RawDescriptionHelpFormatter
    )
    ap.add_argument("--minutes", type=float, default=10, help="how long the load runs (default 10)")
    ap.add_argument("--clients", type=int, default=4, help="client threads (default 4)")
    ap.add_argument("--cache-mb", type=int, default=32, help="bound on the result cache, when the CLI has the flag")
    ap.add_argument("--json", metavar="PATH", help="also write the samples and the verdict as JSON to PATH")
    args = ap.parse_args(argv)
    if args.minutes <= 0 or args.clients < 1:
        ap.error("--minutes must be > 0 and --clients >= 1")

    sys.path.insert(0, str(BENCH))
    from cluster import Services, stop_on_sigterm, wait_for  # the sibling benchmark's services

    stop_on_sigterm()
    workdir = Path(tempfile.mkdtemp(prefix="acefarm-soak-"))
    services = Services(workdir)
    services.acefarm = [sys.executable, "-m", "trainer.cli"]  # run from ROOT: this tree's code
    cache = {c: has_flag(services.acefarm, c, "--cache-mb") for c in ("serve", "worker")}
    cache_mb = args.cache_mb if all(cache.values()) else None
    print("AceFarm soak")
    print(f"date:       {dt.datetime.now(dt.UTC).isoformat(timespec='seconds')}")
    print(f"load:       {args.minutes:g} min, {args.clients} clients, new programs only (the cache keeps growing)")
    print(
        f"cache:      --cache-mb {cache_mb} on serve and worker"
        if cache_mb is not None
        else f"cache:      no --cache-mb flag ({', '.join(c for c, ok in cache.items() if not ok)}): nothing bounds it"
    )
    report: dict[str, Any] = {"minutes": args.minutes, "clients": args.clients, "cache_mb": cache_mb}
    try:
        try:
            url = services.redis()
            bound = ["--cache-mb", str(cache_mb)] if cache_mb is not None else []
            probe = redis_lib.Redis.from_url(url)
            for i in range(2):
                name = f"soak-worker-{i + 1}"
                svc = services.start(
                    name, [*services.acefarm, "worker", "--broker", url, "--workers", "1", "--name", name, *bound]
                )
                wait_for(lambda n=name: probe.exists(f"acefarm:worker:{n}"), f"{name} heartbeat", svc)
            port = services.serve("soak-server", "--broker", url, *bound)
        except RuntimeError as exc:
            print(f"cannot start the farm: {exc}\n{services.tails()}")
            return 2
        r = redis_lib.Redis.from_url(url)
        server = [s.proc.pid for s in services.started if s.name == "soak-server"]
        workers = [s.proc.pid for s in services.started if s.name.startswith("soak-worker")]
        print(f"farm:       redis {url}, 2 workers x 1 slot, server on 127.0.0.1:{port}")
        print()
        samples, result = run_soak(
            r, f"127.0.0.1:{port}", args.minutes * 60, server, workers, args.clients, cache_mb=cache_mb
        )
    finally:
        services.stop_all()
    print()
    mem1, mem2 = result["used_memory_growth"]
    print(
        f"redis used_memory growth after warm-up: first half +{mem1 / MiB:.1f} MiB, second half +{mem2 / MiB:.1f} MiB"
    )
    for attr, (g1, g2) in result["rss_growth"].items():
        print(f"{attr.replace('_', ' ')} growth: first half +{g1 / MiB:.1f} MiB, second half +{g2 / MiB:.1f} MiB")
    print(f"keys without a TTL: {summarize(result['keys_without_ttl'])}")
    print(f"jobs: {result['jobs']}")
    for p in result["problems"]:
        print(f"  PROBLEM: {p}")
    print(f"verdict: {'levels off' if result['ok'] else 'DOES NOT LEVEL OFF'}")
    if args.json:
        report |= {"samples": [asdict(s) for s in samples], "verdict": result}
        Path(args.json).write_text(json.dumps(report, indent=2, default=str))
    return 0 if result["ok"] else 1


if __name__ == "__main__":
    sys.exit(main())
