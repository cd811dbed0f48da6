"""Ordered, flushed, resumable JSONL output: the runner under `acefarm score` and the trainer's steps.

The caller turns its input into Units, in input order. A unit's output records are written
(one JSON line each) as soon as it and every unit before it are done, and flushed, so a
crashed run leaves a clean prefix. A unit may be done at once (a trainer step over a batch
of rows) or later (jobs in flight on a farm): the runner keeps taking units until the weight
in flight passes `window`, then waits for the oldest.

With `resume`, the output is kept (a torn last line, from a crash mid-write, is trimmed
first), the caller gets the keys of the records already there to skip the input they
answer, and the new lines are appended.
"""

from __future__ import annotations

import json
import os
from collections import deque
from collections.abc import Callable, Generator, Hashable, Iterable, Iterator, Set
from dataclasses import dataclass
from typing import IO, Any

from executor.text import writable_tree


def _ready_now() -> bool:
    return True


@dataclass
class Unit:
    """Work for some of the input. `finish()` is called when `ready()` is true, or when the
    runner must wait for this unit (it may block), and yields the unit's output records;
    `weight` is what the unit holds in flight, `lines` how many input lines it covers."""

    finish: Callable[[], Iterable[Any]]
    ready: Callable[[], bool] = _ready_now
    weight: int = 0
    lines: int = 1


#: An output record -> the key of the input it answers (None: it answers none).
DoneKey = Callable[[dict[str, Any]], Hashable | None]
#: The keys already answered in the output (empty unless resuming) -> the run's units, in order.
Units = Callable[[Set[Hashable]], Generator[Unit, None, None]]


def run_resumable(
    dst: str,
    units: Units,
    done_key: DoneKey,
    resume: bool = False,
    window: int = 0,
    on_written: Callable[[int], None] | None = None,
) -> None:
    """Write the records of every unit `units` makes into `dst`, in order (see the module's
    docstring). `on_written(lines)` is called after each unit's records are flushed."""
    done = done_keys(dst, done_key) if resume else set()
    with open(dst, "a" if resume else "w", encoding="utf-8") as out:
        items = units(done)
        try:
            pending: deque[Unit] = deque()
            in_flight = 0
            for unit in items:
                pending.append(unit)
                in_flight += unit.weight
                while pending and (in_flight > window or pending[0].ready()):
                    in_flight -= _write(pending.popleft(), out, on_written)
            while pending:
                in_flight -= _write(pending.popleft(), out, on_written)
        finally:
            items.close()


def _write(unit: Unit, out: IO[str], on_written: Callable[[int], None] | None) -> int:
    """Write one unit's records and flush them; returns its weight."""
    for record in unit.finish():
        out.write(json_line(record))
    out.flush()
    if on_written:
        on_written(unit.lines)
    return unit.weight


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


def done_keys(path: str, done_key: DoneKey) -> set[Hashable]:
    """The keys (`done_key`) of the records already in `path`."""
    keys: set[Hashable] = set()
    for rec in output_records(path):
        key = done_key(rec)
        if key is not None:
            keys.add(key)
    return keys


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
