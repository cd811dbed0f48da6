"""Preference pairs from pass rates: AceCoder's rule, in trl's preference format.

A pair (chosen, rejected) of two inferences of one question qualifies when
chosen pass rate >= `min_chosen` (0.8), chosen - rejected >= `min_gap` (0.4)
and rejected > `min_rejected` (0). All qualifying pairs per question are kept,
de-duplicated by program text. Inferences whose pass rate is unknown
(`None`: the farm could not score them), or is not a number from 0 to 1, never take part
(`pairs_or_error`, what `acefarm pairs` runs, reports the latter as the row's error).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class PairRule:
    min_chosen: float = 0.8
    min_gap: float = 0.4
    min_rejected: float = 0.0

    def qualifies(self, chosen: float, rejected: float) -> bool:
        return chosen >= self.min_chosen and chosen - rejected >= self.min_gap - 1e-12 and rejected > self.min_rejected


def _is_rate(value: Any) -> bool:
    """A pass rate: a number from 0 to 1, compared as given (a 400-digit int never becomes a
    float; NaN is none)."""
    return isinstance(value, (int, float)) and not isinstance(value, bool) and 0 <= value <= 1


def rate_error(row: dict[str, Any]) -> str | None:
    """Why `row`'s pass rates cannot be paired (one that is not a number from 0 to 1, nor null:
    not scored), or None."""
    for i, inf in enumerate(row.get("inferences", [])):
        rate = inf.get("pass_rate") if isinstance(inf, dict) else None
        if rate is not None and not _is_rate(rate):
            return f"row {row.get('id')}: inferences[{i}].pass_rate: must be a number from 0 to 1, or null (not scored)"
    return None


def pairs_or_error(row: dict[str, Any], rule: PairRule = PairRule()) -> Iterator[dict[str, Any] | str]:
    """The pairs of `row` (make_pairs), or the one error that keeps it from being paired."""
    error = rate_error(row)
    if error is not None:
        yield error
    else:
        yield from make_pairs(row, rule)


def make_pairs(row: dict[str, Any], rule: PairRule = PairRule()) -> Iterator[dict[str, Any]]:
    """trl preference rows (prompt/chosen/rejected as chat messages, plus pass rates)."""
    seen: set[str] = set()
    scored = []
    for inf in row.get("inferences", []):
        rate, text = inf.get("pass_rate"), inf.get("completion", "")
        if _is_rate(rate) and text.strip() and text not in seen:
            seen.add(text)
            scored.append((float(rate), text))
    prompt = row.get("context_messages") or [{"role": "user", "content": row["question"]}]
    done: set[tuple[str, str]] = set()
    for rate_c, chosen in scored:
        for rate_r, rejected in scored:
            if chosen == rejected or (chosen, rejected) in done or not rule.qualifies(rate_c, rate_r):
                continue
            done.add((chosen, rejected))
            yield {
                "id": f"{row['id']}/{len(done) - 1}",
                "question_id": row["id"],
                "prompt": prompt,
                "chosen": [{"role": "assistant", "content": chosen}],
                "rejected": [{"role": "assistant", "content": rejected}],
                "chosen_pass_rate": rate_c,
                "rejected_pass_rate": rate_r,
            }
