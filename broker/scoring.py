"""Score a JSONL (or Parquet) file through a Dispatcher: ordered, resumable, loss-free.

One output line per input line, in input order: a result (or a rewritten
AceCode row), or a rejection naming the line and field. Lines are written
as soon as they and all before them are done, and flushed, so a crashed run
leaves a clean prefix; `resume=True` skips ids (and rejected line numbers)
already in the output and appends the rest.
"""

from __future__ import annotations

import contextlib
import json
import os
import time
from collections import Counter, deque
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import Future
from dataclasses import dataclass, field
from typing import IO, Any

from executor import JobResult, JobRules, Limits, Verdict
from executor.text import writable_tree

from .dispatcher import Dispatcher
from .records import LineParser, LineRejected, Record, parse_job
from .sources import source_items


@dataclass
class Summary:
    """What a scoring run did; rendered as the CLI's closing table."""

    lines: int = 0
    jobs: int = 0
    jobs_passed: int = 0
    pass_rate_sum: float = 0.0
    verdicts: Counter[str] = field(default_factory=Counter)
    rejected: list[LineRejected] = field(default_factory=list)
    resumed: int = 0
    infra_errors: int = 0
    cached: int = 0
    seconds: float = 0.0

    @property
    def mean_pass_rate(self) -> float:
        scored = self.jobs - self.infra_errors
        return self.pass_rate_sum / scored if scored else 0.0

    @property
    def programs_per_s(self) -> float:
        return self.jobs / self.seconds if self.seconds else 0.0

    def add(self, result: JobResult) -> None:
        self.jobs += 1
        self.verdicts[result.verdict.value] += 1
        if result.verdict is Verdict.INFRA_ERROR:
            self.infra_errors += 1
            return
        self.pass_rate_sum += result.pass_rate
        self.jobs_passed += result.verdict is Verdict.PASSED
        self.cached += result.cached


def output_records(path: str) -> Iterator[dict[str, Any]]:
    """The records already in an output file, after trimming a torn last line (a crash mid-write)."""
    if not os.path.exists(path):
        return
    with open(path, "rb+") as fh:
        data = fh.read()
        end = data.rfind(b"\n") + 1
        if end != len(data):
            fh.truncate(end)
    for raw in data[:end].splitlines():
        try:
            rec = json.loads(raw)
        except ValueError:
            continue
        if isinstance(rec, dict):
            yield rec


def done_keys(path: str) -> tuple[set[str], set[int]]:
    """Ids and rejected line numbers already in `path`."""
    ids: set[str] = set()
    lines: set[int] = set()
    for rec in output_records(path):
        if "error" in rec and isinstance(rec.get("line"), int):
            lines.add(rec["line"])
        elif isinstance(rec.get("id"), str):
            ids.add(rec["id"])
    return ids, lines


def json_line(payload: Any) -> str:
    """`payload` as one JSON line that any UTF-8 writer accepts. Results are writable already
    (executor/text.py); anything else with a string no encoder takes (a lone surrogate) gets
    it as backslash text instead of crashing the run."""
    text = json.dumps(payload, ensure_ascii=False, default=str)
    if not text.isascii():
        try:
            text.encode("utf-8")
        except UnicodeEncodeError:
            text = json.dumps(writable_tree(payload), ensure_ascii=False, default=str)
    return text + "\n"


def decode_line(line: int, raw: bytes | dict[str, Any]) -> dict[str, Any]:
    """An input line's JSON object (a Parquet row is one already); raises LineRejected."""
    if isinstance(raw, dict):
        return raw
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise LineRejected(line, "encoding", f"not valid UTF-8 ({exc.reason} at byte {exc.start})") from None
    try:
        data = json.loads(text)
    except ValueError as exc:
        raise LineRejected(line, "json", f"malformed JSON: {exc}") from None
    except RecursionError:
        raise LineRejected(line, "json", "nested too deeply") from None
    if not isinstance(data, dict):
        raise LineRejected(line, "json", "each line must be a JSON object")
    return data


def score_file(
    src: str,
    dst: str,
    dispatcher: Dispatcher,
    limits: Limits = Limits(),
    rules: JobRules = JobRules(),
    resume: bool = False,
    on_line: Callable[[], None] | None = None,
    parse: LineParser = parse_job,
) -> Summary:
    """Score every line of `src` (JSONL or Parquet) into `dst`; `parse` turns each line's
    JSON object into a Record (broker's: jobs). Returns the run's Summary."""
    summary = Summary()
    skip_ids, skip_lines = done_keys(dst) if resume else (set(), set())
    # Enough in flight to keep every slot busy through the dispatcher's own
    # batching (a remote farm chunks jobs by the hundred).
    window = max(512, dispatcher.capacity * 16)
    t0 = time.monotonic()
    with contextlib.closing(source_items(src)) as inp, open(dst, "a" if resume else "w", encoding="utf-8") as out:
        pending: deque[tuple[Record | LineRejected, list[Future[JobResult]]]] = deque()
        in_flight = 0
        for item in _records(inp, parse, limits, rules, skip_ids, skip_lines, summary):
            futures = [dispatcher.submit(job) for job in item.jobs] if isinstance(item, Record) else []
            pending.append((item, futures))
            in_flight += len(futures)
            while pending and (in_flight > window or _head_done(pending)):
                in_flight -= _write_head(pending, out, summary, on_line)
        while pending:
            in_flight -= _write_head(pending, out, summary, on_line)
    summary.seconds = time.monotonic() - t0
    return summary


def _records(
    inp: Iterable[bytes | dict[str, Any]],
    parse: LineParser,
    limits: Limits,
    rules: JobRules,
    skip_ids: set[str],
    skip_lines: set[int],
    summary: Summary,
) -> Iterator[Record | LineRejected]:
    seen: set[str] = set()
    seen_jobs: set[str] = set()
    for line_no, raw in enumerate(inp, 1):
        if not isinstance(raw, dict) and not raw.strip():
            continue
        summary.lines += 1
        if line_no in skip_lines:
            summary.resumed += 1
            continue
        try:
            record = parse(line_no, decode_line(line_no, raw), limits, rules)
        except LineRejected as exc:
            if exc.key is not None and exc.key in skip_ids:
                summary.resumed += 1
                continue
            yield exc
            continue
        # Duplicates are decided before resuming, so a resumed run rejects the same lines.
        job_ids = [j.id for j in record.jobs]
        if record.key in seen or any(j in seen_jobs for j in job_ids):
            what = record.key if record.key in seen else next(j for j in job_ids if j in seen_jobs)
            yield LineRejected(line_no, "id", f"duplicate id {what!r} (ids must be unique)", None)
            continue
        seen.add(record.key)
        seen_jobs.update(job_ids)
        if record.key in skip_ids:
            summary.resumed += 1
            continue
        yield record


def _head_done(pending: deque[tuple[Any, list[Future[JobResult]]]]) -> bool:
    return all(f.done() for f in pending[0][1])


def _write_head(
    pending: deque[tuple[Any, list[Future[JobResult]]]],
    out: IO[str],
    summary: Summary,
    on_line: Callable[[], None] | None,
) -> int:
    item, futures = pending.popleft()
    if isinstance(item, LineRejected):
        summary.rejected.append(item)
        payload = item.to_dict()
    else:
        results = [f.result() for f in futures]
        for r in results:
            summary.add(r)
        payload = item.assemble(results)
    out.write(json_line(payload))
    out.flush()
    if on_line:
        on_line()
    return len(futures)
