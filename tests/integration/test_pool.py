"""The executor end to end, under real firejail: verdicts, limits, slot failures."""

import inspect
import os
import signal
import threading
import time

import pytest

from executor import ExecutorConfig, Job, Pool, SandboxUnavailable, Verdict
from executor.languages.python import THREAD_ENV

P, F = Verdict.PASSED, Verdict.FAILED
ADD = "def add(a, b):\n    return a + b\n"


def verdicts(result):
    return [t.verdict for t in result.tests]


def test_assert_tests_pass_rate_and_messages(run):
    r = run(
        ADD, ["assert add(1, 2) == 3", "assert add(1, 2) == 4", "assert add('a', 'b') == 'ab'", "assert add(1) == 1"]
    )
    assert verdicts(r) == [P, F, P, Verdict.RUNTIME_ERROR]
    assert (r.passed, r.total, r.pass_rate, r.verdict) == (2, 4, 0.5, F)
    assert "gave 3" in r.tests[1].message and "TypeError" in r.tests[3].message
    assert r.cpu_ms > 0 and r.peak_kb > 0


def test_snippet_tests_humaneval_style(run):
    check = "def check(candidate):\n    assert candidate(2, 2) == 4\n    assert candidate(0, 0) == 0\n\ncheck(add)"
    assert run(ADD, [check]).verdict is P
    wrong = ADD.replace("a + b", "a - b")
    r = run(wrong, [check])
    assert r.verdict is F and r.tests[0].verdict is F


def test_a_programs_main_block_runs_only_as_a_script(run):
    # Under assert and call tests the program is loaded as a module, as AceCoder's and
    # HumanEval's evaluators exec it: its demo (input(), unittest.main()) does not run first.
    demo = ADD + 'if __name__ == "__main__":\n    print(add(int(input()), 1))\n'
    suite = ADD + (
        "import unittest\nclass T(unittest.TestCase):\n    def test(self):\n        self.assertEqual(add(1, 2), 3)\n"
        'if __name__ == "__main__":\n    unittest.main()\n'
    )
    for program in (demo, suite):
        tests = ["assert add(1, 2) == 3", {"call": "add", "args": [2, 2], "expected": 4}]
        assert run(program, tests).verdict is P
    # The test's own text still runs as __main__; stdin/stdout runs the program as a script.
    assert run(ADD, ["if __name__ == '__main__':\n    assert add(1, 2) == 3\nelse:\n    assert False"]).verdict is P
    assert run(demo, [{"stdin": "4\n", "expected_stdout": "5\n"}]).verdict is P
    # The module is a real one, found under its name (dataclasses with string annotations).
    typed = (
        "from __future__ import annotations\nimport sys\nfrom dataclasses import dataclass, field\n"
        "@dataclass\nclass Item:\n    name: str\n    tags: list[str] = field(default_factory=list)\n"
        "def f(x):\n    return sys.modules[__name__].Item(x).name\n"
    )
    assert run(typed, ["assert f('a') == 'a'", {"call": "f", "args": ["b"], "expected": "b"}]).verdict is P


def test_each_test_gets_its_own_cpu_limit(run):
    burn = "def burn(s):\n    import time\n    t = time.process_time()\n    while time.process_time() - t < s:\n        pass\n    return True\n"
    r = run(burn, ["assert burn(0.6)", "assert burn(0.6)", "assert burn(0.6)"], limits={"cpu_s": 1, "wall_s": 5})
    assert verdicts(r) == [P, P, P]
    r = run(burn, ["assert burn(0.1)", "assert burn(5)", "assert burn(0.1)"], limits={"cpu_s": 1, "wall_s": 5})
    assert verdicts(r) == [P, Verdict.TIMEOUT, Verdict.SKIPPED]  # AceCoder: a crash fails the rest
    assert "earlier test" in r.tests[2].message


def test_wall_clock_backstop(run):
    r = run("import time\n", ["assert time.sleep(30) is None"], limits={"cpu_s": 1, "wall_s": 1})
    assert verdicts(r) == [Verdict.TIMEOUT] and "wall-clock" in r.tests[0].message


def test_load_failures_fail_every_test(run):
    r = run("def f(:\n  pass", ["assert f() == 1", "assert f() == 2"])
    assert r.verdict is Verdict.SYNTAX_ERROR and verdicts(r) == [Verdict.SYNTAX_ERROR] * 2
    r = run("raise ValueError('boom')\n", ["assert 1 == 1"])
    assert verdicts(r) == [Verdict.RUNTIME_ERROR] and "boom" in r.tests[0].message
    r = run("while True:\n    pass\n", ["assert 1 == 1"], limits={"cpu_s": 0.5})
    assert verdicts(r) == [Verdict.TIMEOUT]


def test_memory_and_output_limits(run):
    r = run("def big():\n    return bytearray(400 * 2**20)\n", ["assert len(big()) > 0"], limits={"memory_mb": 256})
    assert verdicts(r) == [Verdict.MEMORY_EXCEEDED]
    # Beside assert tests stdout is dropped, bounded at 64 times output_kb: 400 KB of prints
    # pass under 64 KiB, not under 4 KiB.
    r = run("def spam():\n    print('y' * 4096 * 100)\n", ["assert spam() is None"], limits={"output_kb": 64})
    assert verdicts(r) == [Verdict.PASSED]
    r = run("def spam():\n    print('y' * 4096 * 100)\n", ["assert spam() is None"], limits={"output_kb": 4})
    assert verdicts(r) == [Verdict.OUTPUT_EXCEEDED]
    # On stdin/stdout tests stdout is the answer, kept up to output_kb; stderr is dropped.
    loud = "import sys\nprint('y' * 100_000, file=sys.stderr)\nprint(3)\n"
    r = run(loud, [{"stdin": "", "expected_stdout": "3\n"}], limits={"output_kb": 64})
    assert verdicts(r) == [Verdict.PASSED]
    r = run("print('y' * 100_000)\n", [{"stdin": "", "expected_stdout": "3\n"}], limits={"output_kb": 64})
    assert verdicts(r) == [Verdict.OUTPUT_EXCEEDED]


def test_call_tests(run):
    prog = "def pair(a, b):\n    return (a, b)\n"
    r = run(
        prog,
        [
            {"call": "pair", "args": [1, [2]], "expected": [1, [2]]},
            {"call": "pair", "args": [1, 2], "expected": [2, 1]},
            {"call": "nope", "args": [], "expected": None},
        ],
    )
    assert verdicts(r) == [P, F, Verdict.RUNTIME_ERROR]


def test_stdio_tests_and_checkers(run):
    prog = "import sys\nnums = list(map(float, sys.stdin.read().split()))\nprint(sum(nums) / len(nums))\n"
    r = run(
        prog,
        [
            {"stdin": "1 2 3\n", "expected_stdout": "2.0\n", "checker": "exact"},
            {"stdin": "1 2\n", "expected_stdout": "1.5000001", "checker": "float", "tolerance": 1e-6},
            {"stdin": "1 2\n", "expected_stdout": "1.6", "checker": "float", "tolerance": 1e-6},
            {"stdin": "", "expected_stdout": "0"},
        ],
    )
    assert verdicts(r) == [P, P, F, Verdict.RUNTIME_ERROR]
    assert "ZeroDivisionError" in r.tests[3].message


def test_stdio_exit_codes(run):
    r = run("print('ok')\nraise SystemExit(0)\n", [{"stdin": "", "expected_stdout": "ok"}])
    assert r.verdict is P
    r = run("print('ok')\nraise SystemExit(3)\n", [{"stdin": "", "expected_stdout": "ok"}])
    assert verdicts(r) == [Verdict.RUNTIME_ERROR]


def test_first_failure_mode(run):
    r = run(ADD, ["assert add(1, 1) == 2", "assert add(1, 1) == 3", "assert add(2, 2) == 4"], mode="first_failure")
    assert verdicts(r) == [P, F, Verdict.SKIPPED]


def test_programs_do_not_share_state(run):
    patched = "import math\nmath.pi = 3\ndef pi():\n    return math.pi\n"
    assert run(patched, ["assert pi() == 3"]).verdict is P
    assert run("import math\ndef pi():\n    return math.pi\n", ["assert pi() > 3.14"]).verdict is P
    assert run("open('left.txt', 'w').write('x')\n", ["assert 1 == 1"]).verdict is P
    r = run("import os\n", ["assert os.listdir('.') == []"])
    assert r.verdict is P


def test_many_jobs_in_order(pool):
    jobs = [
        Job.from_dict({"id": f"m{i}", "program": f"X = {i}\n", "tests": [f"assert X == {i}", f"assert X == {i + 1}"]})
        for i in range(60)
    ]
    results = list(pool.map(jobs))
    assert [r.id for r in results] == [j.id for j in jobs]
    assert all(verdicts(r) == [P, F] for r in results)


def _kill_busy_slots(pool, stop):
    while not stop.is_set():
        for slot in pool.slots:
            proc = slot.proc
            if slot.busy and proc is not None:
                try:
                    os.killpg(proc.pid, signal.SIGKILL)
                except OSError:
                    pass
        time.sleep(0.05)


@pytest.mark.slow
def test_dead_zygote_is_replaced_and_the_job_retried_once():
    sleepy = {
        "id": "sleepy",
        "program": "import time\n",
        "tests": ["assert time.sleep(1.5) is None"],
        "limits": {"wall_s": 5},
    }
    with Pool(ExecutorConfig(slots=1)) as pool:
        fut = pool.submit(Job.from_dict(sleepy))
        deadline = time.monotonic() + 10
        while not pool.slots[0].busy and time.monotonic() < deadline:
            time.sleep(0.01)
        time.sleep(0.3)
        os.killpg(pool.slots[0].proc.pid, signal.SIGKILL)  # the zygote dies mid-job, once
        r = fut.result(timeout=30)
        assert r.verdict is P and r.attempts == 2
        assert pool.stats["slot_restarts"] >= 1

        stop = threading.Event()  # now it dies on every attempt
        killer = threading.Thread(target=_kill_busy_slots, args=(pool, stop))
        killer.start()
        try:
            r = pool.run(Job.from_dict(dict(sleepy, id="doomed")))
        finally:
            stop.set()
            killer.join()
        assert r.verdict is Verdict.INFRA_ERROR and r.attempts == 2
        assert all(t.verdict is Verdict.INFRA_ERROR for t in r.tests) and r.pass_rate == 0
        # ...and the pool recovers for the next job
        assert pool.run(Job.from_dict({"id": "after", "program": ADD, "tests": ["assert add(1, 1) == 2"]})).verdict is P


def test_missing_firejail_refuses_to_start():
    with pytest.raises(SandboxUnavailable, match="insecure-no-sandbox"):
        Pool(ExecutorConfig(firejail=None, slots=1)).start()
    with pytest.raises(SandboxUnavailable, match="firejail"):
        Pool(ExecutorConfig(firejail="/nonexistent/firejail", slots=1)).start()


def test_missing_sandbox_user_refuses_to_start():
    if os.geteuid() != 0:
        pytest.skip("only root switches to the sandbox user")
    with pytest.raises(SandboxUnavailable, match="sandbox user"):
        Pool(ExecutorConfig(sandbox_user="no-such-user-acefarm", slots=1)).start()


def test_insecure_mode_runs_without_firejail_and_says_so(caplog, tmp_path):
    with caplog.at_level("WARNING"):
        with Pool(ExecutorConfig(insecure_no_sandbox=True, firejail=None, slots=1)) as pool:
            r = pool.run(Job.from_dict({"id": "i", "program": ADD, "tests": ["assert add(2, 3) == 5"]}))
    assert r.verdict is P
    assert "INSECURE" in caplog.text


def test_programs_are_deterministic_across_runs_and_slots(pool):
    prog = "import random\nR = random.random()\nS = list({'apple', 'kiwi', 'fig', 'plum', 'pear'})\n"
    jobs = [Job.from_dict({"id": f"d{i}", "program": prog, "tests": ["assert (R, S) == 1"]}) for i in range(6)]
    messages = {r.tests[0].message for r in pool.map(jobs)}
    assert len(messages) == 1, messages


def test_sandbox_sees_a_minimal_environment(run):
    env = {"PATH": "/usr/bin:/bin", "LANG": "C.UTF-8", "HOME": "/tmp/w", **THREAD_ENV}
    r = run(
        "import os, sys\nENV = dict(os.environ)\nP = sys.path\n", [f"assert ENV == {env!r}", "assert os.getuid() == 0"]
    )
    assert r.tests[0].verdict is P, r.tests[0].message
    assert r.tests[1].verdict is F  # never root inside


def test_the_sandbox_package_is_hidden_from_programs(run):
    r = run(
        "import sys\nMODS = sorted(m for m in sys.modules if 'acefarm' in m or 'sandbox' in m)\n",
        ["assert MODS == []", "assert len(sys.modules) > 50"],
    )
    assert [t.verdict for t in r.tests] == [P, P], r.tests


def _memory_holds(pid, needles):
    """Which of `needles` (bytes) some readable mapping of process `pid` holds (/proc/PID/mem)."""
    with open(f"/proc/{pid}/maps") as f:
        regions = [line.split() for line in f]
    found = set()
    with open(f"/proc/{pid}/mem", "rb", 0) as mem:
        for parts in regions:
            if parts[1][0] != "r" or (len(parts) > 5 and parts[5] in ("[vvar]", "[vsyscall]")):
                continue
            start, end = (int(x, 16) for x in parts[0].split("-"))
            try:
                mem.seek(start)
                data = mem.read(end - start)
            except (OSError, ValueError, OverflowError):
                continue
            found.update(n for n in needles if n in data)
    return found


@pytest.mark.skipif(os.geteuid() != 0, reason="reads another user's process memory: needs root")
def test_the_slot_never_holds_the_sandbox_sources(pool):
    """The sources are compiled in a throwaway child: what the compiler leaves behind (megabytes
    Python keeps once freed) would otherwise be copied by every fork. Comments reach no code
    object, so one found in the zygote or the fork server means the source text got there."""
    import psutil

    from executor.sandbox import codec

    comment = next(
        line.partition("#")[2].strip().encode()
        for line in inspect.getsource(codec).splitlines()
        if line.lstrip().startswith("#") and len(line.strip()) > 60
    )
    docstring = codec._nt_shapes.__doc__.splitlines()[0].encode()  # kept: a code object's constant
    slot = pool.slots[0]
    pool.run(Job.from_dict({"id": "warm", "program": ADD, "tests": ["assert add(1, 2) == 3"]}))
    names = {}  # pid -> (name, parent pid) of the slot's processes; the last job's child may be gone
    for p in psutil.Process(slot.proc.pid).children(recursive=True):
        try:
            names[p.pid] = (p.name(), p.ppid())
        except psutil.NoSuchProcess:
            pass
    python = [pid for pid, (name, _) in names.items() if name.startswith("python")]
    (zygote,) = [pid for pid in python if names[pid][1] not in python]
    (fork_server,) = [pid for pid in python if names[pid][1] == zygote]  # the jobs' children are its own
    for pid in (zygote, fork_server):
        assert _memory_holds(pid, [comment, docstring]) == {docstring}, pid


def test_children_are_non_dumpable_in_their_own_session(run):
    prog = (
        "import ctypes, os\nlibc = ctypes.CDLL(None)\n"
        "DUMPABLE = libc.prctl(3, 0, 0, 0, 0)\nSESSION_LEADER = os.getsid(0) == os.getpid()\n"
    )
    r = run(prog, ["assert DUMPABLE == 0", "assert SESSION_LEADER"])
    assert verdicts(r) == [P, P]


def test_cancel_stops_a_running_program_and_the_pool_recovers():
    import concurrent.futures

    with Pool(ExecutorConfig(slots=1)) as pool:
        spin = Job.from_dict(
            {
                "id": "spin",
                "program": "while True:\n    pass\n",
                "tests": ["assert 1"],
                "limits": {"cpu_s": 30, "wall_s": 60},
            }
        )
        queued = Job.from_dict({"id": "queued", "program": ADD, "tests": ["assert add(1, 1) == 2"]})
        running, waiting = pool.submit(spin), pool.submit(queued)
        deadline = time.monotonic() + 10
        while not pool.slots[0].busy and time.monotonic() < deadline:
            time.sleep(0.01)
        assert pool.cancel(waiting) and waiting.cancelled()
        assert pool.cancel(running)
        with pytest.raises(concurrent.futures.CancelledError):
            running.result(timeout=10)  # long before the 30 s the program may use
        assert pool.run(Job.from_dict({"id": "next", "program": ADD, "tests": ["assert add(2, 2) == 4"]})).verdict is P


def test_slots_run_as_their_own_users_when_there_are_some():
    import pwd

    from executor.firejail import slot_user
    from executor.users import SLOT_USERS

    config = ExecutorConfig(slots=40)
    try:
        pwd.getpwnam(f"{config.sandbox_user}-0")
    except KeyError:
        pytest.skip("no per-slot sandbox users on this machine")
    assert slot_user(config, 0)[0].pw_name == f"{config.sandbox_user}-0"
    assert slot_user(config, SLOT_USERS + 1)[0].pw_name == f"{config.sandbox_user}-1"
    assert slot_user(config, 3)[1] == 2  # 40 slots over 32 users: two share each of the first ones
    assert slot_user(ExecutorConfig(slots=4), 3)[1] == 1


def test_a_slot_that_fails_its_self_test_is_refused(monkeypatch):
    """Every slot scores the language's self-test jobs before any real job; verdicts other than
    the expected ones (here: expectations flipped, as a broken sandbox would answer) refuse it."""
    from executor.languages import python as python_lang

    (job, expected), *rest = python_lang.SELF_TEST
    flipped = tuple("failed" if v == "passed" else "passed" for v in expected)
    monkeypatch.setattr(python_lang, "SELF_TEST", ((job, flipped), *rest))
    with pytest.raises(SandboxUnavailable, match="self-test"):
        Pool(ExecutorConfig(slots=1)).start()


def test_a_slot_runs_on_the_cpu_it_is_pinned_to():
    """Every process of a pinned slot, the program's included, runs on that one CPU; an
    unpinned slot's program may run on any usable CPU."""
    usable = sorted(os.sched_getaffinity(0))
    probe = "import os\nCPUS = sorted(os.sched_getaffinity(0))\n"
    for config, expected in (
        (ExecutorConfig(slots=1, cpus=(usable[-1],)), [usable[-1]]),
        (ExecutorConfig(slots=1, pin_slots=False), usable),
    ):
        with Pool(config) as pool:
            r = pool.run(Job.from_dict({"id": "cpu", "program": probe, "tests": [f"assert CPUS == {expected!r}"]}))
        assert r.verdict is P, (config.cpus, r)


def test_large_values_are_judged(run):
    """A right program with a large answer passes where the test reduces it: a size or a sum
    is taken where the value is (the child), so the value never has to cross."""
    r = run(
        "def f(n):\n    return list(range(n))\n",
        [
            "assert len(f(10 ** 6)) == 10 ** 6",
            "assert sum(f(10 ** 6)) == 499999500000",
            "assert max(f(10 ** 6)) == 10 ** 6 - 1",
            "assert len(f(10)) == 11",
        ],
    )
    assert [t.verdict for t in r.tests] == [P, P, P, Verdict.FAILED], r


def test_waiting_counts_the_jobs_no_slot_has_started():
    """What a cluster worker's fetch gate reads (broker/prefetch.py): queued jobs, not those
    cancelled (once each, however often cancelled)."""
    started = threading.Event()
    slow = {
        "id": "slow",
        "program": "import time\n",
        "tests": ["assert time.sleep(0.3) is None"],
        "limits": {"wall_s": 5},
    }
    quick = {"id": "q", "program": ADD, "tests": ["assert add(1, 1) == 2"]}
    with Pool(ExecutorConfig(slots=1)) as pool:
        for _ in range(2):  # twice: nothing of the first round is left counted
            started.clear()
            first = pool.submit(Job.from_dict(slow), started.set)
            assert started.wait(10)
            rest = [pool.submit(Job.from_dict(dict(quick, id=f"q{i}"))) for i in range(3)]
            assert pool.waiting == 3  # the slot runs the first
            assert pool.cancel(rest[1]) and pool.cancel(rest[1])
            assert pool.waiting == 2
            assert first.result(10).verdict is P and rest[0].result(10).verdict is P
            assert rest[2].result(10).verdict is P and rest[1].cancelled()
            assert pool.waiting == 0


def test_waiting_counts_jobs_parked_behind_a_build():
    """Two slots, the same C program twice: the second job waits for the first's build, out of
    the queue but still waiting."""
    with Pool(ExecutorConfig(slots=2, languages=("c",), build_dir=None)) as pool:
        if "c" not in pool.languages:
            pytest.skip("no C toolchain")
        program = '#include <stdio.h>\nint main(void){int a,b;scanf("%d %d",&a,&b);printf("%d\\n",a+b);}\n'
        program += f"// {time.time_ns()}\n"  # built here, whatever was built before
        job = {"language": "c", "program": program, "tests": [{"stdin": "1 2\n", "expected_stdout": "3\n"}]}
        futures = [pool.submit(Job.from_dict(dict(job, id=f"c{i}"))) for i in range(2)]
        seen = []
        while not all(f.done() for f in futures):
            seen.append((pool.builds.parked, pool.waiting))
            time.sleep(0.001)
        assert all(f.result().verdict is P for f in futures)
        assert (1, 1) in seen, seen[:20]  # parked, and counted
        assert all(waiting >= parked for parked, waiting in seen)
        assert pool.waiting == 0 and pool.builds.parked == 0


class _Turns:
    """A one-slot pool busy with a 0.3 s job of flow "batch" (so what is submitted next
    queues), and the order in which queued jobs start."""

    def __init__(self, pool):
        self.pool = pool
        self.order: list[str] = []
        started = threading.Event()
        hold = {"id": "hold", "program": "import time\n", "tests": ["assert time.sleep(0.3) is None"]}
        self.first = pool.submit(Job.from_dict(hold), started.set, flow="batch")
        assert started.wait(10)

    def submit(self, job_id: str, flow: str):
        quick = {"id": job_id, "program": ADD, "tests": ["assert add(1, 1) == 2"]}
        return self.pool.submit(Job.from_dict(quick), lambda: self.order.append(job_id), flow)


def test_a_late_flow_takes_turns_with_a_queued_burst():
    """Queued jobs start one flow at a time in turn (executor/fair.py): a few jobs sent while
    another flow's burst waits start within a few jobs, not after the whole burst; close()
    still finishes everything queued."""
    with Pool(ExecutorConfig(slots=1)) as pool:
        turns = _Turns(pool)
        burst = [turns.submit(f"b{i}", "batch") for i in range(40)]
        late = [turns.submit(f"rl{i}", "rl") for i in range(3)]
        futures = [turns.first, *burst, *late]
    assert all(f.result(0).verdict is P for f in futures)  # close() ran every queued job
    assert turns.order[:6] == ["b0", "rl0", "b1", "rl1", "b2", "rl2"]
    assert turns.order[6:] == [f"b{i}" for i in range(3, 40)]


def test_jobs_cancelled_while_queued_take_no_turn():
    """A client whose request was cancelled while its jobs waited sends another: its new jobs
    start at its next turn, not after one turn per cancelled job; close() finishes the rest."""
    with Pool(ExecutorConfig(slots=1)) as pool:
        turns = _Turns(pool)
        burst = [turns.submit(f"b{i}", "batch") for i in range(20)]
        old = [turns.submit(f"old{i}", "rl") for i in range(30)]
        assert all(pool.cancel(f) for f in old)  # its deadline passed
        new = [turns.submit(f"new{i}", "rl") for i in range(2)]
        assert pool.waiting == 22 and pool.flows_waiting == 2
        futures = [turns.first, *burst, *new]
    assert all(f.result(0).verdict is P for f in futures) and all(f.cancelled() for f in old)
    assert turns.order[:4] == ["b0", "new0", "b1", "new1"]
    assert pool.waiting == 0


def test_a_frozen_sandbox_is_not_the_programs_wall_clock():
    """The whole sandbox stopped for 3 s (a frozen worker, a stalled VM) while a right program
    runs: the stretch it could not run is not counted against its 2 s wall-clock backstop."""
    import signal
    import threading
    import time

    import psutil

    from executor import ExecutorConfig, Job, Pool

    program = (
        "import time\ndef f():\n    t = time.process_time()\n"
        "    while time.process_time() - t < 0.4:\n        pass\n    return 1\n"
    )
    job = Job.from_dict({"id": "frozen", "program": program, "tests": ["assert f() == 1"], "limits": {"wall_s": 2}})
    with Pool(ExecutorConfig(slots=1)) as pool:
        tree = psutil.Process(pool.slots[0].proc.pid)

        def freeze() -> None:
            time.sleep(0.15)  # the program is running its test
            procs = [tree, *tree.children(recursive=True)]
            for p in procs:
                p.send_signal(signal.SIGSTOP)
            time.sleep(3.0)
            for p in procs:
                p.send_signal(signal.SIGCONT)

        thread = threading.Thread(target=freeze)
        thread.start()
        result = pool.run(job)
        thread.join()
        assert result.verdict is Verdict.PASSED, result


def test_a_python_program_may_run_its_work_in_a_few_threads(run):
    # The contest idiom: recursion in a thread with a big stack; and a small thread pool.
    contest = (
        "import sys, threading\ndef main():\n    n = int(sys.stdin.readline())\n"
        "    sys.setrecursionlimit(1 << 20)\n    def depth(k):\n        return 0 if k == 0 else 1 + depth(k - 1)\n"
        "    print(depth(n))\nthreading.stack_size(1 << 27)\nt = threading.Thread(target=main)\nt.start()\nt.join()\n"
    )
    assert run(contest, [{"stdin": "50000\n", "expected_stdout": "50000\n"}]).verdict is P
    pooled = (
        "from concurrent.futures import ThreadPoolExecutor\ndef double(xs):\n"
        "    with ThreadPoolExecutor(4) as ex:\n        return list(ex.map(lambda x: 2 * x, xs))\n"
    )
    assert run(pooled, ["assert double([1, 2, 3]) == [2, 4, 6]"]).verdict is P


def test_recursion_through_c_may_use_memory_mb_of_stack(run):
    # CPython's own calls do not use the C stack, but a call through C does (lru_cache's
    # wrapper): 100,000 levels take tens of MB, past the 8 MB a process starts with.
    memo = (
        "import sys\nfrom functools import lru_cache\nsys.setrecursionlimit(10**7)\n"
        "@lru_cache(None)\ndef depth(n):\n    return 0 if n == 0 else 1 + depth(n - 1)\n"
    )
    assert verdicts(run(memo, ["assert depth(100000) == 100000"])) == [P]
    stdio = run(memo + "print(depth(int(input())))", [{"stdin": "100000\n", "expected_stdout": "100000\n"}])
    assert verdicts(stdio) == [P]
    check = "def check(candidate):\n    assert candidate(100000) == 100000\ncheck(depth)"
    assert verdicts(run(memo, [check])) == [P]
    # A runaway one still ends, as the program's failure, within its memory.
    runaway = memo.replace("0 if n == 0 else 1 + depth(n - 1)", "depth(n + 1)")
    r = run(runaway, ["assert depth(0) == 1"], limits={"memory_mb": 256})
    assert r.verdict is F and r.tests[0].verdict in (Verdict.RUNTIME_ERROR, Verdict.MEMORY_EXCEEDED), r.tests
