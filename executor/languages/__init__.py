"""Languages the executor runs. Each is one small declarative module.

Python runs in the zygote's own children (python.py); every other language is a `Language`
(base.py) whose programs run as commands in the same sandbox. `toolchains()` says which of
them this machine has.
"""

from __future__ import annotations

from collections.abc import Iterable

from . import bash, c, cpp, go, java, javascript, python, rust
from .base import Language, Toolchain, find

PYTHON = python.NAME
COMMANDS: dict[str, Language] = {
    lang.name: lang
    for lang in (
        c.LANGUAGE,
        cpp.LANGUAGE,
        cpp.CPP20,
        java.LANGUAGE,
        javascript.LANGUAGE,
        go.LANGUAGE,
        rust.LANGUAGE,
        bash.LANGUAGE,
    )
}
NAMES: tuple[str, ...] = (PYTHON, *COMMANDS)


def toolchains(chosen: Iterable[str] | None = None) -> dict[str, Toolchain]:
    """The languages of `chosen` (None: all of them) whose tools this machine has."""
    names = COMMANDS if chosen is None else [n for n in chosen if n in COMMANDS]
    found = {name: find(COMMANDS[name]) for name in names}
    return {name: tc for name, tc in found.items() if tc is not None}


__all__ = ["COMMANDS", "NAMES", "PYTHON", "Language", "Toolchain", "python", "toolchains"]
