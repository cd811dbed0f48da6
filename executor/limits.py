"""Resource limits for one job, with the bounds a server will accept."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, fields, replace
from typing import Any

from .errors import InvalidJob

# (minimum, maximum) accepted for each limit; a job asking outside is rejected.
BOUNDS: dict[str, tuple[float, float]] = {
    "cpu_s": (0.05, 60.0),
    "wall_s": (0.1, 300.0),
    "memory_mb": (32, 16384),
    "output_kb": (1, 65536),
    "disk_mb": (0, 4096),
    "files": (16, 4096),
    "processes": (0, 256),
}


FLOAT_LIMITS = frozenset({"cpu_s", "wall_s"})


@dataclass(frozen=True)
class Limits:
    """Per-test limits. CPU time is the real limit; wall time is a backstop.

    cpu_s and wall_s apply to loading the program and to each test separately;
    memory_mb caps the memory a job's processes hold (heap, scratch files, with a memory
    cgroup all of it; each process's address space too); output_kb caps stdout+stderr of a job
    (of each run, for stdin/stdout tests); disk_mb caps scratch files;
    processes is how many extra processes/threads a program may start (0: none).
    """

    cpu_s: float = 2.0
    wall_s: float = 6.0
    memory_mb: int = 512
    output_kb: int = 256
    disk_mb: int = 64
    files: int = 64
    processes: int = 0
    # Which limits were chosen, and so override a farm's own defaults when the limits travel
    # to it: None (an object made with its values) every one; else those merged in (DEFAULTS:
    # none; a job's "limits" object, or the flags given: theirs).
    chosen: frozenset[str] | None = field(default=None, compare=False, repr=False)

    def __post_init__(self) -> None:
        for f in fields(self):
            if f.name == "chosen":
                continue
            value = getattr(self, f.name)
            lo, hi = BOUNDS[f.name]
            if isinstance(value, bool) or not isinstance(value, (int, float)):
                raise InvalidJob(f"limits.{f.name}", f"must be a number, got {value!r}")
            if f.name not in FLOAT_LIMITS:
                if isinstance(value, float) and not value.is_integer():
                    raise InvalidJob(f"limits.{f.name}", f"must be a whole number, got {value!r}")
                object.__setattr__(self, f.name, int(value))  # 512.0 -> 512 (JSON does not say)
                value = int(value)
            if not lo <= value <= hi:
                raise InvalidJob(f"limits.{f.name}", f"must be between {lo:g} and {hi:g}, got {value!r}")

    def merged(self, overrides: Mapping[str, Any] | None) -> Limits:
        """These limits with `overrides` applied (unknown keys are an error)."""
        if overrides is None:
            return self
        if not isinstance(overrides, Mapping):  # [], "", 0 and false too: not "no limits given"
            raise InvalidJob("limits", "must be an object")
        if not overrides:
            return self
        for key in overrides:
            if key not in _NAMES:
                raise InvalidJob(f"limits.{key}", f"unknown limit (known: {', '.join(sorted(_NAMES))})")
        chosen = None if self.chosen is None else self.chosen | frozenset(overrides)
        return replace(self, **dict(overrides), chosen=chosen)

    def to_dict(self) -> dict[str, float]:
        return {name: getattr(self, name) for name in _NAMES}

    def chosen_dict(self) -> dict[str, float]:
        """The limits to send a farm: those chosen (see `chosen`) and any that differ from the
        defaults; the farm's own defaults apply to the rest."""
        values = self.to_dict()
        if self.chosen is None:
            return values
        default = DEFAULTS.to_dict()
        return {k: v for k, v in values.items() if v != default[k] or k in self.chosen}


_NAMES = tuple(f.name for f in fields(Limits) if f.name != "chosen")
DEFAULTS = Limits(chosen=frozenset())  # the defaults, none of them chosen
