"""Raw runs in the real sandbox: what a program printed, how it ended, which limit ended it."""

import base64

import pytest

from executor import Verdict


def raw(stdin="", **more):
    return [{"raw": {"stdin": stdin, **more}}]


def one(result):
    (test,) = result.tests
    return test, test.output


def test_stdout_stderr_and_a_clean_exit(run):
    r = run("import sys\nprint(sum(map(int, input().split())))\nprint('note', file=sys.stderr)", raw("1 2\n"))
    test, out = one(r)
    assert r.verdict is Verdict.PASSED and test.verdict is Verdict.PASSED
    assert (out.stdout, out.stderr, out.exit_code, out.signal, out.limit) == ("3\n", "note\n", 0, None, None)
    assert out.cpu_ms > 0 and out.wall_ms > 0 and not out.truncated


def test_an_uncaught_exception_prints_the_interpreters_traceback_and_exits_1(run):
    test, out = one(run("print('before')\nx = {}\nx['k']\n", raw()))
    assert test.verdict is Verdict.RUNTIME_ERROR and out.exit_code == 1 and out.stdout == "before\n"
    assert out.stderr.startswith("Traceback (most recent call last):\n")
    assert 'File "<program>", line 3, in <module>' in out.stderr and out.stderr.endswith("KeyError: 'k'\n")
    assert "sandbox" not in out.stderr  # the runner's own frames are not the program's


@pytest.mark.parametrize(
    "program, code, stderr",
    [
        ("import sys\nsys.exit(3)", 3, ""),
        ("import sys\nsys.exit('bye')", 1, "bye\n"),
        ("import sys\nsys.exit(0)", 0, ""),
        ("import sys\nsys.exit()", 0, ""),
        ("import os\nprint('x', flush=True)\nos._exit(7)", 7, ""),
        ("raise SystemExit(256 + 4)", 4, ""),
        # exit() and quit() are there, as `site` puts them there for `python3 prog.py`.
        ("print(1)\nexit()\nprint(2)", 0, ""),
        ("quit(5)", 5, ""),
        ("exit('bye')", 1, "bye\n"),
        # True and False are ints to the interpreter; a code beyond a C long exits 255.
        ("import sys\nsys.exit(False)", 0, ""),
        ("import sys\nsys.exit(True)", 1, ""),
        ("import sys\nsys.exit(2 ** 100)", 255, ""),
        ("import sys\nsys.exit(-1)", 255, ""),
    ],
)
def test_exit_statuses_are_the_interpreters(run, program, code, stderr):
    test, out = one(run(program, raw()))
    assert out.exit_code == code and out.stderr == stderr and out.signal is None
    assert test.verdict is (Verdict.PASSED if code == 0 else Verdict.RUNTIME_ERROR)


def test_a_syntax_error_is_reported_as_such(run):
    test, out = one(run("def f(:\n    pass\n", raw()))
    assert test.verdict is Verdict.SYNTAX_ERROR and out.exit_code == 1 and "SyntaxError" in out.stderr


def test_a_cpu_loop_ends_on_the_time_limit(run):
    test, out = one(run("while True:\n    pass\n", raw(), limits={"cpu_s": 0.3, "wall_s": 5}))
    assert test.verdict is Verdict.TIMEOUT and out.limit == "timeout"
    assert out.exit_code is None and out.signal == "SIGKILL"


def test_a_sleeper_ends_on_the_wall_clock_limit(run):
    test, out = one(run("import time\nprint('up', flush=True)\ntime.sleep(60)\n", raw(), limits={"wall_s": 0.5}))
    assert test.verdict is Verdict.TIMEOUT and out.limit == "timeout" and out.stdout == "up\n"


def test_memory_beyond_the_limit_is_the_memory_limit(run):
    test, out = one(run("x = bytearray(1 << 30)\n", raw(), limits={"memory_mb": 128}))
    assert test.verdict is Verdict.MEMORY_EXCEEDED and out.limit == "memory"
    assert out.exit_code == 1 and "MemoryError" in out.stderr


def test_output_past_the_limit_is_cut_and_says_so(run):
    program = "import sys\nprint('e' * 99, file=sys.stderr, flush=True)\nprint('x' * (1 << 20))\n"
    test, out = one(run(program, raw(), limits={"output_kb": 8}))
    assert test.verdict is Verdict.OUTPUT_EXCEEDED and out.limit == "output" and out.truncated
    assert out.signal == "SIGKILL" and out.exit_code is None  # ended by the limit, not by a broken pipe
    assert out.stderr == "e" * 99 + "\n" and 0 < len(out.stdout) <= 8 * 1024 and set(out.stdout) == {"x"}


def test_a_signal_is_named(run):
    test, out = one(run("import os, signal\nos.kill(os.getpid(), signal.SIGSEGV)\n", raw()))
    assert test.verdict is Verdict.RUNTIME_ERROR and out.signal == "SIGSEGV" and out.exit_code is None
    assert out.limit is None


def test_input_files_are_written_and_asked_files_fetched_back(run):
    program = (
        "data = open('in/a.txt').read()\n"
        "open('out.txt', 'w').write(data.upper())\n"
        "open('bin', 'wb').write(bytes(range(256)))\n"
        "print(sorted(__import__('os').listdir('.')))\n"
    )
    files = {"in/a.txt": base64.b64encode(b"hello").decode()}
    test, out = one(run(program, raw(files=files, fetch_files=["out.txt", "bin", "missing.txt"])))
    assert test.verdict is Verdict.PASSED and out.stdout == "['bin', 'in', 'out.txt']\n"
    got = {k: base64.b64decode(v) for k, v in out.files}
    assert got == {"out.txt": b"HELLO", "bin": bytes(range(256))}


def test_each_run_starts_in_an_empty_directory(run):
    first = run("import os\nprint(os.listdir('.'))\nopen('left', 'w').write('x')\n", raw())
    again = run("import os\nprint(os.listdir('.'))\n", raw())
    assert one(first)[1].stdout == "[]\n" and one(again)[1].stdout == "[]\n"


def test_a_forged_report_changes_nothing_the_program_could_not_choose(run):
    forge = (
        "import os, json\n"
        "body = json.dumps({'c': 'syntax', 'f': {'secret': 'aGk='}}).encode()\n"
        "os.write(4, len(body).to_bytes(4, 'big') + body)\n"
        "print('done')\n"
    )
    test, out = one(run(forge, raw(fetch_files=["x"])))
    assert test.verdict is Verdict.PASSED and out.exit_code == 0 and out.files == () and out.stdout == "done\n"


def test_several_runs_in_one_job_each_report_their_own(run):
    r = run("print(int(input()) * 2)", raw("1\n") + raw("x\n") + raw("3\n"))
    assert [t.verdict for t in r.tests] == [Verdict.PASSED, Verdict.RUNTIME_ERROR, Verdict.PASSED]
    assert [t.output.stdout for t in r.tests] == ["2\n", "", "6\n"] and r.pass_rate == pytest.approx(2 / 3)


def test_exit_ends_a_stdin_stdout_program_as_the_interpreter_would(run):
    program = "n = int(input())\nif n == 1:\n    print('YES')\n    exit()\nprint('NO')\nquit()\n"
    tests = [{"stdin": "1\n", "expected_stdout": "YES\n"}, {"stdin": "2\n", "expected_stdout": "NO\n"}]
    assert run(program, tests).pass_rate == 1.0


def test_a_sandboxfusion_run_may_start_processes(pool):
    # SandboxFusion runs a program as a plain process, where `subprocess.run` works: a
    # /run_code job allows what a bash job does (16 processes); an assert or stdin/stdout job
    # still allows none unless it asks.
    from broker import runcode
    from executor import JobRules, Limits

    program = "import subprocess\nprint(subprocess.run(['echo', 'hi'], capture_output=True, text=True).stdout)\n"
    job = runcode.job_for(runcode.RunCodeRequest(code=program, language="python"), Limits(), JobRules())
    _test, out = one(pool.run(job))
    assert (out.stdout, out.exit_code) == ("hi\n\n", 0), out


def test_a_run_ends_with_its_process_not_with_what_it_left_behind(pool):
    # A child that closes its stdio and lives on still held the run's report pipe (a fork
    # inherits every descriptor): the run waited for the time limit where Python ends at once.
    # One that keeps the run's stdout is still waited for, as SandboxFusion waits for its output.
    from broker import runcode
    from executor import JobRules, Limits

    def run_code(program):
        request = runcode.RunCodeRequest(code=program, language="python", run_timeout=3)
        return one(pool.run(runcode.job_for(request, Limits(), JobRules())))[1]

    left = "import os, time\nif os.fork() == 0:\n    os.close(0); os.close(1); os.close(2)\n    time.sleep(10)\n    os._exit(0)\n"
    out = run_code(left + "print('main')\n")
    assert (out.stdout, out.exit_code, out.limit) == ("main\n", 0, None), out  # not the time limit
    late = "import os, time\nif os.fork() == 0:\n    time.sleep(0.3)\n    print('late', flush=True)\n    os._exit(0)\n"
    out = run_code(late + "print('main', flush=True)\n")
    assert (out.stdout, out.exit_code, out.limit) == ("main\nlate\n", 0, None), out
