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

    def submit(self, job, on_start=None):
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
