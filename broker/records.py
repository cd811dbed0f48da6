"""Input lines -> jobs, and results -> output lines, for `acefarm score`.

A line is either a job (DESIGN section 4) or an AceCode-87K row (`id`,
`test_cases`, `inferences[]`). Each becomes a Record: the jobs to run and how
to write the line back. A bad line raises LineRejected naming the field; the
caller reports it and goes on with the rest.
"""

from __future__ import annotations

import copy
import json
from dataclasses import dataclass
from typing import Any, Callable

from executor import InvalidJob, Job, JobResult, JobRules, Limits, Verdict
from executor.job import parse_tests

from .extract import extract_code


class LineRejected(Exception):
    """One input line that cannot be scored; `field` says what is wrong."""

    def __init__(self, line: int, field: str, message: str, key: str | None = None) -> None:
        super().__init__(f"line {line}: {field}: {message}")
        self.line = line
        self.field = field
        self.message = message
        self.key = key

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"line": self.line, "error": {"field": self.field, "message": self.message}}
        if self.key is not None:
            out["id"] = self.key
        return out


@dataclass
class Record:
    line: int
    key: str
    jobs: list[Job]
    assemble: Callable[[list[JobResult]], dict[str, Any]]


def parse_line(line: int, text: str, limits: Limits, rules: JobRules) -> Record:
    try:
        data = json.loads(text)
    except ValueError as exc:
        raise LineRejected(line, "json", f"malformed JSON: {exc}") from None
    except RecursionError:
        raise LineRejected(line, "json", "nested too deeply") from None
    if not isinstance(data, dict):
        raise LineRejected(line, "json", "each line must be a JSON object")
    key = data.get("id") if isinstance(data.get("id"), str) else None
    try:
        if "inferences" in data or "test_cases" in data:
            return _acecode_row(line, data, limits, rules)
        job = Job.from_dict(data, limits, rules)
    except InvalidJob as exc:
        raise LineRejected(line, exc.field, exc.message, key) from None
    return Record(line, job.id, [job], lambda results: results[0].to_dict())


def _acecode_row(line: int, row: dict[str, Any], limits: Limits, rules: JobRules) -> Record:
    row_id = row.get("id")
    if not isinstance(row_id, (str, int)) or isinstance(row_id, bool) or row_id == "":
        raise InvalidJob("id", "missing or not a string")
    row_id = str(row_id)
    tests = parse_tests(row.get("test_cases"), rules)
    raw_tests = [t for t in row["test_cases"] if isinstance(t, str)]
    inferences = row.get("inferences")
    if not isinstance(inferences, list):
        raise InvalidJob("inferences", "missing or not a list")
    jobs, cids = [], set()
    for i, inf in enumerate(inferences):
        where = f"inferences[{i}]"
        if not isinstance(inf, dict):
            raise InvalidJob(where, "must be an object")
        completion = inf.get("completion")
        if not isinstance(completion, str):
            raise InvalidJob(f"{where}.completion", "missing or not a string")
        program = extract_code(completion, raw_tests)
        if len(program.encode("utf-8", "surrogatepass")) > rules.max_program_bytes:
            raise InvalidJob(f"{where}.completion", f"larger than {rules.max_program_bytes} bytes")
        cid = inf.get("completion_id", i)
        if str(cid) in cids:
            raise InvalidJob(f"{where}.completion_id", f"duplicate completion_id {cid!r} in this row")
        cids.add(str(cid))
        jobs.append(Job(f"{row_id}/{cid}", program, tests, "python", limits))

    def assemble(results: list[JobResult]) -> dict[str, Any]:
        out = copy.deepcopy(row)
        out["id"] = row_id
        for inf, res in zip(out["inferences"], results):
            # Recomputed here, never copied from the input; unknown on infra errors.
            inf["pass_rate"] = None if res.verdict is Verdict.INFRA_ERROR else res.pass_rate
            inf["verdict"] = res.verdict.value
            inf["test_verdicts"] = [t.verdict.value for t in res.tests]
        return out

    return Record(line, row_id, jobs, assemble)
