from types import SimpleNamespace

import pytest

from .procs import RedisServer, free_port, start_http_server, start_server


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


@pytest.fixture(scope="module")
def http_farm(tmp_path_factory):
    """One `acefarm serve --http-port 0` (embedded pool, 2 slots, metrics on) shared by a module's
    tests: its gRPC port, HTTP base URL and metrics port."""
    tmp = tmp_path_factory.mktemp("http")
    metrics = free_port()
    proc, port, http = start_http_server(tmp, "--workers", "2", "--metrics-port", str(metrics))
    yield SimpleNamespace(port=port, url=f"http://127.0.0.1:{http}", metrics=metrics, proc=proc)
    proc.kill()
