"""The code-RL dataset fixtures (tests/fixtures/formats/): tiny rows written for this project
in the real shapes of APPS, TACO, CodeContests and LiveCodeBench, with right and wrong programs.

`cases()` gives, per problem, its tests as a user hands them to the farm straight from a row:
APPS' `input_output` JSON text as stored, TACO's parsed into an object, CodeContests' test lists
joined ({"input": [...], "output": [...]}), and LiveCodeBench's evaluation sample
({"input_output": JSON text}, built as lcb_runner's `get_evaluation_sample` builds it).
"""

import json
import pathlib
from dataclasses import dataclass
from typing import Any

FIXTURES = pathlib.Path(__file__).resolve().parent / "fixtures" / "formats"
DATASETS = ("apps", "taco", "codecontests", "livecodebench")
PYTHON3 = 3  # CodeContests' Language enum


@dataclass(frozen=True)
class Case:
    dataset: str
    name: str
    tests: Any  # the tests value, as the dataset gives it
    right: list[str]
    wrong: list[str]
    calls: bool  # call tests (fn_name) rather than stdin/stdout

    @property
    def id(self) -> str:
        return f"{self.dataset}/{self.name}"


def rows(dataset: str) -> list[dict[str, Any]]:
    return [json.loads(line) for line in (FIXTURES / f"{dataset}.jsonl").read_text().splitlines()]


def cases(dataset: str | None = None) -> list[Case]:
    out = []
    for name in (dataset,) if dataset else DATASETS:
        for entry in rows(name):
            out.append(_CASES[name](entry))
    return out


def _apps(entry: dict[str, Any]) -> Case:
    row = entry["row"]
    fn = json.loads(row["input_output"]).get("fn_name")
    return Case(
        "apps", str(row["problem_id"]), row["input_output"], json.loads(row["solutions"]), entry["wrong"], bool(fn)
    )


def _taco(entry: dict[str, Any]) -> Case:
    row = entry["row"]
    tests = json.loads(row["input_output"])
    return Case(
        "taco", row["url"].rsplit("/", 1)[1], tests, json.loads(row["solutions"]), entry["wrong"], "fn_name" in tests
    )


def _codecontests(entry: dict[str, Any]) -> Case:
    row = entry["row"]
    parts = [row["public_tests"], row["private_tests"], row["generated_tests"]]
    tests = {"input": [i for p in parts for i in p["input"]], "output": [o for p in parts for o in p["output"]]}

    def python3(solutions: dict[str, list[Any]]) -> list[str]:
        return [s for lang, s in zip(solutions["language"], solutions["solution"]) if lang == PYTHON3]

    name = row["name"].split(".")[0]
    return Case("codecontests", name, tests, python3(row["solutions"]), python3(row["incorrect_solutions"]), False)


def evaluation_sample(row: dict[str, Any]) -> dict[str, str]:
    """LiveCodeBench's `CodeGenerationProblem.get_evaluation_sample()` for a row whose test
    cases are JSON text (public tests, then private ones)."""
    tests = json.loads(row["public_test_cases"]) + json.loads(row["private_test_cases"])
    return {
        "input_output": json.dumps(
            {
                "inputs": [t["input"] for t in tests],
                "outputs": [t["output"] for t in tests],
                "fn_name": json.loads(row["metadata"]).get("func_name", None),
            }
        )
    }


def _livecodebench(entry: dict[str, Any]) -> Case:
    row = entry["row"]
    sample = evaluation_sample(row)
    calls = json.loads(sample["input_output"])["fn_name"] is not None
    return Case("livecodebench", row["question_id"], sample, entry["right"], entry["wrong"], calls)


_CASES = {"apps": _apps, "taco": _taco, "codecontests": _codecontests, "livecodebench": _livecodebench}
