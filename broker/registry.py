"""The cluster's worker registry: who is alive, what each worker holds, and failover.

Each `acefarm worker` renews a liveness key, `acefarm:worker:<name>`, every HEARTBEAT_S with
a TTL of LIVENESS_TTL_S, and lists the chunks it has taken from the queue (received, running
or waiting in its backlog) in the hash `acefarm:holds:<name>` (Celery task id -> kombu
delivery tag). A dispatcher checks the registry every second: a worker whose liveness key
has lapsed is dead, and each chunk it held is taken out of kombu's unacknowledged set and put
back at the front of the queue at once, so a killed or frozen worker delays its jobs by at
most LIVENESS_TTL_S plus a second past its last heartbeat. A slow worker that still beats is
never robbed. The visibility timeout stays as the backstop for what heartbeats cannot see (a
worker that died between taking a message and recording it): a chunk unacknowledged that long
and held by no live worker is requeued, one a live worker holds is left to it however long it
runs.

A requeued chunk keeps its task id, so the delivery count that bounds crash loops keeps
counting, and gets a fresh delivery tag, so a frozen worker that wakes up and acknowledges
its old tag cannot acknowledge the chunk's new holder. Requeueing is one Redis transaction
watched on kombu's hash: when two dispatchers see the same death, one of them requeues.
"""

from __future__ import annotations

import json
import logging
import time
import uuid
from collections.abc import Collection, Sequence
from dataclasses import asdict, dataclass, field, fields
from typing import Any

import redis

from executor.languages import PYTHON

log = logging.getLogger(__name__)

PREFIX = "acefarm:"
QUEUE = "acefarm"
WORKERS = PREFIX + "workers"  # hash: worker name -> its last heartbeat (JSON)
HEARTBEAT_S = 2.0
LIVENESS_TTL_S = 8
HOLDS_TTL_S = 3600  # renewed by every heartbeat: a dead worker's holds outlive it long enough
UNACKED = "unacked"  # kombu's Redis transport: delivery tag -> [message, exchange, routing key]
UNACKED_INDEX = "unacked_index"  # kombu: delivery tag -> time taken


def liveness_key(name: str) -> str:
    return f"{PREFIX}worker:{name}"


def holds_key(name: str) -> str:
    return f"{PREFIX}holds:{name}"


@dataclass(frozen=True)
class WorkerInfo:
    """One worker as its last heartbeat described it: its slots and how many run a job now,
    its runtime, the languages it runs (-> what runs each; a worker that lists none runs
    Python only), and its running totals (jobs published, infra errors, chunks finished,
    sandbox restarts) and host load, for operators (`acefarm status`, metrics)."""

    name: str
    slots: int
    busy: int
    runtime: str
    published: int = 0
    infra_errors: int = 0
    chunks: int = 0
    restarts: int = 0
    cpu_percent: float = 0.0
    memory_percent: float = 0.0
    languages: dict[str, str] = field(default_factory=dict, hash=False)

    @property
    def offer(self) -> dict[str, str]:
        """The languages it runs -> what runs each."""
        return self.languages or {PYTHON: ""}

    @classmethod
    def from_json(cls, name: str, raw: bytes | str) -> WorkerInfo:
        data = json.loads(raw)
        known = {f.name for f in fields(cls)} - {"name"}
        return cls(name=name, **{k: v for k, v in data.items() if k in known})

    def to_json(self) -> str:
        return json.dumps({k: v for k, v in asdict(self).items() if k != "name"})


# -- the worker's side ----------------------------------------------------------------


def beat(r: redis.Redis[bytes], info: WorkerInfo, held: Collection[str] = ()) -> None:
    """Renew a worker's liveness key, its registry entry and its holds' TTL in one round trip,
    and the age of the chunks it `held` (kombu delivery tags): kombu in any worker requeues
    a chunk unacknowledged for the visibility timeout, and a live worker's chunk, however
    long it runs, must stay with it."""
    with r.pipeline() as p:
        p.set(liveness_key(info.name), info.to_json(), ex=LIVENESS_TTL_S)
        p.hset(WORKERS, info.name, info.to_json())
        p.expire(holds_key(info.name), HOLDS_TTL_S)
        if held:
            p.zadd(UNACKED_INDEX, dict.fromkeys(held, time.time()), xx=True)  # xx: never one acked since
        p.execute()


def hold(r: redis.Redis[bytes], name: str, task_id: str, delivery_tag: str) -> None:
    """Record that worker `name` has taken the chunk `task_id` (kombu tag `delivery_tag`)."""
    with r.pipeline() as p:
        p.hset(holds_key(name), task_id, delivery_tag)
        p.expire(holds_key(name), HOLDS_TTL_S)
        p.execute()


def release(r: redis.Redis[bytes], name: str, task_id: str) -> None:
    """The chunk `task_id` is done on worker `name` (acknowledged right after)."""
    r.hdel(holds_key(name), task_id)


def leave(r: redis.Redis[bytes], name: str) -> None:
    """A worker stopping cleanly is dead from the next registry check on: its liveness key
    goes now, its entry stays for that check to requeue whatever it still holds (Celery
    itself gives back what it had not started) and then remove it."""
    r.delete(liveness_key(name))


# -- the dispatchers' side ------------------------------------------------------------


@dataclass(frozen=True)
class Census:
    """What one registry check found."""

    alive: list[WorkerInfo]
    dead: list[str]


def census(r: redis.Redis[bytes]) -> Census:
    """The registered workers, split by whether their liveness key still exists; a worker
    that left cleanly but still holds chunks (it was killed on the way out) counts as dead."""
    entries = r.hgetall(WORKERS)
    names = [n.decode() for n in entries]
    with r.pipeline(transaction=False) as p:
        for name in names:
            p.get(liveness_key(name))
        beats = p.execute()
    alive, dead = [], []
    for name, now in zip(names, beats):
        if now is None:
            dead.append(name)
        else:
            alive.append(WorkerInfo.from_json(name, now))
    return Census(alive, dead)


def fail_over(r: redis.Redis[bytes], name: str) -> list[str]:
    """Put every chunk the dead worker `name` held back at the front of the queue and remove
    it from the registry. Returns the task ids of the chunks requeued (by this call; another
    dispatcher may have requeued some first)."""
    held = r.hgetall(holds_key(name))
    moved = [task.decode() for task, tag in held.items() if requeue(r, tag.decode())]
    with r.pipeline() as p:
        p.delete(holds_key(name))
        p.hdel(WORKERS, name)
        p.execute()
    if held:
        log.warning("worker %s stopped beating; %d of its %d chunks requeued", name, len(moved), len(held))
    return moved


def held_tasks(r: redis.Redis[bytes], names: list[str]) -> set[str]:
    """The task ids of the chunks the workers `names` hold now."""
    with r.pipeline(transaction=False) as p:
        for name in names:
            p.hkeys(holds_key(name))
        return {task.decode() for tasks in p.execute() for task in tasks}


def requeue(r: redis.Redis[bytes], tag: str) -> bool:
    """Move one unacknowledged message back to the front of the queue under a new delivery
    tag (atomically: watched on kombu's hash). False if it was already acknowledged."""

    def move(pipe: Any) -> bool:
        raw = pipe.hget(UNACKED, tag)
        pipe.multi()
        pipe.hdel(UNACKED, tag)
        pipe.zrem(UNACKED_INDEX, tag)
        if raw is None:
            return False
        message, _exchange, routing_key = json.loads(raw)
        message.setdefault("properties", {})["delivery_tag"] = str(uuid.uuid4())
        message["properties"].setdefault("delivery_info", {})["redelivered"] = True
        message.setdefault("headers", {})["redelivered"] = True
        # kombu's Redis transport LPUSHes new messages and BRPOPs: the right end is served next.
        pipe.rpush(routing_key or QUEUE, json.dumps(message))
        return True

    moved: bool = r.transaction(move, UNACKED, value_from_callable=True)  # type: ignore[no-untyped-call]
    return moved


def restore_unheld(r: redis.Redis[bytes], older_than_s: float, alive: list[str]) -> int:
    """The backstop: requeue chunks unacknowledged for `older_than_s` (the visibility timeout)
    that no live worker holds (one that died before recording what it took, say). A chunk a
    live worker still runs, however long, stays with it (its age is renewed). Returns chunks
    requeued."""
    now = time.time()
    old = r.zrangebyscore(UNACKED_INDEX, "-inf", now - older_than_s)
    if not old:
        return 0
    with r.pipeline(transaction=False) as p:
        for name in alive:
            p.hvals(holds_key(name))
        held = {tag for tags in p.execute() for tag in tags}
    kept = [tag for tag in old if tag in held]
    if kept:
        r.zadd(UNACKED_INDEX, dict.fromkeys(kept, now), xx=True)
    moved = sum(requeue(r, tag.decode()) for tag in old if tag not in held)
    if moved:
        log.warning("%d chunks unacknowledged for %.0f s and held by no live worker requeued", moved, older_than_s)
    return moved


def queued(r: redis.Redis[bytes], queues: Sequence[str] = (QUEUE,)) -> tuple[dict[str, int], int]:
    """(chunks waiting in each of `queues`, chunks taken from any and not yet acknowledged)."""
    with r.pipeline(transaction=False) as p:
        for name in queues:
            p.llen(name)
        p.hlen(UNACKED)
        *waiting, taken = p.execute()
    return {name: int(n) for name, n in zip(queues, waiting)}, int(taken)


def unacked(r: redis.Redis[bytes], queues: Sequence[str] = (QUEUE,)) -> tuple[int, int]:
    """(chunks waiting in `queues`, chunks taken and not yet acknowledged)."""
    waiting, taken = queued(r, queues)
    return sum(waiting.values()), taken
