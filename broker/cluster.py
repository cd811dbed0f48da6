"""Cluster mode: jobs travel as Celery tasks over Redis to `acefarm worker`s.

This module holds what the two sides share: the Celery app, the Redis keys and their TTLs, the
publish script, and the rules both keep. The server side is cluster_dispatcher.py
(CeleryDispatcher), the worker side worker.py.

Rules (DESIGN section 5):

- A task carries a chunk of jobs (CHUNK to CHUNK_MAX: what waits to be sent, split evenly over
  the cluster's slots, so a burst goes in large chunks and ends in small ones), as JSON, never
  pickle; the jobs of a `Score` share their test suite, which travels once per chunk, or once
  per group through Redis when it is large (chunks.py).
- A chunk holds jobs of one language. Python's chunks go to the default queue, which every
  worker consumes; another language's go to that language's queue (`acefarm.lang.<name>`),
  which only the workers that run it consume (languages.py). A job in a language other than
  Python that no live worker offers is refused before it is sent (gateway.py); one already
  sent when the last such worker died waits for one, like a Python job with no worker at all,
  up to the resend backstop below. Everything else here holds for every queue alike: the
  queue a chunk was sent to is the one failover puts it back on (kombu's routing key).
- `acks_late`, `reject_on_worker_lost`, a hard time limit: a worker killed mid-chunk loses
  nothing. A worker holds one chunk, and a second only from when the first's last jobs run
  (prefetch.py). Workers beat every 2 s and list the chunks they hold; a dispatcher
  that sees a worker's liveness key lapse puts its chunks back at the front of the queue at
  once (registry.py), so a dead worker delays its jobs by seconds. The Redis visibility
  timeout stays as the backstop for what heartbeats cannot see. Deliveries are counted per
  task and bounded: past MAX_DELIVERIES the remaining jobs get `infra_error`.
- Tasks are idempotent: each result is published through one Redis script that records
  (batch, job id) with HSETNX and only then pushes the result to the dispatcher's reply list,
  so a job is answered at most once however often its task runs; a redelivered task skips
  jobs already answered.
- Results are cached by content hash (runtime, language, program, tests, limits) in Redis, in
  a cache bounded by the workers' `--cache-mb` (least recently used out first); a hit is
  answered without running, marked `cached`.
- Cancellation (a client that went away, a deadline that passed) travels through a Redis set
  per batch: a worker skips cancelled jobs before they run and stops running ones.
- A job without an answer long after it was sent (its result lost with a Redis that
  restarted without persistence, say), or lost on its way to a worker, is sent again, twice
  at most, then answered `infra_error`. A chunk the broker cannot take after SEND_BACKOFF_S
  (cluster_dispatcher.py, about two minutes: a Redis restart) is answered `infra_error` at
  once, with what the sender holds.

Every key the farm writes expires, or is bounded as UNEXPIRING_KEYS says.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import redis
from celery import Celery

from . import languages, registry

if TYPE_CHECKING:
    from .worker import Worker

log = logging.getLogger(__name__)

PREFIX = registry.PREFIX
QUEUE = registry.QUEUE
TASK = "acefarm.run_chunk"
# The smallest chunk, and a burst's first ones (until CHUNK jobs per slot are in flight: every
# slot starts soon). Small, so that a burst also ends in small chunks: each worker takes its next
# chunk only when its current one is nearly done (prefetch.py), so the one that is ahead takes
# the last small ones, and the workers end within a few jobs of each other.
CHUNK = 8
CHUNK_MAX = 64  # at most: a backlog of 128 jobs or more on 2 slots goes in chunks of 64
MAX_DELIVERIES = 3
SEEN_TTL_S = 3600  # seen:<batch>; deleted as soon as the dispatcher has every answer
CANCEL_TTL_S = 3600
REPLY_TTL_S = 120  # reply:<dispatcher>; renewed by the live dispatcher, so a dead one's goes
STATS_TTL_S = 24 * 3600
CANCEL_POLL_S = 0.25
PUBLISH_LINGER_S = 0.05  # a chunk's last result never waits: it ends the linger (worker.py)
UPKEEP_S = 1.0
DONE_TTL_S = 900  # done:<batch>: a finished batch's late redeliveries publish nothing
CLAIM_GRACE_S = 5.0  # a chunk taken from the queue is recorded as held within this
DEFAULT_CACHE_MB = 512
CACHE_INDEX = PREFIX + "cache-index"  # sorted set: cache key -> last use (unix time)
CACHE_BYTES = PREFIX + "cache-bytes"  # the cache's size as the farm counts it
CACHE_CAP = PREFIX + "cache-cap"  # a server's --cache-mb in bytes: caps every worker's bound
CACHE_ENTRY_OVERHEAD = 400  # bytes Redis spends per entry beyond its value (key, index member), measured

UNEXPIRING_KEYS = {
    QUEUE: "the Celery queue (chunks waiting): bounded by the servers' --max-queue",
    languages.LANGUAGE_QUEUE + "*": "the other languages' Celery queues: the same bound, all queues together",
    registry.UNACKED: "kombu: chunks taken and not acknowledged; at most workers x --threads",
    registry.UNACKED_INDEX: "kombu: the same chunks by the time they were taken",
    "_kombu.binding*": "kombu: one set per queue, one member per binding",
    registry.WORKERS: "one entry per registered worker; dead ones removed within seconds by failover",
    PREFIX + "cache*": "the result cache (cache:<hash>, cache-index, cache-bytes, cache-cap): --cache-mb",
}

# Publish finished results of one batch, each at most once per (batch, job): HSETNX, then
# RPUSH (nothing once the batch's server has every answer: its done marker); and, in the same
# call, fill the result cache with the answers pushed, evicting its least recently used entries
# past the bound.
#   KEYS: seen hash, reply list, cache index, cache byte count, cache cap, done marker
#   ARGV: reply TTL, seen TTL, now, cache bound, overhead, then per result:
#         job id, cache key or '', result JSON (the cache keeps the same text)
#   Returns 1 or 0 per result: pushed now, or answered before.
PUBLISH = """
local overhead = tonumber(ARGV[5])
local bound = tonumber(ARGV[4])
local cap = tonumber(redis.call('GET', KEYS[5]) or '')
if cap and cap < bound then bound = cap end
local finished = redis.call('EXISTS', KEYS[6]) == 1
local out = {}
local pushed, cached = 0, 0
for i = 6, #ARGV, 3 do
  local id, key, value = ARGV[i], ARGV[i + 1], ARGV[i + 2]
  if not finished and redis.call('HSETNX', KEYS[1], id, '1') == 1 then
    redis.call('RPUSH', KEYS[2], value)
    pushed = pushed + 1
    out[#out + 1] = 1
    -- Only the answer the client gets fills the cache (a late rerun's never overwrites it).
    if key ~= '' then
      local old = redis.call('STRLEN', key)
      local size = string.len(value) + overhead
      if old > 0 then size = size - old - overhead end
      redis.call('SET', key, value)
      redis.call('ZADD', KEYS[3], ARGV[3], key)
      redis.call('INCRBY', KEYS[4], size)
      cached = cached + 1
    end
  else
    out[#out + 1] = 0
  end
end
if pushed > 0 then
  redis.call('EXPIRE', KEYS[1], ARGV[2])
  redis.call('EXPIRE', KEYS[2], ARGV[1])
end
if cached > 0 then
  local total = tonumber(redis.call('GET', KEYS[4]) or '0')
  local n = 0
  while total > bound and n < 64 * cached do
    local oldest = redis.call('ZPOPMIN', KEYS[3])
    if #oldest == 0 then
      redis.call('SET', KEYS[4], 0)
      break
    end
    local len = redis.call('STRLEN', oldest[1])
    redis.call('DEL', oldest[1])
    total = redis.call('DECRBY', KEYS[4], len + overhead)
    n = n + 1
  end
end
return out
"""


def seen_key(batch: str) -> str:
    return f"{PREFIX}seen:{batch}"


def done_key(batch: str) -> str:
    return f"{PREFIX}done:{batch}"


def cancel_key(batch: str) -> str:
    return f"{PREFIX}cancel:{batch}"


def deliveries_key(task_id: str) -> str:
    return f"{PREFIX}deliveries:{task_id}"


def make_app(
    broker_url: str, visibility_timeout_s: int = 600, task_time_limit_s: int = 900, worker: Worker | None = None
) -> Celery:
    """The Celery app shared by `acefarm serve --broker` and `acefarm worker`. A worker's app
    (`worker` given) runs the chunk task on that Worker; a dispatcher's only sends it."""
    app = Celery("acefarm", broker=broker_url)
    app.conf.update(
        task_serializer="json",
        accept_content=["json"],
        result_serializer="json",
        task_ignore_result=True,  # results travel through our own reply lists
        task_acks_late=True,
        task_reject_on_worker_lost=True,
        worker_prefetch_multiplier=1,
        task_time_limit=task_time_limit_s,
        task_default_queue=QUEUE,
        broker_transport_options={"visibility_timeout": visibility_timeout_s},
        broker_connection_retry_on_startup=True,
        worker_hijack_root_logger=False,
        worker_send_task_events=False,
        worker_enable_remote_control=False,  # no pidbox queues and bindings left behind per worker
    )
    if worker is not None:

        def run_chunk_task(task: Any, payload: dict[str, Any]) -> int:
            try:
                return worker.run_chunk(payload, task.request.id)
            finally:
                worker.release(task.request.id)

        app.task(name=TASK, bind=True, acks_late=True)(run_chunk_task)
    return app


# The waits between tries through a short Redis outage (a restart): ~16 s in all.
BACKOFF_S = (0.1, 0.2, 0.4, 0.8, 1.6, 3.2, 5.0, 5.0)
# A worker's chunk keeps trying for about 5 minutes (then every 5 s): what it ran is answered
# once Redis is back (a restart from its append-only file can take that long), not left to the
# dispatcher's resend backstop, twice the visibility timeout away.
WORKER_ATTEMPTS = len(BACKOFF_S) + 60


def retrying(call: Callable[[], Any], attempts: int = 8) -> Any:
    """Run a Redis call, retrying through a short outage (a Redis restart) with backoff."""
    for attempt in range(attempts):
        try:
            return call()
        except redis.RedisError as exc:
            if attempt == attempts - 1:
                raise
            log.warning("redis unavailable (%s); retrying", exc)
            time.sleep(BACKOFF_S[min(attempt, len(BACKOFF_S) - 1)])
    raise AssertionError("unreachable")


def reply_popper(conn: redis.Redis[bytes], key: str, most: int = 256) -> Callable[[], list[bytes]]:
    """A call that waits up to a second for replies on `key` and returns up to `most` of
    them: one BLMPOP round trip (Redis 7), or BLPOP then LPOP once BLMPOP is refused (an older
    Redis, a user not allowed it, a proxy)."""
    modern = True

    def pop() -> list[bytes]:
        nonlocal modern
        if modern:
            try:
                found = conn.execute_command("BLMPOP", 1, 1, key, "LEFT", "COUNT", most)
                return list(found[1]) if found else []
            except redis.exceptions.ResponseError as exc:  # unknown, or not allowed (ACL), or a proxy's
                log.info("BLMPOP refused (%s): reading replies with BLPOP and LPOP", exc)
                modern = False
        item = conn.blpop([key], timeout=1)
        if item is None:
            return []
        return [item[1], *(conn.lpop(key, most - 1) or [])]

    return pop
