"""Packages beyond the standard library, importable in the sandbox by name (the zygote installs
this before its imports; children inherit it). Standard library only.

The directory holding them (Debian's dist-packages) holds much else; it is not put on
sys.path. A finder first on sys.meta_path looks there for the allowed top-level names only;
their submodules are found through their packages' own __path__ as usual. This curates the
runtime, it does not guard anything: the directory is readable in the sandbox, as all of /usr.
"""

import importlib.machinery
import sys


class Packages:
    """A meta path finder for the top-level modules `names` in `directory`."""

    def __init__(self, directory, names):
        self.directory = directory
        self.names = frozenset(names)

    def find_spec(self, name, path=None, target=None):
        if path is not None or name not in self.names:
            return None
        return importlib.machinery.PathFinder.find_spec(name, [self.directory])

    def invalidate_caches(self):
        pass


def install(spec):
    """Install the finder for `spec` ({"dir": directory, "names": [...]}, or None: nothing)."""
    if spec and spec.get("names"):
        sys.meta_path.insert(0, Packages(spec["dir"], spec["names"]))
