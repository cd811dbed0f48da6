"""The cluster's Redis-side pieces against a real redis-server: chunks that carry a suite once,
the worker registry and failover requeue (on kombu's own transport), and the result cache's bound.
"""

import json

import pytest
import redis
from kombu import Connection

from broker import languages, registry
from broker.chunks import SUITE_INLINE_BYTES, ChunkEncoder, WorkerSuites, fetch, suite_key
from broker.cluster import CACHE_BYTES, CACHE_ENTRY_OVERHEAD, CACHE_INDEX, QUEUE, TASK, make_app, seen_key
from broker.worker import Worker
from executor import ExecutorConfig, Job, JobResult, Limits, Pool, TestResult, Verdict
from executor.job import JobRules, parse_tests


@pytest.fixture
def r(redis_server):
    client = redis.Redis.from_url(redis_server.url)
    yield client
    client.close()


def group(tests, n, **fields):
    suite = parse_tests(tests)
    return [Job.from_parts(f"g/{i}", f"def f():\n    return {i}\n", suite, **fields) for i in range(n)]


def test_a_small_suite_travels_once_per_chunk_and_decodes_to_the_same_jobs(r):
    jobs = group(["assert f() == 1", "assert f() != 2"], 32, limits=Limits(cpu_s=1.5), mode="first_failure")
    payload = ChunkEncoder(r).encode("b", "reply", [(str(i), j, f"h{i}") for i, j in enumerate(jobs)])
    assert len(payload["suites"]) == 1 and payload["suites"][0]["tests"] == ["assert f() == 1", "assert f() != 2"]
    assert {d["suite"] for d in payload["jobs"]} == {0}
    payload = json.loads(json.dumps(payload))  # what Celery carries
    worker = WorkerSuites(JobRules())
    assert worker.missing(payload) == []
    built = worker.jobs(payload, payload["jobs"], {})
    for (d, job), original in zip(built, jobs):
        assert isinstance(job, Job) and d["hash"] == f"h{original.id[2:]}"
        assert (job.program, job.limits, job.first_failure, job.prelude) == (
            original.program,
            original.limits,
            original.first_failure,
            original.prelude,
        )
        assert job.tests is built[0][1].tests  # parsed once, shared (plans shared in the executor)
        assert job.content_hash("rt") == original.content_hash("rt")  # everything that decides the result


def test_a_large_suite_is_stored_once_in_redis_and_parsed_once_per_worker(r):
    big = "assert f() != '" + "x" * (SUITE_INLINE_BYTES + 10) + "'"
    jobs = group([big, "assert f() == 3"], 64)
    encoder = ChunkEncoder(r)
    first = encoder.encode("b1", "reply", [(str(i), j, "") for i, j in enumerate(jobs[:32])])
    second = encoder.encode("b2", "reply", [(str(i), j, "") for i, j in enumerate(jobs[32:])])
    for payload in (first, second):
        assert payload["suites"] == [{"sha": first["suites"][0]["sha"], "n": 2, "ref": True}]
        assert len(json.dumps(payload)) < 8 * 1024  # 32 programs, not 32 suites
    key = suite_key(first["suites"][0]["sha"])
    assert 0 < r.ttl(key) <= 3600 and len(r.get(key)) > SUITE_INLINE_BYTES and not r.keys(key + ":*")
    worker = WorkerSuites(JobRules())
    need = worker.missing(first)
    assert need == [first["suites"][0]["sha"]]
    built = worker.jobs(first, first["jobs"], {s: fetch(r, s) for s in need})
    assert all(isinstance(j, Job) and j.tests[0].code == big for _, j in built)
    assert worker.missing(second) == []  # the next chunk of the group is not fetched again


def test_a_suite_gone_from_redis_fails_its_jobs_with_a_reason_not_a_crash(r):
    big = "assert f() != '" + "y" * (SUITE_INLINE_BYTES + 10) + "'"
    jobs = group([big], 3)
    payload = ChunkEncoder(r).encode("b", "reply", [(str(i), j, "") for i, j in enumerate(jobs)])
    r.delete(suite_key(payload["suites"][0]["sha"]))
    built = WorkerSuites(JobRules()).jobs(payload, payload["jobs"], {payload["suites"][0]["sha"]: None})
    assert all(isinstance(why, str) and "expired" in why for _, why in built)


def test_suites_that_are_separate_objects_travel_separately_but_name_the_same_content(r):
    a, b = group(["assert f() == 0"], 1), group(["assert f() == 0"], 1)
    payload = ChunkEncoder(r).encode("b", "reply", [("0", a[0], ""), ("1", b[0], "")])
    assert len(payload["suites"]) == 2 and payload["suites"][0]["sha"] == payload["suites"][1]["sha"]


# -- the registry and failover ---------------------------------------------------------------


def take(conn, timeout=5):
    """Take one message from the farm's queue the way a worker does (unacknowledged)."""
    q = conn.SimpleQueue(QUEUE, no_ack=False)
    return q.get(timeout=timeout)


def test_a_dead_workers_chunk_goes_back_to_the_front_under_a_new_tag(redis_server, r):
    with Connection(redis_server.url) as conn:
        producer = conn.SimpleQueue(QUEUE)
        producer.put({"chunk": "held"})
        producer.put({"chunk": "next"})
        held = take(conn)
        assert held.payload == {"chunk": "held"}
        old_tag = held.delivery_tag
        assert r.hexists(registry.UNACKED, old_tag)
        info = registry.WorkerInfo("w1", slots=2, busy=1, runtime="python-x")
        registry.beat(r, info)
        registry.hold(r, "w1", "task-1", old_tag)
        assert [w.name for w in registry.census(r).alive] == ["w1"]

        r.delete(registry.liveness_key("w1"))  # its heartbeat lapsed
        found = registry.census(r)
        assert found.alive == [] and found.dead == ["w1"]
        assert registry.fail_over(r, "w1") == ["task-1"]
        assert not r.hexists(registry.WORKERS, "w1") and not r.exists(registry.holds_key("w1"))
        assert not r.hexists(registry.UNACKED, old_tag)

        again = take(conn)
        assert again.payload == {"chunk": "held"}  # first in line, before "next"
        assert again.delivery_tag != old_tag
        # The frozen worker wakes and acknowledges its old tag: the new holder keeps its chunk.
        held.ack()
        assert r.hexists(registry.UNACKED, again.delivery_tag)
        assert registry.fail_over(r, "w1") == []  # a second dispatcher seeing the same death: nothing moves
        assert take(conn).payload == {"chunk": "next"}


def test_a_live_worker_is_not_robbed_and_a_clean_leave_is_seen_at_once(r):
    registry.beat(r, registry.WorkerInfo("slow", slots=1, busy=1, runtime="python-x"))
    registry.hold(r, "slow", "t", "tag-that-is-running")
    found = registry.census(r)
    assert [w.name for w in found.alive] == ["slow"] and found.dead == []
    assert r.ttl(registry.liveness_key("slow")) <= registry.LIVENESS_TTL_S
    assert 0 < r.ttl(registry.holds_key("slow")) <= registry.HOLDS_TTL_S
    registry.leave(r, "slow")
    assert registry.census(r).dead == ["slow"]


def test_requeue_of_an_acknowledged_chunk_moves_nothing(r):
    assert registry.requeue(r, "no-such-tag") is False
    assert r.llen(QUEUE) == 0


def test_a_dead_workers_chunk_of_another_language_goes_back_to_that_languages_queue(redis_server, r):
    # Sent as the dispatcher sends it (Celery's routing), taken as a C++ worker takes it.
    make_app(redis_server.url).send_task(TASK, args=[{"chunk": "cpp"}], queue=languages.queue_for("cpp"), task_id="t")
    assert registry.queued(r, languages.QUEUES)[0] == {q: int(q == "acefarm.lang.cpp") for q in languages.QUEUES}
    with Connection(redis_server.url) as conn:
        held = conn.SimpleQueue("acefarm.lang.cpp", no_ack=False).get(timeout=5)
        assert registry.queued(r, languages.QUEUES) == ({q: 0 for q in languages.QUEUES}, 1)
        offer = {"python": "Python 3", "cpp": "C++17 (g++)"}
        registry.beat(r, registry.WorkerInfo("w-cpp", slots=1, busy=1, runtime="python-x", languages=offer))
        assert registry.census(r).alive[0].offer == offer  # what the dispatchers route by
        registry.hold(r, "w-cpp", "t", held.delivery_tag)
        r.delete(registry.liveness_key("w-cpp"))
        assert registry.fail_over(r, "w-cpp") == ["t"]
        assert r.llen(QUEUE) == 0 and registry.unacked(r, languages.QUEUES) == (1, 0)
        again = conn.SimpleQueue("acefarm.lang.cpp", no_ack=False).get(timeout=5)
        assert again.headers["id"] == "t" and again.delivery_tag != held.delivery_tag


# -- the publish script: answered once, cache bounded ------------------------------------------


def result(i, size=200):
    return JobResult(str(i), Verdict.PASSED, (TestResult(Verdict.PASSED, "m" * size),))


def test_each_job_is_answered_once_and_the_cache_stays_within_its_bound(r):
    bound = 20_000
    worker = Worker("w", Pool(ExecutorConfig(slots=1)), r, cache_bytes=bound)
    job = Job.from_dict({"id": "0", "program": "x = 1", "tests": ["assert x == 1"]})
    for k in range(200):
        ready = [(job.__class__(str(i), job.program, job.tests), f"h{k}-{i}", result(i), None) for i in range(5)]
        assert worker._publish_ready(f"b{k}", "acefarm:reply:t", ready) == 5
        assert worker._publish_ready(f"b{k}", "acefarm:reply:t", ready) == 0  # redelivered: not again
    assert r.llen("acefarm:reply:t") == 1000
    assert 0 < r.ttl("acefarm:reply:t") <= 120 and 0 < r.ttl(seen_key("b0")) <= 3600
    entries = [k for k in r.scan_iter("acefarm:cache:*")]
    counted = int(r.get(CACHE_BYTES))
    assert counted <= bound and r.zcard(CACHE_INDEX) == len(entries)
    real = sum(r.strlen(k) + CACHE_ENTRY_OVERHEAD for k in entries)
    assert real == counted
    assert b"acefarm:cache:h199-4" in entries and b"acefarm:cache:h0-0" not in entries  # newest kept


def test_the_publish_script_survives_a_redis_that_forgot_it(r):
    worker = Worker("w", Pool(ExecutorConfig(slots=1)), r)
    job = Job.from_dict({"id": "0", "program": "x = 1", "tests": ["assert x == 1"]})
    r.script_flush()
    assert worker._publish_ready("b", "acefarm:reply:s", [(job, "", result(0), None)]) == 1
    assert r.llen("acefarm:reply:s") == 1


def test_the_backstop_requeues_old_chunks_no_live_worker_holds_and_leaves_running_ones(redis_server, r):
    with Connection(redis_server.url) as conn:
        producer = conn.SimpleQueue(QUEUE)
        producer.put({"chunk": "running"})
        producer.put({"chunk": "orphan"})
        running, orphan = take(conn), take(conn)
        registry.beat(r, registry.WorkerInfo("busy", slots=1, busy=1, runtime="python-x"))
        registry.hold(r, "busy", "t1", running.delivery_tag)
        r.zadd(registry.UNACKED_INDEX, {running.delivery_tag: 1, orphan.delivery_tag: 1})  # taken long ago
        assert registry.restore_unheld(r, 600, ["busy"]) == 1
        assert r.hexists(registry.UNACKED, running.delivery_tag)
        assert r.zscore(registry.UNACKED_INDEX, running.delivery_tag) > 1  # its age renewed
        assert take(conn).payload == {"chunk": "orphan"}
        assert registry.restore_unheld(r, 600, ["busy"]) == 0


def test_a_servers_cache_cap_bounds_every_worker(r):
    from broker.cluster import CACHE_CAP

    worker = Worker("w", Pool(ExecutorConfig(slots=1)), r, cache_bytes=1 << 30)
    r.set(CACHE_CAP, 5_000)  # what `acefarm serve --broker ... --cache-mb` writes, in bytes
    job = Job.from_dict({"id": "0", "program": "x = 1", "tests": ["assert x == 1"]})
    for k in range(50):
        worker._publish_ready(f"b{k}", "acefarm:reply:c", [(job, f"c{k}", result(k), None)])
    assert 0 < int(r.get(CACHE_BYTES)) <= 5_000


def test_a_finished_batch_publishes_nothing_more(r):
    from broker.cluster import done_key

    worker = Worker("w", Pool(ExecutorConfig(slots=1)), r)
    job = Job.from_dict({"id": "0", "program": "x = 1", "tests": ["assert x == 1"]})
    r.set(done_key("fin"), 1, ex=60)  # what the server writes once it has every answer of "fin"
    assert worker._publish_ready("fin", "acefarm:reply:d", [(job, "", result(0), None)]) == 0
    assert r.llen("acefarm:reply:d") == 0 and not r.exists(seen_key("fin"))
    assert worker.tally_jobs() == {"answered_elsewhere": 1}


def test_a_finished_batch_counts_its_cancelled_jobs_as_cancelled(r):
    """A chunk taken after its server gave up on it (the client went away: the cancellations and
    then the batch's done marker written) runs nothing; its jobs count as cancelled, the ones
    answered before as answered elsewhere."""
    from broker.cluster import cancel_key, done_key

    worker = Worker("w", Pool(ExecutorConfig(slots=1)), r)
    jobs = [Job.from_dict({"id": f"j{i}", "program": "x = 1", "tests": ["assert x == 1"]}) for i in range(3)]
    payload = ChunkEncoder(r).encode("gone", "reply", [(str(i), j, "") for i, j in enumerate(jobs)])
    r.sadd(cancel_key("gone"), "1", "2")
    r.set(done_key("gone"), 1, ex=60)
    assert worker.run_chunk(payload, "task-gone") == 0
    assert worker.tally_jobs() == {"answered_elsewhere": 1, "cancelled": 2}


def test_only_the_answer_the_client_gets_fills_the_cache(r):
    """A worker that was failed over and resumes publishes a late rerun: it is not answered, and
    it must not overwrite the cache entry of the answer that was (its verdict may differ)."""
    first = Worker("w1", Pool(ExecutorConfig(slots=1)), r)
    late = Worker("w2", Pool(ExecutorConfig(slots=1)), r)
    job = Job.from_dict({"id": "0", "program": "x = 1", "tests": ["assert x == 1"]})
    answered = JobResult("0", Verdict.PASSED, (TestResult(Verdict.PASSED),))
    rerun = JobResult("0", Verdict.TIMEOUT, (TestResult(Verdict.TIMEOUT, "wall time"),))
    assert first._publish_ready("b", "acefarm:reply:l", [(job, "same", answered, None)]) == 1
    assert late._publish_ready("b", "acefarm:reply:l", [(job, "same", rerun, None)]) == 0
    assert json.loads(r.get("acefarm:cache:same"))["verdict"] == "passed"


def test_a_ready_worker_takes_what_start_up_built_out_of_the_collectors_sight():
    import gc

    from broker.worker import freeze_startup

    gc.unfreeze()
    held = [[i] for i in range(1000)]  # start-up's objects, still alive when the worker is ready
    try:
        freeze_startup()
        assert gc.get_freeze_count() >= len(held)
        walked = {id(o) for g in range(3) for o in gc.get_objects(generation=g)}
        assert not any(id(h) in walked for h in held)
    finally:
        gc.unfreeze()
