"""How far ahead of its workers a cluster dispatcher sends: the clients' turns depend on it.

Chunks in Redis are served first in, first out, whoever sent them; jobs a dispatcher still
holds wait in its FairQueue (executor/fair.py), where clients take turns. So what a client
sends while another's burst is under way waits behind what was sent ahead of the workers,
then takes turns with the rest of the burst. `Pace` keeps that lead to about AHEAD_S of work
at the rate the workers answer, measured only while they are busy: between two answers that
each came with at least one job per slot still in flight (an idle farm's pace says how much
was asked, not how fast the workers go; a burst's tail neither).

- At least 2 jobs per slot, so that every slot has its next job at hand.
- At most 2 of the largest chunks per slot.
- Until a rate is known, 2 of the smallest chunks per slot: a farm's first burst goes out
  as small chunks and does not fill Redis before anyone has seen how fast it goes.

On 2 slots, jobs of about 3 ms (some 600 answers a second) keep the ceiling, 256, ahead;
jobs of 0.2 s (10 answers a second) keep 5.
"""

from __future__ import annotations

AHEAD_S = 0.5
FOLD_AFTER = 32  # busy answers folded into the rate at once (else at the next tick)


class Pace:
    """The lead (jobs sent and not answered) one queue's sender keeps, from its answer rate."""

    def __init__(self, ahead_s: float = AHEAD_S, rate: float | None = None) -> None:
        self.ahead_s = ahead_s
        self.rate = rate  # answers a second while busy; None: not known yet
        self._last: float | None = None
        self._last_busy = False
        self._busy_s = 0.0
        self._busy_n = 0

    def answered(self, now: float, busy: bool) -> bool:
        """An answer came at `now`, `busy` if at least one job per slot was in flight with it.
        True when that updated the rate."""
        if busy and self._last_busy and self._last is not None:
            self._busy_s += max(0.0, now - self._last)
            self._busy_n += 1
        self._last, self._last_busy = now, busy
        return self._busy_n >= FOLD_AFTER and self.fold()

    def fold(self, least: int = 1) -> bool:
        """Fold the busy answers seen since the last fold into the rate, when there are at
        least `least`. True when the rate changed."""
        if self._busy_n < least or self._busy_s <= 0:
            return False
        sample = self._busy_n / self._busy_s
        # Slower at once (slow jobs after quick ones must not go out a quick window deep);
        # faster as a running average (one quick stretch does not open the window wide).
        self.rate = sample if self.rate is None or sample < self.rate else (self.rate + sample) / 2
        self._busy_s, self._busy_n = 0.0, 0
        return True

    def window(self, slots: int, smallest_chunk: int, largest_chunk: int) -> int:
        """Jobs to keep sent and unanswered on `slots` slots."""
        slots = max(1, slots)
        if self.rate is None:
            return 2 * slots * smallest_chunk
        return round(min(2 * slots * largest_chunk, max(2 * slots, self.rate * self.ahead_s)))


def to_send(window: int, in_flight: int, waiting: int, smallest: int, largest: int) -> int:
    """How many of `waiting` held jobs to send now, with `in_flight` of `window` sent and not
    answered: 0 until there is room for a chunk of `smallest` (or for all that wait, or for half
    the window when that is smaller: slow jobs on few slots), so that answers do not each send
    a chunk of one; then what the room takes, `largest` at most."""
    room = window - in_flight
    if waiting <= 0 or room <= 0 or room < min(waiting, smallest, max(1, window // 2)):
        return 0
    return min(room, waiting, largest)
