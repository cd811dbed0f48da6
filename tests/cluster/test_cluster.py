"""Cluster mode with real parts: redis-server, `acefarm worker`s, `acefarm serve --broker`."""

import json
import signal
import threading
import time
from concurrent.futures import Future

import pytest
import redis

from broker.client import Client
from executor import ExecutorConfig, Job, JobResult, Pool, TestResult, Verdict
from tests import humaneval_support, unwritable_support

from .procs import start_server, start_worker
from .test_server import timing_jobs

pytestmark = pytest.mark.slow


def humaneval_jobs():
    return humaneval_support.humaneval_jobs(f"cluster-{time.time_ns()}")


def slow_jobs(n, seconds=0.3):
    return [
        {
            "id": f"s{i}",
            "program": f"import time\ntime.sleep({seconds})\nX = {i}\n",
            "tests": [f"assert X == {i}", f"assert X == {i + 1}"],
            "limits": {"wall_s": 10},
        }
        for i in range(n)
    ]


def check_slow_results(results, n):
    assert sorted(r.id for r in results) == sorted(f"s{i}" for i in range(n))  # each exactly once
    assert all([t.verdict for t in r.tests] == [Verdict.PASSED, Verdict.FAILED] for r in results)


def test_humaneval_through_the_cluster_matches_embedded(redis_server, tmp_path):
    workers = [start_worker(redis_server, tmp_path, f"w{i}", "--workers", "1") for i in range(2)]
    server, port = start_server(tmp_path, "--broker", redis_server.url)
    try:
        jobs = humaneval_jobs()
        with Client(f"127.0.0.1:{port}", timeout_s=300) as farm:
            remote = {r.id: r for r in farm.execute_batch(jobs, chunk=128)}
        with Pool(ExecutorConfig(slots=2)) as pool:
            local = {r.id: r for r in pool.map(Job.from_dict(j) for j in jobs)}
        assert remote.keys() == local.keys()
        for job_id, r in local.items():
            assert (remote[job_id].verdict, remote[job_id].pass_rate) == (r.verdict, r.pass_rate), job_id
        assert sum(r.verdict is Verdict.PASSED for r in remote.values()) == 164
        per_worker = redis.Redis.from_url(redis_server.url).hgetall("acefarm:stats:jobs")
        assert set(per_worker) == {b"w0", b"w1"}  # the work was shared
        # A repeat is answered from the content-hash cache, without running.
        with Client(f"127.0.0.1:{port}", timeout_s=60) as farm:
            again = list(farm.execute_batch(jobs[:20]))
        assert all(r.cached for r in again) and [r.id for r in again] == [j["id"] for j in jobs[:20]]
    finally:
        server.kill()
        for w in workers:
            w.kill()


def test_a_worker_killed_mid_batch_loses_nothing(redis_server, tmp_path):
    doomed = start_worker(redis_server, tmp_path, "doomed", "--workers", "2")
    survivor = start_worker(redis_server, tmp_path, "survivor", "--workers", "2")
    server, port = start_server(tmp_path, "--broker", redis_server.url, "--visibility-timeout", "5")
    try:
        r = redis.Redis.from_url(redis_server.url)
        n = 80
        results = []
        with Client(f"127.0.0.1:{port}", timeout_s=300) as farm:
            thread = threading.Thread(target=lambda: results.extend(farm.execute_batch(slow_jobs(n), chunk=n)))
            thread.start()
            deadline = time.monotonic() + 60
            while int(r.hget("acefarm:stats:jobs", "doomed") or 0) == 0 and time.monotonic() < deadline:
                time.sleep(0.05)
            doomed.kill(signal.SIGKILL)  # mid-chunk: its jobs were taken, not all answered
            thread.join(timeout=240)
        assert not thread.is_alive()
        check_slow_results(results, n)
    finally:
        server.kill()
        survivor.kill()


def score_group(n, tag):
    """`n` programs for 15 asserts on f(0..14) == 2 * x, with the pass rate each must get:
    right, right below k, raising from k, or raising."""
    programs, rates = [], []
    for i in range(n):
        k = i % 15
        body = [
            "    return 2 * x\n",
            f"    return 2 * x if x < {k} else -1\n",
            f"    if x >= {k}:\n        raise RuntimeError(x)\n    return 2 * x\n",
            "    raise ValueError(x)\n",
        ][i % 4]
        programs.append(f"# {tag} {i}\ndef f(x):\n" + body)
        rates.append([1.0, k / 15, k / 15, 0.0][i % 4])
    return programs, rates, [f"assert f({x}) == {2 * x}" for x in range(15)]


def test_a_worker_killed_holding_a_scores_first_chunks_loses_nothing(redis_server, tmp_path):
    """A burst's first chunks are small (8 jobs): a worker killed while it holds them, a fresh
    one started; the Score gets every pass rate right, one result per program, in seconds."""
    workers = [start_worker(redis_server, tmp_path, f"w{i}", "--workers", "1") for i in range(2)]
    server, port = start_server(tmp_path, "--broker", redis_server.url)
    try:
        r = redis.Redis.from_url(redis_server.url)
        with Client(f"127.0.0.1:{port}", timeout_s=120) as farm:
            programs, rates, tests = score_group(256, f"kill-{time.time_ns()}")
            farm.score(*score_group(4, f"warm-{time.time_ns()}")[::2])  # both workers warm
            done = []
            thread = threading.Thread(target=lambda: done.append(farm.score(programs, tests)))
            thread.start()
            taken = r.hget("acefarm:stats:jobs", "w0")
            deadline = time.monotonic() + 30
            while r.hget("acefarm:stats:jobs", "w0") == taken and time.monotonic() < deadline:
                time.sleep(0.01)  # w0 has finished one chunk of this burst and holds the next
            workers[0].kill(signal.SIGKILL)
            workers.append(start_worker(redis_server, tmp_path, "w2", "--workers", "1"))
            thread.join(timeout=100)
        assert not thread.is_alive()
        group = done[0]
        assert len(group.results) == 256 and len({res.id for res in group.results}) == 256
        assert group.pass_rates == pytest.approx(rates)
    finally:
        server.kill()
        for w in workers:
            w.kill()


def test_redis_restart_during_a_batch(redis_server, tmp_path):
    worker = start_worker(redis_server, tmp_path, "w", "--workers", "2")
    server, port = start_server(tmp_path, "--broker", redis_server.url, "--visibility-timeout", "5")
    try:
        n = 40
        results = []
        with Client(f"127.0.0.1:{port}", timeout_s=300) as farm:
            thread = threading.Thread(target=lambda: results.extend(farm.execute_batch(slow_jobs(n), chunk=n)))
            thread.start()
            time.sleep(1.5)
            redis_server.restart()  # persistence on: queued chunks and replies survive
            thread.join(timeout=240)
        assert not thread.is_alive()
        check_slow_results(results, n)
    finally:
        server.kill()
        worker.kill()


def test_server_restart_during_a_client_batch(redis_server, tmp_path):
    worker = start_worker(redis_server, tmp_path, "w", "--workers", "2")
    server, port = start_server(tmp_path, "--broker", redis_server.url, name="first")
    try:
        n = 40
        results = []
        errors = []

        def run():
            try:
                with Client(f"127.0.0.1:{port}", timeout_s=120, retries=10, backoff_s=0.3) as farm:
                    results.extend(farm.execute_batch(slow_jobs(n, 0.2), chunk=n))
            except Exception as exc:
                errors.append(exc)

        thread = threading.Thread(target=run)
        thread.start()
        time.sleep(1.5)
        server.kill(signal.SIGKILL)
        server, _ = start_server(tmp_path, "--broker", redis_server.url, port=port, name="second")
        thread.join(timeout=240)
        assert not thread.is_alive() and not errors, errors
        check_slow_results(results, n)
    finally:
        server.kill()
        worker.kill()


def test_a_stalled_worker_does_not_stall_the_others(redis_server, tmp_path):
    stalled = start_worker(redis_server, tmp_path, "stalled", "--workers", "1")
    healthy = start_worker(redis_server, tmp_path, "healthy", "--workers", "2")
    # A frozen worker's BRPOP takes a chunk off Redis that it never acknowledges
    # or even records: the dispatcher's resend is what recovers it.
    server, port = start_server(
        tmp_path, "--broker", redis_server.url, "--visibility-timeout", "5", "--resend-after", "8"
    )
    try:
        r = redis.Redis.from_url(redis_server.url)
        stalled.kill(signal.SIGSTOP)  # frozen: holds whatever it reserved
        n = 96
        with Client(f"127.0.0.1:{port}", timeout_s=300) as farm:
            results = list(farm.execute_batch(slow_jobs(n, 0.05), chunk=n))
        check_slow_results(results, n)
        assert int(r.hget("acefarm:stats:jobs", "healthy") or 0) >= n - 32  # at most its chunk was late
    finally:
        stalled.kill(signal.SIGCONT)
        stalled.kill()
        server.kill()
        healthy.kill()


def test_programs_cannot_reach_the_workers_redis(redis_server, tmp_path):
    worker = start_worker(redis_server, tmp_path, "w", "--workers", "1")
    server, port = start_server(tmp_path, "--broker", redis_server.url)
    try:
        probe = (
            "import socket\n"
            "def probe(port):\n"
            "    try:\n"
            "        s = socket.create_connection(('127.0.0.1', port), timeout=2)\n"
            "        s.sendall(b'PING\\r\\n')\n"
            "        return s.recv(16).decode()\n"
            "    except OSError as exc:\n"
            "        return 'blocked: ' + type(exc).__name__\n"
        )
        with Client(f"127.0.0.1:{port}", timeout_s=60) as farm:
            r = farm.execute(
                {"id": "reach", "program": probe, "tests": [f"assert probe({redis_server.port}) == '+PONG\\r\\n'"]}
            )
        assert r.verdict is Verdict.FAILED and "blocked" in r.tests[0].message, r.tests[0].message
        assert redis_server.ping()
    finally:
        server.kill()
        worker.kill()


def test_a_deadline_stops_the_program_on_the_worker(redis_server, tmp_path):
    import grpc

    worker = start_worker(redis_server, tmp_path, "w", "--workers", "1", "--threads", "1")
    server, port = start_server(tmp_path, "--broker", redis_server.url)
    try:
        spin = {
            "id": "spin",
            "program": "while True:\n    pass\n",
            "tests": ["assert 1"],
            "limits": {"cpu_s": 60, "wall_s": 120},
        }
        with Client(f"127.0.0.1:{port}", retries=0, timeout_s=2.0) as impatient:
            with pytest.raises(grpc.RpcError) as err:
                impatient.execute(spin)
            assert err.value.code() is grpc.StatusCode.DEADLINE_EXCEEDED
        # The worker's only slot and thread were busy with `spin`: this answers
        # within 30 s only if the cancellation reached the sandbox over there.
        with Client(f"127.0.0.1:{port}", retries=0, timeout_s=30) as farm:
            r = farm.execute({"id": "next", "program": "x = 1", "tests": ["assert x == 1"]})
        assert r.pass_rate == 1.0
    finally:
        server.kill()
        worker.kill()


def test_requests_with_the_same_job_ids_get_their_own_results(redis_server, tmp_path):
    """Two GRPO groups both called "group": their jobs share ids and may share a chunk."""
    worker = start_worker(redis_server, tmp_path, "w", "--workers", "2")
    server, port = start_server(tmp_path, "--broker", redis_server.url)
    try:
        tests = ["assert f(1) == 2", "assert f(2) == 4"]
        right = [f"def f(x):\n    return 2 * x  # {i}\n" for i in range(8)]
        wrong = [f"def f(x):\n    return x + 1  # {i}\n" for i in range(8)]
        out = {}

        def run(name, programs):
            with Client(f"127.0.0.1:{port}", timeout_s=120) as farm:
                out[name] = farm.score(programs, tests, group_id="group").pass_rates

        threads = [threading.Thread(target=run, args=(n, p)) for n, p in (("right", right), ("wrong", wrong))]
        for t in threads:
            t.start()
        for t in threads:
            t.join(timeout=120)
        assert out == {"right": [1.0] * 8, "wrong": [0.5] * 8}
    finally:
        server.kill()
        worker.kill()


def test_timeouts_are_not_cached_in_redis(redis_server, tmp_path):
    """A timeout may be a worker's loaded machine's doing: no cache entry is written for it, so
    the job runs again when sent again; a plain failure is answered from the cache."""
    worker = start_worker(redis_server, tmp_path, "w", "--workers", "1")
    server, port = start_server(tmp_path, "--broker", redis_server.url)
    try:
        jobs = timing_jobs(f"cluster-{time.time_ns()}")
        with Client(f"127.0.0.1:{port}", timeout_s=120) as farm:
            first = farm.execute_many(jobs)
            again = farm.execute_many(jobs)
        verdicts = [Verdict.TIMEOUT, Verdict.TIMEOUT, Verdict.FAILED]
        assert [t.verdict for r in first for t in r.tests] == verdicts
        assert [t.verdict for r in again for t in r.tests] == verdicts
        assert [r.cached for r in again] == [False, False, True]
        assert len(list(redis.Redis.from_url(redis_server.url).scan_iter("acefarm:cache:*"))) == 1
    finally:
        server.kill()
        worker.kill()


def test_unwritable_results_cross_the_cluster(redis_server, tmp_path):
    """Lone surrogates, NULs and huge messages travel as escaped text in the Celery JSON payloads,
    the Redis reply lists and the Redis result cache; the other jobs' results are intact."""
    worker = start_worker(redis_server, tmp_path, "w", "--workers", "2")
    server, port = start_server(tmp_path, "--broker", redis_server.url)
    try:
        jobs = unwritable_support.jobs()
        with Client(f"127.0.0.1:{port}", timeout_s=120) as farm:
            first = list(farm.execute_batch(jobs, chunk=64))
            again = farm.execute_many(jobs)  # from the Redis cache
            group = farm.score([j["program"] for j in unwritable_support.HOSTILE[:3]], ["assert f() == 1"])
        for results in (first, again):
            unwritable_support.check_results([r.to_dict() for r in results])
        assert all(r.cached for r in again)
        assert [(t.verdict, t.message) for r in again for t in r.tests] == [
            (t.verdict, t.message) for r in first for t in r.tests
        ]
        assert group.pass_rates == [0.0] * 3 and "\\ud800" in group.results[0].tests[0].message
        r = redis.Redis.from_url(redis_server.url)
        cached = [r.get(key) for key in r.scan_iter("acefarm:cache:*")]
        assert len(cached) == len(jobs)
        assert unwritable_support.unwritable([json.loads(c.decode("utf-8")) for c in cached]) == []
    finally:
        server.kill()
        worker.kill()


@pytest.mark.parametrize("redis_has", ["blmpop", "no-blmpop", "blmpop-denied"])
def test_the_reply_list_is_read_in_bulk_with_or_without_blmpop(tmp_path, redis_has):
    """The dispatcher reads its replies up to 256 per round trip: BLMPOP, or BLPOP then LPOP on
    a Redis that refuses it (here: the command renamed away, or an ACL user not allowed it), in
    order, none lost or repeated."""
    from broker.cluster import reply_popper

    from .procs import RedisServer

    extra = ["--rename-command", "BLMPOP", ""] if redis_has == "no-blmpop" else []
    server = RedisServer(tmp_path, persistent=False, extra=extra)
    try:
        r = server.client()
        conn = r
        if redis_has == "blmpop-denied":
            r.execute_command("ACL", "SETUSER", "farm", "on", ">pw", "~*", "&*", "+@all", "-blmpop")
            conn = redis.Redis(host="127.0.0.1", port=server.port, username="farm", password="pw")
        r.rpush("replies", *[f"r{i}".encode() for i in range(300)])
        pop = reply_popper(conn, "replies")
        got = [pop(), pop()]
        assert [len(g) for g in got] == [256, 44]
        assert [x.decode() for g in got for x in g] == [f"r{i}" for i in range(300)]
        t = time.monotonic()
        assert pop() == []  # an empty list: waits about a second, then nothing
        assert 0.5 < time.monotonic() - t < 5
        r.rpush("replies", b"late")
        assert pop() == [b"late"]
    finally:
        server.stop()


def test_a_reply_that_does_not_read_fails_its_job_rather_than_losing_it(redis_server):
    """The dispatcher takes a job off its pending list before it builds the job's result: a
    reply that does not build answers the job `infra_error` (never a future left waiting), and
    a later reply for the same job is dropped."""
    from broker.cluster_dispatcher import CeleryDispatcher

    dispatcher = CeleryDispatcher(redis_server.url, ExecutorConfig())
    try:
        fut = dispatcher.submit(Job.from_dict({"id": "mine", "program": "x = 1", "tests": ["assert x == 1"]}))
        payload = _next_chunk(redis_server.url)
        batch, wire = payload["batch"], payload["jobs"][0]["id"]
        r = redis_server.client()
        r.rpush(dispatcher.reply, json.dumps({"id": wire, "batch": batch, "verdict": "no such verdict", "tests": []}))
        result = fut.result(timeout=10)
        assert result.id == "mine" and result.verdict is Verdict.INFRA_ERROR
        assert "unreadable result" in result.message
        late = {"id": wire, "batch": batch, "verdict": "passed", "tests": [{"verdict": "passed"}]}
        r.rpush(dispatcher.reply, json.dumps(late))
        deadline = time.monotonic() + 10
        while r.llen(dispatcher.reply) and time.monotonic() < deadline:
            time.sleep(0.05)
        assert r.llen(dispatcher.reply) == 0 and fut.result().verdict is Verdict.INFRA_ERROR
    finally:
        dispatcher.close()


def _next_chunk(url, timeout=10):
    """The next chunk on the farm's queue, as a worker would take it."""
    from kombu import Connection

    from broker.cluster import QUEUE

    with Connection(url) as conn:
        return conn.SimpleQueue(QUEUE, no_ack=True).get(timeout=timeout).payload[0][0]


def test_a_reply_with_a_bad_start_time_still_answers_its_job(redis_server):
    from broker.cluster_dispatcher import CeleryDispatcher

    dispatcher = CeleryDispatcher(redis_server.url, ExecutorConfig())
    seen = []
    try:
        job = Job.from_dict({"id": "mine", "program": "x = 1", "tests": ["assert x == 1"]})
        fut = dispatcher.submit(job, on_start=seen.append)
        payload = _next_chunk(redis_server.url)
        reply = {"id": payload["jobs"][0]["id"], "batch": payload["batch"], "started": "not a time"}
        reply |= {"verdict": "passed", "tests": [{"verdict": "passed"}]}
        redis_server.client().rpush(dispatcher.reply, json.dumps(reply))
        result = fut.result(timeout=10)
        assert result.id == "mine" and result.verdict is Verdict.PASSED and seen == []
    finally:
        dispatcher.close()


def test_an_unreadable_cache_entry_is_a_miss_not_a_failure(redis_server):
    """A cache entry that does not read (another version wrote it, say) makes its job run; the
    other jobs of the chunk are answered from the cache as usual."""
    from broker.cluster import PREFIX
    from broker.cluster_dispatcher import CeleryDispatcher

    dispatcher = CeleryDispatcher(redis_server.url, ExecutorConfig())
    try:
        jobs = [Job.from_dict({"id": f"j{i}", "program": f"x = {i}", "tests": ["assert x == 1"]}) for i in range(2)]
        runtime = dispatcher.runtime
        r = redis_server.client()
        r.set(f"{PREFIX}cache:{jobs[0].content_hash(runtime)}", b"{not json")
        good = JobResult("j1", Verdict.FAILED, (TestResult(Verdict.FAILED, "no"),))
        r.set(f"{PREFIX}cache:{jobs[1].content_hash(runtime)}", json.dumps(good.to_dict()))
        futs = [dispatcher.submit(j) for j in jobs]
        hit = futs[1].result(timeout=10)
        assert hit.cached and hit.id == "j1" and hit.verdict is Verdict.FAILED
        payload = _next_chunk(redis_server.url)  # the unreadable one was sent to run
        assert [d["program"] for d in payload["jobs"]] == ["x = 0"]
        assert not futs[0].done()
    finally:
        dispatcher.close()


def test_a_burst_travels_in_large_chunks_and_its_tail_in_small_ones(redis_server):
    """256 jobs on a cluster of two one-slot workers (registered, not consuming) whose pace is
    known to be fast (broker/pace.py: the whole burst may go ahead): the first chunks are the
    smallest, CHUNK each until CHUNK jobs per slot are in flight (every slot starts soon); then
    the backlog is split evenly over the slots, within [CHUNK, CHUNK_MAX], so the step takes a
    few chunks of CHUNK_MAX and ends in ever smaller ones, down to CHUNK (so workers end
    together)."""
    from broker import registry
    from broker.cluster import CHUNK, CHUNK_MAX
    from broker.cluster_dispatcher import CeleryDispatcher
    from broker.pace import Pace

    r = redis_server.client()
    for name in ("a", "b"):
        registry.beat(r, registry.WorkerInfo(name, 1, 0, "python-test"))
    dispatcher = CeleryDispatcher(redis_server.url, ExecutorConfig(), pace=lambda: Pace(rate=1e6))
    try:
        assert dispatcher.capacity == 2
        jobs = [Job.from_dict({"id": f"j{i}", "program": f"x = {i}", "tests": ["assert x == 1"]}) for i in range(256)]
        for job in jobs:
            dispatcher.submit(job)
        sizes = []
        while sum(sizes) < len(jobs):
            sizes.append(len(_next_chunk(redis_server.url)["jobs"]))
        # [8, 8, 48, 64, 64, 32, 16, 8, 8]: the sender looks up at most CHUNK_MAX jobs in the
        # cache at once, and cuts what it holds (fewer in the first when it took the first job
        # before the rest were submitted). Fixed chunks of CHUNK would be 32.
        start = 0
        while sum(sizes[:start]) < 2 * CHUNK:
            assert sizes[start] <= CHUNK, sizes
            start += 1
        rest = sizes[start:]
        assert sum(sizes) == 256 and max(rest) == CHUNK_MAX and len(sizes) <= 12, sizes
        assert all(CHUNK <= n <= CHUNK_MAX for n in rest[:-1]) and rest[-1] <= CHUNK, sizes
        tail = rest[rest.index(CHUNK_MAX) :]
        assert tail == sorted(tail, reverse=True) and tail.count(CHUNK) <= 2, sizes  # then ever smaller
    finally:
        dispatcher.close()


def test_a_first_burst_sends_two_smallest_chunks_per_slot_and_holds_the_rest(redis_server):
    """Until the workers' pace is known (broker/pace.py), a server sends 2 chunks of CHUNK per
    slot ahead of them and holds the rest for the clients' turns: 256 jobs on two idle one-slot
    workers (registered, not consuming) put 4 chunks of 8 in Redis, and 224 jobs wait."""
    from broker import registry
    from broker.cluster import CHUNK, QUEUE
    from broker.cluster_dispatcher import CeleryDispatcher

    r = redis_server.client()
    for name in ("a", "b"):
        registry.beat(r, registry.WorkerInfo(name, 1, 0, "python-test"))
    dispatcher = CeleryDispatcher(redis_server.url, ExecutorConfig())
    try:
        for i in range(256):
            dispatcher.submit(Job.from_dict({"id": f"j{i}", "program": f"x = {i}", "tests": ["assert x == 1"]}))
        deadline = time.monotonic() + 10
        while dispatcher.status().jobs_waiting != 256 - 4 * CHUNK and time.monotonic() < deadline:
            time.sleep(0.01)
        status = dispatcher.status()
        assert (status.jobs_waiting, status.flows_waiting) == (256 - 4 * CHUNK, 1)
        assert r.llen(QUEUE) == 4
        assert [len(_next_chunk(redis_server.url)["jobs"]) for _ in range(4)] == [CHUNK] * 4
    finally:
        dispatcher.close()


def test_an_unreachable_broker_fails_what_the_sender_holds_after_one_chunks_retries(redis_server, monkeypatch, caplog):
    """Redis gone for good while a take of 64 jobs is cut into chunks of 8: the first chunk
    exhausts its tries, and the other 56 jobs are answered with it, not after tries of their
    own (the sender is one thread: eight chunks' back-offs, ~170 s, held every other job)."""
    from broker import cluster_dispatcher, registry
    from broker.cluster_dispatcher import SEND_BACKOFF_S, CeleryDispatcher

    monkeypatch.setattr(cluster_dispatcher, "SEND_BACKOFF_S", (0.0,) * len(SEND_BACKOFF_S))
    r = redis_server.client()
    for name in ("a", "b"):
        registry.beat(r, registry.WorkerInfo(name, 1, 0, "python-test"))
    dispatcher = CeleryDispatcher(redis_server.url, ExecutorConfig())
    try:
        redis_server.stop()
        jobs = [Job.from_dict({"id": f"j{i}", "program": f"x = {i}", "tests": ["assert x == 1"]}) for i in range(64)]
        with caplog.at_level("WARNING", logger="broker.cluster_dispatcher"):
            results = [fut.result(timeout=120) for fut in [dispatcher.submit(job) for job in jobs]]
        assert [res.id for res in results] == [job.id for job in jobs]
        assert {(res.verdict, res.message) for res in results} == {(Verdict.INFRA_ERROR, "cannot reach the broker")}
        tries = [rec for rec in caplog.records if rec.getMessage().startswith("cannot send a chunk")]
        assert len(tries) == len(SEND_BACKOFF_S), len(tries)  # one chunk's tries, not eight
    finally:
        dispatcher.close()


def test_cancelling_a_job_twice_counts_one_cancellation(redis_server):
    """Whether a job waits in the outbox, was taken and not yet sent, or was sent, cancelling
    it twice counts one cancellation."""
    from broker import registry
    from broker.cluster_dispatcher import CeleryDispatcher

    registry.beat(redis_server.client(), registry.WorkerInfo("a", 1, 0, "python-test"))
    dispatcher = CeleryDispatcher(redis_server.url, ExecutorConfig())

    def job(name: str) -> Job:
        return Job.from_dict({"id": name, "program": "x = 1", "tests": ["assert x == 1"]})

    try:
        waiting = dispatcher.submit(job("w"))  # in the outbox, or just taken: either way once
        assert dispatcher.cancel(waiting) and dispatcher.cancel(waiting)
        assert dispatcher.cancellations == 1
        taken: Future[JobResult] = Future()
        assert taken.set_running_or_notify_cancel()  # as the sender holds it, not registered yet
        assert dispatcher.cancel(taken) and dispatcher.cancel(taken)
        assert dispatcher.cancellations == 2
        sent = dispatcher.submit(job("s"))
        deadline = time.monotonic() + 10
        while sent not in dispatcher._where and time.monotonic() < deadline:  # pending on a worker
            time.sleep(0.01)
        assert dispatcher.cancel(sent)
        dispatcher.cancel(sent)
        assert dispatcher.cancellations == 3
    finally:
        dispatcher.close()


@pytest.mark.slow
def test_a_job_lost_on_the_way_to_a_worker_is_sent_again_at_most_twice(redis_server):
    """A chunk taken off the queue by a worker that never records it (its network died) is sent
    again, with its jobs' attempt count raised; lost MAX_DELIVERIES times, its jobs are
    answered with infra_error, instead of going round the cluster for ever (a job every worker
    it reaches dies on)."""
    from broker import registry
    from broker.cluster import MAX_DELIVERIES
    from broker.cluster_dispatcher import CeleryDispatcher

    r = redis_server.client()
    stop = threading.Event()

    def beat() -> None:  # a live worker, which never takes anything
        while not stop.is_set():
            registry.beat(r, registry.WorkerInfo("a", 1, 0, "python-test"))
            stop.wait(1)

    beater = threading.Thread(target=beat, daemon=True)
    beater.start()
    dispatcher = CeleryDispatcher(redis_server.url, ExecutorConfig())
    try:
        jobs = [Job.from_dict({"id": f"j{i}", "program": f"x = {i}", "tests": ["assert x == 1"]}) for i in range(4)]
        futs = [dispatcher.submit(job) for job in jobs]
        taken = []
        for _ in range(MAX_DELIVERIES):  # taken, and lost, each time it is sent
            taken.append(len(_next_chunk(redis_server.url, timeout=30)["jobs"]))
        results = [fut.result(timeout=60) for fut in futs]
        assert taken == [4] * MAX_DELIVERIES
        assert {res.verdict for res in results} == {Verdict.INFRA_ERROR}, results
        assert all(f"lost {MAX_DELIVERIES} times" in (res.message or "") for res in results), results[0].message
        assert dispatcher.failovers == MAX_DELIVERIES
    finally:
        stop.set()
        dispatcher.close()


def test_a_redis_outage_longer_than_the_retries_stalls_nothing(tmp_path):
    """Redis killed mid-batch and back 20 s later, empty (no AOF): past the ~16 s of a plain
    call's retries. Every job is answered once and right, and the workers take work again
    (an acknowledgement Redis missed used to keep its chunk counted as delivered, and a
    worker with both its prefetch places so taken never fetched again, though it beat on)."""
    from .procs import RedisServer

    store = RedisServer(tmp_path, persistent=False)
    workers = [start_worker(store, tmp_path, f"w{i}", "--workers", "1", visibility_timeout=None) for i in range(2)]
    server, port = start_server(tmp_path, "--broker", store.url)
    try:
        n, results = 60, []
        with Client(f"127.0.0.1:{port}", timeout_s=150) as farm:
            thread = threading.Thread(target=lambda: results.extend(farm.execute_batch(slow_jobs(n, 0.1), chunk=n)))
            thread.start()
            time.sleep(2.0)
            store.proc.kill()
            store.proc.wait()
            time.sleep(20)
            store.start()
            thread.join(timeout=150)
            assert not thread.is_alive()
            check_slow_results(results, n)
            again = farm.execute_batch(slow_jobs(8, 0.05))  # the workers fetch again
            check_slow_results(again, 8)
        assert all(w.proc.poll() is None for w in workers)
    finally:
        server.kill()
        for w in workers:
            w.kill()
        store.stop()


def test_a_worker_started_before_redis_waits_for_it(tmp_path):
    from .procs import Proc, RedisServer, wait_until

    store = RedisServer(tmp_path, persistent=False)
    store.stop()
    worker = Proc(["worker", "--broker", store.url, "--name", "early", "--workers", "1"], tmp_path / "early.log")
    server = None
    try:
        time.sleep(3)
        assert worker.proc.poll() is None, worker.output()[-2000:]
        assert "waiting for Redis" in worker.output()
        store.start()
        wait_until(lambda: store.client().exists("acefarm:worker:early"), 30, "the early worker's heartbeat", worker)
        server, port = start_server(tmp_path, "--broker", store.url)
        with Client(f"127.0.0.1:{port}", timeout_s=60) as farm:
            check_slow_results(farm.execute_batch(slow_jobs(4, 0.05)), 4)
    finally:
        if server is not None:
            server.kill()
        worker.kill()
        store.stop()
