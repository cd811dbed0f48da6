import pytest

from executor import ExecutorConfig, Job, Pool


@pytest.fixture(scope="session")
def pool():
    with Pool(ExecutorConfig(slots=2)) as p:
        yield p


@pytest.fixture
def run(pool):
    """run(program, tests, **job_fields) -> JobResult on the shared sandboxed pool."""
    counter = iter(range(1_000_000))

    def _run(program, tests, **fields):
        data = {"id": f"t{next(counter)}", "program": program, "tests": tests}
        data.update(fields)
        return pool.run(Job.from_dict(data))

    return _run
