"""The farm inside a container: a pid namespace with its own /proc, the farm as PID 1 or under a
shell. firejail runs its command with no sandbox at all when it believes it is already inside
one; the farm must get a real sandbox there, or refuse to start, never run programs unconfined.
"""

import json
import pathlib
import shutil
import subprocess
import sys

import pytest

ROOT = pathlib.Path(__file__).resolve().parents[2]
DEMO = ROOT / "broker" / "examples" / "demo.jsonl"
ACEFARM = [sys.executable, "-m", "trainer.cli"]

pytestmark = pytest.mark.skipif(shutil.which("unshare") is None, reason="needs util-linux unshare")

HOSTILE = [
    {
        "id": "net",
        "program": "import socket\ns = socket.create_connection(('127.0.0.1', 6379), timeout=2)\nOK = True\n",
        "tests": ["assert OK"],
    },
    {
        "id": "host-files",
        "program": f"DATA = open({str(ROOT / 'pyproject.toml')!r}).read()\n",
        "tests": ["assert len(DATA) > 0"],
    },
    {"id": "ns", "program": "import os\nNET = os.readlink('/proc/self/ns/net')\n", "tests": ["assert NET"]},
]


def score(tmp_path, name, prefix, jobs=DEMO):
    out = tmp_path / f"{name}.out.jsonl"
    cmd = [*prefix, *ACEFARM, "score", str(jobs), "-o", str(out), "--workers", "1"]
    run = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert run.returncode == 0, run.stderr[-2000:]
    return {r["id"]: (r.get("verdict"), r.get("pass_rate"), r.get("error")) for r in map(json.loads, out.open())}


PID_NS = ["unshare", "--pid", "--fork", "--mount-proc"]


def test_the_demo_scores_the_same_in_a_pid_namespace_as_pid_1_and_under_a_shell(tmp_path):
    host = score(tmp_path, "host", [])
    assert score(tmp_path, "pid1", PID_NS) == host
    shell = [*PID_NS, "sh", "-c", '"$@"; exit $?', "sh"]  # sh is PID 1, the farm its child
    assert score(tmp_path, "sh", shell) == host
    assert sum(v == "passed" for v, _, _ in host.values()) >= 5


def test_programs_stay_confined_in_a_pid_namespace(tmp_path):
    jobs = tmp_path / "hostile.jsonl"
    jobs.write_text("".join(json.dumps(j) + "\n" for j in HOSTILE))
    got = score(tmp_path, "hostile", PID_NS, jobs)
    assert got["net"][:2] == ("failed", 0.0) and got["host-files"][:2] == ("failed", 0.0)  # the program died
    assert got["ns"][0] == "passed"


def test_a_sandbox_firejail_did_not_build_is_refused_not_used(tmp_path):
    # firejail told nothing about the container: it would run the zygote unconfined.
    script = (
        "from executor import slot, ExecutorConfig, Pool, SandboxUnavailable\n"
        "slot._FIREJAIL_ENV = dict(slot._ENV)\n"
        "try:\n"
        "    Pool(ExecutorConfig(slots=1)).start()\n"
        "    print('STARTED')\n"
        "except SandboxUnavailable as exc:\n"
        "    print('REFUSED', exc)\n"
    )
    run = subprocess.run([*PID_NS, sys.executable, "-c", script], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert run.stdout.startswith("REFUSED"), run.stdout + run.stderr[-2000:]
    assert "net" in run.stdout and "firejail did not confine it" in run.stdout


def without(cap):
    return ["setpriv", f"--bounding-set=-{cap}", f"--inh-caps=-{cap}"]


needs_root = pytest.mark.skipif(
    __import__("os").geteuid() != 0 or shutil.which("setpriv") is None, reason="needs root and setpriv"
)


@needs_root
@pytest.mark.parametrize("cap", ["sys_admin", "net_admin", "setuid", "mknod"])
def test_a_missing_capability_is_named_at_start(tmp_path, cap):
    cmd = [*without(cap), *ACEFARM, "score", str(DEMO), "-o", str(tmp_path / "o.jsonl")]
    run = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert run.returncode == 1 and f"CAP_{cap.upper()}" in run.stderr, run.stderr[-1000:]
    assert not (tmp_path / "o.jsonl").exists() or (tmp_path / "o.jsonl").read_text() == ""


@needs_root
def test_no_new_privs_is_named_at_start(tmp_path):
    cmd = ["setpriv", "--no-new-privs", *ACEFARM, "score", str(DEMO), "-o", str(tmp_path / "o.jsonl")]
    run = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert run.returncode == 1 and "no_new_privs" in run.stderr, run.stderr[-1000:]


@needs_root
@pytest.mark.parametrize("verb", [["serve", "--port", "0"], ["worker", "--broker", "redis://127.0.0.1:1/0"]])
def test_serve_and_worker_refuse_to_start_without_the_privileges(verb):
    run = subprocess.run(
        [*without("sys_admin"), *ACEFARM, *verb], cwd=ROOT, capture_output=True, text=True, timeout=120
    )
    assert run.returncode == 1 and "CAP_SYS_ADMIN" in run.stderr, run.stderr[-1000:]
