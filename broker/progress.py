"""Progress of a long run on stderr: a rich bar on a terminal, plain lines anywhere else.

On a terminal (or with ACEFARM_PROGRESS set) it is a bar with the count, percentage, rate,
elapsed time and ETA. Otherwise (a log file, a CI job, a pipe) it prints one line every
`interval_s` seconds and one at the end, e.g.

    scoring: 1200/5000 lines (24%), 310.2 lines/s, elapsed 0:00:04, ETA 0:00:12

so a run's progress is visible wherever its stderr goes.
"""

from __future__ import annotations

import datetime as dt
import os
import time
from types import TracebackType

from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    ProgressColumn,
    Task,
    TaskID,
    TaskProgressColumn,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)
from rich.text import Text


class _Rate(ProgressColumn):
    def __init__(self, unit: str) -> None:
        super().__init__()
        self.unit = unit

    def render(self, task: Task) -> Text:
        speed = task.finished_speed or task.speed
        return Text("" if speed is None else f"{speed:.1f} {self.unit}/s", style="progress.data.speed")


def _clock(seconds: float) -> str:
    return str(dt.timedelta(seconds=int(seconds)))


class ProgressReport:
    """`with ProgressReport(console, total, "scoring") as p: ... p.advance(n)`."""

    def __init__(self, console: Console, total: int, label: str, unit: str = "lines", interval_s: float = 10.0) -> None:
        self.console = console
        self.total = total
        self.label = label
        self.unit = unit
        self.interval_s = interval_s
        self.done = 0
        self._shown = -1
        self.bar: Progress | None = None
        self._task: TaskID | None = None
        if console.is_terminal or os.environ.get("ACEFARM_PROGRESS"):
            self.bar = Progress(
                TextColumn(label),
                BarColumn(),
                MofNCompleteColumn(),
                TaskProgressColumn(),
                _Rate(unit),
                TimeElapsedColumn(),
                TextColumn("ETA"),
                TimeRemainingColumn(),
                console=console,
                transient=False,
            )
        self._t0 = self._last = time.monotonic()

    def __enter__(self) -> ProgressReport:
        self._t0 = self._last = time.monotonic()
        if self.bar is not None:
            self.bar.__enter__()
            self._task = self.bar.add_task(self.label, total=self.total)
        return self

    def __exit__(self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None) -> None:
        if self.bar is not None:
            self.bar.__exit__(kind, exc, tb)
        elif kind is None and self.total and self._shown != self.done:
            self._line()

    def advance(self, n: int = 1) -> None:
        self.done += n
        if self.bar is not None and self._task is not None:
            self.bar.advance(self._task, n)
            return
        now = time.monotonic()
        if now - self._last >= self.interval_s:
            self._last = now
            self._line()

    def line(self) -> str:
        """The plain progress line for now."""
        elapsed = time.monotonic() - self._t0
        rate = self.done / elapsed if elapsed > 0 else 0.0
        pct = f" ({100 * self.done // self.total}%)" if self.total else ""
        eta = _clock((self.total - self.done) / rate) if rate > 0 and self.total >= self.done else "?"
        return (
            f"{self.label}: {self.done}/{self.total} {self.unit}{pct}, {rate:.1f} {self.unit}/s, "
            f"elapsed {_clock(elapsed)}, ETA {eta}"
        )

    def _line(self) -> None:
        self._shown = self.done
        self.console.print(self.line(), markup=False, highlight=False, soft_wrap=True)
