"""The deploy tests' podman: the images built once per session (tests/deploy/containers.py)."""

import time

import pytest

from .containers import Podman, missing_tools


@pytest.fixture(scope="session")
def podman(tmp_path_factory):
    missing = missing_tools()
    if missing:
        pytest.fail(f"the container tests need {', '.join(missing)}: `make test-deploy` installs them")
    p = Podman(tmp_path_factory.mktemp("podman"))
    t0 = time.monotonic()
    p.ensure_base()
    t1 = time.monotonic()
    built = p.build_farm_image()
    t2 = time.monotonic()
    p.ensure_prometheus()
    print(f"base image {t1 - t0:.1f} s, farm image build {built:.1f} s, Prometheus image {time.monotonic() - t2:.1f} s")
    return p
