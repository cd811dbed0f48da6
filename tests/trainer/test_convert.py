"""trainer/convert/: published benchmark files -> jobs and rows, scored by a real farm.

The fixtures (tests/fixtures/convert/) are tiny files written for these tests in the published
record shapes. Tests in the standard `{"inputs", "outputs", "fn_name"}` shape (LiveCodeBench,
APPS) are scored only where this farm's `parse_tests` takes that shape.
"""

import base64
import json
import pathlib
import pickle
import subprocess
import sys
import zlib

import pytest

from executor import InvalidJob, Verdict
from executor.job import parse_tests
from trainer.convert import convert_file
from trainer.data import validate_row

ROOT = pathlib.Path(__file__).resolve().parents[2]
FIX = ROOT / "tests" / "fixtures" / "convert"


def read(path):
    return [json.loads(line) for line in pathlib.Path(path).read_text().splitlines()]


def score_jobs(farm, jobs):
    return [farm.score([j["program"]], j["tests"], j["id"])[0] for j in jobs]


def standard_shape_taken():
    try:
        parse_tests({"inputs": ["1\n"], "outputs": ["1\n"]})
    except InvalidJob:
        return False
    return True


needs_standard_shape = pytest.mark.skipif(
    not standard_shape_taken(), reason='this farm does not take {"inputs", "outputs"} tests yet'
)


def sandbox_has_numpy():
    return subprocess.run(["/usr/bin/python3", "-c", "import numpy"], capture_output=True).returncode == 0


def test_humaneval_jobs_pass_and_wrong_programs_fail(tmp_path, embedded_farm):
    out = tmp_path / "jobs.jsonl"
    report = convert_file("humaneval", str(FIX / "HumanEval.jsonl.gz"), str(out))
    assert (report.records, report.written, report.errors) == (2, 2, [])
    jobs = read(out)
    assert [j["id"] for j in jobs] == ["HumanEval/0/reference", "HumanEval/1/reference"]
    assert jobs[0]["tests"][0].endswith("\ncheck(add)") and jobs[0]["program"].startswith("def add(")
    assert [r.verdict for r in score_jobs(embedded_farm, jobs)] == [Verdict.PASSED] * 2
    wrong = dict(jobs[1], program=jobs[1]["program"].replace("== 0", "== 1"))
    assert score_jobs(embedded_farm, [wrong])[0].verdict is Verdict.FAILED


def test_humaneval_rows_are_trainer_rows(tmp_path):
    out = tmp_path / "rows.jsonl"
    convert_file("humaneval", str(FIX / "HumanEval.jsonl.gz"), str(out), to="rows")
    rows = read(out)
    for i, row in enumerate(rows, 1):
        checked = validate_row(row, i)  # what `acefarm sample` reads
        assert checked["source"] == "humaneval" and "def " in checked["question"]
    assert rows[1]["reference"].startswith("from typing import List") and len(rows[1]["test_cases"]) == 1


def test_mbpp_setup_code_travels_with_each_test_and_bad_records_are_named(tmp_path, embedded_farm):
    out = tmp_path / "jobs.jsonl"
    report = convert_file("mbpp", str(FIX / "mbpp.jsonl"), str(out))
    assert report.written == 2 and report.errors == ["line 3: test_list: missing, empty or not a list of strings"]
    jobs = read(out)
    assert [j["id"] for j in jobs] == ["mbpp/11/reference", "mbpp/12/reference"]
    assert jobs[1]["tests"] == [
        "def sentence(n):\n    return ' '.join(['w'] * n)\nassert count_words(sentence(3)) == 3",
        "def sentence(n):\n    return ' '.join(['w'] * n)\nassert count_words(sentence(0)) == 0",
    ]  # challenge tests are not MBPP's evaluation
    assert [r.pass_rate for r in score_jobs(embedded_farm, jobs)] == [1.0, 1.0]
    wrong = dict(jobs[1], program="def count_words(s):\n  return len(s)")
    assert score_jobs(embedded_farm, [wrong])[0].pass_rate == 0.5  # len('w w w') != 3; len('') == 0
    rows = tmp_path / "rows.jsonl"
    convert_file("mbpp", str(FIX / "mbpp.jsonl"), str(rows), to="rows")
    assert "Your code should pass these tests:\n\nassert max_of_three(1, 2, 3) == 3" in read(rows)[0]["question"]


def test_sanitized_mbpp_json_array(tmp_path, embedded_farm):
    out = tmp_path / "jobs.jsonl"
    assert convert_file("mbpp", str(FIX / "sanitized-mbpp.json"), str(out)).written == 1
    (job,) = read(out)
    assert job["tests"][0].startswith("import math\nassert isqrt_floor(10)")
    assert score_jobs(embedded_farm, [job])[0].verdict is Verdict.PASSED


def test_evalplus_records(tmp_path, embedded_farm):
    out = tmp_path / "jobs.jsonl"
    report = convert_file("evalplus", str(FIX / "evalplus.jsonl"), str(out))
    assert (report.written, report.errors) == (2, [])
    plus, mbpp_plus = read(out)
    assert plus["id"] == "HumanEval/0/reference" and plus["tests"][0].endswith("\ncheck(add)")
    assert plus["program"].startswith("def add(") and "return a + b" in plus["program"]
    assert mbpp_plus["id"] == "evalplus/2/reference" and "assertion(half(*inp), exp, 0)" in mbpp_plus["tests"][0]
    assert mbpp_plus["program"] == "def half(x):\n    return x / 2"
    if not sandbox_has_numpy():
        pytest.skip("EvalPlus's comparison helper imports numpy, which the sandbox's /usr/bin/python3 lacks here")
    assert [r.verdict for r in score_jobs(embedded_farm, [plus, mbpp_plus])] == [Verdict.PASSED] * 2


def test_evalplus_without_test_is_reported(tmp_path):
    src = tmp_path / "old.jsonl"
    src.write_text(json.dumps({"task_id": "HumanEval/0", "prompt": "def f():\n", "entry_point": "f"}) + "\n")
    report = convert_file("evalplus", str(src), str(tmp_path / "out.jsonl"))
    assert report.written == 0 and report.errors[0].startswith("line 1: test: missing")


def test_livecodebench_tests_in_the_standard_shape(tmp_path):
    out = tmp_path / "rows.jsonl"
    report = convert_file("livecodebench", str(FIX / "livecodebench.jsonl"), str(out), to="rows")
    assert (report.written, report.errors) == (2, [])
    stdin, functional = read(out)
    assert stdin["id"] == "livecodebench/abc900_a" and "reference" not in stdin
    assert stdin["test_cases"] == {
        "inputs": ["1 2\n", "10 -4\n", "0 0\n"],
        "outputs": ["3\n", "6\n", "0\n"],
        "fn_name": None,
        "checker": "lines",  # LiveCodeBench's own comparison
    }
    assert functional["test_cases"] == {
        "inputs": ["[1, 2, 4]", "[]", "[7, 9]"],
        "outputs": ["2", "0", "0"],
        "fn_name": "countEvens",
    }
    assert "class Solution:" in functional["question"] and "### Answer:" in functional["question"]
    assert "Read the inputs from stdin" in stdin["question"]
    jobs = tmp_path / "jobs.jsonl"
    report = convert_file("livecodebench", str(FIX / "livecodebench.jsonl"), str(jobs))
    assert (report.written, report.without_reference) == (0, 2)  # LiveCodeBench publishes no solutions


def test_a_crafted_pickle_in_private_cases_runs_nothing(tmp_path):
    marker = tmp_path / "ran"

    class Evil:
        def __reduce__(self):
            return (pathlib.Path.touch, (marker,))

    evil = base64.b64encode(zlib.compress(pickle.dumps(Evil()))).decode()
    row = json.loads((FIX / "livecodebench.jsonl").read_text().splitlines()[0])
    src = tmp_path / "evil.jsonl"
    src.write_text(json.dumps(dict(row, private_test_cases=evil)) + "\n")
    report = convert_file("livecodebench", str(src), str(tmp_path / "out.jsonl"), to="rows")
    assert report.written == 0 and "private_test_cases" in report.errors[0] and "refused" in report.errors[0]
    assert not marker.exists()


def test_apps_rows_and_jobs(tmp_path):
    out = tmp_path / "jobs.jsonl"
    report = convert_file("apps", str(FIX / "apps.jsonl"), str(out))
    assert report.written == 2 and report.errors == [
        'line 3: input_output: no tests (an {"inputs", "outputs"} object is needed)'
    ]
    stdin, call = read(out)
    assert stdin["id"] == "apps/4000/reference" and stdin["tests"] == {
        "inputs": ["3\n1 5 2\n", "1\n-7\n"],
        "outputs": ["5\n", "-7\n"],
    }
    assert call["tests"]["fn_name"] == "count_vowels" and call["program"].startswith("def count_vowels")


@needs_standard_shape
def test_standard_shapes_score_right_and_wrong(tmp_path, embedded_farm):
    apps_jobs = tmp_path / "apps.jsonl"
    convert_file("apps", str(FIX / "apps.jsonl"), str(apps_jobs))
    assert [r.pass_rate for r in score_jobs(embedded_farm, read(apps_jobs))] == [1.0, 1.0]
    lcb = tmp_path / "lcb.jsonl"
    convert_file("livecodebench", str(FIX / "livecodebench.jsonl"), str(lcb), to="rows")
    stdin, functional = read(lcb)
    right_stdin = "a, b = map(int, input().split())\nprint(a + b)\n"
    right_call = "class Solution:\n    def countEvens(self, nums: List[int]) -> int:\n        return sum(x % 2 == 0 for x in nums)\n"
    for row, right in ((stdin, right_stdin), (functional, right_call)):
        good, bad = embedded_farm.score([right, "print(0)\n"], row["test_cases"], row["id"])
        assert (good.pass_rate, bad.verdict) == (1.0, Verdict.FAILED)


def test_the_cli_verb(tmp_path):
    out = tmp_path / "jobs.jsonl"
    proc = subprocess.run(
        [sys.executable, "-m", "trainer.cli", "convert", "mbpp", str(FIX / "mbpp.jsonl"), "-o", str(out)],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=120,
    )
    assert proc.returncode == 3  # a record was skipped (named on stderr); the rest converted
    assert "skipped line 3: test_list" in proc.stderr and "records 3, written 2" in proc.stderr
    assert len(read(out)) == 2
    proc = subprocess.run(
        [sys.executable, "-m", "trainer.cli", "convert", "humaneval", str(FIX / "HumanEval.jsonl.gz"), "-o", str(out)],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=120,
    )
    assert proc.returncode == 0 and "records 2, written 2, 0 without a reference solution" in proc.stderr
