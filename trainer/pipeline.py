"""Streams a file of rows through a step: validated input, ordered output, resumable.

Output rows are written and flushed as they are made. With `resume`, input rows whose id is
already in the output (its `id`, or `question_id` for steps that emit several rows per input,
such as pairs) are skipped and the rest appended; a torn last line is trimmed first.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from broker.scoring import json_line, output_records

from .data import RowError, read_rows


@dataclass
class StepReport:
    rows_in: int = 0
    rows_out: int = 0
    skipped: int = 0
    dropped: int = 0
    errors: list[str] = field(default_factory=list)


def done_ids(path: str) -> set[str]:
    """Input ids already answered in `path` (`question_id` for steps with several rows per input)."""
    ids: set[str] = set()
    for rec in output_records(path):
        for key in ("question_id", "id"):
            if isinstance(rec.get(key), str):
                ids.add(rec[key])
                break
    return ids


def run_step(
    src: str,
    dst: str,
    step: Callable[[list[dict[str, Any]]], Iterable[Any]],
    resume: bool = False,
    batch: int = 16,
    need_tests: bool = True,
    progress: Callable[[int], None] | None = None,
) -> StepReport:
    """Feed rows of `src` to `step` in batches; `step` yields rows, None (dropped) or errors (str)."""
    report = StepReport()
    skip = done_ids(dst) if resume else set()
    pending: list[dict[str, Any]] = []
    with open(dst, "a" if resume else "w", encoding="utf-8") as out:

        def flush() -> None:
            for item in step(pending):
                if item is None:
                    report.dropped += 1
                elif isinstance(item, str):
                    report.errors.append(item)
                else:
                    out.write(json_line(item))  # writable whatever a model or a farm put in it
                    report.rows_out += 1
            out.flush()
            if progress:
                progress(len(pending))
            pending.clear()

        for _line, row in read_rows(src, need_tests):
            if isinstance(row, RowError):
                report.errors.append(str(row))
                continue
            report.rows_in += 1
            if row["id"] in skip:
                report.skipped += 1
                continue
            pending.append(row)
            if len(pending) >= batch:
                flush()
        if pending:
            flush()
    return report
