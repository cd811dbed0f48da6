"""Published benchmark files -> the farm's job files or the trainer's rows (`acefarm convert`).

    acefarm convert humaneval|mbpp|evalplus|livecodebench|apps IN -o OUT [--to jobs|rows]

Each format is one module here with one function, `problem(record) -> Problem`: a published
record (a JSONL line, a Parquet or JSON-array row) read into the problem's id, question, tests
(in a shape the farm takes) and reference solution, if the file has one. The output is:

- `jobs` (default): one job per problem, its reference solution against its tests
  (`{"id": "<problem>/reference", "program", "tests"}`), for `acefarm score`: every
  reference should pass, a check of the conversion and of the farm. Problems without a
  reference (LiveCodeBench has none) are counted and left out.
- `rows`: one AceCode-87K row per problem (`id, source, question, test_cases, reference`),
  what `acefarm sample` takes: sample N programs per problem, then `acefarm score` gives
  pass@k per problem (a row is a problem, its inferences the samples).

A record that cannot be read is reported by line and field, and the rest is converted.
"""

from __future__ import annotations

import gzip
import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

from broker.resumable import json_line
from broker.sources import is_parquet, parquet_rows


@dataclass(frozen=True)
class Problem:
    id: str
    question: str
    tests: Any  # a list of tests, or a standard {"inputs", "outputs", "fn_name"} object
    reference: str | None
    source: str


class BadRecord(Exception):
    def __init__(self, field: str, message: str) -> None:
        super().__init__(f"{field}: {message}")
        self.field = field
        self.message = message


@dataclass
class ConvertReport:
    records: int = 0
    written: int = 0
    without_reference: int = 0
    errors: list[str] = field(default_factory=list)


def records(path: str) -> Iterator[tuple[int, dict[str, Any] | BadRecord]]:
    """(line, record) of a JSONL(.gz), JSON array or Parquet file; bad lines as BadRecord."""
    if is_parquet(path):
        for i, row in enumerate(parquet_rows(path), 1):
            yield i, row
        return
    opener: Callable[..., Any] = gzip.open if path.endswith(".gz") else open
    with opener(path, "rt", encoding="utf-8") as fh:
        started = False
        for i, line in enumerate(fh, 1):
            if not line.strip():
                continue
            if not started and line.lstrip().startswith("["):  # a JSON array of records
                for j, rec in enumerate(json.loads(line + fh.read()), 1):
                    yield j, rec if isinstance(rec, dict) else BadRecord("record", "not a JSON object")
                return
            started = True
            try:
                rec = json.loads(line)
            except ValueError as exc:
                yield i, BadRecord("json", f"malformed: {exc}")
                continue
            yield i, rec if isinstance(rec, dict) else BadRecord("record", "not a JSON object")


def text_field(rec: dict[str, Any], *names: str, required: bool = True) -> str:
    """The first of `names` the record has as a string ("" when none and not required)."""
    for name in names:
        value = rec.get(name)
        if isinstance(value, str):
            return value
    if required:
        raise BadRecord(names[0], "missing or not a string")
    return ""


def problem_id(rec: dict[str, Any], source: str, *names: str) -> str:
    """The record's own id; a bare number or name gets the format's name in front (`mbpp/11`)."""
    for name in names:
        value = rec.get(name)
        if isinstance(value, (str, int)) and not isinstance(value, bool) and str(value):
            text = str(value)
            return text if "/" in text else f"{source}/{text}"
    raise BadRecord(names[0], "missing")


def convert_file(fmt: str, src: str, dst: str, to: str = "jobs") -> ConvertReport:
    """Convert `src` (a published `fmt` file) into `dst` (JSONL jobs or rows)."""
    from . import apps, evalplus, humaneval, livecodebench, mbpp

    readers: dict[str, Callable[[dict[str, Any]], Problem]] = {
        "humaneval": humaneval.problem,
        "mbpp": mbpp.problem,
        "evalplus": evalplus.problem,
        "livecodebench": livecodebench.problem,
        "apps": apps.problem,
    }
    if fmt not in readers:
        raise ValueError(f"unknown format {fmt!r} (known: {', '.join(readers)})")
    if to not in ("jobs", "rows"):
        raise ValueError(f"--to must be jobs or rows, not {to!r}")
    report = ConvertReport()
    seen: set[str] = set()
    with open(dst, "w", encoding="utf-8") as out:
        for line, rec in records(src):
            report.records += 1
            try:
                if isinstance(rec, BadRecord):
                    raise rec
                prob = readers[fmt](rec)
                if prob.id in seen:
                    raise BadRecord("id", f"duplicate problem id {prob.id!r}")
            except BadRecord as exc:
                report.errors.append(f"line {line}: {exc.field}: {exc.message}")
                continue
            seen.add(prob.id)
            if to == "rows":
                row = {"id": prob.id, "source": prob.source, "question": prob.question, "test_cases": prob.tests}
                if prob.reference is not None:
                    row["reference"] = prob.reference
                out.write(json_line(row))
            elif prob.reference is None:
                report.without_reference += 1
                continue
            else:
                out.write(json_line({"id": f"{prob.id}/reference", "program": prob.reference, "tests": prob.tests}))
            report.written += 1
    return report


FORMATS = ("humaneval", "mbpp", "evalplus", "livecodebench", "apps")

__all__ = ["FORMATS", "BadRecord", "ConvertReport", "Problem", "convert_file", "records"]
