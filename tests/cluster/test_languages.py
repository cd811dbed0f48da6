"""Languages across the farm's front ends, with real processes: what `acefarm serve` offers
(its pool's languages, or its live workers'), jobs in a language the farm lacks refused with the
languages it has, and a cluster that sends each language's jobs only to the workers that run it."""

import json
import os
import signal
import subprocess
import threading
import time

import grpc
import pytest
import redis
import requests

from broker import registry
from broker.client import Client
from executor import Verdict

from .procs import ACEFARM, ROOT, free_port, scrape, start_http_server, start_server, start_worker, wait_until

pytestmark = pytest.mark.slow

CPP_SUM = "#include <iostream>\nint main(){long long a,b;std::cin>>a>>b;std::cout<<a+b<<std::endl;}\n"
CPP_WRONG = CPP_SUM.replace("a+b", "a-b")
C_SUM = '#include <stdio.h>\nint main(){long long a,b;scanf("%lld %lld",&a,&b);printf("%lld\\n",a+b);}\n'
CPP_SLOW_DOUBLE = (
    "#include <chrono>\n#include <iostream>\n#include <thread>\n"
    "int main(){long long a;std::cin>>a;std::this_thread::sleep_for(std::chrono::milliseconds(250));"
    "std::cout<<2*a<<std::endl;}\n"
)


def sums(i):
    return [
        {"stdin": f"{i} 2\n", "expected_stdout": f"{i + 2}\n"},
        {"stdin": f"-{i} 5\n", "expected_stdout": f"{5 - i}\n"},
    ]


def job(job_id, language, program, i=1):
    return {"id": job_id, "language": language, "program": program, "tests": sums(i)}


def refused(farm, data):
    with pytest.raises(grpc.RpcError) as err:
        farm.execute(data)
    return err.value.code(), err.value.details()


def score_cli(tmp_path, *args):
    """`acefarm score` of three lines (C++, Rust, Python): (exit status, output lines)."""
    src, dst = tmp_path / "in.jsonl", tmp_path / f"out-{time.monotonic_ns()}.jsonl"
    lines = [
        job("l/cpp", "cpp", CPP_SUM),
        job("l/rust", "rust", "fn main() {}"),
        {"id": "l/py", "program": "print(sum(map(int, input().split())))", "tests": sums(3)},
    ]
    src.write_text("".join(json.dumps(line) + "\n" for line in lines))
    out = subprocess.run(
        [*ACEFARM, "score", str(src), "-o", str(dst), *args], cwd=ROOT, capture_output=True, text=True, timeout=300
    )
    return out.returncode, [json.loads(line) for line in dst.read_text().splitlines()]


def check_scored(rc, out, available):
    assert rc == 3  # a line was rejected, the rest scored
    assert [line.get("verdict") for line in out] == ["passed", None, "passed"]
    assert out[1]["line"] == 2 and out[1]["id"] == "l/rust" and out[1]["error"]["field"] == "language"
    assert out[1]["error"]["message"] == f"language 'rust' is not available on this farm (available: {available})"


def test_embedded_serve_offers_its_pools_languages(tmp_path):
    metrics = free_port()
    proc, port, http = start_http_server(
        tmp_path, "--workers", "1", "--languages", "c,cpp", "--metrics-port", str(metrics)
    )
    url = f"http://127.0.0.1:{http}"
    try:
        with Client(f"127.0.0.1:{port}", timeout_s=120) as farm:
            info = farm.info()
            assert list(info.languages) == ["python", "c", "cpp"]
            assert set(info.toolchains) == {"python", "c", "cpp"} and info.toolchains["python"].startswith("Python 3")
            assert info.toolchains["cpp"].startswith("C++17 (g++)") and info.toolchains["c"].startswith("C17 (gcc)")
            r = farm.execute(job("e/cpp", "cpp", CPP_SUM))
            assert r.verdict is Verdict.PASSED and r.build is not None
            assert farm.execute(job("e/c", "c", C_SUM)).verdict is Verdict.PASSED
            group = farm.score([CPP_SUM, CPP_WRONG], sums(4), group_id="g", language="cpp")
            assert group.pass_rates == [1.0, 0.0]
            code, details = refused(farm, job("e/rust", "rust", "fn main() {}"))
            assert code is grpc.StatusCode.FAILED_PRECONDITION
            assert details == "job 'e/rust': language 'rust' is not available on this farm (available: python, c, cpp)"

        body = requests.get(f"{url}/v1/info", timeout=30).json()
        assert body["languages"] == ["python", "c", "cpp"] and body["toolchains"] == dict(info.toolchains)
        no = requests.post(f"{url}/v1/execute", json=job("h/go", "go", "package main\nfunc main() {}\n"), timeout=60)
        assert no.status_code == 400 and no.headers["X-AceFarm-Code"] == "FAILED_PRECONDITION"
        assert no.json()["code"] == "FAILED_PRECONDITION" and no.json()["available"] == ["python", "c", "cpp"]
        assert no.json()["language"] == "go" and "'go' is not available" in no.json()["detail"]
        # gRPC's and HTTP's (the HTTP refusal is counted once its response has gone out)
        refusals = 'acefarm_rejected_total{code="FAILED_PRECONDITION"}'
        wait_until(lambda: scrape(metrics).get(refusals) == 2, 10, "both refusals counted")
        assert scrape(metrics)[refusals] == 2

        ran = requests.post(f"{url}/run_code", json={"code": CPP_SUM, "stdin": "1 2\n", "language": "cpp"}, timeout=60)
        ran = ran.json()
        assert ran["status"] == "Success" and ran["run_result"]["stdout"] == "3\n"
        assert ran["compile_result"]["status"] == "Finished" and ran["compile_result"]["return_code"] == 0
        bad = requests.post(f"{url}/run_code", json={"code": "int main({", "language": "cpp"}, timeout=60).json()
        assert bad["status"] == "Failed" and bad["run_result"] is None
        assert bad["compile_result"]["return_code"] == 1 and "error" in bad["compile_result"]["stderr"]
        node = requests.post(f"{url}/run_code", json={"code": "console.log(1)", "language": "nodejs"}, timeout=60)
        assert node.status_code == 200 and node.json()["status"] == "SandboxError"
        assert node.json()["message"] == "language 'nodejs' is not available on this farm (it runs: python, c, cpp)"

        check_scored(*score_cli(tmp_path, "--server", f"127.0.0.1:{port}"), "python, c, cpp")
    finally:
        proc.kill()
    check_scored(*score_cli(tmp_path, "--workers", "1", "--languages", "cpp"), "python, cpp")  # no server


def test_cluster_offers_and_routes_by_its_live_workers_languages(redis_server, tmp_path, monkeypatch):
    monkeypatch.setenv("ACEFARM_LANGUAGES", "c")  # the setting an operator uses, read by the worker
    c_worker = start_worker(redis_server, tmp_path, "c-worker", "--workers", "1")
    monkeypatch.delenv("ACEFARM_LANGUAGES")
    cpp_worker = start_worker(redis_server, tmp_path, "cpp-worker", "--workers", "1", "--languages", "cpp")
    server, port, http = start_http_server(tmp_path, "--broker", redis_server.url)
    r = redis.Redis.from_url(redis_server.url)
    published = lambda name: int(r.hget("acefarm:stats:jobs", name) or 0)  # noqa: E731
    try:
        with Client(f"127.0.0.1:{port}", timeout_s=120) as farm:
            info = farm.info()
            assert list(info.languages) == ["python", "c", "cpp"]
            assert info.toolchains["c"].startswith("C17 (gcc)") and info.toolchains["cpp"].startswith("C++17")

            cpp = farm.execute_many([job(f"cpp/{i}", "cpp", CPP_SUM, i) for i in range(6)])
            assert [x.verdict for x in cpp] == [Verdict.PASSED] * 6
            wait_until(lambda: published("cpp-worker") == 6, 30, "the C++ jobs counted")
            c = farm.execute_many([job(f"c/{i}", "c", C_SUM, i) for i in range(4)])
            assert [x.verdict for x in c] == [Verdict.PASSED] * 4
            wait_until(lambda: published("c-worker") == 4, 30, "the C jobs counted")
            assert published("cpp-worker") == 6  # each language only where it runs
            py = {"id": "py", "program": "print(sum(map(int, input().split())))", "tests": sums(2)}
            assert farm.execute(py).verdict is Verdict.PASSED  # Python everywhere, as before
            group = farm.score([CPP_SUM, CPP_WRONG], sums(9), group_id="g", language="cpp")
            assert group.pass_rates == [1.0, 0.0]

            code, details = refused(farm, job("rust", "rust", "fn main() {}"))
            assert code is grpc.StatusCode.FAILED_PRECONDITION
            assert details == "job 'rust': language 'rust' is not available on this farm (available: python, c, cpp)"

            ran = requests.post(
                f"http://127.0.0.1:{http}/run_code",
                json={"code": CPP_SUM, "stdin": "40 2\n", "language": "cpp"},
                timeout=60,
            ).json()
            assert ran["status"] == "Success" and ran["run_result"]["stdout"] == "42\n"

            status = subprocess.run(
                [*ACEFARM, "status", "--broker", redis_server.url, "--interval", "0.5"],
                cwd=ROOT,
                capture_output=True,
                text=True,
                timeout=60,
                env={**os.environ, "COLUMNS": "240"},
            )
            rows = {line.split()[1]: line for line in status.stdout.splitlines() if "-worker" in line}
            assert rows["c-worker"].rstrip(" │|").endswith("python c")
            assert rows["cpp-worker"].rstrip(" │|").endswith("python cpp")

            cpp_worker.kill(signal.SIGKILL)  # the only worker with C++: C++ is gone once its heartbeat lapses
            wait_until(lambda: list(farm.info().languages) == ["python", "c"], 30, "C++ gone from GetInfo")
            code, details = refused(farm, job("cpp/late", "cpp", CPP_SUM))
            assert code is grpc.StatusCode.FAILED_PRECONDITION and details.endswith("(available: python, c)")
            assert farm.execute(job("c/late", "c", C_SUM)).verdict is Verdict.PASSED
    finally:
        server.kill()
        c_worker.kill()
        cpp_worker.kill()


def test_a_cpp_worker_killed_mid_chunk_loses_nothing(redis_server, tmp_path):
    # One chunk at a time per worker, so that both take part; each in its language's queue.
    doomed = start_worker(redis_server, tmp_path, "doomed", "--workers", "1", "--threads", "1", "--languages", "cpp")
    survivor = start_worker(
        redis_server, tmp_path, "survivor", "--workers", "1", "--threads", "1", "--languages", "cpp"
    )
    metrics = free_port()
    server, port = start_server(
        tmp_path, "--broker", redis_server.url, "--visibility-timeout", "5", "--metrics-port", str(metrics)
    )
    r = redis.Redis.from_url(redis_server.url)
    n = 48
    jobs = [
        {
            "id": f"s{i}",
            "language": "cpp",
            "program": CPP_SLOW_DOUBLE,
            "tests": [{"stdin": f"{i}\n", "expected_stdout": f"{2 * i}\n"}],
        }
        for i in range(n)
    ]
    try:
        results = []
        with Client(f"127.0.0.1:{port}", timeout_s=300) as farm:
            thread = threading.Thread(target=lambda: results.extend(farm.execute_batch(jobs, chunk=n)))
            thread.start()
            wait_until(lambda: r.hlen(registry.holds_key("doomed")) > 0, 60, "the doomed worker holding a chunk")
            time.sleep(1.0)  # some of its jobs run, the rest wait on it
            doomed.kill(signal.SIGKILL)
            thread.join(timeout=240)
        assert not thread.is_alive()
        assert sorted(x.id for x in results) == sorted(j["id"] for j in jobs)  # each exactly once
        assert all(x.verdict is Verdict.PASSED for x in results), [
            x.to_dict() for x in results if x.verdict is not Verdict.PASSED
        ]
        assert int(r.hget("acefarm:stats:jobs", "survivor") or 0) > 0
        assert scrape(metrics)["acefarm_failovers_total"] >= 1  # the chunk it held, put back on its queue
        assert r.llen("acefarm.lang.cpp") == 0 and r.llen("acefarm") == 0
    finally:
        server.kill()
        survivor.kill()
