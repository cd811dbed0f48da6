"""An operator's live view of a cluster, read from its Redis (`acefarm status`).

Everything comes from what the farm keeps there anyway: the workers' heartbeats (slots, busy
slots, languages, jobs published, infra errors, sandbox restarts, host load) and the Celery
queues (chunks waiting in the default queue and the other languages' ones, and taken but not
yet acknowledged). Throughput is the change in jobs published
between two readings.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field

import redis
from rich.table import Table

from . import languages, registry


@dataclass
class Reading:
    """One look at the cluster, and the rates since the previous one."""

    alive: list[registry.WorkerInfo]
    dead: list[str]
    waiting: int
    taken: int
    at: float
    rates: dict[str, float] = field(default_factory=dict)  # worker -> jobs/s since the last reading

    @property
    def jobs_per_s(self) -> float:
        return sum(self.rates.values())

    def table(self) -> Table:
        slots = sum(w.slots for w in self.alive)
        busy = sum(w.busy for w in self.alive)
        t = Table(
            title=f"acefarm cluster: {len(self.alive)} workers, {busy}/{slots} slots busy, "
            f"queue {self.waiting} chunks waiting + {self.taken} taken, {self.jobs_per_s:.1f} jobs/s",
            title_justify="left",
        )
        columns = (
            "worker",
            "slots",
            "busy",
            "jobs/s",
            "jobs",
            "infra errors",
            "restarts",
            "cpu %",
            "mem %",
            "languages",
        )
        for column in columns:
            t.add_column(column, justify="left" if column in ("worker", "languages") else "right")
        for w in sorted(self.alive, key=lambda w: w.name):
            rate = self.rates.get(w.name)
            errors = f"{w.infra_errors} ({w.infra_errors / w.published:.1%})" if w.published else "0"
            t.add_row(
                w.name,
                str(w.slots),
                str(w.busy),
                "-" if rate is None else f"{rate:.1f}",
                str(w.published),
                errors,
                str(w.restarts),
                f"{w.cpu_percent:.0f}",
                f"{w.memory_percent:.0f}",
                " ".join(w.offer),
            )
        for name in sorted(self.dead):
            t.add_row(f"{name} (no heartbeat)", *["-"] * (len(columns) - 1), style="red")
        return t


class FarmView:
    """Successive readings of one cluster's Redis."""

    def __init__(self, r: redis.Redis[bytes]) -> None:
        self.redis = r
        self._last: Reading | None = None

    def read(self) -> Reading:
        found = registry.census(self.redis)
        waiting, taken = registry.unacked(self.redis, languages.QUEUES)
        now = time.monotonic()
        reading = Reading(found.alive, found.dead, waiting, taken, now)
        if self._last is not None and now > self._last.at:
            before = {w.name: w.published for w in self._last.alive}
            for w in found.alive:
                if w.name in before:
                    reading.rates[w.name] = max(0, w.published - before[w.name]) / (now - self._last.at)
        self._last = reading
        return reading
