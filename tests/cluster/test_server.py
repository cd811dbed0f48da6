"""`acefarm serve` (embedded pool) through the SDK and raw gRPC: real server processes."""

import asyncio
import json
import subprocess
import time
import urllib.request

import grpc
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from broker.client import AsyncClient, Client
from broker.protos import pb
from executor import Verdict
from tests import formats_support, unwritable_support

from .procs import ACEFARM, ROOT, free_port, raw_call, start_server, wait_healthy

ADD = "def add(a, b):\n    return a + b\n"


def test_execute_batch_score_and_info(embedded_server):
    with Client(f"127.0.0.1:{embedded_server}") as farm:
        info = farm.info()
        assert info.mode == "embedded" and info.slots == 2 and info.runtime.startswith("python-3")
        r = farm.execute({"id": "e1", "program": ADD, "tests": ["assert add(1, 2) == 3", "assert add(1, 2) == 4"]})
        assert r.id == "e1" and r.pass_rate == 0.5 and [t.verdict for t in r.tests] == [Verdict.PASSED, Verdict.FAILED]
        jobs = [{"id": f"b{i}", "program": f"X = {i}", "tests": [f"assert X == {i % 3}"]} for i in range(40)]
        results = list(farm.execute_batch(jobs, chunk=16))
        assert [r.id for r in results] == [j["id"] for j in jobs]
        assert [r.pass_rate for r in results] == [1.0 if i % 3 == i else 0.0 for i in range(40)]
        many = farm.execute_many(jobs[:10])
        assert [r.id for r in many] == [j["id"] for j in jobs[:10]] and [r.pass_rate for r in many] == [
            r.pass_rate for r in results[:10]
        ]
        group = farm.score(
            [ADD, ADD.replace("+", "-"), "def add(a, b) return"],
            ["assert add(1, 1) == 2", "assert add(2, 0) == 2", {"call": "add", "args": [3, 4], "expected": 7}],
            group_id="g",
        )
        assert group.pass_rates == [1.0, pytest.approx(1 / 3), 0.0]
        assert group.matrix[1] == ["failed", "passed", "failed"] and group.matrix[2] == ["syntax_error"] * 3
        assert [r.id for r in group.results] == ["g/0", "g/1", "g/2"]


def test_every_test_kind_travels_through_the_server(embedded_server):
    yes = "n = int(input())\nprint('yes' if n % 2 == 0 else 'NO')\n"
    accepted = [{"stdin": "4\n", "accepted_stdout": ["YES", "yes"]}, {"stdin": "5\n", "accepted_stdout": ["NO", "no"]}]
    stdio = [{"stdin": "4\n", "expected_stdout": "yes\n", "checker": "exact"}]
    with Client(f"127.0.0.1:{embedded_server}") as farm:
        r = farm.execute({"id": "k1", "program": yes, "tests": accepted})
        assert [t.verdict for t in r.tests] == [Verdict.PASSED, Verdict.PASSED]
        assert farm.execute({"id": "k2", "program": yes, "tests": stdio}).verdict is Verdict.PASSED
        group = farm.score([yes, "print('YES')"], accepted, group_id="k")
        assert group.matrix == [["passed", "passed"], ["passed", "failed"]]


def test_a_special_judge_travels_through_execute_and_score(embedded_server):
    checker = {
        "language": "python",
        "program": "import sys\nn, out = (open(p).read() for p in sys.argv[1:3])\n"
        "sys.exit(0 if sorted(out.split()) == ['a', 'b'][: int(n)] else 'wrong answer: ' + out.strip())\n",
    }
    tests = [{"stdin": "2\n", "expected_stdout": "a b\n"}, {"stdin": "1\n", "expected_stdout": "a\n"}]
    right, wrong = "n = int(input())\nprint(*'ba'[2 - n :])", "print('b a')"
    with Client(f"127.0.0.1:{embedded_server}") as farm:
        r = farm.execute({"id": "spj", "program": right, "tests": tests, "checker": checker})
        assert r.verdict is Verdict.PASSED, r
        group = farm.score([right, wrong], tests, group_id="spj", checker=checker)
        assert group.matrix == [["passed", "passed"], ["passed", "failed"]]
        assert group.results[1].tests[1].message == "checker: wrong answer: b a"


def test_the_code_rl_datasets_shapes_through_score_and_execute(embedded_server):
    """Each fixture problem's tests as the dataset gives them (APPS' JSON text, TACO's object,
    CodeContests' lists, LiveCodeBench's evaluation sample): right programs 1.0, wrong 0.0."""
    with Client(f"127.0.0.1:{embedded_server}") as farm:
        for case in formats_support.cases():
            group = farm.score(case.right + case.wrong, case.tests, group_id=case.id)
            assert group.pass_rates == [1.0] * len(case.right) + [0.0] * len(case.wrong), case.id
            r = farm.execute({"id": case.id, "program": case.right[0], "tests": case.tests})
            assert r.pass_rate == 1.0 and r.total == len(group.matrix[0]), case.id
        # The prelude travels explicitly: without it the LeetCode answer misses `List`.
        (lcb,) = [c for c in formats_support.cases("livecodebench") if c.calls and "twoSum" in c.right[0]]
        assert farm.score(lcb.right, lcb.tests, prelude="").pass_rates == [0.0]
        assert farm.execute({"id": "p", "program": lcb.right[0], "tests": lcb.tests, "prelude": ""}).pass_rate == 0.0
    request = pb.ScoreRequest(programs=["x = 1"], tests=[pb.Test(snippet="assert x == 1")], prelude="nope")
    code, details, _ = raw_call(embedded_server, "Score", request.SerializeToString())
    assert code is grpc.StatusCode.INVALID_ARGUMENT and details.startswith("prelude: unknown prelude 'nope'"), details
    call = pb.CallTest(func="twoSum", args_json="[[3, 3], 6]", accepted_json="[[0, 1], [1, 0]]", method_of="Solution")
    request = pb.ScoreRequest(programs=[lcb.right[0]], tests=[pb.Test(call=call)], prelude="typing")
    code, details, body = raw_call(embedded_server, "Score", request.SerializeToString())
    assert code is grpc.StatusCode.OK and list(pb.ScoreResponse.FromString(body).pass_rates) == [1.0], details


def test_repeats_are_answered_from_the_cache(embedded_server):
    with Client(f"127.0.0.1:{embedded_server}") as farm:
        job = {
            "id": "c1",
            "program": ADD + "# cache test\n",
            "tests": ["assert add(2, 2) == 4", "assert add(0, 1) == 2"],
        }
        first = farm.execute(job)
        again = farm.execute(dict(job, id="c2"))
    assert not first.cached and again.cached and again.id == "c2"
    assert [t.verdict for t in again.tests] == [t.verdict for t in first.tests]


def timing_jobs(tag):
    """A program whose load outlasts its wall-clock limit (a timeout, which a loaded machine
    can cause too), one whose top level loops past its CPU limit, and a plain failure."""
    return [
        {
            "id": "wall",
            "program": f"import time\ntime.sleep(3)  # {tag}\n",
            "tests": ["assert True"],
            "limits": {"cpu_s": 1, "wall_s": 0.5},
        },
        {
            "id": "cpu",
            "program": f"while True:  # {tag}\n    pass\n",
            "tests": ["assert True"],
            "limits": {"cpu_s": 0.3, "wall_s": 3},
        },
        {"id": "plain", "program": f"X = 1  # {tag}\n", "tests": ["assert X == 2"]},
    ]


def test_timeouts_are_not_cached(embedded_server):
    """A timeout may be a loaded machine's doing: sent again, the job runs again."""
    with Client(f"127.0.0.1:{embedded_server}", timeout_s=60) as farm:
        jobs = timing_jobs(f"server-{time.time_ns()}")
        first = farm.execute_many(jobs)
        again = farm.execute_many(jobs)
    assert [t.verdict for r in first for t in r.tests] == [Verdict.TIMEOUT, Verdict.TIMEOUT, Verdict.FAILED]
    assert [t.verdict for r in again for t in r.tests] == [Verdict.TIMEOUT, Verdict.TIMEOUT, Verdict.FAILED]
    assert [r.cached for r in again] == [False, False, True]


def test_async_client(embedded_server):
    async def go():
        async with AsyncClient(f"127.0.0.1:{embedded_server}") as farm:
            one, many = await asyncio.gather(
                farm.execute({"id": "a1", "program": ADD, "tests": ["assert add(2, 2) == 4"]}),
                farm.execute_batch(
                    [{"id": f"a{i}", "program": ADD, "tests": [f"assert add({i}, 0) == {i}"]} for i in range(2, 8)]
                ),
            )
            group = await farm.score([ADD], ["assert add(0, 0) == 0"])
            return one, many, group

    one, many, group = asyncio.run(go())
    assert one.verdict is Verdict.PASSED and all(r.verdict is Verdict.PASSED for r in many)
    assert [r.id for r in many] == [f"a{i}" for i in range(2, 8)] and group.pass_rates == [1.0]


@pytest.mark.parametrize(
    "make, field",
    [
        (lambda: pb.ExecuteRequest(), "request.job: missing"),
        (lambda: pb.ExecuteRequest(job=pb.Job(id="x", program="x = 1")), "job.tests: is empty"),
        (
            lambda: pb.ExecuteRequest(
                job=pb.Job(id="x", program="x = 1", tests=[pb.Test(snippet="assert 1")] * 10_000)
            ),
            "job.tests: has 10000 tests",
        ),
        (
            lambda: pb.ExecuteRequest(job=pb.Job(id="x", program="x" * 300_000, tests=[pb.Test(snippet="assert 1")])),
            "job.program: larger than",
        ),
        (lambda: pb.ExecuteRequest(job=pb.Job(id="", program="x", tests=[pb.Test(snippet="assert 1")])), "job.id"),
        (
            lambda: pb.ExecuteRequest(job=pb.Job(id="x", language="cobol", program="x", tests=[pb.Test(snippet="1")])),
            "job.language: unknown language",
        ),
        (lambda: pb.ExecuteRequest(job=pb.Job(id="x", program="x", tests=[pb.Test()])), "job.tests[0]: empty test"),
        (
            lambda: pb.ExecuteRequest(
                job=pb.Job(id="x", program="x", tests=[pb.Test(call=pb.CallTest(func="f", args_json="[1,"))])
            ),
            "job.tests[0].call.args_json: not valid JSON",
        ),
        (
            lambda: pb.ExecuteRequest(
                job=pb.Job(id="x", program="x", tests=[pb.Test(snippet="assert 1")], limits=pb.Limits(cpu_s=1e9))
            ),
            "job.limits.cpu_s: must be between",
        ),
    ],
)
def test_invalid_requests_get_clear_errors(embedded_server, make, field):
    code, details, _ = raw_call(embedded_server, "Execute", make().SerializeToString())
    assert code is grpc.StatusCode.INVALID_ARGUMENT and field in details, details


def test_undecodable_unknown_and_oversize_requests(embedded_server):
    port = embedded_server
    code, details, _ = raw_call(port, "Execute", b"\xff\xff\xff\xff not protobuf")
    assert code is grpc.StatusCode.INVALID_ARGUMENT and "not a valid acefarm.v1.ExecuteRequest" in details
    job = pb.Job(id="x", program="x = 1", tests=[pb.Test(snippet="assert x == 1")])
    bad_utf8 = pb.ExecuteRequest(job=job).SerializeToString().replace(b"x = 1", b"x\xff= 1")
    code, details, _ = raw_call(port, "Execute", bad_utf8)
    assert code is grpc.StatusCode.INVALID_ARGUMENT and "UTF-8" in details
    unknown = pb.ExecuteRequest(job=job).SerializeToString() + b"\xf8\x01\x05"  # field 31, varint
    code, details, _ = raw_call(port, "Execute", unknown)
    assert code is grpc.StatusCode.INVALID_ARGUMENT and "unknown field number 31" in details
    code, details, _ = raw_call(
        port,
        "ExecuteBatchUnary",
        pb.BatchRequest(
            jobs=[pb.Job(id=f"j{i}", program="x", tests=[pb.Test(snippet="1")]) for i in range(5000)]
        ).SerializeToString(),
    )
    assert code is grpc.StatusCode.INVALID_ARGUMENT and "at most 4096" in details
    code, details, _ = raw_call(port, "ExecuteBatchUnary", pb.BatchRequest(jobs=[job, job]).SerializeToString())
    assert code is grpc.StatusCode.INVALID_ARGUMENT and "duplicate id" in details
    code, details, _ = raw_call(port, "Execute", b"\x0a" + b"\xff\xff\xff\x3f" + b"x" * (65 << 20))
    assert code is grpc.StatusCode.RESOURCE_EXHAUSTED  # over the message size limit
    wait_healthy(port, timeout=5)  # and the server is still up


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    data=st.one_of(
        st.binary(max_size=300),
        st.builds(
            lambda job, cut, junk: pb.ExecuteRequest(job=job).SerializeToString()[:cut] + junk,
            st.builds(
                pb.Job,
                id=st.text(max_size=8),
                program=st.text(max_size=40),
                tests=st.lists(st.builds(pb.Test, snippet=st.text(max_size=30)), max_size=3),
            ),
            st.integers(0, 200),
            st.binary(max_size=8),
        ),
    )
)
def test_fuzzed_requests_never_break_the_server(embedded_server, data):
    code, details, _ = raw_call(embedded_server, "Execute", data, timeout=30)
    assert code in (grpc.StatusCode.OK, grpc.StatusCode.INVALID_ARGUMENT), (code, details)


def test_fuzzing_left_the_server_healthy(embedded_server):
    wait_healthy(embedded_server, timeout=5)
    with Client(f"127.0.0.1:{embedded_server}") as farm:
        assert farm.execute({"id": "after-fuzz", "program": ADD, "tests": ["assert add(1, 1) == 2"]}).pass_rate == 1


def test_bearer_token_and_metrics(tmp_path):
    metrics_port = free_port()
    proc, port = start_server(tmp_path, "--workers", "1", "--token", "s3cret", "--metrics-port", str(metrics_port))
    try:
        with Client(f"127.0.0.1:{port}") as anonymous:
            with pytest.raises(grpc.RpcError) as err:
                anonymous.info()
            assert err.value.code() is grpc.StatusCode.UNAUTHENTICATED
        with Client(f"127.0.0.1:{port}", token="wrong") as wrong:
            with pytest.raises(grpc.RpcError) as err:
                list(wrong.execute_batch([{"id": "x", "program": "x = 1", "tests": ["assert x == 1"]}]))
            assert err.value.code() is grpc.StatusCode.UNAUTHENTICATED
        with Client(f"127.0.0.1:{port}", token="s3cret") as farm:
            assert farm.execute({"id": "ok", "program": ADD, "tests": ["assert add(1, 1) == 2"]}).pass_rate == 1.0
            assert farm.execute({"id": "no", "program": ADD, "tests": ["assert add(1, 1) == 3"]}).pass_rate == 0.0
        text = urllib.request.urlopen(f"http://127.0.0.1:{metrics_port}/metrics", timeout=10).read().decode()
        assert 'acefarm_jobs_total{verdict="passed"} 1.0' in text
        assert 'acefarm_jobs_total{verdict="failed"} 1.0' in text
        assert 'acefarm_rejected_total{code="UNAUTHENTICATED"} 2.0' in text
        for name in (
            "acefarm_queue_depth",
            "acefarm_queue_wait_seconds_bucket",
            "acefarm_run_seconds_bucket",
            "acefarm_infra_errors_total",
            "acefarm_tests_total",
        ):
            assert name in text
    finally:
        proc.kill()


def test_tls(tmp_path):
    key, cert = tmp_path / "key.pem", tmp_path / "cert.pem"
    subprocess.run(
        [
            "openssl",
            "req",
            "-x509",
            "-newkey",
            "rsa:2048",
            "-nodes",
            "-keyout",
            str(key),
            "-out",
            str(cert),
            "-days",
            "1",
            "-subj",
            "/CN=localhost",
            "-addext",
            "subjectAltName=DNS:localhost,IP:127.0.0.1",
        ],
        check=True,
        capture_output=True,
    )
    proc, port = None, free_port()
    p = subprocess.Popen(
        [*ACEFARM, "serve", "--port", str(port), "--workers", "1", "--tls-cert", str(cert), "--tls-key", str(key)],
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    try:
        with Client(f"localhost:{port}", tls=str(cert), timeout_s=30) as farm:
            r = farm.execute({"id": "tls", "program": ADD, "tests": ["assert add(2, 3) == 5"]})
            assert r.pass_rate == 1.0
        with Client(f"localhost:{port}", retries=0, timeout_s=5) as plaintext:
            with pytest.raises(grpc.RpcError):
                plaintext.info()
    finally:
        p.kill()
        p.wait()
        del proc


def test_full_queue_is_resource_exhausted(tmp_path):
    proc, port = start_server(tmp_path, "--workers", "1", "--max-queue", "3")
    try:
        with Client(f"127.0.0.1:{port}", retries=0) as farm:
            jobs = [{"id": f"q{i}", "program": "x = 1", "tests": ["assert x == 1"]} for i in range(4)]
            with pytest.raises(grpc.RpcError) as err:
                list(farm.execute_batch(jobs))
            assert err.value.code() is grpc.StatusCode.RESOURCE_EXHAUSTED and "queue is full" in err.value.details()
            assert [r.pass_rate for r in farm.execute_batch(jobs[:3])] == [1.0] * 3  # fits: admitted
    finally:
        proc.kill()


def test_deadline_stops_the_running_program(tmp_path):
    proc, port = start_server(tmp_path, "--workers", "1")
    try:
        spin = {
            "id": "spin",
            "program": "while True:\n    pass\n",
            "tests": ["assert 1"],
            "limits": {"cpu_s": 60, "wall_s": 120},
        }
        with Client(f"127.0.0.1:{port}", retries=0, timeout_s=1.0) as impatient:
            with pytest.raises(grpc.RpcError) as err:
                impatient.execute(spin)
            assert err.value.code() is grpc.StatusCode.DEADLINE_EXCEEDED
        # The only slot was running `spin`; it answers this within its own 20 s
        # deadline only if the deadline above reached the sandbox and killed it.
        with Client(f"127.0.0.1:{port}", retries=0, timeout_s=20) as farm:
            r = farm.execute({"id": "next", "program": ADD, "tests": ["assert add(1, 2) == 3"]})
            assert r.pass_rate == 1.0
    finally:
        proc.kill()


def test_score_cli_through_the_server_matches_embedded(embedded_server, tmp_path):
    demo = ROOT / "broker" / "examples" / "demo.jsonl"
    local, remote = tmp_path / "local.jsonl", tmp_path / "remote.jsonl"
    for out, extra in ((local, []), (remote, ["--server", f"127.0.0.1:{embedded_server}"])):
        proc = subprocess.run(
            [*ACEFARM, "score", str(demo), "-o", str(out), *extra],
            cwd=ROOT,
            capture_output=True,
            text=True,
            timeout=300,
        )
        assert proc.returncode == 0, proc.stderr

    def verdicts(path):
        rows = [json.loads(line) for line in path.read_text().splitlines()]
        return [
            (r["id"], r.get("verdict"), r.get("pass_rate"), [i["pass_rate"] for i in r.get("inferences", [])])
            for r in rows
        ]

    assert verdicts(local) == verdicts(remote)


def test_health_and_reflection(embedded_server):
    from grpc_reflection.v1alpha.proto_reflection_descriptor_database import ProtoReflectionDescriptorDatabase

    with grpc.insecure_channel(f"127.0.0.1:{embedded_server}") as ch:
        services = set(ProtoReflectionDescriptorDatabase(ch).get_services())
    assert {"acefarm.v1.Farm", "grpc.health.v1.Health"} <= services
    wait_healthy(embedded_server, timeout=5)


def test_a_client_cancellation_stops_the_running_program(tmp_path):
    proc, port = start_server(tmp_path, "--workers", "1")
    try:
        spin = pb.ExecuteRequest(
            job=pb.Job(
                id="spin",
                program="while True:\n    pass\n",
                tests=[pb.Test(snippet="assert 1")],
                limits=pb.Limits(cpu_s=60, wall_s=120),
            )
        )
        with grpc.insecure_channel(f"127.0.0.1:{port}") as ch:
            from broker.protos import rpc

            call = rpc.FarmStub(ch).Execute.future(spin)
            import time

            time.sleep(1.0)  # let it reach the sandbox
            call.cancel()
        with Client(f"127.0.0.1:{port}", retries=0, timeout_s=20) as farm:  # the only slot is free again
            assert farm.execute({"id": "next", "program": ADD, "tests": ["assert add(1, 2) == 3"]}).pass_rate == 1.0
    finally:
        proc.kill()


def test_breaking_out_of_execute_batch_cancels_the_rest(tmp_path):
    """Results stream in input order as they are ready; a consumer that stops after two cancels
    the call, and the jobs not yet run never hold the slot: the next call is answered at once."""
    proc, port = start_server(tmp_path, "--workers", "1")
    try:
        jobs = [
            {"id": f"slow{i}", "program": f"import time\ntime.sleep(0.3)\nX = {i}\n", "tests": [f"assert X == {i}"]}
            for i in range(40)  # 12 s of the only slot's time, if they all ran
        ]
        with Client(f"127.0.0.1:{port}", timeout_s=60) as farm:
            t0 = time.monotonic()
            got = []
            for result in farm.execute_batch(jobs):
                got.append(result)
                if len(got) == 2:
                    break
            first_two = time.monotonic() - t0
            t1 = time.monotonic()
            assert farm.execute({"id": "next", "program": ADD, "tests": ["assert add(1, 2) == 3"]}).pass_rate == 1.0
            after = time.monotonic() - t1
        assert [r.id for r in got] == ["slow0", "slow1"] and all(r.pass_rate == 1.0 for r in got)
        assert first_two < 6.0, first_two  # not held back until the whole chunk was done (12 s)
        assert after < 4.0, after  # the other 38 jobs did not run first
    finally:
        proc.kill()


def test_a_slow_consumer_of_execute_batch_gets_every_result(embedded_server):
    """The stream is read as fast as the farm answers: a consumer slower than the call's
    deadline still gets every result, in order; a job id repeated in a later chunk is refused."""
    jobs = [{"id": f"q{i}", "program": ADD, "tests": [f"assert add({i}, 1) == {i + 1}"]} for i in range(12)]
    with Client(f"127.0.0.1:{embedded_server}", timeout_s=3.0) as farm:
        got = []
        for result in farm.execute_batch(jobs):
            got.append(result)
            time.sleep(0.4)  # 4.8 s in all, past the 3 s deadline
        assert [r.id for r in got] == [j["id"] for j in jobs] and all(r.pass_rate == 1.0 for r in got)
        with pytest.raises(ValueError, match="'q0' appears twice"):
            list(farm.execute_batch([*jobs[:3], jobs[0]], chunk=3))


def test_every_rpc_answers_unwritable_results_escaped(embedded_server):
    """Lone surrogates, NULs and huge messages from programs reach the client through Execute,
    ExecuteBatch (stream and unary) and Score as escaped text; the other jobs are intact."""
    jobs = unwritable_support.jobs()
    with Client(f"127.0.0.1:{embedded_server}", timeout_s=120) as farm:
        one_by_one = [farm.execute(j) for j in jobs]
        streamed = list(farm.execute_batch(jobs, chunk=5))
        unary = farm.execute_many(jobs)
        group = farm.score(
            [j["program"] for j in unwritable_support.HOSTILE[:6]] + [ADD],
            ["assert f() == 1", "assert add(1, 2) == 3"],
            group_id="hostile",
        )
    for results in (one_by_one, streamed, unary):
        unwritable_support.check_results([r.to_dict() for r in results])
    assert group.pass_rates == [0.0] * 6 + [0.5]
    assert group.matrix[0] == ["runtime_error", "runtime_error"] and group.matrix[6] == ["runtime_error", "passed"]
    assert "\\ud800" in group.results[0].tests[0].message and "a\\x00b" in group.results[1].tests[0].message
    assert unwritable_support.unwritable([r.to_dict() for r in group.results]) == []
    # what a client of another language reads: the raw response bytes parse (protobuf checks UTF-8)
    request = pb.BatchRequest(
        jobs=[
            pb.Job(id=j["id"], program=j["program"], tests=[pb.Test(snippet=t) for t in j["tests"]])
            for j in unwritable_support.HOSTILE
            if all(isinstance(t, str) for t in j["tests"])
        ]
    )
    code, details, data = raw_call(embedded_server, "ExecuteBatchUnary", request.SerializeToString(), timeout=120)
    assert code is grpc.StatusCode.OK, details
    assert [r.id for r in pb.BatchResponse.FromString(data).results] == [j.id for j in request.jobs]


def test_text_no_writer_takes_is_refused_naming_the_field(embedded_server):
    from executor import InvalidJob

    with Client(f"127.0.0.1:{embedded_server}") as farm:
        for job, field in [
            ({"id": "\ud800", "program": ADD, "tests": ["assert 1"]}, "id"),
            ({"id": "a\x00", "program": ADD, "tests": ["assert 1"]}, "id"),
            ({"id": "p", "program": "x = '\udc00'", "tests": ["assert 1"]}, "program"),
        ]:
            with pytest.raises(InvalidJob) as exc:
                farm.execute(job)
            assert exc.value.field == field
        with pytest.raises(InvalidJob) as exc:
            farm.score([ADD, "x = '\ud800'"], ["assert add(1, 2) == 3"])
        assert exc.value.field == "programs[1]"
        assert farm.execute({"id": "after", "program": ADD, "tests": ["assert add(1, 2) == 3"]}).pass_rate == 1.0
    # JSON in a call test can spell a lone surrogate that protobuf's UTF-8 check cannot see
    call = pb.Test(call=pb.CallTest(func="add", args_json='["\\ud800", 1]', expected_json="1"))
    code, details, _ = raw_call(
        embedded_server, "Execute", pb.ExecuteRequest(job=pb.Job(id="x", program=ADD, tests=[call])).SerializeToString()
    )
    assert code is grpc.StatusCode.INVALID_ARGUMENT and "job.tests[0].args[0]: not valid UTF-8 text" in details
    code, details, _ = raw_call(
        embedded_server, "Score", pb.ScoreRequest(programs=[ADD], tests=[call]).SerializeToString()
    )
    assert code is grpc.StatusCode.INVALID_ARGUMENT and "tests[0].args[0]: not valid UTF-8 text" in details


def test_score_cli_through_the_server_writes_unwritable_results(embedded_server, tmp_path):
    src = tmp_path / "in.jsonl"
    src.write_text("".join(json.dumps(j) + "\n" for j in unwritable_support.jobs()))
    outputs = []
    for extra in ([], ["--server", f"127.0.0.1:{embedded_server}"]):
        out = tmp_path / f"out{len(outputs)}.jsonl"
        proc = subprocess.run(
            [*ACEFARM, "score", str(src), "-o", str(out), *extra], cwd=ROOT, capture_output=True, text=True, timeout=300
        )
        assert proc.returncode == 0, proc.stderr
        results = [json.loads(line) for line in out.read_bytes().decode("utf-8").splitlines()]
        unwritable_support.check_results(results)
        outputs.append(
            [(r["id"], r["verdict"], [(t["verdict"], t.get("message")) for t in r["tests"]]) for r in results]
        )
    assert outputs[0] == outputs[1]  # the same results, embedded or through the farm
