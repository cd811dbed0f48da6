import pytest

from .procs import RedisServer, start_server


@pytest.fixture
def redis_server(tmp_path):
    server = RedisServer(tmp_path)
    yield server
    server.stop()


@pytest.fixture(scope="module")
def embedded_server(tmp_path_factory):
    """One `acefarm serve` (embedded pool, 2 slots) shared by a module's tests."""
    tmp = tmp_path_factory.mktemp("serve")
    proc, port = start_server(tmp, "--workers", "2", "--metrics-port", "0")
    yield port
    proc.kill()
