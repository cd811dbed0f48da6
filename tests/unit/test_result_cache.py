"""The embedded server's result cache (broker/cache.py): answered by content hash, bounded by
the approximate bytes of what it keeps, least recently used out first."""

from concurrent.futures import Future

from broker.cache import CachingDispatcher, result_size
from broker.dispatcher import FarmStatus
from executor import Job, JobResult, TestResult, Verdict


class Runs:
    """A dispatcher that answers at once (what the cache sits in front of), counting runs."""

    runtime = "python-test"
    capacity = 1

    def __init__(self):
        self.runs = 0

    def submit(self, job, on_start=None, flow=None):
        self.runs += 1
        fut = Future()
        fut.set_result(JobResult(job.id, Verdict.PASSED, (TestResult(Verdict.PASSED, "m" * 500),)))
        return fut

    def cancel(self, fut):
        return False

    def status(self):
        return FarmStatus(1, 1, 0)

    def close(self):
        pass


def job(i):
    return Job.from_dict({"id": f"j{i}", "program": f"x = {i}", "tests": ["assert x >= 0"]})


def test_repeats_are_answered_from_the_cache_and_the_bytes_stay_bounded():
    inner = Runs()
    one = result_size(inner.submit(job(0)).result())
    inner.runs = 0
    cache = CachingDispatcher(inner, max_bytes=10 * one)
    for i in range(30):
        assert not cache.submit(job(i)).result().cached
    assert inner.runs == 30 and cache.bytes <= 10 * one and len(cache._results) == 10
    again = cache.submit(job(29)).result()
    assert again.cached and again.id == "j29" and inner.runs == 30
    assert not cache.submit(job(0)).result().cached  # the oldest went first
    assert inner.runs == 31


class Answers(Runs):
    """Answers each job with the verdicts its id asks for ("passed,timeout", ...)."""

    def submit(self, job, on_start=None, flow=None):
        self.runs += 1
        tests = tuple(TestResult(Verdict(v)) for v in job.id.split(","))
        fut = Future()
        fut.set_result(JobResult(job.id, Verdict.FAILED, tests))
        return fut


def test_a_result_a_loaded_machine_may_have_caused_is_never_kept():
    """A timeout (the wall-clock backstop comes sooner under load, CPU time near its limit
    moves with it) and an infra_error are answered afresh each time; other failures are kept."""
    inner = Answers()
    cache = CachingDispatcher(inner)

    def twice(verdicts):
        j = Job.from_dict({"id": verdicts, "program": "x = 1", "tests": ["assert x == 1"] * len(verdicts.split(","))})
        return [cache.submit(j).result().cached for _ in range(2)]

    assert twice("passed,timeout") == [False, False]
    assert twice("timeout,skipped") == [False, False]
    assert twice("infra_error") == [False, False]  # a test not judgeable within the job's limits
    assert twice("passed,failed") == [False, True]
    assert twice("memory_exceeded") == [False, True]
    assert inner.runs == 8  # 2 + 2 + 2 runs of the unrepeatable, 1 + 1 of the rest


def test_repeatable_names_what_the_caches_keep():
    def result(*verdicts, job=Verdict.FAILED):
        return JobResult("j", job, tuple(TestResult(v) for v in verdicts))

    assert result(Verdict.PASSED, job=Verdict.PASSED).repeatable
    assert result(Verdict.FAILED, Verdict.SKIPPED).repeatable
    assert not result(Verdict.PASSED, Verdict.TIMEOUT).repeatable
    assert not result(Verdict.INFRA_ERROR, job=Verdict.INFRA_ERROR).repeatable
    assert not result(Verdict.PASSED, Verdict.INFRA_ERROR).repeatable  # a test not judgeable here
