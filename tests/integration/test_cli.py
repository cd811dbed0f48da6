"""`acefarm score` as a user runs it: real processes, real sandbox."""

import json
import os
import pathlib
import signal
import subprocess
import sys
import time

import pytest

ROOT = pathlib.Path(__file__).resolve().parents[2]
ACEFARM = [sys.executable, "-m", "broker.cli"]
DEMO = ROOT / "broker" / "examples" / "demo.jsonl"


def acefarm(*args, **kw):
    return subprocess.run([*ACEFARM, *map(str, args)], capture_output=True, text=True, cwd=ROOT, timeout=300, **kw)


def read_jsonl(path):
    return [json.loads(line) for line in pathlib.Path(path).read_text().splitlines()]


def test_score_demo_file(tmp_path):
    out = tmp_path / "out.jsonl"
    proc = acefarm("score", DEMO, "-o", out, "--workers", 2)
    assert proc.returncode == 0, proc.stderr
    inputs = read_jsonl(DEMO)
    results = read_jsonl(out)
    assert [r["id"] for r in results] == [i["id"] for i in inputs]  # one line each, input order
    by_id = {r["id"]: r for r in results}
    assert by_id["add/ok"]["verdict"] == "passed" and by_id["add/ok"]["pass_rate"] == 1.0
    assert by_id["add/partial"]["pass_rate"] == 0.75
    assert by_id["sort/syntax"]["verdict"] == "syntax_error"
    assert by_id["sort/exit-hack"]["pass_rate"] == 0
    assert by_id["sort/always-equal-hack"]["pass_rate"] == 0
    assert by_id["fib/slow"]["tests"][1]["verdict"] == "timeout"
    assert by_id["mem/bomb"]["tests"][0]["verdict"] == "memory_exceeded"
    assert by_id["print/flood"]["tests"][0]["verdict"] == "output_exceeded"
    assert by_id["stdio/sum-wrong"]["pass_rate"] == 0.5
    for line in ("jobs scored", "mean pass rate", "programs/s", "verdict passed"):
        assert line in proc.stderr


def test_acecode_rows_get_recomputed_pass_rates(tmp_path):
    row = next(r for r in read_jsonl(DEMO) if "inferences" in r)
    src = tmp_path / "rows.jsonl"
    src.write_text(json.dumps(row) + "\n")
    out = tmp_path / "out.jsonl"
    proc = acefarm("score", src, "-o", out)
    assert proc.returncode == 0, proc.stderr
    (scored,) = read_jsonl(out)
    assert scored["question"] == row["question"] and scored["test_cases"] == row["test_cases"]
    rates = [inf["pass_rate"] for inf in scored["inferences"]]
    # the input claimed [0.0, 1.0, 1.0]; the farm recomputes them
    assert rates == [1.0, 0.8, 0.4]
    assert scored["inferences"][1]["test_verdicts"] == ["passed", "passed", "failed", "passed", "passed"]


def test_bad_lines_are_reported_and_the_rest_is_scored(tmp_path):
    good = {"id": "good", "program": "x = 1", "tests": ["assert x == 1"]}
    lines = [
        json.dumps(good),
        '{"id": "broken", "program": ',
        json.dumps({"id": "noprog", "tests": ["assert 1"]}),
        json.dumps({"id": "lang", "language": "cobol", "program": "x", "tests": ["assert 1"]}),
        json.dumps({"id": "empty", "program": "x", "tests": []}),
        json.dumps({"id": "notlist", "program": "x", "tests": "assert 1"}),
        json.dumps({"id": "huge", "program": "x = 1\n" * 100_000, "tests": ["assert 1"]}),
        json.dumps(good),  # duplicate id
        "[1, 2]",
        json.dumps({"id": "good2", "program": "x = 2", "tests": ["assert x == 1"]}),
    ]
    src = tmp_path / "in.jsonl"
    src.write_bytes(("\n".join(lines) + "\n").encode() + b'{"id": "bin\xff", "program": "", "tests": []}\n')
    out = tmp_path / "out.jsonl"
    proc = acefarm("score", src, "-o", out)
    assert proc.returncode == 3, proc.stderr
    results = read_jsonl(out)
    assert len(results) == 11
    errors = {r["line"]: r["error"]["field"] for r in results if "error" in r}
    assert errors == {2: "json", 3: "program", 4: "language", 5: "tests", 6: "tests", 7: "program",
                      8: "id", 9: "json", 11: "encoding"}
    assert results[0]["verdict"] == "passed" and results[9]["verdict"] == "failed"
    for n in errors:
        assert f"line {n}:" in proc.stderr
    assert "unknown language 'cobol'" in proc.stderr


@pytest.mark.slow
def test_a_killed_run_resumes_without_loss_or_duplicates(tmp_path):
    src = tmp_path / "in.jsonl"
    jobs = [{"id": f"j{i}", "program": f"import time\ntime.sleep(0.05)\nX = {i}\n",
             "tests": [f"assert X == {i}", f"assert X * 2 == {2 * i if i % 3 else -1}"]} for i in range(80)]
    src.write_text("".join(json.dumps(j) + "\n" for j in jobs))
    out = tmp_path / "out.jsonl"
    proc = subprocess.Popen([*ACEFARM, "score", str(src), "-o", str(out), "--workers", "2"], cwd=ROOT,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if out.exists() and out.read_text().count("\n") >= 15:
            break
        time.sleep(0.05)
    os.killpg(proc.pid, signal.SIGKILL)
    proc.wait()
    done_before = out.read_text().count("\n")
    assert 15 <= done_before < len(jobs), "the kill should land mid-run"
    with open(out, "a") as fh:  # a torn last line, as a crash mid-write would leave
        fh.write('{"id": "j9999", "verd')
    proc = acefarm("score", src, "-o", out, "--resume")
    assert proc.returncode == 0, proc.stderr
    assert "already done (resumed)" in proc.stderr
    results = read_jsonl(out)
    assert [r["id"] for r in results] == [j["id"] for j in jobs]
    for i, r in enumerate(results):
        assert r["pass_rate"] == (0.5 if i % 3 == 0 else 1.0), r


def test_limit_flags_and_usage_errors(tmp_path):
    src = tmp_path / "in.jsonl"
    src.write_text(json.dumps({"id": "spin", "program": "while True:\n    pass\n", "tests": ["assert 1"]}) + "\n")
    out = tmp_path / "out.jsonl"
    proc = acefarm("score", src, "-o", out, "--cpu-s", "0.3")
    assert proc.returncode == 0, proc.stderr
    (r,) = read_jsonl(out)
    assert r["tests"][0]["verdict"] == "timeout" and "0.3" in r["tests"][0]["message"]
    proc = acefarm("score", src, "-o", out, "--cpu-s", "0")
    assert proc.returncode == 2 and "cpu_s" in proc.stderr
    proc = acefarm("score", tmp_path / "missing.jsonl", "-o", out)
    assert proc.returncode == 2 and "does not exist" in proc.stderr
    proc = acefarm("score", src, "-o", out, "--cpus", "0,x")
    assert proc.returncode == 2 and "--cpus" in proc.stderr and "'0,x'" in proc.stderr
    proc = acefarm("score", src, "-o", out, "--cpus", "4096")
    assert proc.returncode == 2 and "cpus 4096 not usable here" in proc.stderr


def test_insecure_flag_is_loud(tmp_path):
    src = tmp_path / "in.jsonl"
    src.write_text(json.dumps({"id": "a", "program": "x = 1", "tests": ["assert x == 1"]}) + "\n")
    proc = acefarm("score", src, "-o", tmp_path / "out.jsonl", "--insecure-no-sandbox")
    assert proc.returncode == 0, proc.stderr
    assert "WITHOUT isolation" in proc.stderr
    assert read_jsonl(tmp_path / "out.jsonl")[0]["verdict"] == "passed"


def test_score_reads_parquet(tmp_path):
    import datasets

    rows = [json.loads(line) for line in DEMO.read_text().splitlines()][:6]
    rows = [r for r in rows if all(isinstance(t, str) for t in r["tests"])]
    rows[0].pop("language")  # absent in one row: None in the Parquet column, dropped on read
    rows[1]["limits"] = {"cpu_s": 1}  # a struct column: the other rows' limits read as all-None
    datasets.Dataset.from_list(rows).to_parquet(str(tmp_path / "jobs.parquet"))
    proc = acefarm("score", tmp_path / "jobs.parquet", "-o", tmp_path / "out.jsonl")
    assert proc.returncode == 0, proc.stderr
    assert [r["id"] for r in read_jsonl(tmp_path / "out.jsonl")] == [r["id"] for r in rows]


def test_duplicates_are_rejected_the_same_way_after_a_resume(tmp_path):
    lines = [{"id": "a", "program": "x = 1", "tests": ["assert x == 1"]},
             {"id": "b", "program": "x = 2", "tests": ["assert x == 2"]},
             {"id": "a", "program": "x = 3", "tests": ["assert x == 3"]}]
    src = tmp_path / "in.jsonl"
    src.write_text("".join(json.dumps(line) + "\n" for line in lines))
    out = tmp_path / "out.jsonl"
    out.write_text(json.dumps({"id": "a", "verdict": "passed"}) + "\n")  # a run that died after line 1
    proc = acefarm("score", src, "-o", out, "--resume")
    assert proc.returncode == 3, proc.stderr
    rows = read_jsonl(out)
    assert [r.get("id") for r in rows] == ["a", "b", None] and rows[2]["error"]["field"] == "id"


def test_float_limits_and_duplicate_completion_ids(tmp_path):
    row = {"id": "r", "question": "Q", "test_cases": ["assert f() == 1"],
           "inferences": [{"completion_id": 0, "completion": "def f():\n    return 1\n"},
                          {"completion_id": 0, "completion": "def f():\n    return 2\n"}]}
    job = {"id": "j", "program": "x = 1", "tests": ["assert x == 1"], "limits": {"memory_mb": 256.0}}
    src = tmp_path / "in.jsonl"
    src.write_text(json.dumps(row) + "\n" + json.dumps(job) + "\n")
    proc = acefarm("score", src, "-o", tmp_path / "out.jsonl")
    assert proc.returncode == 3 and "inferences[1].completion_id: duplicate" in proc.stderr
    assert read_jsonl(tmp_path / "out.jsonl")[1]["verdict"] == "passed"
