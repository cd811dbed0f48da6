"""The AceCoder chain on the bundled examples: a real replay HTTP server, the embedded farm,
the real `acefarm` CLI in subprocesses."""

import json
import pathlib
import subprocess
import sys

import pytest

from trainer.llm import BackendError, OpenAIBackend
from trainer.replay import ReplayServer

ROOT = pathlib.Path(__file__).resolve().parents[2]
EXAMPLES = ROOT / "trainer" / "examples"
ACEFARM = [sys.executable, "-m", "trainer.cli"]


def recordings():
    return json.loads((EXAMPLES / "recordings.json").read_text())


def acefarm(*args):
    return subprocess.run([*ACEFARM, *map(str, args)], capture_output=True, text=True, cwd=ROOT, timeout=600)


def read(path):
    return [json.loads(line) for line in pathlib.Path(path).read_text().splitlines()]


def test_openai_backend_retries_and_orders_answers():
    with ReplayServer([{"match": "hello", "answers": ["a", "b", "c"]}], fail_first=2) as server:
        backend = OpenAIBackend(server.url, "replay", concurrency=2, retries=3)
        out = backend.complete([[{"role": "user", "content": "hello"}]] * 2, n=3)
        assert [len(o) for o in out] == [3, 3] and set(out[0]) == {"a", "b", "c"}
        assert len(server.requests) == 4  # two 503s, then two answers
        with pytest.raises(BackendError):
            OpenAIBackend(server.url, "replay", retries=0).complete([[{"role": "user", "content": "nothing"}]])


@pytest.mark.slow
def test_synth_filter_sample_score_pairs(tmp_path):
    with ReplayServer(recordings()) as server:
        llm = ["--base-url", server.url, "--model", "replay"]
        synth = acefarm("synth", EXAMPLES / "seeds.jsonl", "-o", tmp_path / "synth.jsonl", *llm)
        assert synth.returncode == 3, synth.stderr  # one answer is unparseable: reported, kept out
        assert "example/29-title_case_count: no JSON object" in synth.stderr
        rows = read(tmp_path / "synth.jsonl")
        assert len(rows) == 29 and all(len(r["test_cases"]) >= 8 for r in rows)

        filt = acefarm("filter", tmp_path / "synth.jsonl", "-o", tmp_path / "filtered.jsonl", "--min-tests", "5")
        assert filt.returncode == 0, filt.stderr
        filtered = read(tmp_path / "filtered.jsonl")
        assert len(filtered) == 29
        assert all(len(r["test_cases"]) == 8 for r in filtered)  # the planted wrong tests are gone
        assert not any("not the answer" in t for r in filtered for t in r["test_cases"])

        samp = acefarm("sample", tmp_path / "filtered.jsonl", "-o", tmp_path / "sampled.jsonl", *llm, "--n", "4")
        assert samp.returncode == 0, samp.stderr
        sampled = read(tmp_path / "sampled.jsonl")
        assert all(len(r["inferences"]) == 4 and r["inferences"][0]["pass_rate"] is None for r in sampled)

    score = acefarm("score", tmp_path / "sampled.jsonl", "-o", tmp_path / "scored.jsonl")
    assert score.returncode == 0, score.stderr
    scored = read(tmp_path / "scored.jsonl")
    rates = {r["id"]: [i["pass_rate"] for i in r["inferences"]] for r in scored}
    assert all(len(v) == 4 and all(isinstance(x, float) for x in v) for v in rates.values())
    # n=4 replays each question's four recorded answers: two right (1.0), two wrong (< 1).
    assert all(sorted(v)[-2:] == [1.0, 1.0] and min(v) < 1.0 for v in rates.values())

    pairs = acefarm("pairs", tmp_path / "scored.jsonl", "-o", tmp_path / "pairs.jsonl")
    assert pairs.returncode == 0, pairs.stderr
    out = read(tmp_path / "pairs.jsonl")
    assert out and all(
        p["chosen_pass_rate"] >= 0.8
        and p["chosen_pass_rate"] - p["rejected_pass_rate"] >= 0.4
        and p["rejected_pass_rate"] > 0
        for p in out
    )
    again = acefarm("pairs", tmp_path / "scored.jsonl", "-o", tmp_path / "pairs.jsonl", "--resume")
    assert again.returncode == 0 and len(read(tmp_path / "pairs.jsonl")) == len(out)  # nothing twice


def test_filter_reports_bad_rows_and_drops_small_questions(tmp_path):
    rows = [
        {
            "id": "ok",
            "question": "Q",
            "reference": "def f():\n    return 1\n",
            "test_cases": [f"assert f() == {1 if i < 6 else 2}" for i in range(8)],
        },
        {
            "id": "few",
            "question": "Q",
            "reference": "def f():\n    return 1\n",
            "test_cases": ["assert f() == 1", "assert f() == 2"],
        },
        "not a row",
    ]
    src = tmp_path / "rows.jsonl"
    src.write_text("".join(json.dumps(r) + "\n" for r in rows))
    proc = acefarm("filter", src, "-o", tmp_path / "out.jsonl", "--min-tests", "5")
    assert proc.returncode == 3 and "line 3: row: must be a JSON object" in proc.stderr
    (kept,) = read(tmp_path / "out.jsonl")
    assert kept["id"] == "ok" and len(kept["test_cases"]) == 6


def test_filter_with_a_sampled_reference_on_parquet_through_a_farm_server(tmp_path):
    """Parquet in (through `datasets`), references sampled from a 'strong model' (the replay
    server), and the farm reached over gRPC (a real `acefarm serve`)."""
    import datasets

    from tests.cluster.procs import start_server

    rows = [json.loads(line) for line in (EXAMPLES / "acecode_sample.jsonl").read_text().splitlines()][:3]
    for r in rows:
        r["test_cases"] = r["test_cases"] + [r["test_cases"][0].rsplit("==", 1)[0] + "== 'wrong'"]
    datasets.Dataset.from_list(rows).to_parquet(str(tmp_path / "rows.parquet"))
    strong = [{"match": r["question"], "answers": [r["inferences"][0]["completion"]]} for r in rows]
    server, port = start_server(tmp_path, "--workers", "1")
    try:
        with ReplayServer(strong) as model:
            proc = acefarm(
                "filter",
                tmp_path / "rows.parquet",
                "-o",
                tmp_path / "out.jsonl",
                "--min-tests",
                "5",
                "--reference-model",
                "strong",
                "--base-url",
                model.url,
                "--server",
                f"127.0.0.1:{port}",
            )
        assert proc.returncode == 0, proc.stderr
        out = read(tmp_path / "out.jsonl")
        assert [r["id"] for r in out] == [r["id"] for r in rows]
        assert all(len(r["test_cases"]) == 8 and r["reference"].startswith("```python") for r in out)
    finally:
        server.kill()


def test_model_text_no_encoder_takes_is_written_escaped(tmp_path):
    """A model answer that decodes to lone surrogates (JSON "\\ud800" from the endpoint) is
    written as backslash text, not a crash of the step."""
    seeds = tmp_path / "seeds.jsonl"
    seeds.write_text(
        json.dumps({"id": "s1", "question": "Add two ints.", "program": "def add(a, b):\n    return a + b\n"}) + "\n"
    )
    answer = json.dumps({"question": "Add \ud800 two ints.", "tests": ["assert add(1, 2) == 3 # \udfff"]})
    with ReplayServer([{"match": "Add two ints", "answers": [answer]}]) as server:
        proc = acefarm("synth", seeds, "-o", tmp_path / "synth.jsonl", "--base-url", server.url, "--model", "replay")
    assert proc.returncode == 0, proc.stderr
    (row,) = [json.loads(line) for line in (tmp_path / "synth.jsonl").read_bytes().decode("utf-8").splitlines()]
    assert row["question"] == "Add \\ud800 two ints." and row["test_cases"] == ["assert add(1, 2) == 3 # \\udfff"]


def test_rows_with_text_no_encoder_takes_are_reported_by_field(tmp_path):
    good = {
        "id": "good",
        "question": "Q",
        "test_cases": ["assert f() == 1"],
        "inferences": [
            {"completion_id": 0, "completion": "def f():\n    return 1\n", "pass_rate": 1.0},
            {"completion_id": 1, "completion": "def f():\n    return 2\n", "pass_rate": 0.5},
        ],
    }
    bad = dict(
        good,
        id="bad",
        inferences=[good["inferences"][0], dict(good["inferences"][1], completion="def f():\n    return '\ud800'\n")],
    )
    src = tmp_path / "rows.jsonl"
    src.write_text(json.dumps(good) + "\n" + json.dumps(bad) + "\n")
    pairs = acefarm("pairs", src, "-o", tmp_path / "pairs.jsonl", "--min-rejected", "0.1")
    assert pairs.returncode == 3 and "line 2: inferences[1].completion: not valid UTF-8 text" in pairs.stderr
    assert [p["question_id"] for p in read(tmp_path / "pairs.jsonl")] == ["good"]
    score = acefarm("score", src, "-o", tmp_path / "scored.jsonl")
    assert score.returncode == 3 and "line 2: inferences[1].completion: not valid UTF-8 text" in score.stderr
    scored = read(tmp_path / "scored.jsonl")
    assert [i["pass_rate"] for i in scored[0]["inferences"]] == [1.0, 0.0]
    assert (scored[1]["line"], scored[1]["id"], scored[1]["error"]["field"]) == (2, "bad", "inferences[1].completion")
