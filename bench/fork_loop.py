"""The bare fork loop: a yardstick for any design that forks one process per program.

    from fork_loop import ForkLoop
    with ForkLoop(python, preimport, [(program, test), ...], processes=2) as loop:
        seconds, passed = loop.run()

Each of `processes` workers is the sandbox's interpreter (`python -I -S`, as the zygote
runs it, but with no sandbox at all) holding a share of the programs. At start it imports
what the zygote imports, compiles its tests once (the farm caches compiled tests too) and
freezes the GC. Then, per program, it forks (libc's fork, as the fork server does), and
the child compiles and runs the program and its test and exits with 0 (passed) or 1.
The worker only waits for it: no firejail, no limits, no pipes, no nonces, no values sent
back, nothing judged elsewhere. Nothing that forks a process per program can do less, so
its throughput bounds what the farm can reach on this machine, whatever the farm's own
code does.

Worker protocol (stdin/stdout, one JSON line each): the parent writes
{"preimport": [...], "jobs": [[program, test], ...]}, the worker answers "ready";
then for each "go" line it runs its share once and answers {"seconds": s, "passed": [...]}.
Standard library only: the worker runs outside the project's virtual environment.
"""

from __future__ import annotations

import json
import subprocess
import sys
import time
from collections.abc import Sequence
from pathlib import Path


class ForkLoop:
    """`processes` workers over `jobs`, split round-robin; kept alive across runs."""

    def __init__(
        self, python: str, preimport: Sequence[str], jobs: Sequence[tuple[str, str]], processes: int = 2
    ) -> None:
        self.jobs = list(jobs)
        self.processes = processes
        self._workers: list[subprocess.Popen[str]] = []
        for k in range(processes):
            w = subprocess.Popen(
                [python, "-I", "-S", str(Path(__file__).resolve())],
                text=True,
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
            )
            self._workers.append(w)
            assert w.stdin is not None
            w.stdin.write(json.dumps({"preimport": list(preimport), "jobs": self.jobs[k::processes]}) + "\n")
            w.stdin.flush()
        for w in self._workers:
            if self._read(w) != "ready":
                raise RuntimeError("fork-loop worker failed to start")

    @staticmethod
    def _read(w: subprocess.Popen[str]) -> str:
        assert w.stdout is not None
        line = w.stdout.readline()
        if not line:
            raise RuntimeError(f"fork-loop worker exited ({w.poll()})")
        return line.strip()

    def run(self) -> tuple[float, list[bool]]:
        """One pass over all jobs, the workers in parallel: (wall seconds, passed per job)."""
        t0 = time.perf_counter()
        for w in self._workers:
            assert w.stdin is not None
            w.stdin.write("go\n")
            w.stdin.flush()
        answers = [json.loads(self._read(w)) for w in self._workers]
        seconds = time.perf_counter() - t0
        passed: list[bool] = [False] * len(self.jobs)
        for k, answer in enumerate(answers):
            passed[k :: self.processes] = answer["passed"]
        return seconds, passed

    def close(self) -> None:
        for w in self._workers:
            if w.stdin is not None:
                w.stdin.close()
            try:
                w.wait(timeout=10)
            except subprocess.TimeoutExpired:
                w.kill()

    def __enter__(self) -> ForkLoop:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def _worker() -> None:
    import ctypes
    import gc
    import os

    setup = json.loads(sys.stdin.readline())
    for name in setup["preimport"]:
        try:
            __import__(name)
        except Exception:
            pass
    jobs = [(program, compile(test, "<test>", "exec")) for program, test in setup["jobs"]]
    fork = ctypes.CDLL(None).fork
    gc.collect()
    gc.freeze()
    print("ready", flush=True)
    for line in sys.stdin:
        if line.strip() != "go":
            break
        t0 = time.perf_counter()
        passed = []
        for program, test in jobs:
            pid = fork()
            if pid == 0:
                try:
                    namespace = {"__name__": "__main__"}
                    exec(compile(program, "<program>", "exec"), namespace)
                    exec(test, namespace)
                except BaseException:
                    os._exit(1)
                os._exit(0)
            _, status = os.waitpid(pid, 0)
            passed.append(status == 0)
        print(json.dumps({"seconds": time.perf_counter() - t0, "passed": passed}), flush=True)


if __name__ == "__main__":
    _worker()
