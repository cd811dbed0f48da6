"""RL reward benchmark: a GRPO batch through `FarmReward`, its groups at once vs one after another.

    .venv/bin/python bench/rewards.py [--slots 2] [--groups 8] [--completions 2] [--sleep-s 0.25]
                                      [--repeat 5] [--remote] [--json PATH]

One batch is `--groups` prompts x `--completions` completions; each program sleeps `--sleep-s`
(so a program holds its slot for a known time, whatever the CPU) and then passes or fails two
asserts. Three ways to score it, all in one run, interleaved, medians reported:

  (a) one call: every program of the batch in one farm call (one group, one suite): the
      lower bound for any way of scoring the batch;
  (b) FarmReward: the batch's groups all in flight at once (trainer/rewards.py);
  (c) one group after another: FarmReward over a farm that only has `score`, which is what
      a reward that loops over groups does.

The farm is an embedded pool of `--slots` sandbox slots in this process, or with `--remote`
an `acefarm serve --workers SLOTS` subprocess reached through the SDK (every program carries
a unique comment, so the server's result cache never answers). Every run's rewards are
checked (right programs 1.0, wrong 0.0). The last lines print the ratios (b)/(a) and (c)/(b).
(c) can only lose to (b) where the farm has more slots than a group has programs: on a farm
with as many slots as a group, one group already fills it.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import pathlib
import statistics
import sys
import tempfile
import time

ROOT = pathlib.Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from executor import ExecutorConfig  # noqa: E402
from trainer.farm import EmbeddedFarm, Group, RemoteFarm, score_groups  # noqa: E402
from trainer.rewards import FarmReward  # noqa: E402


class OneAtATime:
    """A farm with `score` only: FarmReward then scores its groups one after another."""

    def __init__(self, farm):
        self.farm = farm

    def score(self, programs, tests, group_id):
        return self.farm.score(programs, tests, group_id)


def batch(groups: int, completions: int, sleep_s: float, nonce: str):
    prompts, texts, tests, expected = [], [], [], []
    for g in range(groups):
        suite = [f"assert f({g}) == {g + 1}", f"assert f({g + 1}) == {g + 2}"]
        for c in range(completions):
            right = c % 2 == 0
            body = "x + 1" if right else "x"
            texts.append(f"import time\ntime.sleep({sleep_s})\ndef f(x):\n    return {body}\n# {nonce} {g} {c}\n")
            prompts.append(f"p{g}")
            tests.append(suite)
            expected.append(1.0 if right else 0.0)
    return prompts, texts, tests, expected


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--slots", type=int, default=2)
    ap.add_argument("--groups", type=int, default=8)
    ap.add_argument("--completions", type=int, default=2)
    ap.add_argument("--sleep-s", type=float, default=0.25)
    ap.add_argument("--repeat", type=int, default=5)
    ap.add_argument("--remote", action="store_true", help="through `acefarm serve` and the SDK")
    ap.add_argument("--json", default=None)
    args = ap.parse_args()

    server = None
    if args.remote:
        from tests.cluster.procs import start_server

        tmp = pathlib.Path(tempfile.mkdtemp(prefix="acefarm-bench-"))
        server, port = start_server(tmp, "--workers", str(args.slots))
        farm = RemoteFarm(f"127.0.0.1:{port}", timeout_s=300)
    else:
        farm = EmbeddedFarm(ExecutorConfig(slots=args.slots))
    print(
        f"# {dt.date.today()} {os.cpu_count()} CPUs; {'acefarm serve + SDK' if args.remote else 'embedded pool'}, "
        f"{args.slots} slots; batch {args.groups} groups x {args.completions} completions, "
        f"each program sleeps {args.sleep_s} s",
        flush=True,
    )
    times: dict[str, list[float]] = {"one call": [], "FarmReward": [], "group by group": []}
    ok = True
    try:
        for run in range(args.repeat + 1):  # run 0 warms up
            for name in times:
                prompts, texts, tests, expected = batch(
                    args.groups, args.completions, args.sleep_s, f"bench {time.time_ns()} {run} {name}"
                )
                t0 = time.perf_counter()
                if name == "one call":
                    (results,) = score_groups(farm, [Group(texts, tests[0], f"one/{run}")])
                    got = [r.pass_rate for r in results]  # every right program is f(x) = x + 1: any suite
                else:
                    reward = FarmReward(farm if name == "FarmReward" else OneAtATime(farm))
                    got = reward(prompts, texts, test_cases=tests)
                elapsed = time.perf_counter() - t0
                if got != expected:
                    print(f"!! {name}: wrong rewards {got}", flush=True)
                    ok = False
                if run:
                    times[name].append(elapsed)
    finally:
        farm.close()
        if server is not None:
            server.kill()
    med = {name: statistics.median(ts) for name, ts in times.items()}
    print(f"{'':<18}{'median s':>10}{'min s':>9}{'max s':>9}")
    for name, ts in times.items():
        print(f"{name:<18}{med[name]:>10.3f}{min(ts):>9.3f}{max(ts):>9.3f}")
    print(f"FarmReward / one call        = {med['FarmReward'] / med['one call']:.2f}")
    print(f"group by group / FarmReward  = {med['group by group'] / med['FarmReward']:.2f}")
    if args.json:
        pathlib.Path(args.json).write_text(json.dumps({"args": vars(args), "seconds": times, "median": med}))
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
