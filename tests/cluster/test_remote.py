"""RemoteDispatcher (`acefarm score --server`) against a real `acefarm serve`."""

import pytest

from broker.remote import FIRST_STREAM, RemoteDispatcher
from executor import Job, Verdict

pytestmark = pytest.mark.slow


def jobs(n, tag):
    return [Job.from_dict({"id": f"{tag}{i}", "program": f"x = {i}", "tests": [f"assert x == {i}"]}) for i in range(n)]


def recording(dispatcher, fail=False):
    """Record the size of each ExecuteBatch call the dispatcher makes (the real call follows)."""
    sizes = []
    real = dispatcher.client.execute_many

    def call(batch):
        sizes.append(len(batch))
        if fail:
            raise RuntimeError("the farm is gone")
        return real(batch)

    dispatcher.client.execute_many = call
    return sizes


def test_streams_start_small_and_grow_with_the_jobs_in_flight(embedded_server):
    """The first stream leaves with FIRST_STREAM jobs (the farm starts while the client still
    reads the rest); later ones grow up to the chunk; every job is answered once, in order."""
    dispatcher = RemoteDispatcher(f"127.0.0.1:{embedded_server}", chunk=256)
    sizes = recording(dispatcher)
    try:
        batch = jobs(600, "grow")
        results = [f.result(timeout=300) for f in [dispatcher.submit(j) for j in batch]]
    finally:
        dispatcher.close()
    assert [r.id for r in results] == [j.id for j in batch]
    assert all(r.verdict is Verdict.PASSED for r in results)
    assert sizes[0] <= FIRST_STREAM and sum(sizes) == 600
    assert FIRST_STREAM < max(sizes) <= 256


def test_a_stream_the_farm_does_not_answer_fails_its_jobs_and_frees_its_share(embedded_server):
    dispatcher = RemoteDispatcher(f"127.0.0.1:{embedded_server}")
    sizes = recording(dispatcher, fail=True)
    try:
        results = [f.result(timeout=60) for f in [dispatcher.submit(j) for j in jobs(40, "gone")]]
        assert all(r.verdict is Verdict.INFRA_ERROR and "the farm is gone" in r.message for r in results)
        assert dispatcher._in_flight == 0 and sum(sizes) == 40
    finally:
        dispatcher.close()
