"""Ordered, flushed, resumable JSONL output: the runner under `acefarm score` and the trainer's steps.

The caller turns its input into Units, in input order. A unit's output records are written
(one JSON line each) as soon as it and every unit before it are done, and flushed, so a
crashed run leaves a clean prefix. A unit may be done at once (a trainer step over a batch
of rows) or later (jobs in flight on a farm): the runner keeps taking units until the weight
in flight passes `window`, then waits for the oldest.

With `resume`, the output is kept (a torn last line, from a crash mid-write, is trimmed
first), the caller gets the keys of the records already there to skip the input they
answer, and the new lines are appended.

The output is never one of the run's inputs (that would empty the input before reading it),
and one run writes it at a time: it is locked (flock) before it is emptied or read back, and a
second run on it stops with OutputUnusable instead of interleaving its lines.
"""

from __future__ import annotations

import fcntl
import json
import os
import stat
from collections import deque
from collections.abc import Callable, Generator, Hashable, Iterable, Iterator, Set
from dataclasses import dataclass
from typing import IO, Any

from executor.text import writable_tree

from .errors import OutputUnusable


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
    inputs: Iterable[str] = (),
) -> None:
    """Write the records of every unit `units` makes into `dst`, in order (see the module's
    docstring). `on_written(lines)` is called after each unit's records are flushed.
    `inputs`: the files the run reads, which `dst` must not be. Raises OutputUnusable."""
    for src in inputs:
        if _same_file(src, dst):
            raise OutputUnusable(f"the output {dst} is the input {src}: it would be emptied before it is read")
    try:
        out = open(dst, "a", encoding="utf-8")  # not emptied before it is locked
    except OSError as exc:
        raise OutputUnusable(f"cannot open the output {dst}: {exc.strerror or exc}") from None
    written = False
    try:
        try:
            fcntl.flock(out.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise OutputUnusable(f"another run is writing the output {dst}") from None
        except OSError:  # a file that takes no lock (a device, some network file systems)
            pass
        regular = stat.S_ISREG(os.fstat(out.fileno()).st_mode)  # not /dev/stdout, /dev/null
        if resume and regular:
            done = done_keys(dst, done_key)
        else:
            if regular:
                out.truncate(0)
            done = set()
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
        written = True
    finally:
        try:
            out.close()
        except OSError as exc:  # what it still held could not be written: said, unless said already
            if written:
                raise _unwritable(dst, exc) from None


def _write(unit: Unit, out: IO[str], on_written: Callable[[int], None] | None) -> int:
    """Write one unit's records and flush them; returns its weight."""
    for record in unit.finish():
        line = json_line(record)
        try:
            out.write(line)
        except OSError as exc:  # a full disk: what was flushed before stands (--resume goes on)
            raise _unwritable(out.name, exc) from None
    try:
        out.flush()
    except OSError as exc:
        raise _unwritable(out.name, exc) from None
    if on_written:
        on_written(unit.lines)
    return unit.weight


def _unwritable(path: str, exc: OSError) -> OutputUnusable:
    return OutputUnusable(f"cannot write the output {path}: {exc.strerror or exc}")


def _same_file(a: str, b: str) -> bool:
    try:
        return os.path.samefile(a, b)
    except OSError:  # one of them does not exist (yet)
        return False


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
