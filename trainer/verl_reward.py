"""verl's custom reward function, backed by the farm.

    custom_reward_function:
      path: /path/to/acefarm/trainer/verl_reward.py    # or pkg://trainer.verl_reward
      name: compute_score                              # or compute_score_async, compute_score_batch
      reward_kwargs:
        farm_server: farm-host:50051                   # default $ACEFARM_SERVER; none: an embedded pool
        on_infra_error: flag                           # zero (default) | flag | raise

The call forms verl uses, all here:

- single: `compute_score(data_source, solution_str, ground_truth, extra_info=None, **kwargs)`,
  by keyword (verl's reward-loop managers, with `reward_kwargs` and their own extras such as
  `reward_router_address`, all accepted) or by position (the legacy prime manager);
- async: `compute_score_async(...)`, the same, awaited on verl's event loop (verl awaits a
  coroutine function directly and runs a plain one in a thread);
- batch: `compute_score(data_sources=, solution_strs=, ground_truths=, extra_infos=, **kwargs)`
  (verl's batch manager, with `name: compute_score`), also `compute_score_batch(...)`: one
  list of scores; samples that share a ground truth are one farm call, all calls at once.

`ground_truth` is the tests: a list (asserts, stdin/stdout or call tests), a standard
`{"inputs", "outputs", "fn_name"}` object, or JSON text of either. The score is the pass rate,
or 1.0/0.0 with `binary: true` (in reward_kwargs, or per sample in `extra_info`).

reward_kwargs (each with an environment default): `farm_server` ($ACEFARM_SERVER), `farm_token`
($ACEFARM_TOKEN), `farm_tls_ca` ($ACEFARM_TLS_CA), `farm_timeout_s` ($ACEFARM_TIMEOUT_S, default
300: the deadline of each farm call; null for none), `farm_retries` ($ACEFARM_RETRIES, default 6:
retries, with backoff, of a call the server did not answer), `on_infra_error`
($ACEFARM_ON_INFRA_ERROR).

**A sample the farm could not run** (`infra_error`, or no answer from the server within the
deadline) is no result, and verl has no "no reward": it needs a number for every sample, and
one result shape for the whole batch (it collects dict keys from the first sample). So:

- `zero` (default): 0.0, and a warning in the log naming the sample's data source with a
  running count. The run goes on; a farm outage shows in the log, not as a crash.
- `flag`: every sample returns `{"score": s, "infra_error": 0.0 | 1.0}` (score 0.0 when not
  run): verl keeps both in its reward extra info (rollout dumps, validation metrics), so the
  unscored samples can be counted and filtered.
- `raise`: FarmUnavailable. A reward-loop manager then stops the run; the legacy prime
  manager turns it into 0.0.

Imports are absolute (this file loads by path, the way verl's loader reads
`custom_reward_function.path`, with acefarm installed in the environment). One farm per
process and target is shared by every call (trainer.farm.shared_farm).
"""

from __future__ import annotations

import logging
import os
import uuid
from collections.abc import Sequence
from typing import Any

from broker.errors import FarmUnavailable
from executor import InvalidJob, JobResult, Verdict
from trainer.extract import extract_code
from trainer.farm import (
    Farm,
    Group,
    ascore_groups,
    has_tests,
    read_tests,
    score_groups,
    shared_farm,
    suite_members,
)

POLICIES = ("zero", "flag", "raise")
DEFAULT_TIMEOUT_S = 300.0
log = logging.getLogger("acefarm.verl")
_unscored = [0]  # samples this process could not score (for the log's running count)

Score = float | dict[str, float]


def flag_value(value: Any, name: str) -> bool:
    """A yes/no setting as YAML, JSON or a string gives it: "false", "0", "no" are False."""
    if isinstance(value, str):
        text = value.strip().lower()
        if text in ("1", "true", "yes", "on"):
            return True
        if text in ("", "0", "false", "no", "off", "none", "null"):
            return False
        raise ValueError(f"{name} must be true or false; got {value!r}")
    return bool(value)


class _Options:
    """What reward_kwargs (else the environment) say about the farm and the result."""

    def __init__(self, kwargs: dict[str, Any]) -> None:
        env = os.environ.get
        self.server: str | None = kwargs.get("farm_server") or env("ACEFARM_SERVER") or None
        self.token: str | None = kwargs.get("farm_token") or env("ACEFARM_TOKEN") or None
        self.tls: str | None = kwargs.get("farm_tls_ca") or env("ACEFARM_TLS_CA") or None
        if "farm_timeout_s" in kwargs:  # null: no deadline
            timeout = kwargs["farm_timeout_s"]
        else:
            timeout = env("ACEFARM_TIMEOUT_S") or DEFAULT_TIMEOUT_S
        self.timeout_s: float | None = float(timeout) if timeout is not None else None
        self.retries = int(kwargs.get("farm_retries", env("ACEFARM_RETRIES") or 6))
        self.binary = flag_value(kwargs.get("binary", False), "binary")
        self.policy = str(kwargs.get("on_infra_error") or env("ACEFARM_ON_INFRA_ERROR") or "zero")
        if self.policy not in POLICIES:
            raise ValueError(f"on_infra_error must be one of {', '.join(POLICIES)}; got {self.policy!r}")

    def farm(self) -> Farm:
        return shared_farm(self.server, self.token, self.tls, self.timeout_s, self.retries)


class _Batch:
    """Samples -> farm groups (one per distinct ground truth) -> one score per sample."""

    def __init__(
        self,
        data_sources: Sequence[Any],
        solutions: Sequence[str],
        ground_truths: Sequence[Any],
        extra_infos: Sequence[Any],
        opts: _Options,
    ) -> None:
        if not len(data_sources) == len(solutions) == len(ground_truths) == len(extra_infos):
            raise ValueError(
                f"batch lengths differ: {len(data_sources)} data_sources, {len(solutions)} solution_strs, "
                f"{len(ground_truths)} ground_truths, {len(extra_infos)} extra_infos"
            )
        self.opts = opts
        self.data_sources = list(data_sources)
        self.extra_infos = list(extra_infos)
        tag = uuid.uuid4().hex[:12]
        suites = [read_tests(g) for g in ground_truths]
        # A sample with no tests (a math row of a mixed set) or tests the farm cannot take is
        # not sent: it scores 0.0, as verl's own prime_code scores it, with a warning naming it.
        invalid: dict[int, InvalidJob] = {}
        self.members = suite_members(
            suites, lambda i: f"ground_truth of sample {i} ({self.data_sources[i]!r})", skip_empty=True, invalid=invalid
        )
        if invalid and opts.policy == "raise":  # the strict policy: a dataset's fault stops the run
            raise next(iter(invalid.values()))
        self.unscorable = {i: str(exc) for i, exc in invalid.items()}
        self.unscorable.update({i: "no tests" for i, tests in enumerate(suites) if not has_tests(tests)})
        for i in sorted(self.unscorable)[:1]:
            log.warning(
                "acefarm: %d sample(s) of this batch cannot be scored, scored 0.0: sample %d (%r): %s",
                len(self.unscorable),
                i,
                self.data_sources[i],
                self.unscorable[i],
            )
        self.groups = [
            Group([extract_code(str(solutions[i]), suites[idx[0]]) for i in idx], suites[idx[0]], f"verl/{tag}/{n}")
            for n, idx in enumerate(self.members)
        ]

    def run(self) -> list[Score]:
        """Score the batch (the farm is not asked when no sample has tests it takes)."""
        return self.scores(score_groups(self.opts.farm(), self.groups) if self.groups else [])

    async def arun(self) -> list[Score]:
        return self.scores(await ascore_groups(self.opts.farm(), self.groups) if self.groups else [])

    def scores(self, results: list[list[JobResult]]) -> list[Score]:
        flag = self.opts.policy == "flag"
        out: list[Score | None] = [None] * len(self.data_sources)
        for i in self.unscorable:
            out[i] = {"score": 0.0, "infra_error": 0.0} if flag else 0.0
        failed: list[str] = []
        for idx, group in zip(self.members, results):
            for i, res in zip(idx, group):
                info = self.extra_infos[i] if isinstance(self.extra_infos[i], dict) else {}
                out[i] = self._score(res, flag_value(info.get("binary", self.opts.binary), "binary"), i, failed)
        if failed and self.opts.policy == "raise":
            raise FarmUnavailable(f"the farm could not score {len(failed)} sample(s): {failed[0]}")
        return [s for s in out if s is not None]

    def _score(self, res: JobResult, binary: bool, i: int, failed: list[str]) -> Score:
        flag = self.opts.policy == "flag"
        if res.verdict is Verdict.INFRA_ERROR:
            failed.append(res.message)
            _unscored[0] += 1
            if self.opts.policy != "raise":
                log.warning(
                    "acefarm: the farm could not score a sample of %r (%s); reward 0.0 (on_infra_error=%s), "
                    "%d unscored so far in this process",
                    self.data_sources[i],
                    res.message,
                    self.opts.policy,
                    _unscored[0],
                )
            return {"score": 0.0, "infra_error": 1.0} if flag else 0.0
        score = (1.0 if res.verdict is Verdict.PASSED else 0.0) if binary else res.pass_rate
        return {"score": score, "infra_error": 0.0} if flag else score


def _batch_args(
    data_sources: Sequence[Any] | None,
    solution_strs: Sequence[str],
    ground_truths: Sequence[Any] | None,
    extra_infos: Sequence[Any] | None,
    kwargs: dict[str, Any],
) -> _Batch:
    if ground_truths is None:
        raise TypeError("the batch form needs ground_truths= as well as solution_strs=")
    n = len(solution_strs)
    return _Batch(
        data_sources if data_sources is not None else [None] * n,
        solution_strs,
        ground_truths,
        extra_infos if extra_infos is not None else [None] * n,
        _Options(kwargs),
    )


def _single_args(
    data_source: Any, solution_str: str | None, ground_truth: Any, extra_info: Any, kwargs: dict[str, Any]
) -> _Batch:
    if solution_str is None:
        raise TypeError("compute_score needs solution_str and ground_truth (or solution_strs= and ground_truths=)")
    return _Batch([data_source], [solution_str], [ground_truth], [extra_info], _Options(kwargs))


def compute_score(
    data_source: Any = None,
    solution_str: str | None = None,
    ground_truth: Any = None,
    extra_info: dict[str, Any] | None = None,
    *,
    data_sources: Sequence[Any] | None = None,
    solution_strs: Sequence[str] | None = None,
    ground_truths: Sequence[Any] | None = None,
    extra_infos: Sequence[Any] | None = None,
    **kwargs: Any,
) -> Score | list[Score]:
    """verl's custom reward: one sample's score, or with `solution_strs=` a batch's list of scores."""
    if solution_strs is not None:
        return compute_score_batch(data_sources, solution_strs, ground_truths, extra_infos, **kwargs)
    batch = _single_args(data_source, solution_str, ground_truth, extra_info, kwargs)
    (score,) = batch.run()
    return score


def compute_score_batch(
    data_sources: Sequence[Any] | None = None,
    solution_strs: Sequence[str] | None = None,
    ground_truths: Sequence[Any] | None = None,
    extra_infos: Sequence[Any] | None = None,
    **kwargs: Any,
) -> list[Score]:
    """verl's batch form: one score per sample, every group of the batch in flight at once."""
    if solution_strs is None:
        raise TypeError("compute_score_batch needs solution_strs= and ground_truths=")
    return _batch_args(data_sources, solution_strs, ground_truths, extra_infos, kwargs).run()


async def compute_score_async(
    data_source: Any = None,
    solution_str: str | None = None,
    ground_truth: Any = None,
    extra_info: dict[str, Any] | None = None,
    *,
    data_sources: Sequence[Any] | None = None,
    solution_strs: Sequence[str] | None = None,
    ground_truths: Sequence[Any] | None = None,
    extra_infos: Sequence[Any] | None = None,
    **kwargs: Any,
) -> Score | list[Score]:
    """The asyncio twin of compute_score (single or batch form), awaited on verl's event loop."""
    if solution_strs is not None:
        return await _batch_args(data_sources, solution_strs, ground_truths, extra_infos, kwargs).arun()
    (score,) = await _single_args(data_source, solution_str, ground_truth, extra_info, kwargs).arun()
    return score


__all__ = ["POLICIES", "compute_score", "compute_score_async", "compute_score_batch"]
