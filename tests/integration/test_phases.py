"""How test phases flow: queued nonces for value tests, values streamed from slow phases,
and a check stopped as soon as one of its asserts has failed (real sandbox)."""

from executor import Verdict

P, F, SK, TO = Verdict.PASSED, Verdict.FAILED, Verdict.SKIPPED, Verdict.TIMEOUT

# slow(n) burns about n ms of CPU and returns n; forever() never returns.
SLOW = (
    "import time\n"
    "def slow(n):\n"
    "    t = time.process_time()\n"
    "    while time.process_time() - t < n / 1000:\n"
    "        pass\n"
    "    return n\n"
    "def forever():\n"
    "    while True:\n"
    "        pass\n"
    "def boom():\n"
    "    raise KeyError('boom')\n"
)


def check(*asserts):
    return "def check(candidate):\n" + "".join(f"    {a}\n" for a in asserts) + "check(slow)\n"


def verdicts(result):
    return [t.verdict for t in result.tests]


def test_many_value_tests_with_queued_nonces(run):
    """More value tests than the nonce queue holds, with snippets in between: all in order."""
    tests = [f"assert slow(0) + {i} == {i}" for i in range(150)]
    tests[70] = "x = slow(0)\nassert x == 0"
    tests[71] = "assert slow(0) == 1"
    r = run(SLOW, tests)
    assert verdicts(r) == [P] * 71 + [F] + [P] * 78


def test_failed_assert_stops_the_rest_of_its_check(run):
    """The first assert fails after 20 ms; the next one would never end. The check stops at
    the failed assert, as it would run anywhere, instead of burning the CPU limit."""
    r = run(SLOW, [check("assert candidate(20) == 21", "assert forever() == 0")], limits={"cpu_s": 5, "wall_s": 10})
    assert verdicts(r) == [F]
    assert "slow(20) gave 20; expected == 21" in r.tests[0].message
    assert r.cpu_ms < 2500  # stopped, not killed at the 5 s limit


def test_first_failure_mode_stops_any_test(run):
    r = run(
        SLOW,
        [check("assert candidate(20) == 21", "assert forever() == 0"), "assert slow(0) == 0"],
        mode="first_failure",
        limits={"cpu_s": 5, "wall_s": 10},
    )
    assert verdicts(r) == [F, SK]
    assert r.cpu_ms < 2500


def test_a_check_that_is_not_last_runs_to_its_end(run):
    """Stopping a middle test would kill the program and fail the tests after it: it is not
    stopped, and its verdict still comes from the assert that failed first."""
    r = run(
        SLOW,
        [check("assert candidate(20) == 21", "assert forever() == 0"), "assert slow(0) == 0"],
        limits={"cpu_s": 0.5, "wall_s": 5},
    )
    assert r.tests[0].verdict is F and "expected == 21" in r.tests[0].message
    assert r.tests[1].verdict is SK


def test_error_after_a_failed_assert_is_a_failure(run):
    """Values computed before an exception are judged first: the check failed at its first
    assert, whatever a later one raises (the reference evaluator says the same)."""
    r = run(SLOW, [check("assert candidate(0) == 1", "assert boom() == 0")])
    assert verdicts(r) == [F] and "expected == 1" in r.tests[0].message
    r = run(SLOW, [check("assert candidate(0) == 0", "assert boom() == 0")])
    assert verdicts(r) == [Verdict.RUNTIME_ERROR] and "KeyError" in r.tests[0].message


def test_a_passing_slow_check_streams_and_passes(run):
    """Parts are sent while a slow check runs; when every assert holds, nothing is stopped."""
    r = run(SLOW, [check(*[f"assert candidate({n}) == {n}" for n in (5, 5, 5, 5, 5, 5)])])
    assert verdicts(r) == [P]


def test_after_the_program_dies_in_a_snippet_the_tests_after_it_are_skipped(pool):
    from executor import Job

    program = "import os\ndef f(x):\n    if x == 2:\n        os._exit(3)\n    return x\n"
    tests = ["y = f(1)\nassert y == 1", "y = f(2)\nassert y == 2", "y = f(3)\nassert y == 3", "assert f(4) == 4"]
    result = pool.run(Job.from_dict({"id": "dies", "program": program, "tests": tests}))
    assert verdicts(result) == [P, Verdict.RUNTIME_ERROR, SK, SK], result
    assert "exited with status 3" in result.tests[1].message


LEAVES = (
    "import os\ndef f(x):\n    return x + 1\ndef loop():\n    while True:\n        pass\ndef die():\n    os._exit(0)\n"
)


def test_a_check_stops_at_its_first_failing_assert_whatever_comes_after(run):
    # Not the job's last test (no early stop there): the later assert loops, or ends the
    # process, before the phase's frame is written. The failed assert's value is in the
    # child's values log and is judged first: `failed`, not `timeout` or `runtime_error`.
    for later in ("loop()", "die()"):
        r = run(
            LEAVES, [f"assert f(1) == 5\nassert {later} == 1", "assert f(2) == 3"], limits={"cpu_s": 1, "wall_s": 3}
        )
        assert verdicts(r) == [F, SK], r
        assert "f(1) gave 2" in r.tests[0].message
    r = run(
        LEAVES,
        ["def check(c):\n    assert c(1) == 2\n    assert c(2) == 9\n    assert die()\ncheck(f)", "assert f(2) == 3"],
    )
    assert verdicts(r) == [F, SK] and "f(2) gave 3" in r.tests[0].message, r


def test_a_crash_after_passing_asserts_is_the_crash(run):
    r = run(LEAVES, ["assert f(1) == 2\nassert die() == 1", "assert f(2) == 3"])
    assert verdicts(r) == [Verdict.RUNTIME_ERROR, SK], r


# f returns one list it changes at each call; g does the same slowly (values stream meanwhile).
BUFFER = (
    "import time\n"
    "_b = []\n"
    "def f(n):\n"
    "    _b[:] = [n]\n"
    "    return _b\n"
    "def g(n):\n"
    "    t = time.process_time()\n"
    "    while time.process_time() - t < 0.6:\n"
    "        pass\n"
    "    return f(n)\n"
)


def test_a_value_is_read_when_the_tests_operation_reads_it(run):
    # As CPython evaluates the assert: `f(1) != f(2)` compares the one list with itself, while
    # `f(1)[0]` is read before the next call. Each verdict here is CPython's.
    cases = [
        ("assert f(1) != f(2)", F),
        ("assert f(1) != g(2)", F),  # f(1)'s value is not streamed before g(2) has changed it
        ("assert [f(1), f(2)] == [[2], [2]]", P),
        ("assert max(f(1), f(2)) == [2]", P),
        ("assert f(1)[0] + f(2)[0] == 3", P),
        ("assert f(1) == [1] or f(2) == [3]", P),
        ("assert [f(1), f(2)[0], f(3)] == [[3], 2, [3]]", P),
        ("assert f(1) == [1] and f(2) == [2]", P),
        # Values the host's operation hands on, not reads: what max, a display given to tuple or
        # dict, and an item of a display give is the list itself, read later.
        ("assert max(f(1), f(2)) != f(3)", F),
        ("assert max(f(1), f(2)) == f(3)", P),
        ("assert dict(a=f(1)) != dict(a=f(2))", F),
        ("assert tuple([f(1)]) == (f(2),)", P),
        ("assert [f(1)][0] == f(2)", P),
        ("assert f(1).count(f(2)[0]) == 1", P),  # the method reads f(1) when it is called
        (check("assert candidate(1) == [1]", "assert candidate(2) == [2]").replace("slow", "f"), P),
    ]
    result = run(BUFFER, [t for t, _ in cases])
    assert verdicts(result) == [want for _, want in cases]


def test_a_dict_displays_probes_run_in_pythons_order(run):
    # A key, then its value, then the next key: as CPython evaluates {k1: v1, k2: v2}.
    program = "n = 0\ndef nxt():\n    global n\n    n += 1\n    return n\n"
    tests = [
        "assert {nxt(): nxt(), nxt(): nxt()} == {1: 2, 3: 4}",
        "assert {'a': nxt(), nxt(): 'b'} == {'a': 5, 6: 'b'}",
    ]
    assert verdicts(run(program, tests)) == [P, P]
