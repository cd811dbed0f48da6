"""The kernel bound under the trusted evaluator (executor/judging/bounded.py): a test the
host's in-process bounds refuse is judged again in a child under the job's own limits."""

import gc
import threading
import time

from executor import Job, Verdict
from executor.judging import bounded
from executor.judging.judge import judge
from executor.judging.prepare import prepare
from executor.sandbox.codec import encode


def run(test, value, **limits):
    """Judge `test` on `value` for each of its probes."""
    job = prepare(Job.from_dict({"id": "b", "program": "f = 1", "tests": [test], "limits": limits}))
    values = [encode(value)] * len(job.plans[0].detail.check.probes)
    return judge(job, {"load": {"s": "ok"}, "tests": [{"s": "ok", "v": values}]})


def test_honest_costly_tests_are_judged_under_the_jobs_limits():
    assert run("assert f() == [0] * 90_000 + [1] * 90_000", [0] * 90_000 + [1] * 90_000).verdict is Verdict.PASSED
    assert run("assert f() == [0] * 90_000 + [1] * 90_000", [1]).verdict is Verdict.FAILED
    big_literals = f"assert f() == math.gcd({hex(3**200_000)}, {hex(5**150_000)})"
    assert run(big_literals, 1).verdict is Verdict.PASSED and run(big_literals, 2).verdict is Verdict.FAILED


def test_a_test_whose_own_text_exceeds_the_limits_is_not_judgeable():
    for test, limits in (
        ("assert f() == 10 ** 10 ** 10", {"cpu_s": 0.5, "wall_s": 5}),
        ("assert f() == 'x' * 10 ** 10", {"memory_mb": 64}),
        # Refused in the serving process, then run as they are where the kernel bounds them:
        ("assert f() == Decimal('0.' + '1' * 10000) ** Decimal('0.5')", {"cpu_s": 0.5, "wall_s": 5}),
        ("assert f() == ''.join(map(chr, range(256, 12256))).encode('punycode')", {"cpu_s": 0.5, "wall_s": 5}),
    ):
        result = run(test, 5, **limits)
        assert result.verdict is Verdict.INFRA_ERROR and result.tests[0].verdict is Verdict.INFRA_ERROR, result
        assert "not judgeable" in result.tests[0].message


def test_a_test_that_raises_on_its_own_fails_for_every_program():
    result = run("assert f() == [1, 2][10 ** 70000 % 7 + 5]", 1)
    assert result.tests[0].verdict is Verdict.FAILED and "IndexError" in result.tests[0].message


def test_the_program_pays_for_its_own_values():
    # The test's text costs nothing; what the program's 60,000-bit answer makes it compute
    # (a modular power of that size: minutes) is the program's doing: its test fails.
    result = run("assert pow(f(), f(), f() + 1) == 1", 1 << 60_000, cpu_s=1, wall_s=10)
    assert result.verdict is Verdict.FAILED, result
    assert "cost more than the job's limits" in result.tests[0].message


def test_the_serving_process_spends_almost_nothing_on_a_hostile_test():
    before = time.thread_time()
    result = run("assert f() == 7 ** 7 ** 9", 1, cpu_s=1, wall_s=10)  # minutes of CPU, unbounded
    spent = time.thread_time() - before
    assert result.tests[0].verdict is Verdict.INFRA_ERROR
    assert spent < 0.5, spent  # the child burned its second of CPU; this thread did not


def test_concurrent_judgings_and_a_dead_server_recover():
    results = []

    def one():
        results.append(run("assert f() == [0] * 300_000", [0] * 3).tests[0].verdict)

    threads = [threading.Thread(target=one) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert results == [Verdict.FAILED] * 4
    proc, _ = bounded._server
    proc.kill()
    proc.wait()
    assert run("assert f() == [0] * 300_000", [0] * 3).tests[0].verdict is Verdict.FAILED  # a new server


def test_values_too_costly_to_rebuild_here_are_rebuilt_under_the_jobs_limits():
    from fractions import Fraction

    halves = [Fraction(i, i + 1) for i in range(1, 30_000)]
    # The collector off while measured: in a long test session its passes over the whole heap
    # (not this judging's work) took this thread past the bound.
    gc.disable()
    try:
        before = time.thread_time()
        # (f() + []): the whole value is rebuilt here (an item of f() alone would be the probe).
        assert run("assert (f() + [])[-1] == Fraction(29999, 30000)", halves).verdict is Verdict.PASSED
        assert run("assert (f() + [])[5] == Fraction(6, 7)", halves).verdict is Verdict.PASSED
        assert run("assert (f() + [])[5] == Fraction(1, 7)", halves).verdict is Verdict.FAILED
        spent = time.thread_time() - before
    finally:
        gc.enable()
    assert spent < 1.0  # 30,000 Fractions are rebuilt in the judging child


def test_numbers_and_ranges_a_program_returns_cost_this_process_nothing():
    # A range crosses as three ints and a numeric string as its text: what walks the range or
    # builds the number (minutes of CPU, gigabytes) is judged in the child, under the limits.
    cases = [
        ("assert list(reversed(f())) == [3, 2, 1]", range(5 * 10**7)),
        ("assert max(reversed(f())) == 3", range(10**10)),
        ("assert 0.5 not in f()", range(10**10)),
        ("assert f().count(1.0) == 1", range(10**10)),
        ("assert int(Decimal(f())) == 3", "1e1000000"),
        ("assert math.floor(Decimal(f())) == 3", "1e300000"),
        ("assert Fraction(f()) == Fraction(1, 3)", "1e10000000"),
        ("assert Fraction(f()) == Fraction(1, 3)", "1" * 3000 + "e1_000_000"),
        ("assert format(Decimal(f()), 'f') == '3'", "1e1000000000"),
        ("assert int(Decimal(f()) * Decimal(f())) == 3", "1e3000"),
    ]
    for test, value in cases:
        before = time.thread_time()
        result = run(test, value, cpu_s=0.5, wall_s=5, memory_mb=64)
        spent = time.thread_time() - before
        assert result.tests[0].verdict is Verdict.FAILED, (test, result)
        assert spent < 0.5, (test, spent)
    # The same shapes over values of an honest size are judged here, and right.
    for test, value in (
        ("assert list(reversed(f())) == [2, 1, 0]", range(3)),
        ("assert 1.0 in f()", range(3)),
        ("assert Fraction(f()) == 2500", "2.5e3"),
        ("assert int(Decimal(f())) == 2500", "2.5e3"),
    ):
        assert run(test, value).verdict is Verdict.PASSED, test
