"""The HTTP API (broker/http.py) of real `acefarm serve --http-port` processes: the JSON twins
of Execute and Score, /run_code's limits, auth, admission, size caps, cancellation, metrics,
and raw runs through gRPC too."""

import json
import socket
import threading
import time
import urllib.request

import pytest
import requests

from broker.client import Client
from executor import Verdict
from executor.job import LANGUAGES
from tests import formats_support

from .procs import free_port, start_http_server

ADD = "def add(a, b):\n    return a + b\n"


def post(farm, path, body, **kw):
    return requests.post(f"{farm.url}{path}", json=body, timeout=60, **kw)


def metric(port, name, **labels):
    """A sample's value from the server's Prometheus endpoint (0.0 when absent)."""
    text = urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=10).read().decode()
    want = ",".join(f'{k}="{v}"' for k, v in labels.items())
    for line in text.splitlines():
        head, _, value = line.rpartition(" ")
        if head == (f"{name}{{{want}}}" if want else name):
            return float(value)
    return 0.0


def wait_for(predicate, what, timeout=60):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(0.05)
    raise AssertionError(f"never happened: {what}")


def test_execute_answers_the_result_dict(http_farm):
    resp = post(
        http_farm,
        "/v1/execute",
        {"id": "e1", "program": ADD, "tests": ["assert add(1, 2) == 3", "assert add(1, 1) == 3"]},
    )
    assert resp.status_code == 200
    body = resp.json()
    assert body["id"] == "e1" and body["verdict"] == "failed" and body["pass_rate"] == 0.5
    assert [t["verdict"] for t in body["tests"]] == ["passed", "failed"] and body["cached"] is False


def test_execute_runs_raw_runs_and_returns_their_output(http_farm):
    job = {
        "id": "r1",
        "program": "import sys\nprint(input()[::-1])\nsys.exit(2)",
        "tests": [{"raw": {"stdin": "abc\n"}}],
    }
    (test,) = post(http_farm, "/v1/execute", job).json()["tests"]
    assert test["verdict"] == "runtime_error" and test["output"]["stdout"] == "cba\n"
    assert test["output"]["exit_code"] == 2 and test["output"]["limit"] is None


@pytest.mark.parametrize(
    "body, field",
    [
        ({"id": "x", "program": ADD, "tests": [{"call": "add", "args": "1"}]}, "tests[0].args"),
        ({"id": "x", "program": ADD, "tests": []}, "tests"),
        ({"id": "x", "program": ADD, "tests": ["assert 1"], "limits": {"cpu_s": 1000}}, "limits.cpu_s"),
        ({"id": "x", "program": ADD, "tests": ["assert 1"], "extra": 1}, "extra"),
        ({"id": "\ud800", "program": ADD, "tests": ["assert 1"]}, "id"),
        ([], "job"),
    ],
)
def test_a_bad_job_is_400_naming_the_field(http_farm, body, field):
    resp = requests.post(
        f"{http_farm.url}/v1/execute", data=json.dumps(body), headers={"content-type": "application/json"}, timeout=30
    )
    assert resp.status_code == 400
    assert resp.json()["field"] == field and resp.json()["detail"].startswith(f"{field}: ")


def test_malformed_json_is_400(http_farm):
    resp = requests.post(f"{http_farm.url}/v1/execute", data=b"{nope", timeout=30)
    assert resp.status_code == 400 and "not valid JSON" in resp.json()["detail"]


def test_score_answers_results_matrix_and_pass_rates(http_farm):
    body = {
        "programs": [ADD, ADD.replace("+", "-"), "def add(a, b) return"],
        "tests": ["assert add(1, 1) == 2", "assert add(2, 0) == 2", {"call": "add", "args": [3, 4], "expected": 7}],
        "group_id": "g",
    }
    out = post(http_farm, "/v1/score", body).json()
    assert out["pass_rates"] == [1.0, pytest.approx(1 / 3), 0.0]
    assert out["matrix"][1] == ["failed", "passed", "failed"] and out["matrix"][2] == ["syntax_error"] * 3
    assert [r["id"] for r in out["results"]] == ["g/0", "g/1", "g/2"]
    bad = post(http_farm, "/v1/score", {"programs": [ADD, 5], "tests": ["assert add(1, 1) == 2"]})
    assert bad.status_code == 400 and bad.json()["field"] == "programs[1].program"
    assert post(http_farm, "/v1/score", {"programs": [], "tests": ["assert 1"]}).json()["field"] == "programs"


def test_info_and_the_openapi_document(http_farm):
    info = requests.get(f"{http_farm.url}/v1/info", timeout=30).json()
    assert info["mode"] == "embedded" and info["slots"] == 2 and info["languages"][0] == "python"
    assert set(info["toolchains"]) == set(info["languages"])  # what runs each, as its pool found it
    doc = requests.get(f"{http_farm.url}/openapi.json", timeout=30).json()
    assert doc["openapi"].startswith("3.")
    assert set(doc["paths"]) == {"/run_code", "/v1/ping", "/get_reward", "/v1/execute", "/v1/score", "/v1/info"}
    job = doc["paths"]["/v1/execute"]["post"]["requestBody"]["content"]["application/json"]["schema"]
    assert job["required"] == ["id", "program", "tests"]
    assert job["properties"]["language"]["enum"] == list(LANGUAGES)
    assert "RunCodeRequest" in doc["components"]["schemas"] and "GetRewardRequest" in doc["components"]["schemas"]


def test_run_code_maps_its_limits(http_farm):
    big = "x = bytearray(256 << 20)\nprint('held')\n"
    small = post(http_farm, "/run_code", {"code": big, "language": "python", "memory_limit_MB": 64}).json()
    assert small["status"] == "Failed" and small["run_result"]["return_code"] == 1
    assert "MemoryError" in small["run_result"]["stderr"]
    roomy = post(http_farm, "/run_code", {"code": big, "language": "python", "memory_limit_MB": 1024}).json()
    assert roomy["status"] == "Success" and roomy["run_result"]["stdout"] == "held\n"
    huge = post(
        http_farm,
        "/run_code",
        {"code": "print(1)", "language": "python", "run_timeout": 1e6, "memory_limit_MB": 1 << 30},
    )
    assert huge.status_code == 200 and huge.json()["status"] == "Success"  # clamped into the server's bounds
    loud = post(http_farm, "/run_code", {"code": "print('x' * (1 << 23))", "language": "python"}).json()
    assert loud["status"] == "Failed" and loud["run_result"]["return_code"] == -9  # SIGKILL at the output cap
    assert 1 << 20 <= len(loud["run_result"]["stdout"]) <= 2 << 20


def test_run_code_refuses_a_path_outside_the_working_directory(http_farm):
    resp = post(http_farm, "/run_code", {"code": "print(1)", "language": "python", "files": {"../x": "aGk="}})
    assert resp.status_code == 422 and resp.json()["detail"][0]["loc"] == ["body", "files", "../x"]


def test_raw_runs_through_grpc_and_the_sdk(http_farm):
    with Client(f"127.0.0.1:{http_farm.port}") as farm:
        r = farm.execute({"id": "g1", "program": "print(input() * 2)", "tests": [{"raw": {"stdin": "ab\n"}}]})
    (test,) = r.tests
    assert r.verdict is Verdict.PASSED and test.output.stdout == "abab\n" and test.output.exit_code == 0


def test_a_client_that_goes_away_cancels_its_job(http_farm):
    def depth():
        return metric(http_farm.metrics, "acefarm_queue_depth")

    wait_for(lambda: depth() == 0, "an idle farm")
    body = json.dumps(
        {"id": "gone", "program": "import time\ntime.sleep(120)", "tests": [{"raw": {}}], "limits": {"wall_s": 200}}
    ).encode()
    port = http_farm.url.rsplit(":", 1)[1]
    with socket.create_connection(("127.0.0.1", int(port))) as sock:
        head = f"POST /v1/execute HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: {len(body)}\r\n\r\n"
        sock.sendall(head.encode() + body)
        wait_for(lambda: depth() == 1, "the job admitted")
    wait_for(lambda: depth() == 0, "the job cancelled when its client left (it would sleep 120 s)", timeout=60)


def test_requests_are_counted_by_route_and_status(http_farm):
    before = metric(http_farm.metrics, "acefarm_http_requests_total", route="/v1/info", status="200")
    requests.get(f"{http_farm.url}/v1/info", timeout=30)
    wait_for(  # counted once the response is out: the client may read it first
        lambda: metric(http_farm.metrics, "acefarm_http_requests_total", route="/v1/info", status="200") == before + 1,
        "the request counted",
    )
    rejected = metric(http_farm.metrics, "acefarm_rejected_total", code="INVALID_ARGUMENT")
    post(http_farm, "/v1/execute", {"id": "x"})
    wait_for(
        lambda: metric(http_farm.metrics, "acefarm_rejected_total", code="INVALID_ARGUMENT") == rejected + 1,
        "the refusal counted",
    )
    passed = metric(http_farm.metrics, "acefarm_jobs_total", verdict="passed")
    job = {"id": "counted", "program": f"x = {time.time_ns()}", "tests": ["assert x > 0"]}  # never cached
    assert post(http_farm, "/v1/execute", job).json()["verdict"] == "passed"
    wait_for(
        lambda: metric(http_farm.metrics, "acefarm_jobs_total", verdict="passed") == passed + 1,
        "the HTTP job counted as gRPC's are",
    )


@pytest.fixture(scope="module")
def guarded(tmp_path_factory):
    """A server with a token and a queue of one job."""
    tmp = tmp_path_factory.mktemp("guarded")
    metrics = free_port()
    proc, port, http = start_http_server(
        tmp, "--workers", "1", "--token", "s3cret", "--max-queue", "1", "--metrics-port", str(metrics)
    )
    yield port, f"http://127.0.0.1:{http}", metrics
    proc.kill()


def test_the_bearer_token_is_required_except_for_ping_and_the_document(guarded):
    _, url, _ = guarded
    job = {"id": "a", "program": ADD, "tests": ["assert add(1, 1) == 2"]}
    for headers in ({}, {"Authorization": "Bearer wrong"}, {"Authorization": "s3cret"}):
        resp = requests.post(f"{url}/v1/execute", json=job, headers=headers, timeout=30)
        assert resp.status_code == 401 and resp.headers["WWW-Authenticate"] == "Bearer"
        assert resp.json()["code"] == "UNAUTHENTICATED"
    assert requests.post(f"{url}/run_code", json={"code": "1", "language": "python"}, timeout=30).status_code == 401
    ok = requests.post(f"{url}/v1/execute", json=job, headers={"Authorization": "Bearer s3cret"}, timeout=30)
    assert ok.status_code == 200 and ok.json()["verdict"] == "passed"
    by_query = requests.post(
        f"{url}/run_code?token=s3cret", json={"code": "print(1)", "language": "python"}, timeout=30
    )
    assert by_query.status_code == 200 and by_query.json()["status"] == "Success"
    assert requests.get(f"{url}/v1/ping", timeout=30).json() == "pong"
    assert requests.get(f"{url}/openapi.json", timeout=30).status_code == 200


def test_a_full_queue_is_429_with_retry_after(guarded):
    _, url, metrics = guarded
    auth = {"Authorization": "Bearer s3cret"}
    slow = {"id": "slow", "program": "import time\ntime.sleep(3)", "tests": [{"raw": {}}]}
    first = {}
    worker = threading.Thread(
        target=lambda: first.update(r=requests.post(f"{url}/v1/execute", json=slow, headers=auth, timeout=60))
    )
    worker.start()
    wait_for(lambda: metric(metrics, "acefarm_queue_depth") == 1, "the slow job admitted")
    resp = requests.post(f"{url}/run_code", json={"code": "print(1)", "language": "python"}, headers=auth, timeout=30)
    worker.join()
    assert resp.status_code == 429 and resp.headers["Retry-After"] == "1"
    assert resp.json()["code"] == "RESOURCE_EXHAUSTED" and "queue is full" in resp.json()["detail"]
    assert first["r"].status_code == 200 and first["r"].json()["verdict"] == "passed"


def test_a_body_past_the_message_size_is_413(guarded):
    _, url, _ = guarded
    host, port = url.removeprefix("http://").split(":")
    with socket.create_connection((host, int(port))) as sock:
        sock.sendall(
            b"POST /v1/execute HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer s3cret\r\n"
            b"Content-Type: application/json\r\nContent-Length: 100000000\r\n\r\n{"
        )
        head = sock.recv(4096).decode()
    assert head.startswith("HTTP/1.1 413")


def test_get_reward_infra_error_policies(http_farm):
    # A test whose own text cannot be judged within the job's limits is no result (infra_error).
    body = {
        "query": ["P```python\ndef f():\n    return 1\n```"],
        "prompts": ["P"],
        "labels": [["assert f() == 'x' * 10 ** 10"]],
    }
    zero = post(http_farm, "/get_reward", body)
    assert (
        zero.status_code == 200
        and zero.json()["rewards"] == [0.0]
        and zero.json()["extra_logs"]["infra_error"] == [1.0]
    )
    error = post(http_farm, "/get_reward?on_infra_error=error", body)
    assert error.status_code == 503 and error.json()["code"] == "UNAVAILABLE" and error.headers["Retry-After"] == "1"
    assert post(http_farm, "/get_reward?on_infra_error=maybe", body).status_code == 422


def test_the_code_rl_datasets_shapes_through_get_reward_and_score(http_farm):
    """Each fixture problem's tests as the dataset gives them, as OpenRLHF labels (the
    completion after its prompt, fenced) and as /v1/score's tests: right 1.0, wrong 0.0."""
    prompt = "Solve it.\n"
    for case in formats_support.cases():
        programs = case.right + case.wrong
        want = [1.0] * len(case.right) + [0.0] * len(case.wrong)
        body = {
            "query": [f"{prompt}```python\n{p}```" for p in programs],
            "prompts": [prompt] * len(programs),
            "labels": [case.tests] * len(programs),
        }
        resp = post(http_farm, "/get_reward", body)
        assert resp.status_code == 200 and resp.json()["rewards"] == want, (case.id, resp.text)
        resp = post(http_farm, "/v1/score", {"programs": programs, "tests": case.tests, "group_id": case.id})
        assert resp.status_code == 200 and resp.json()["pass_rates"] == want, (case.id, resp.text)
    (lcb,) = [c for c in formats_support.cases("livecodebench") if c.calls and "twoSum" in c.right[0]]
    resp = post(http_farm, "/v1/score", {"programs": lcb.right, "tests": lcb.tests, "prelude": ""})
    assert resp.json()["pass_rates"] == [0.0]  # no prelude named: `List` is undefined
    resp = post(http_farm, "/v1/score", {"programs": lcb.right, "tests": lcb.tests, "prelude": "numpy"})
    assert resp.status_code == 400 and resp.json()["field"] == "prelude"


def test_score_names_a_group_field_as_itself(http_farm):
    resp = post(http_farm, "/v1/score", {"programs": [ADD], "tests": ["assert 1"], "mode": "sometimes"})
    assert resp.status_code == 400 and resp.json()["field"] == "mode"


def test_json_nested_too_deeply_is_a_bad_request_naming_where(http_farm):
    deep = "[" * 100_000 + "]" * 100_000
    headers = {"Content-Type": "application/json"}
    r = requests.post(f"{http_farm.url}/v1/execute", data=deep, headers=headers, timeout=60)
    assert r.status_code == 400 and "nested too deeply" in r.text
    body = {"query": ["x"], "prompts": [""], "labels": [deep]}
    r = post(http_farm, "/get_reward", body)
    assert r.status_code == 400 and "labels[0]" in r.text


def test_run_code_takes_a_stdin_larger_than_a_tests_cap(http_farm):
    """LiveCodeBench and CodeContests inputs reach megabytes; SandboxFusion has no cap of its
    own, and verl scores any refusal as a failure of the program."""
    numbers = list(range(300_000))  # ~2 MB of text
    code = "import sys\nprint(sum(map(int, sys.stdin.read().split())))"
    body = {"code": code, "language": "python", "stdin": " ".join(map(str, numbers))}
    r = post(http_farm, "/run_code", body)
    assert r.status_code == 200, r.text
    assert r.json()["status"] == "Success" and r.json()["run_result"]["stdout"] == f"{sum(numbers)}\n"


def test_get_reward_counts_its_queries_before_building_any_job(http_farm):
    # Refused on its size at once, not after reading (and extracting from) every query: a
    # million queries cost the server a minute and 800 MB before the refusal.
    body = {"query": ["x"] * 4097, "labels": [[]] * 4097}
    r = post(http_farm, "/get_reward", body)
    assert r.status_code == 400 and "query: 4097 jobs; at most 4096" in r.text, r.text


def test_get_reward_scores_a_completion_with_a_lone_surrogate_as_a_failing_sample(http_farm):
    # As an embedded farm does: the sample scores 0, the request's others are scored.
    body = '{"query": ["def f():\\n    return 1 # \\ud800\\n", "def f():\\n    return 1\\n"], ' + (
        '"labels": [["assert f() == 1"], ["assert f() == 1"]]}'
    )
    r = requests.post(
        f"{http_farm.url}/get_reward", data=body, headers={"Content-Type": "application/json"}, timeout=60
    )
    assert r.status_code == 200 and r.json()["rewards"] == [0.0, 1.0], r.text


def test_run_code_names_a_limit_that_is_no_number(http_farm):
    # NaN got a 422 at the body, naming nothing; infinity was clamped without a word.
    for value in ("NaN", "Infinity"):
        body = '{"code": "print(1)", "language": "python", "run_timeout": ' + value + "}"
        r = requests.post(
            f"{http_farm.url}/run_code", data=body, headers={"Content-Type": "application/json"}, timeout=60
        )
        assert r.status_code == 422 and r.json()["detail"][0]["loc"] == ["body", "run_timeout"], r.text
