"""OpenRLHF's local reward function, scored by the farm: `--reward.remote_url PATH/TO/THIS.py`.

OpenRLHF loads a reward file by its path (no package, so this file imports absolutely) and
calls `reward_func(queries, prompts, labels)` with lists (one rollout at a time in 0.11). It
answers exactly what the farm's `POST /get_reward` answers (broker/reward.py): the
completion is the query minus its prompt, the label carries the tests, the reward is the pass
rate, a sample the farm could not run gets 0.0 flagged in `extra_logs["infra_error"]`.

The farm: $ACEFARM_SERVER (gRPC, HOST:PORT; bearer token $ACEFARM_TOKEN), else an embedded
sandbox pool in this process. $ACEFARM_REWARD=binary gives 1/0 for all tests passed.
Training through the HTTP endpoint instead needs no file: `--reward.remote_url
http://HOST:PORT/get_reward`.
"""

from __future__ import annotations

import os
import threading
from typing import Any

from broker.reward import GetRewardRequest, jobs_for, rewards
from executor import ExecutorConfig, JobResult

_lock = threading.Lock()
_farm: dict[str, Any] = {}


def _run(jobs: list[Any]) -> list[JobResult]:
    """Run `jobs` on the farm of this process (opened on first use)."""
    with _lock:
        if not _farm:
            server = os.environ.get("ACEFARM_SERVER")
            if server:
                from broker.client import Client

                _farm["client"] = Client(server, token=os.environ.get("ACEFARM_TOKEN"))
            else:
                from executor import Pool

                _farm["pool"] = Pool(ExecutorConfig()).start()
    if "client" in _farm:
        return list(_farm["client"].execute_many(jobs))
    return list(_farm["pool"].map(jobs))


def reward_func(queries: list[str], prompts: list[str], labels: list[Any], **kwargs: Any) -> dict[str, Any]:
    """{"rewards": [...], "scores": [...], "extra_logs": {...}}: one number per query."""
    config = ExecutorConfig()
    request = GetRewardRequest(query=list(queries), prompts=list(prompts), labels=list(labels))
    jobs, found = jobs_for(request, config.limits, config.rules)
    binary = os.environ.get("ACEFARM_REWARD", "pass_rate") == "binary"
    return rewards(_run(jobs), found, binary).model_dump()
