"""`acefarm score` as a user runs it: real processes, real sandbox."""

import json
import os
import pathlib
import signal
import socket
import subprocess
import sys
import time

import pytest

from tests import formats_support, unwritable_support

ROOT = pathlib.Path(__file__).resolve().parents[2]
ACEFARM = [sys.executable, "-m", "trainer.cli"]  # the console script `acefarm` (trainer.cli:main)
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


def test_the_code_rl_datasets_shapes_as_jobs_and_rows(tmp_path):
    """Every fixture problem (tests/fixtures/formats/) as job lines and as an AceCode row whose
    test_cases are the dataset's tests value: right programs 1.0, wrong 0.0."""
    cases = formats_support.cases()
    jobs, want = [], {}
    for case in cases:
        for kind, programs, rate in (("right", case.right, 1.0), ("wrong", case.wrong, 0.0)):
            for i, program in enumerate(programs):
                jobs.append({"id": f"{case.id}/{kind}{i}", "program": program, "tests": case.tests})
                want[jobs[-1]["id"]] = rate
    rows = [
        {
            "id": case.id,
            "question": "",
            "test_cases": case.tests,
            "inferences": [
                {"model_name": "m", "completion_id": i, "completion": f"Solution:\n```python\n{p}```\n"}
                for i, p in enumerate(case.right + case.wrong)
            ],
        }
        for case in cases
    ]
    src = tmp_path / "in.jsonl"
    src.write_text("".join(json.dumps(x) + "\n" for x in jobs + rows))
    out = tmp_path / "out.jsonl"
    proc = acefarm("score", src, "-o", out, "--workers", 2)
    assert proc.returncode == 0, proc.stderr
    results = read_jsonl(out)
    assert {r["id"]: r["pass_rate"] for r in results[: len(jobs)]} == want
    for case, row in zip(cases, results[len(jobs) :]):
        assert row["test_cases"] == case.tests
        rates = [inf["pass_rate"] for inf in row["inferences"]]
        assert rates == [1.0] * len(case.right) + [0.0] * len(case.wrong), case.id


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
    assert errors == {
        2: "json",
        3: "program",
        4: "language",
        5: "tests",
        6: "tests",
        7: "program",
        8: "id",
        9: "json",
        11: "encoding",
    }
    assert results[0]["verdict"] == "passed" and results[9]["verdict"] == "failed"
    for n in errors:
        assert f"line {n}:" in proc.stderr
    assert "unknown language 'cobol'" in proc.stderr


@pytest.mark.slow
def test_a_killed_run_resumes_without_loss_or_duplicates(tmp_path):
    src = tmp_path / "in.jsonl"
    jobs = [
        {
            "id": f"j{i}",
            "program": f"import time\ntime.sleep(0.05)\nX = {i}\n",
            "tests": [f"assert X == {i}", f"assert X * 2 == {2 * i if i % 3 else -1}"],
        }
        for i in range(80)
    ]
    src.write_text("".join(json.dumps(j) + "\n" for j in jobs))
    out = tmp_path / "out.jsonl"
    proc = subprocess.Popen(
        [*ACEFARM, "score", str(src), "-o", str(out), "--workers", "2"],
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
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
    # A farm nobody runs at that address: said within seconds, not after the SDK's minute of
    # retries for a farm that restarts.
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    sock.close()
    t0 = time.monotonic()
    proc = acefarm("score", src, "-o", out, "--server", f"127.0.0.1:{port}")
    assert proc.returncode == 1 and "cannot reach the farm" in proc.stderr, proc.stderr
    assert time.monotonic() - t0 < 45  # the SDK waits a minute for a farm that restarts


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


def test_a_byte_order_mark_does_not_cost_the_first_line(tmp_path):
    src = tmp_path / "bom.jsonl"
    rows = [{"id": "a", "program": "x = 1", "tests": ["assert x == 1"]}, {"id": "b", "program": "x = 2", "tests": []}]
    src.write_bytes(b"\xef\xbb\xbf" + "".join(json.dumps(r) + "\n" for r in rows).encode())
    proc = acefarm("score", src, "-o", tmp_path / "out.jsonl")
    out = read_jsonl(tmp_path / "out.jsonl")
    assert [r["id"] for r in out] == ["a", "b"] and out[0]["verdict"] == "passed", proc.stderr
    assert "error" in out[1] and "line 1" not in proc.stderr  # only the empty suite is rejected


def test_a_call_tests_null_expected_survives_parquet(tmp_path):
    # Arrow pads absent struct fields with nulls, which are dropped on read; a call test's
    # "expected": null (a function returning None) is its data.
    import datasets

    rows = [
        {
            "id": "n",
            "program": "def f(a):\n    a.sort()\n",
            "tests": [{"call": "f", "args": [[2, 1]], "expected": None}],
        },
        {"id": "s", "program": "print(3)", "tests": [{"stdin": "", "expected_stdout": "3\n"}]},
    ]
    datasets.Dataset.from_list(rows).to_parquet(str(tmp_path / "jobs.parquet"))
    proc = acefarm("score", tmp_path / "jobs.parquet", "-o", tmp_path / "out.jsonl")
    assert proc.returncode == 0, proc.stderr
    assert [r["verdict"] for r in read_jsonl(tmp_path / "out.jsonl")] == ["passed", "passed"]


def test_duplicates_are_rejected_the_same_way_after_a_resume(tmp_path):
    lines = [
        {"id": "a", "program": "x = 1", "tests": ["assert x == 1"]},
        {"id": "b", "program": "x = 2", "tests": ["assert x == 2"]},
        {"id": "a", "program": "x = 3", "tests": ["assert x == 3"]},
    ]
    src = tmp_path / "in.jsonl"
    src.write_text("".join(json.dumps(line) + "\n" for line in lines))
    out = tmp_path / "out.jsonl"
    out.write_text(json.dumps({"id": "a", "verdict": "passed"}) + "\n")  # a run that died after line 1
    proc = acefarm("score", src, "-o", out, "--resume")
    assert proc.returncode == 3, proc.stderr
    rows = read_jsonl(out)
    assert [r.get("id") for r in rows] == ["a", "b", None] and rows[2]["error"]["field"] == "id"


def test_float_limits_and_duplicate_completion_ids(tmp_path):
    row = {
        "id": "r",
        "question": "Q",
        "test_cases": ["assert f() == 1"],
        "inferences": [
            {"completion_id": 0, "completion": "def f():\n    return 1\n"},
            {"completion_id": 0, "completion": "def f():\n    return 2\n"},
        ],
    }
    job = {"id": "j", "program": "x = 1", "tests": ["assert x == 1"], "limits": {"memory_mb": 256.0}}
    src = tmp_path / "in.jsonl"
    src.write_text(json.dumps(row) + "\n" + json.dumps(job) + "\n")
    proc = acefarm("score", src, "-o", tmp_path / "out.jsonl")
    assert proc.returncode == 3 and "inferences[1].completion_id: duplicate" in proc.stderr
    assert read_jsonl(tmp_path / "out.jsonl")[1]["verdict"] == "passed"


def read_strict(path):
    """Output lines as a strict reader takes them: UTF-8 (no lone surrogates), JSON each."""
    return [json.loads(line) for line in pathlib.Path(path).read_bytes().decode("utf-8").splitlines()]


def test_results_with_unwritable_text_are_written_escaped(tmp_path):
    """Programs raising, printing and returning lone surrogates, NULs and huge messages: the run
    completes, every result is written (escaped), and the good jobs between them are intact."""
    src = tmp_path / "in.jsonl"
    src.write_text("".join(json.dumps(j) + "\n" for j in unwritable_support.jobs()))
    out = tmp_path / "out.jsonl"
    proc = acefarm("score", src, "-o", out, "--workers", 2)
    assert proc.returncode == 0, proc.stderr
    unwritable_support.check_results(read_strict(out))


def test_input_that_would_echo_unwritable_text_is_rejected_by_field(tmp_path):
    good = {"id": "good", "program": "x = 1", "tests": ["assert x == 1"]}
    row = {
        "id": "row",
        "question": "Q",
        "test_cases": ["assert f() == 1"],
        "inferences": [{"completion_id": 0, "completion": "def f():\n    return 1\n"}],
    }
    lines = [
        {"id": "\ud800", "program": "x = 1", "tests": ["assert x == 1"]},
        {"id": "nul\x00", "program": "x = 1", "tests": ["assert x == 1"]},
        {"id": "prog", "program": "x = '\udcff'", "tests": ["assert x == 1"]},
        {
            "id": "args",
            "program": "def f(s):\n    return s\n",
            "tests": [{"call": "f", "args": ["\ud800"], "expected": 1}],
        },
        {"id": "key", "program": "x = 1", "tests": ["assert x == 1"], "\udfff": 1},
        good,
        dict(row, question="Q \ud800"),
        dict(row, id="row2", inferences=[{"completion_id": 0, "completion": "def f():\n    return '\udc00'\n"}]),
        dict(row, id="row3", inferences=[{"completion_id": "a\x00", "completion": "def f():\n    return 1\n"}]),
        row,
    ]
    src = tmp_path / "in.jsonl"
    src.write_text("".join(json.dumps(line) + "\n" for line in lines))  # JSON escapes: "\ud800" in the text
    out = tmp_path / "out.jsonl"
    proc = acefarm("score", src, "-o", out)
    assert proc.returncode == 3, proc.stderr
    results = read_strict(out)
    assert unwritable_support.unwritable(results) == []
    errors = {r["line"]: r["error"]["field"] for r in results if "error" in r}
    assert errors == {
        1: "id",
        2: "id",
        3: "program",
        4: "tests[0].args[0]",
        5: "\\udfff",
        7: "question",
        8: "inferences[0].completion",
        9: "inferences[0].completion_id",
    }
    assert results[0]["id"] == "\\ud800" and "lone surrogate \\ud800" in results[0]["error"]["message"]
    assert results[5]["verdict"] == "passed" and results[9]["inferences"][0]["pass_rate"] == 1.0
    assert "line 4: tests[0].args[0]: not valid UTF-8 text" in proc.stderr


def test_acecode_rows_with_stdio_and_call_tests(tmp_path):
    """Rows whose tests are stdin/stdout or call tests: the program is extracted and scored too."""
    fenced = "Here you go:\n```python\n{}```\nThat reads both numbers."
    rows = [
        {
            "id": "stdio",
            "question": "Add two numbers read from stdin.",
            "test_cases": [{"stdin": "1 2\n", "expected_stdout": "3\n"}, {"stdin": "5 5\n", "expected_stdout": "10\n"}],
            "inferences": [
                {"completion_id": 0, "completion": fenced.format("a, b = map(int, input().split())\nprint(a + b)\n")},
                {"completion_id": 1, "completion": fenced.format("print(3)\n")},
            ],
        },
        {
            "id": "call",
            "question": "add(a, b)",
            "test_cases": [
                {"call": "add", "args": [1, 2], "expected": 3},
                {"call": "add", "args": [2, 2], "expected": 4},
            ],
            "inferences": [
                {
                    "completion_id": 0,
                    "completion": "```python\ndef helper():\n    pass\n```\n"
                    "```python\ndef add(a, b):\n    return a + b\n```\n",
                },
                {"completion_id": 1, "completion": "def add(a, b):\n    return a * b\n"},
            ],
        },
        {
            "id": "mixed",
            "question": "Q",
            "test_cases": ["assert 1", {"stdin": "", "expected_stdout": ""}],
            "inferences": [{"completion": "x = 1"}],
        },
        {"id": "badtest", "question": "Q", "test_cases": [{"stdin": "1"}], "inferences": [{"completion": "x = 1"}]},
    ]
    src = tmp_path / "rows.jsonl"
    src.write_text("".join(json.dumps(r) + "\n" for r in rows))
    out = tmp_path / "out.jsonl"
    proc = acefarm("score", src, "-o", out)
    assert proc.returncode == 3, proc.stderr
    stdio, call, mixed, bad = read_jsonl(out)
    assert [i["pass_rate"] for i in stdio["inferences"]] == [1.0, 0.5]
    assert [i["pass_rate"] for i in call["inferences"]] == [1.0, 0.5]
    assert call["inferences"][1]["test_verdicts"] == ["failed", "passed"]
    assert mixed["error"]["field"] == "test_cases" and mixed["id"] == "mixed"
    assert bad["error"]["field"] == "test_cases[0].expected_stdout"


@pytest.mark.parametrize("flag", ["--cpu-s", "--wall-s", "--memory-mb", "--output-kb"])
def test_a_worker_offers_no_limit_flags(flag):
    """A cluster's jobs reach a worker with their server's limits (the result cache keys on
    them): a worker's own default limits would have no effect, so it has none to set."""
    proc = acefarm("worker", "--broker", "redis://127.0.0.1:9/0", flag, "1")
    assert proc.returncode == 2 and f"No such option '{flag}'" in proc.stderr
    assert flag in acefarm("serve", "--help").stdout  # where they belong


def test_an_output_that_is_the_input_or_in_use_is_refused_and_nothing_is_lost(tmp_path):
    import fcntl

    src = tmp_path / "in.jsonl"
    src.write_bytes(DEMO.read_bytes())
    for args in (["score", src, "-o", src], ["score", src, "-o", src, "--resume"], ["pairs", src, "-o", src]):
        proc = acefarm(*args)
        assert proc.returncode == 2 and "is the input" in proc.stderr, (args, proc.stderr)
        assert src.read_bytes() == DEMO.read_bytes()  # emptied before it was read, before
    out = tmp_path / "out.jsonl"
    out.write_text('{"id": "kept"}\n')
    with open(out) as other:  # another run writes it
        fcntl.flock(other.fileno(), fcntl.LOCK_EX)
        proc = acefarm("score", src, "-o", out)
        assert proc.returncode == 2 and "another run is writing" in proc.stderr, proc.stderr
    assert out.read_text() == '{"id": "kept"}\n'
    proc = acefarm("score", src, "-o", tmp_path / "missing" / "out.jsonl")
    assert proc.returncode == 2 and "cannot open the output" in proc.stderr and "Traceback" not in proc.stderr
