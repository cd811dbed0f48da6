"""Score a JSONL (or Parquet) file through a Dispatcher: ordered, resumable, loss-free.

One output line per input line, in input order: a result (or a rewritten
AceCode row), or a rejection naming the line and field (a job in a language the
farm does not offer is one, naming the languages it does). Lines are written
as soon as they and all before them are done, and flushed, so a crashed run
leaves a clean prefix; `resume=True` skips ids (and rejected line numbers)
already in the output and appends the rest. The writing, ordering and
resuming are resumable.py's, which the trainer's steps share.
"""

from __future__ import annotations

import contextlib
import json
import time
from collections import Counter
from collections.abc import Callable, Collection, Generator, Hashable, Iterable, Iterator, Set
from concurrent.futures import Future
from dataclasses import dataclass, field
from functools import partial
from typing import Any

from executor import JobResult, JobRules, Limits, Verdict
from executor.languages import PYTHON
from executor.limits import DEFAULTS as DEFAULT_LIMITS

from .dispatcher import Dispatcher
from .errors import LanguageUnavailable
from .passk import PassAtK, problem_of
from .records import LineParser, LineRejected, Record, parse_job
from .resumable import Unit, output_records, run_resumable
from .sources import source_items


@dataclass
class Summary:
    """What a scoring run did; rendered as the CLI's closing table (and `--summary-json`).

    The counts are this run's; `passk` covers the whole output (a resumed run's earlier lines
    included), since a problem's samples may have been scored in either.
    """

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
    passk: PassAtK = field(default_factory=PassAtK)

    @property
    def mean_pass_rate(self) -> float:
        scored = self.jobs - self.infra_errors
        return self.pass_rate_sum / scored if scored else 0.0

    @property
    def programs_per_s(self) -> float:
        return self.jobs / self.seconds if self.seconds else 0.0

    def add(self, result: JobResult, problem: str | None = None) -> None:
        """One result; `problem` is its pass@k problem (default: its id before the last `/`)."""
        self.jobs += 1
        self.verdicts[result.verdict.value] += 1
        if result.verdict is Verdict.INFRA_ERROR:
            self.infra_errors += 1
            self.passk.add(problem or problem_of(result.id), None)
            return
        self.pass_rate_sum += result.pass_rate
        self.jobs_passed += result.verdict is Verdict.PASSED
        self.cached += result.cached
        self.passk.add(problem or problem_of(result.id), result.verdict is Verdict.PASSED)

    def to_dict(self) -> dict[str, Any]:
        """The summary as JSON: this run's counts, and pass@k over the whole output."""
        return {
            "input_lines": self.lines,
            "jobs": self.jobs,
            "jobs_passed": self.jobs_passed,
            "mean_pass_rate": self.mean_pass_rate,
            "verdicts": dict(sorted(self.verdicts.items())),
            "rejected_lines": len(self.rejected),
            "resumed": self.resumed,
            "infra_errors": self.infra_errors,
            "cached": self.cached,
            "seconds": self.seconds,
            "programs_per_s": self.programs_per_s,
            "problems": len(self.passk.counts),
            "pass_at_k": self.passk.overall(),
            "per_problem": self.passk.per_problem(),
        }


def _done_key(rec: dict[str, Any]) -> int | str | None:
    """What an output record answers: a rejected line's number (int), or an id (str)."""
    line, job_id = rec.get("line"), rec.get("id")
    if "error" in rec and isinstance(line, int):
        return line
    return job_id if isinstance(job_id, str) else None


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
    limits: Limits = DEFAULT_LIMITS,
    rules: JobRules = JobRules(),
    resume: bool = False,
    on_line: Callable[[], None] | None = None,
    parse: LineParser = parse_job,
) -> Summary:
    """Score every line of `src` (JSONL or Parquet) into `dst`; `parse` turns each line's
    JSON object into a Record (broker's: jobs). Returns the run's Summary."""
    summary = Summary()
    if resume:  # pass@k over the whole output: fold in the samples already written
        for rec in output_records(dst):
            summary.passk.add_record(rec)
    t0 = 0.0

    def units(done: Set[Hashable]) -> Generator[Unit, None, None]:
        nonlocal t0
        t0 = time.monotonic()  # the run's time, after reading what a resumed output holds
        with contextlib.closing(source_items(src)) as inp:
            for item in _records(inp, parse, limits, rules, done, summary, dispatcher.languages):
                if isinstance(item, LineRejected):
                    yield Unit(partial(_rejected, item, summary))
                    continue
                futures = [dispatcher.submit(job) for job in item.jobs]
                yield Unit(partial(_scored, item, futures, summary), partial(_all_done, futures), len(futures))

    run_resumable(
        dst,
        units,
        _done_key,
        resume,
        # Enough in flight to keep every slot busy through the dispatcher's own
        # batching (a remote farm chunks jobs by the hundred).
        window=max(512, dispatcher.capacity * 16),
        on_written=(lambda _lines: on_line()) if on_line else None,
        inputs=(src,),
    )
    summary.seconds = time.monotonic() - t0
    return summary


def _records(
    inp: Iterable[bytes | dict[str, Any]],
    parse: LineParser,
    limits: Limits,
    rules: JobRules,
    done: Set[Hashable],
    summary: Summary,
    offer: Collection[str],
) -> Iterator[Record | LineRejected]:
    """The input's records and rejections, less the lines `done` answers (see _done_key);
    `offer`: the languages the farm runs."""
    seen: set[str] = set()
    seen_jobs: set[str] = set()
    for line_no, raw in enumerate(inp, 1):
        if not isinstance(raw, dict) and not raw.strip():
            continue
        summary.lines += 1
        if line_no in done:
            summary.resumed += 1
            continue
        try:
            record = parse(line_no, decode_line(line_no, raw), limits, rules)
        except LineRejected as exc:
            if exc.key is not None and exc.key in done:
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
        if record.key in done:
            summary.resumed += 1
            continue
        missing = next((j.language for j in record.jobs if j.language != PYTHON and j.language not in offer), None)
        if missing is not None:
            yield LineRejected(line_no, "language", str(LanguageUnavailable(missing, list(offer))), record.key)
            continue
        yield record


def _rejected(item: LineRejected, summary: Summary) -> list[dict[str, Any]]:
    summary.rejected.append(item)
    return [item.to_dict()]


def _all_done(futures: list[Future[JobResult]]) -> bool:
    return all(f.done() for f in futures)


def _scored(record: Record, futures: list[Future[JobResult]], summary: Summary) -> list[dict[str, Any]]:
    results = [f.result() for f in futures]
    # A line that is one job is a sample of the problem its id names; a line of several (an
    # AceCode row and its inferences) is one problem, the line's own id.
    own = len(record.jobs) != 1 or record.key != record.jobs[0].id
    for r in results:
        summary.add(r, record.key if own else None)
    return [record.assemble(results)]
