"""Shared real farms for the reward-hook tests: one embedded pool (2 slots) per session, and a
gRPC server in this process over that pool with a Gate in front (tests/trainer/gate.py)."""

import pytest

from broker.config import ServerConfig
from broker.server import FarmServer
from executor import ExecutorConfig
from trainer.farm import EmbeddedFarm

from .gate import Gate


@pytest.fixture(scope="session")
def embedded_farm():
    farm = EmbeddedFarm(ExecutorConfig(slots=2))
    farm.real_pool = farm.pool  # what the gates below stand in front of
    yield farm
    farm.close()


@pytest.fixture
def gated_farm(embedded_farm):
    """The embedded farm with its pool behind a Gate (`farm.pool` is the gate during the test)."""
    gate = Gate(embedded_farm.real_pool, expect=1)
    embedded_farm.pool = gate
    try:
        yield embedded_farm, gate
    finally:
        embedded_farm.pool = embedded_farm.real_pool


@pytest.fixture(scope="session")
def gated_server(embedded_farm):
    """(port, gate): a real FarmServer whose dispatcher is a Gate over the embedded pool."""
    gate = Gate(embedded_farm.real_pool, expect=1)
    server = FarmServer(ServerConfig(port=0, executor=embedded_farm.real_pool.config), gate).start()
    yield server.port, gate
    server.stop(grace=1)


def groups_of_two(n_groups: int, tag: str = ""):
    """`n_groups` groups, each a right and a wrong program against its own tests (no cache hits)."""
    from trainer.farm import Group

    groups = []
    for g in range(n_groups):
        tests = [f"assert f({g}) == {g + 1}", f"assert f(-{g}) == {1 - g}"]
        right = f"def f(x):\n    return x + 1  # {tag}{g}\n"
        wrong = f"def f(x):\n    return x  # {tag}{g}\n"
        groups.append(Group([right, wrong], tests, f"t/{tag}{g}"))
    return groups
