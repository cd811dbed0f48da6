"""Streams a file of rows through a step: validated input, ordered output, resumable.

Output rows are written and flushed as they are made. With `resume`, input rows whose id is
already in the output (its `id`, or `question_id` for steps that emit several rows per input,
such as pairs) are skipped and the rest appended; a torn last line is trimmed first. The
writing and resuming are broker/resumable.py's, the runner `acefarm score` uses too.
"""

from __future__ import annotations

from collections.abc import Callable, Generator, Hashable, Iterable, Iterator, Set
from dataclasses import dataclass, field
from functools import partial
from typing import Any

from broker.resumable import Unit, run_resumable

from .data import RowError, read_rows


@dataclass
class StepReport:
    rows_in: int = 0
    rows_out: int = 0
    skipped: int = 0
    dropped: int = 0
    errors: list[str] = field(default_factory=list)


def _done_key(rec: dict[str, Any]) -> str | None:
    """The input id an output record answers (`question_id` for steps with several rows per input)."""
    for key in ("question_id", "id"):
        if isinstance(rec.get(key), str):
            return rec[key]
    return None


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

    def outputs(rows: list[dict[str, Any]]) -> Iterator[Any]:
        for item in step(rows):
            if item is None:
                report.dropped += 1
            elif isinstance(item, str):
                report.errors.append(item)
            else:
                yield item  # written (and made writable, whatever a model or a farm put in it)
                report.rows_out += 1

    def batches(done: Set[Hashable]) -> Generator[Unit, None, None]:
        pending: list[dict[str, Any]] = []
        for _line, row in read_rows(src, need_tests):
            if isinstance(row, RowError):
                report.errors.append(str(row))
                continue
            report.rows_in += 1
            if row["id"] in done:
                report.skipped += 1
                continue
            pending.append(row)
            if len(pending) >= batch:
                yield Unit(partial(outputs, pending), lines=len(pending))
                pending = []
        if pending:
            yield Unit(partial(outputs, pending), lines=len(pending))

    run_resumable(dst, batches, _done_key, resume, on_written=progress, inputs=(src,))
    return report
