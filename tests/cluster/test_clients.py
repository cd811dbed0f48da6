"""The ecosystem's own clients against `acefarm serve --http-port`: the sandbox-fusion SDK,
verl's sandbox_fusion reward utilities, and OpenRLHF's remote and local reward paths.
Real server processes, the clients' unchanged code (tests/cluster/clients.py imports verl and
OpenRLHF without their heavy dependencies)."""

import asyncio
import json
import pathlib

import pytest
import requests

from .clients import load

sandbox_fusion = pytest.importorskip("sandbox_fusion", reason="pip install -e '.[dev]' installs sandbox-fusion")

ROOT = pathlib.Path(__file__).resolve().parents[2]
ADD = "a, b = map(int, input().split())\nprint(a + b)\n"


def sdk_run(farm, code, max_attempts=1, **fields):
    request = sandbox_fusion.RunCodeRequest(code=code, language=fields.pop("language", "python"), **fields)
    return sandbox_fusion.run_code(request, endpoint=farm.url, max_attempts=max_attempts)


# -- the sandbox-fusion SDK ----------------------------------------------------------------------


def test_sdk_runs_a_right_program_on_stdin(http_farm):
    resp = sdk_run(http_farm, ADD, stdin="1 2\n")
    assert resp.status == sandbox_fusion.RunStatus.Success and resp.message == ""
    assert resp.compile_result is None and resp.files == {}
    run = resp.run_result
    assert run.status == sandbox_fusion.CommandRunStatus.Finished and run.return_code == 0
    assert (run.stdout, run.stderr) == ("3\n", "") and run.execution_time >= 0
    assert sandbox_fusion.summary_run_code_result(resp, sandbox_fusion.SummaryMapping()) == "Success"


def test_sdk_sees_stderr_and_exit_codes_of_failing_programs(http_farm):
    resp = sdk_run(http_farm, "import sys\nprint('partial')\nprint('bad input', file=sys.stderr)\nsys.exit(4)\n")
    assert resp.status == sandbox_fusion.RunStatus.Failed
    run = resp.run_result
    assert (run.status, run.return_code, run.stdout, run.stderr) == ("Finished", 4, "partial\n", "bad input\n")
    crash = sdk_run(http_farm, "def f():\n    return 1 / 0\nf()\n").run_result
    assert crash.return_code == 1 and crash.stderr.endswith("ZeroDivisionError: division by zero\n")
    assert "line 2, in f" in crash.stderr
    syntax = sdk_run(http_farm, "print('unclosed'\n")
    assert (
        syntax.status == "Failed" and syntax.run_result.return_code == 1 and "SyntaxError" in syntax.run_result.stderr
    )
    mapping = sandbox_fusion.SummaryMapping(RunFailed="RunFailed")
    assert sandbox_fusion.summary_run_code_result(resp, mapping) == "RunFailed"


def test_sdk_sees_a_time_limit(http_farm):
    resp = sdk_run(http_farm, "print('started', flush=True)\nwhile True:\n    pass\n", run_timeout=0.5)
    run = resp.run_result
    assert resp.status == "Failed" and run.status == "TimeLimitExceeded" and run.return_code is None
    assert run.stdout == "started\n" and run.stderr == ""
    mapping = sandbox_fusion.SummaryMapping(RunTimeout="RunTimeout")
    assert sandbox_fusion.summary_run_code_result(resp, mapping) == "RunTimeout"


def test_sdk_files_go_in_and_come_back(http_farm):
    import base64

    code = "text = open('data/in.txt').read()\nopen('out.txt', 'w').write(text[::-1])\nprint(len(text))\n"
    resp = sdk_run(
        http_farm,
        code,
        files={"data/in.txt": base64.b64encode(b"abc").decode()},
        fetch_files=["out.txt", "absent.txt"],
    )
    assert resp.status == "Success" and resp.run_result.stdout == "3\n"
    assert {k: base64.b64decode(v) for k, v in resp.files.items()} == {"out.txt": b"cba"}


def test_sdk_async_client(http_farm):
    async def both():
        requests_ = [sandbox_fusion.RunCodeRequest(code=ADD, stdin=f"{i} 1\n", language="python") for i in range(4)]
        return await asyncio.gather(
            *(sandbox_fusion.run_code_async(r, endpoint=http_farm.url, max_attempts=1) for r in requests_)
        )

    assert [r.run_result.stdout for r in asyncio.run(both())] == ["1\n", "2\n", "3\n", "4\n"]


def test_sdk_gets_a_sandbox_error_for_a_language_the_farm_does_not_run(http_farm):
    with pytest.raises(Exception, match="language 'php' is not available on this farm"):
        sdk_run(http_farm, "<?php echo 1;", language="php")


def test_sdk_builds_and_runs_a_cpp_program(http_farm):
    if "cpp" not in requests.get(f"{http_farm.url}/v1/info", timeout=30).json()["languages"]:
        pytest.skip("this machine has no C++ toolchain (make setup installs g++)")
    code = "#include <iostream>\nint main(){long long a,b;std::cin>>a>>b;std::cout<<a+b<<std::endl;}\n"
    resp = sdk_run(http_farm, code, stdin="1 2\n", language="cpp")
    assert resp.status == "Success" and resp.run_result.stdout == "3\n" and resp.run_result.return_code == 0
    assert resp.compile_result.status == "Finished" and resp.compile_result.return_code == 0
    assert sandbox_fusion.summary_run_code_result(resp, sandbox_fusion.SummaryMapping()) == "Success"
    bad = sdk_run(http_farm, "int main( {", language="cpp")
    assert bad.status == "Failed" and bad.run_result is None and "error" in bad.compile_result.stderr
    mapping = sandbox_fusion.SummaryMapping(CompileFailed="CompileFailed")
    assert sandbox_fusion.summary_run_code_result(bad, mapping) == "CompileFailed"


def test_an_unknown_language_is_sandboxfusions_422(http_farm):
    resp = requests.post(f"{http_farm.url}/run_code", json={"code": "x", "language": "cobol"}, timeout=30)
    assert resp.status_code == 422
    (error,) = resp.json()["detail"]
    assert error["type"] == "literal_error" and error["loc"] == ["body", "language"] and error["input"] == "cobol"
    missing = requests.post(f"{http_farm.url}/run_code", json={"language": "python"}, timeout=30)
    assert missing.status_code == 422 and missing.json()["detail"][0]["loc"] == ["body", "code"]


def test_ping(http_farm):
    resp = requests.get(f"{http_farm.url}/v1/ping", timeout=30)
    assert resp.status_code == 200 and resp.json() == "pong"


# -- verl ----------------------------------------------------------------------------------------


def test_verl_compute_score_with_inputs_and_outputs(http_farm):
    vsf = load("verl", "verl.utils.reward_score.sandbox_fusion")
    url = f"{http_farm.url}/run_code"
    truth = {"inputs": ["1 2\n", "10 20\n", "-5 5\n"], "outputs": ["3\n", "30\n", "0\n"]}
    right = f"Here it is:\n```python\n{ADD}```\n"
    wrong = "```python\na, b = map(int, input().split())\nprint(a + b if a > 0 else 99)\n```"
    crash = "```python\nprint(1 / 0)\n```"
    loops = "```python\nwhile True:\n    pass\n```"
    score, meta = vsf.compute_score(url, None, 1024, right, json.dumps(truth))
    assert score == 1.0 and [m["status"] for m in meta] == ["success"] * 3
    assert vsf.compute_score(url, None, 1024, wrong, truth)[0] == pytest.approx(2 / 3)
    assert vsf.compute_score(url, None, 1024, crash, truth)[0] == 0.0
    score, meta = vsf.compute_score(url, None, 1024, loops, truth, timeout=1)
    assert score == 0.0 and all(m["status"] == "timeout" for m in meta)


def test_verl_call_based_ground_truth(http_farm):
    vsf = load("verl", "verl.utils.reward_score.sandbox_fusion")
    url = f"{http_farm.url}/run_code"
    truth = {"inputs": ["[1, 2, 3]\n2", "[5]\n9"], "outputs": ["[3, 4, 5]", "[14]"], "fn_name": "add_all"}
    right = "```python\nclass Solution:\n    def add_all(self, xs: List[int], k: int) -> List[int]:\n        return [x + k for x in xs]\n```"
    wrong = "```python\ndef add_all(xs, k):\n    return xs\n```"
    assert vsf.compute_score(url, None, 1024, right, truth)[0] == 1.0
    assert vsf.compute_score(url, None, 1024, wrong, truth)[0] == 0.0


# -- OpenRLHF ------------------------------------------------------------------------------------

PROMPT = "<|user|>Write add(a, b).<|assistant|>"
LABEL = ["assert add(1, 2) == 3", "assert add(-1, 1) == 0", "assert add(2, 2) == 5"]


def _openrlhf_rewards(executor, queries, prompts, labels):
    agent = executor
    fetch = agent._fetch_rewards_via_func if agent.reward_func else agent._fetch_rewards_via_http
    return asyncio.run(fetch(queries, prompts, labels))


def test_openrlhf_remote_reward(http_farm):
    agent = load("openrlhf", "openrlhf.utils.agent")
    executor = agent.SingleTurnAgentExecutor(remote_rm_url=f"{http_farm.url}/get_reward")
    right = PROMPT + "```python\ndef add(a, b):\n    return a + b\n```"
    (info,) = _openrlhf_rewards(executor, [right], [PROMPT], [LABEL])
    assert info["rewards"] == [pytest.approx(2 / 3)] and info["scores"] == info["rewards"]
    assert info["extra_logs"] == {"pass_rate": [pytest.approx(2 / 3)], "infra_error": [0.0], "prompt_found": [1.0]}
    wrong = PROMPT + "def add(a, b):\n    return abs(a) + b\n"  # unfenced: the whole completion
    stdio = [{"stdin": "2 3\n", "expected_stdout": "5\n"}]
    program = PROMPT + f"```python\n{ADD}```"
    (w,) = _openrlhf_rewards(executor, [wrong], [PROMPT], [json.dumps(LABEL)])
    (s,) = _openrlhf_rewards(executor, [program], [PROMPT], [json.dumps({"tests": stdio})])
    assert w["rewards"] == [pytest.approx(1 / 3)] and s["rewards"] == [1.0]


def test_openrlhf_remote_reward_binary_and_a_bad_label(http_farm):
    agent = load("openrlhf", "openrlhf.utils.agent")
    executor = agent.SingleTurnAgentExecutor(remote_rm_url=f"{http_farm.url}/get_reward?binary=true")
    right = PROMPT + "```python\ndef add(a, b):\n    return a + b\n```"
    (info,) = _openrlhf_rewards(executor, [right], [PROMPT], [LABEL[:2]])
    assert info["rewards"] == [1.0]
    (info,) = _openrlhf_rewards(executor, [right], [PROMPT], [LABEL])
    assert info["rewards"] == [0.0] and info["extra_logs"]["pass_rate"] == [pytest.approx(2 / 3)]
    resp = requests.post(
        f"{http_farm.url}/get_reward",
        json={"query": [right], "prompts": [PROMPT], "labels": [[{"call": 1}]]},
        timeout=30,
    )
    assert resp.status_code == 400 and resp.json()["field"] == "labels[0][0].call"


def test_openrlhf_local_reward_function_file(http_farm, monkeypatch):
    agent = load("openrlhf", "openrlhf.utils.agent")
    monkeypatch.setenv("ACEFARM_SERVER", f"127.0.0.1:{http_farm.port}")
    path = ROOT / "trainer" / "openrlhf_reward.py"
    executor = agent.SingleTurnAgentExecutor(remote_rm_url=str(path))  # loaded by path, as OpenRLHF does
    assert executor.reward_func is not None
    right = PROMPT + "```python\ndef add(a, b):\n    return a + b\n```"
    (info,) = _openrlhf_rewards(executor, [right], [PROMPT], [LABEL])
    assert info["rewards"] == [pytest.approx(2 / 3)] and info["extra_logs"]["infra_error"] == [0.0]
