"""The RL frameworks' own client code, imported without their heavy dependencies.

verl 0.9.1 and OpenRLHF 0.11.2 are installed with `pip install --no-deps --target
.venv/clients` (make setup). Their top-level packages import torch, ray and more; the modules
that talk to a sandbox or a reward server need only `requests` (verl's sandbox_fusion
utilities) and `aiohttp` (OpenRLHF's agent executor). So their parent packages are stood in
for by empty namespace modules pointing at the real directories, and the client modules
themselves are imported unchanged.
"""

from __future__ import annotations

import importlib
import importlib.machinery
import pathlib
import sys
import types

import pytest

CLIENTS = pathlib.Path(sys.prefix) / "clients"
INSTALL = (
    f"{sys.executable} -m pip install --no-deps --target {CLIENTS} verl==0.9.1 openrlhf==0.11.2 (make setup does it)"
)
_PARENTS = {
    "verl": ["verl", "verl.utils", "verl.utils.reward_score"],
    "openrlhf": ["openrlhf", "openrlhf.utils"],
}


def load(framework: str, module: str):
    """`module` of `framework` ("verl" or "openrlhf") with its parents stubbed; skips the test
    when the framework is not installed there."""
    root = CLIENTS / framework
    if not root.is_dir():
        pytest.skip(f"{framework} is not installed in {CLIENTS}: {INSTALL}")
    for name in _PARENTS[framework]:
        if name not in sys.modules:
            stub = types.ModuleType(name)
            stub.__path__ = [str(CLIENTS.joinpath(*name.split(".")))]
            stub.__spec__ = importlib.machinery.ModuleSpec(name, None, is_package=True)
            sys.modules[name] = stub
    return importlib.import_module(module)
