"""Farm-backed rewards for RL: reward functions for trl's GRPOTrainer (verl's are in verl_reward.py).

The reward of a completion is its pass rate against the row's tests (or 1.0/0.0 when `binary`:
all tests pass or not), computed by the farm. Completions that share a test suite (a GRPO group)
are one farm call, and every group of a batch is in flight at once. A sample the farm could not
run (`infra_error`, or no answer from a farm server) gets `None`, never 0: trl leaves a sample
no reward function scored out of its group's baseline and gives it no advantage (beside other
reward functions, only theirs count), so a farm fault does not punish the policy. A row with
no tests (None, "", [], a code-RL object with no inputs: a math row of a mixed dataset) gets
`None` too, without a call, and a row whose tests are malformed fails the call naming it
(`test_cases[3].inputs: is empty`).

    from trainer.rewards import FarmReward, AsyncFarmReward

    reward = FarmReward("farm-host:50051", token=...)       # or FarmReward(EmbeddedFarm())
    GRPOTrainer(model=..., reward_funcs=reward, ...)          # AsyncFarmReward: the asyncio twin

Both pickle when their farm does (a farm server's address: trl's async GRPO spawns its reward
process from a pickle); each call reports `<name>/infra_errors` through trl's `log_metric` and a
`<name>/verdict` column through `log_extra` when trl passes them. Imports are absolute, so this
file also loads by path (verl's `custom_reward_function.path`), re-exporting verl's functions.
"""

from __future__ import annotations

import logging
import os
import threading
import uuid
from collections.abc import Callable
from typing import Any

from executor import InvalidJob, JobResult, Verdict
from trainer.extract import extract_code
from trainer.farm import (
    Farm,
    Group,
    RemoteFarm,
    ascore_groups,
    no_answer,
    read_tests,
    score_groups,
    suite_members,
)
from trainer.verl_reward import compute_score, compute_score_async, compute_score_batch

#: The deadline of each farm call when a reward is given a server address.
DEFAULT_TIMEOUT_S = 300.0


def completion_text(completion: Any) -> str:
    """The text of a completion: trl passes strings, or chat messages for conversational data."""
    if isinstance(completion, str):
        return completion
    if isinstance(completion, list) and completion and isinstance(completion[-1], dict):
        content = completion[-1].get("content", "")
        if isinstance(content, list):  # content parts: [{"type": "text", "text": ...}, ...]
            return "".join(p.get("text", "") for p in content if isinstance(p, dict) and p.get("type") == "text")
        return str(content)
    return str(completion)


log = logging.getLogger("acefarm.trl")


def _at(prompts: Any, i: int) -> Any:
    """Row `i`'s prompt, when the batch has a text prompt per row (a completion model's: a
    HumanEval-style body continues it); None otherwise (chat prompts are messages)."""
    if isinstance(prompts, (list, tuple)) and i < len(prompts) and isinstance(prompts[i], str):
        return prompts[i]
    return None


class FarmReward:
    """`reward(prompts, completions, test_cases=[...], **kw) -> list[float | None]` for GRPOTrainer.

    `farm` is a Farm, or a farm server's HOST:PORT (then `token`, default $ACEFARM_TOKEN, `tls`
    a CA file, and `timeout_s` the deadline of each call).
    """

    def __init__(
        self,
        farm: Farm | str,
        tests_column: str = "test_cases",
        binary: bool = False,
        token: str | None = None,
        tls: str | None = None,
        timeout_s: float | None = DEFAULT_TIMEOUT_S,
    ) -> None:
        if isinstance(farm, str):
            farm = RemoteFarm(farm, token or os.environ.get("ACEFARM_TOKEN"), tls, timeout_s=timeout_s)
        self.farm = farm
        self.tests_column = tests_column
        self.binary = binary
        self.__name__ = "farm_binary" if binary else "farm_pass_rate"  # trl logs rewards by this name
        self.calls = 0
        self.scored = 0
        self.infra_errors = 0
        self._lock = threading.Lock()
        self._token = uuid.uuid4().hex[:12]  # distinct group ids per process (one per data-parallel rank)

    def __getstate__(self) -> dict[str, Any]:
        state = dict(self.__dict__)
        del state["_lock"]
        return state  # the farm pickles by its own rules (a RemoteFarm as its address)

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__dict__.update(state)
        self._lock = threading.Lock()
        self._token = uuid.uuid4().hex[:12]

    def _groups(
        self, prompts: Any, completions: list[Any], columns: dict[str, Any]
    ) -> tuple[list[list[int]], list[Group], dict[int, InvalidJob]]:
        """The batch's groups (completions that share a test suite, in first-seen order), and
        the rows whose tests the farm cannot take."""
        if self.tests_column not in columns:
            raise KeyError(f"the dataset has no {self.tests_column!r} column with each row's tests")
        suites = [read_tests(t) for t in columns[self.tests_column]]
        # Rows of another kind (math in a mixed set) are left out: their reward is None. So are
        # rows whose tests the farm cannot take, each named in the log: one bad row of a dataset
        # must not stop a training run.
        invalid: dict[int, InvalidJob] = {}
        members = suite_members(suites, lambda i: f"{self.tests_column}[{i}]", skip_empty=True, invalid=invalid)
        for exc in {id(e): e for e in invalid.values()}.values():
            log.warning("acefarm: a row's tests cannot be scored (%s); its reward is None", exc)
        with self._lock:
            call = self.calls
            self.calls += 1
        groups = [
            Group(
                [extract_code(completion_text(completions[i]), suites[idx[0]], _at(prompts, i)) for i in idx],
                suites[idx[0]],
                f"grpo/{self._token}/{call}/{n}",
            )
            for n, idx in enumerate(members)
        ]
        return members, groups, invalid

    def _rewards(
        self,
        n: int,
        members: list[list[int]],
        invalid: dict[int, InvalidJob],
        results: list[list[JobResult]] | None,
        columns: dict[str, Any],
    ) -> list[float | None]:
        rewards: list[float | None] = [None] * n
        scored = {i for idx in members for i in idx}  # the rest have no tests: not the farm's
        verdicts = [
            Verdict.INFRA_ERROR.value if i in scored else "invalid_tests" if i in invalid else "no_tests"
            for i in range(n)
        ]
        for idx, group in zip(members, results or [[] for _ in members]):
            for i, res in zip(idx, group):
                verdicts[i] = res.verdict.value
                if res.verdict is Verdict.INFRA_ERROR:
                    continue
                if self.binary:
                    rewards[i] = 1.0 if res.verdict is Verdict.PASSED else 0.0
                else:
                    rewards[i] = res.pass_rate
        missing = sum(rewards[i] is None for i in scored)
        with self._lock:
            self.scored += n
            self.infra_errors += missing
        log_metric: Callable[[str, float], None] | None = columns.get("log_metric")
        if callable(log_metric):
            log_metric(f"{self.__name__}/infra_errors", float(missing))
        log_extra: Callable[[str, list[Any]], None] | None = columns.get("log_extra")
        if callable(log_extra):
            log_extra(f"{self.__name__}/verdict", verdicts)
        return rewards

    def __call__(self, prompts: list[Any], completions: list[Any], **columns: Any) -> list[float | None]:
        members, groups, invalid = self._groups(prompts, completions, columns)
        try:
            results: list[list[JobResult]] | None = score_groups(self.farm, groups)
        except Exception as exc:
            if not no_answer(exc):
                raise
            results = None  # no answer for the whole batch: no rewards, reported as infra errors
        return self._rewards(len(completions), members, invalid, results, columns)


class AsyncFarmReward(FarmReward):
    """The asyncio twin of FarmReward: `await reward(prompts, completions, **columns)`.

    trl runs async reward functions on its own event loop (and several at once); the farm's
    groups are all in flight on that loop, through the SDK's AsyncClient or the embedded pool.
    """

    async def __call__(  # type: ignore[override]  # the same call, awaited
        self, prompts: list[Any], completions: list[Any], **columns: Any
    ) -> list[float | None]:
        members, groups, invalid = self._groups(prompts, completions, columns)
        try:
            results: list[list[JobResult]] | None = await ascore_groups(self.farm, groups)
        except Exception as exc:
            if not no_answer(exc):
                raise
            results = None
        return self._rewards(len(completions), members, invalid, results, columns)


__all__ = [
    "AsyncFarmReward",
    "FarmReward",
    "completion_text",
    "compute_score",
    "compute_score_async",
    "compute_score_batch",
]
