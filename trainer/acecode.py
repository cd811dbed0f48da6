"""AceCode-87K rows in `acefarm score`: the trainer's line parser for broker's resumable runner.

A line with `test_cases` or `inferences` is a row (validated by data.validate_row); each
inference's completion becomes a job (the program extracted from it, the row's tests), and
the row is written back with every inference's pass rate recomputed. Any other line is a job
(broker's parser). `score_command(parse_line)` in trainer/cli.py makes this `acefarm score`.
"""

from __future__ import annotations

from typing import Any

from broker.records import LineRejected, Record, parse_job
from executor import InvalidJob, Job, JobResult, JobRules, Limits, Verdict
from executor.job import parse_tests
from executor.text import check_writable

from .data import RowError, validate_row
from .extract import extract_code


def is_row(data: dict[str, Any]) -> bool:
    return "inferences" in data or "test_cases" in data


def parse_line(line: int, data: dict[str, Any], limits: Limits, rules: JobRules) -> Record:
    """broker's LineParser for `acefarm score`: an AceCode-87K row, or else a job."""
    if not is_row(data):
        return parse_job(line, data, limits, rules)
    row_id = data.get("id")
    key = str(row_id) if isinstance(row_id, (str, int)) and not isinstance(row_id, bool) else None
    try:
        return row_record(line, data, limits, rules)
    except RowError as exc:
        raise LineRejected(line, exc.field, exc.message, key) from None


def row_record(line: int, row: dict[str, Any], limits: Limits, rules: JobRules) -> Record:
    """The jobs of one row (one per inference) and how to write the row back; raises RowError."""
    checked = validate_row(row, line, need_tests=True, need_question=False)
    if not isinstance(row.get("inferences"), list):
        raise RowError(line, "inferences", "missing or not a list")
    row_id = checked["id"]
    try:
        tests = parse_tests(row["test_cases"], rules)
    except InvalidJob as exc:  # parse_tests names its list `tests`
        field = "test_cases" + exc.field[len("tests") :] if exc.field.startswith("tests") else exc.field
        raise RowError(line, field, exc.message) from None
    jobs: list[Job] = []
    cids: set[str] = set()
    for i, inf in enumerate(row["inferences"]):
        where = f"inferences[{i}]"
        program = extract_code(inf["completion"], row["test_cases"])
        if len(program.encode("utf-8", "surrogatepass")) > rules.max_program_bytes:
            raise RowError(line, f"{where}.completion", f"larger than {rules.max_program_bytes} bytes")
        cid = inf.get("completion_id", i)
        try:  # part of the job id, which comes back in results
            check_writable(str(cid), f"{where}.completion_id", nul=True)
        except InvalidJob as exc:
            raise RowError(line, exc.field, exc.message) from None
        if str(cid) in cids:
            raise RowError(line, f"{where}.completion_id", f"duplicate completion_id {cid!r} in this row")
        cids.add(str(cid))
        jobs.append(Job(f"{row_id}/{cid}", program, tests, "python", limits, prelude=tests.prelude))
    return Record(line, row_id, jobs, lambda results: with_results(dict(row, id=row_id), results))


def with_results(row: dict[str, Any], results: list[JobResult]) -> dict[str, Any]:
    """`row` with each inference's `pass_rate`, `verdict` and `test_verdicts` from its result:
    recomputed, never copied from the input; `pass_rate` is None (unknown) on infra errors."""
    inferences = [dict(inf) for inf in row.get("inferences", [])]
    for inf, res in zip(inferences, results):
        inf["pass_rate"] = None if res.verdict is Verdict.INFRA_ERROR else res.pass_rate
        inf["verdict"] = res.verdict.value
        inf["test_verdicts"] = [t.verdict.value for t in res.tests]
    return dict(row, inferences=inferences)
