"""`executor`, `broker`, `trainer` are generic names: they must be ours."""

import importlib
import pathlib

import pytest

ROOT = pathlib.Path(__file__).resolve().parents[2]


@pytest.mark.parametrize("name", ["executor", "broker", "trainer"])
def test_packages_resolve_to_this_repository(name):
    module = importlib.import_module(name)
    assert pathlib.Path(module.__file__).resolve().parent == ROOT / name


@pytest.mark.parametrize("name", ["executor", "broker", "trainer"])
def test_public_surface_is_listed(name):
    module = importlib.import_module(name)
    for attr in module.__all__:
        assert hasattr(module, attr), f"{name}.{attr} listed in __all__ but missing"


def test_sandbox_code_imports_only_the_standard_library():
    import ast
    import sys

    for path in (ROOT / "executor" / "sandbox").glob("*.py"):
        tree = ast.parse(path.read_text())
        for node in ast.walk(tree):
            if isinstance(node, ast.Import):
                names = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom):
                if node.level:  # relative: our own sandbox modules
                    continue
                names = [node.module]
            else:
                continue
            for n in names:
                assert n.split(".")[0] in sys.stdlib_module_names, f"{path.name} imports {n}"


def test_executor_imports_nothing_from_broker_or_trainer():
    for path in (ROOT / "executor").rglob("*.py"):
        text = path.read_text()
        assert "import broker" not in text and "from broker" not in text, path
        assert "import trainer" not in text and "from trainer" not in text, path


def test_broker_imports_nothing_from_trainer():
    """trainer -> broker -> executor: extraction and AceCode rows live in trainer/ and plug into
    broker's scoring runner, never the other way round."""
    for path in (ROOT / "broker").rglob("*.py"):
        text = path.read_text()
        assert "import trainer" not in text and "from trainer" not in text, path
