"""stdin/stdout throughput of C++ and Python programs, and what builds cost.

    .venv/bin/python bench/languages.py [--samples 24] [--variants 8] [--repeat 3] [--json PATH]

Workload: five problems written for this benchmark (sum, sort, count primes, gcd of pairs,
reverse words), each with a C++ and a Python solution and four stdin/stdout tests. Each
language gets problems x samples jobs (120 by default): `variants` distinct programs per
problem (the solution with a comment that differs), each sent samples/variants times, as a
GRPO group repeats its samples. Every job must pass (the script exits 1 otherwise).

Measured, all in one process, `--repeat` interleaved runs, medians:
- farm: a started Pool (isolation on, default config, a cold build cache each run: memory
  only), `pool.map` over the jobs: jobs/s and tests/s; a C++ build's CPU and wall time, a
  test's run time, and the build cache's hit rate (hits / jobs).
- bare loop: no sandbox, no limits: each distinct C++ program compiled once with the farm's g++
  command, then every test run as a subprocess of the compiled binary (Python: `python3 prog.py`),
  both on as many threads as slots. It bounds what any design that runs a process per test reaches here.
The ratios farm / bare loop are printed last.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
try:
    import executor  # noqa: F401
except ImportError:  # not installed: use the working tree
    sys.path.insert(0, str(ROOT))

from executor import ExecutorConfig, Job, Pool  # noqa: E402
from executor.languages import toolchains  # noqa: E402

CPP = {
    "sum": "#include <bits/stdc++.h>\nint main(){int n;std::cin>>n;long long s=0,x;"
    'for(int i=0;i<n;i++){std::cin>>x;s+=x;}std::cout<<s<<"\\n";}\n',
    "sort": "#include <bits/stdc++.h>\nint main(){int n;std::cin>>n;std::vector<long long>v(n);"
    "for(auto&x:v)std::cin>>x;std::sort(v.begin(),v.end());"
    "for(int i=0;i<n;i++)std::cout<<v[i]<<(i+1<n?' ':'\\n');}\n",
    "primes": "#include <bits/stdc++.h>\nint main(){int n;std::cin>>n;std::vector<char>c(n+1,1);int k=0;"
    'for(int i=2;i<=n;i++)if(c[i]){k++;for(long long j=1LL*i*i;j<=n;j+=i)c[j]=0;}std::cout<<k<<"\\n";}\n',
    "gcd": "#include <bits/stdc++.h>\nint main(){int q;std::cin>>q;while(q--){long long a,b;std::cin>>a>>b;"
    'std::cout<<std::gcd(a,b)<<"\\n";}}\n',
    "words": "#include <bits/stdc++.h>\nint main(){std::string w;std::vector<std::string>v;while(std::cin>>w)"
    "v.push_back(w);std::reverse(v.begin(),v.end());for(size_t i=0;i<v.size();i++)"
    'std::cout<<v[i]<<(i+1<v.size()?" ":"\\n");}\n',
}
PY = {
    "sum": "import sys\nd=sys.stdin.read().split()\nprint(sum(map(int,d[1:1+int(d[0])])))\n",
    "sort": "import sys\nd=sys.stdin.read().split()\nprint(' '.join(map(str,sorted(map(int,d[1:1+int(d[0])])))))\n",
    "primes": "n=int(input())\nc=bytearray([1])*(n+1)\nk=0\nfor i in range(2,n+1):\n    if c[i]:\n"
    "        k+=1\n        c[i*i::i]=bytes(len(range(i*i,n+1,i)))\nprint(k)\n",
    "gcd": "import sys,math\nd=sys.stdin.read().split()\nq=int(d[0])\n"
    "print('\\n'.join(str(math.gcd(int(d[1+2*i]),int(d[2+2*i]))) for i in range(q)))\n",
    "words": "import sys\nprint(' '.join(reversed(sys.stdin.read().split())))\n",
}


def _tests(problem: str) -> list[dict[str, str]]:
    """Four stdin/stdout tests of `problem`, their answers computed here."""
    import math
    import random

    rng = random.Random(problem)
    out = []
    for size in (5, 100, 2000, 20000):
        if problem in ("sum", "sort"):
            xs = [rng.randint(-(10**9), 10**9) for _ in range(size)]
            stdin = f"{size}\n{' '.join(map(str, xs))}\n"
            want = str(sum(xs)) if problem == "sum" else " ".join(map(str, sorted(xs)))
        elif problem == "primes":
            n = size * 50
            sieve = bytearray([1]) * (n + 1)
            sieve[0:2] = b"\0\0"
            for i in range(2, math.isqrt(n) + 1):
                if sieve[i]:
                    sieve[i * i :: i] = bytes(len(range(i * i, n + 1, i)))
            stdin, want = f"{n}\n", str(sum(sieve))
        elif problem == "gcd":
            pairs = [(rng.randint(1, 10**12), rng.randint(1, 10**12)) for _ in range(size)]
            stdin = f"{size}\n" + "".join(f"{a} {b}\n" for a, b in pairs)
            want = "\n".join(str(math.gcd(a, b)) for a, b in pairs)
        else:
            words = ["w%d" % rng.randint(0, 999) for _ in range(size)]
            stdin, want = " ".join(words) + "\n", " ".join(reversed(words))
        out.append({"stdin": stdin, "expected_stdout": want + "\n"})
    return out


def _jobs(language: str, samples: int, variants: int) -> tuple[list[dict[str, Any]], dict[str, str]]:
    """(the job dicts, {distinct program: problem}) of one language."""
    sources, comment = (CPP, "//") if language == "cpp" else (PY, "#")
    jobs, programs = [], {}
    for problem, program in sources.items():
        tests = _tests(problem)
        for s in range(samples):
            text = program + f"{comment} sample variant {s % variants}\n"
            programs[text] = problem
            jobs.append({"id": f"{language}/{problem}/{s}", "language": language, "program": text, "tests": tests})
    return jobs, programs


def _farm(jobs: list[dict[str, Any]], slots: int) -> dict[str, Any]:
    config = ExecutorConfig(slots=slots, build_dir=None, languages=("cpp",))
    with Pool(config) as pool:
        before = pool.builds.stats.to_dict()
        parsed = [Job.from_dict(j) for j in jobs]
        t0 = time.perf_counter()
        results = list(pool.map(parsed))
        elapsed = time.perf_counter() - t0
        after = pool.builds.stats.to_dict()
    bad = [r.id for r in results if r.verdict.value != "passed"]
    if bad:
        sys.exit(f"wrong verdicts for {len(bad)} jobs, e.g. {bad[:3]}: {results[0].to_dict()}")
    builds = [r.build for r in results if r.build is not None and not r.build.cached]
    tests = [t.cpu_ms for r in results for t in r.tests if t.cpu_ms is not None]
    return {
        "seconds": elapsed,
        "jobs_per_s": len(jobs) / elapsed,
        "tests_per_s": sum(len(j["tests"]) for j in jobs) / elapsed,
        "builds": after["builds"] - before["builds"],
        "hits": after["hits"] - before["hits"],
        "waits": after["waits"] - before["waits"],
        "build_cpu_ms": statistics.median(b.cpu_ms for b in builds) if builds else None,
        "build_wall_ms": statistics.median(b.wall_ms for b in builds) if builds else None,
        "test_cpu_ms": statistics.median(tests),
    }


def _bare(language: str, jobs: list[dict[str, Any]], programs: dict[str, str], slots: int) -> dict[str, Any]:
    """No sandbox: compile each distinct program once, run every test as a subprocess."""
    with tempfile.TemporaryDirectory() as tmp:
        tc = toolchains(["cpp"]).get("cpp")

        def build(item: tuple[int, str]) -> list[str]:
            i, text = item
            where = os.path.join(tmp, f"p{i}")
            os.mkdir(where)
            if language == "cpp" and tc is not None:  # the farm's own build command (its precompiled header)
                Path(where, "main.cpp").write_text(text)
                subprocess.run(tc.command(tc.language.compile or (), text, 1024), cwd=where, check=True)
                return [os.path.join(where, "main")]
            Path(where, "main.py").write_text(text)
            return ["/usr/bin/python3", os.path.join(where, "main.py")]

        t0 = time.perf_counter()
        with ThreadPoolExecutor(slots) as ex:
            paths = dict(zip(programs, ex.map(build, enumerate(programs))))
        compiled = time.perf_counter() - t0

        def one(job: dict[str, Any]) -> bool:
            ok = True
            for test in job["tests"]:
                out = subprocess.run(paths[job["program"]], input=test["stdin"], capture_output=True, text=True)
                ok &= out.stdout.split() == test["expected_stdout"].split()
            return ok

        t1 = time.perf_counter()
        with ThreadPoolExecutor(slots) as ex:
            oks = list(ex.map(one, jobs))
        elapsed = time.perf_counter() - t1
    if not all(oks):
        sys.exit(f"the bare loop got wrong answers for {language}")
    return {
        "seconds": elapsed + compiled,
        "compile_seconds": compiled,
        "jobs_per_s": len(jobs) / (elapsed + compiled),
        "tests_per_s": sum(len(j["tests"]) for j in jobs) / (elapsed + compiled),
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--samples", type=int, default=24, help="jobs per problem and language")
    ap.add_argument("--variants", type=int, default=8, help="distinct programs per problem")
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--slots", type=int, default=os.cpu_count() or 1)
    ap.add_argument("--json", help="write the medians here")
    args = ap.parse_args()
    if "cpp" not in toolchains(["cpp"]):
        sys.exit("g++ is not installed (make setup LANGUAGES=cpp)")
    runs: dict[str, list[dict[str, Any]]] = {}
    for r in range(args.repeat):
        for language in ("cpp", "python"):
            jobs, programs = _jobs(language, args.samples, args.variants)
            runs.setdefault(f"farm/{language}", []).append(_farm(jobs, args.slots))
            runs.setdefault(f"bare/{language}", []).append(_bare(language, jobs, programs, args.slots))
            print(
                f"run {r + 1}: {language}: farm {runs[f'farm/{language}'][-1]['jobs_per_s']:.1f} jobs/s, "
                f"bare {runs[f'bare/{language}'][-1]['jobs_per_s']:.1f} jobs/s",
                flush=True,
            )
    med = {
        k: {m: statistics.median(x[m] for x in v if x[m] is not None) for m in v[0] if v[0][m] is not None}
        for k, v in runs.items()
    }
    n_jobs = len(_jobs("cpp", args.samples, args.variants)[0])
    print(f"\n{n_jobs} jobs x 4 tests per language, {args.slots} slots, median of {args.repeat}")
    print(f"{'':18}{'jobs/s':>10}{'tests/s':>10}")
    for k, v in med.items():
        print(f"{k:18}{v['jobs_per_s']:10.1f}{v['tests_per_s']:10.1f}")
    f = med["farm/cpp"]
    print(
        f"C++ build: {f['build_cpu_ms']:.0f} ms CPU, {f['build_wall_ms']:.0f} ms wall (median of fresh builds); "
        f"{f['builds']:.0f} builds for {n_jobs} jobs, cache hit rate {f['hits'] / n_jobs:.2f} "
        f"({f['waits']:.0f} jobs waited for a build in flight)"
    )
    print(f"test run CPU, median: C++ {f['test_cpu_ms']:.2f} ms, Python {med['farm/python']['test_cpu_ms']:.2f} ms")
    for language in ("cpp", "python"):
        ratio = med[f"farm/{language}"]["jobs_per_s"] / med[f"bare/{language}"]["jobs_per_s"]
        print(f"farm / bare loop, {language}: {ratio:.2f}")
    if args.json:
        Path(args.json).write_text(json.dumps(med, indent=2))


if __name__ == "__main__":
    main()
