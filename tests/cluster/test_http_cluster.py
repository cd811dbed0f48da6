"""The HTTP API in cluster mode: raw runs travel through Celery and Redis with their output."""

import pytest
import requests

from .procs import start_http_server, start_worker

pytestmark = pytest.mark.slow


def test_run_code_and_raw_runs_through_the_cluster(redis_server, tmp_path):
    worker = start_worker(redis_server, tmp_path, "w", "--workers", "1")
    server, _, http = start_http_server(tmp_path, "--broker", redis_server.url)
    url = f"http://127.0.0.1:{http}"
    try:
        body = {
            "code": "import sys\nprint(input()[::-1])\nprint('e', file=sys.stderr)\nsys.exit(3)",
            "stdin": "abc\n",
            "language": "python",
        }
        first = requests.post(f"{url}/run_code", json=body, timeout=120).json()
        assert first["status"] == "Failed" and first["run_result"]["return_code"] == 3
        assert (first["run_result"]["stdout"], first["run_result"]["stderr"]) == ("cba\n", "e\n")
        again = requests.post(f"{url}/run_code", json=body, timeout=120).json()  # from the Redis cache
        assert again["run_result"] == first["run_result"]
        job = {"id": "c1", "program": "print(2 * int(input()))", "tests": [{"raw": {"stdin": "21\n"}}]}
        result = requests.post(f"{url}/v1/execute", json=job, timeout=120).json()
        assert result["verdict"] == "passed" and result["tests"][0]["output"]["stdout"] == "42\n"
    finally:
        server.kill()
        worker.kill()
