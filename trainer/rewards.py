"""Farm-backed rewards for RL: a reward function for trl's GRPOTrainer and verl's compute_score.

The reward of a completion is its pass rate against the row's tests (or 1.0/0.0 when `binary`:
all tests pass or not), computed by the farm. Completions that share a test suite (a GRPO group)
are scored in one farm call. An `infra_error` is no reward (None for trl, which then leaves the
sample out; an exception for verl), never 0: a farm fault must not punish the policy.
"""

from __future__ import annotations

import json
import os
import threading
import uuid
from typing import Any

from broker.errors import FarmUnavailable
from executor import Verdict

from .extract import extract_code
from .farm import Farm, open_farm


def completion_text(completion: Any) -> str:
    """The text of a completion: trl passes strings, or chat messages for conversational data."""
    if isinstance(completion, str):
        return completion
    if isinstance(completion, list) and completion and isinstance(completion[-1], dict):
        return str(completion[-1].get("content", ""))
    return str(completion)


class FarmReward:
    """`reward(prompts, completions, test_cases=[...], **kw) -> list[float | None]` for GRPOTrainer."""

    def __init__(self, farm: Farm, tests_column: str = "test_cases", binary: bool = False) -> None:
        self.farm = farm
        self.tests_column = tests_column
        self.binary = binary
        self.__name__ = "farm_binary" if binary else "farm_pass_rate"  # trl logs rewards by this name
        self.calls = 0
        self.scored = 0
        self.infra_errors = 0
        self._token = uuid.uuid4().hex[:12]  # distinct group ids per process (one per data-parallel rank)

    def __call__(self, prompts: list[Any], completions: list[Any], **columns: Any) -> list[float | None]:
        if self.tests_column not in columns:
            raise KeyError(f"the dataset has no {self.tests_column!r} column with each row's tests")
        suites = [json.loads(t) if isinstance(t, str) else list(t) for t in columns[self.tests_column]]
        groups: dict[str, list[int]] = {}
        for i, tests in enumerate(suites):
            groups.setdefault(json.dumps(tests), []).append(i)
        rewards: list[float | None] = [None] * len(completions)
        for n, (_, idx) in enumerate(groups.items()):
            tests = suites[idx[0]]
            programs = [extract_code(completion_text(completions[i]), tests) for i in idx]
            for i, res in zip(idx, self.farm.score(programs, tests, f"grpo/{self._token}/{self.calls}/{n}")):
                if res.verdict is Verdict.INFRA_ERROR:
                    self.infra_errors += 1
                elif self.binary:
                    rewards[i] = 1.0 if res.verdict is Verdict.PASSED else 0.0
                else:
                    rewards[i] = res.pass_rate
        self.calls += 1
        self.scored += len(completions)
        return rewards


_farm: Farm | None = None
_farm_lock = threading.Lock()


def _default_farm() -> Farm:
    """The farm at $ACEFARM_SERVER (token $ACEFARM_TOKEN), or an embedded pool; one per process."""
    global _farm
    with _farm_lock:
        if _farm is None:
            _farm = open_farm(os.environ.get("ACEFARM_SERVER"), os.environ.get("ACEFARM_TOKEN"))
        return _farm


def compute_score(data_source: str, solution_str: str, ground_truth: Any, extra_info: dict | None = None) -> float:
    """verl's custom reward signature. `ground_truth` is the tests (a list, or JSON of one).

    `extra_info={"binary": True}` gives 1.0/0.0. Raises FarmUnavailable on an infra error.
    """
    tests = json.loads(ground_truth) if isinstance(ground_truth, str) else list(ground_truth)
    (res,) = _default_farm().score(
        [extract_code(solution_str, tests)], tests, f"verl/{data_source}/{uuid.uuid4().hex[:12]}"
    )
    if res.verdict is Verdict.INFRA_ERROR:
        raise FarmUnavailable(f"the farm could not score this sample: {res.message}")
    if extra_info and extra_info.get("binary"):
        return 1.0 if res.verdict is Verdict.PASSED else 0.0
    return res.pass_rate
