"""Input lines -> jobs, and results -> output lines, for `acefarm score`.

The runner (scoring.py) decodes each line to a JSON object and hands it to a line parser,
which returns a Record: the jobs to run and how to write the line back. The broker's parser
reads jobs (DESIGN section 4); the trainer's (trainer/acecode.py) adds AceCode-87K rows and
plugs into the same runner. A bad line raises LineRejected naming the field; the caller
reports it and goes on with the rest.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from executor import InvalidJob, Job, JobResult, JobRules, Limits
from executor.text import check_job_text, writable


class LineRejected(Exception):
    """One input line that cannot be scored; `field` says what is wrong."""

    def __init__(self, line: int, field: str, message: str, key: str | None = None) -> None:
        field, message = writable(field, 1024), writable(message, 4096)  # they may quote the input
        key = writable(key) if key is not None else None
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


#: (line number, the line's JSON object, default limits, job rules) -> Record, or LineRejected
LineParser = Callable[[int, dict[str, Any], Limits, JobRules], Record]


def parse_job(line: int, data: dict[str, Any], limits: Limits, rules: JobRules) -> Record:
    """A job line (DESIGN section 4): one job, written back as its result."""
    key = data.get("id") if isinstance(data.get("id"), str) else None
    try:
        check_job_text(data)  # its id comes back in the result; none of it may be unwritable
        job = Job.from_dict(data, limits, rules)
    except InvalidJob as exc:
        raise LineRejected(line, exc.field, exc.message, key) from None
    return Record(line, job.id, [job], lambda results: results[0].to_dict())
