"""The languages a farm offers, as its front ends and its cluster see them.

A farm offers Python always (every pool runs it) and each other language whose toolchain a
pool found and whose self-test passed (executor/pool.py). The embedded server offers its pool's;
a cluster offers what its live workers' heartbeats list (registry.py), and routes a job in a
language other than Python through that language's own Celery queue, which only the workers
that have the language consume (`queue_for`). Python's jobs keep the farm's default queue.

An offer is a mapping language -> what runs it ("C++17 (g++) (g++ 12.2.0)"; "" when not known),
in the executor's order of languages (`ordered`).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from typing import TypeVar

from executor import Pool
from executor.languages import COMMANDS, NAMES, PYTHON

from .registry import QUEUE

LANGUAGE_QUEUE = QUEUE + ".lang."  # + a language's name: the Celery queue of its chunks
_T = TypeVar("_T")

QUEUES = (QUEUE, *(LANGUAGE_QUEUE + name for name in COMMANDS))  # every queue a chunk may wait in


def queue_for(language: str) -> str:
    """The Celery queue a chunk of jobs in `language` goes to."""
    return QUEUE if language == PYTHON else LANGUAGE_QUEUE + language


def queues(languages: Iterable[str]) -> list[str]:
    """The queues a worker offering `languages` consumes: the default one first."""
    return [QUEUE, *(queue_for(n) for n in ordered(languages) if n != PYTHON)]


def ordered(names: Iterable[str]) -> list[str]:
    """`names` in the executor's order of languages (Python first), unknown ones last."""
    rank = {name: i for i, name in enumerate(NAMES)}
    return sorted(set(names), key=lambda n: (rank.get(n, len(rank)), n))


def python_title(runtime: str) -> str:
    """What runs Python, from a runtime id ("python-3.11.2" -> "Python 3.11.2")."""
    version = runtime.removeprefix("python-")
    return f"Python {version}" if version and version != "unknown" else ""


def of_pool(pool: Pool) -> dict[str, str]:
    """A started pool's offer."""
    offer = {PYTHON: python_title(pool.runtime)}
    offer.update((name, tc.describe()) for name, tc in pool.toolchains.items())
    return {name: offer[name] for name in ordered(offer)}


def merged(offers: Iterable[Mapping[str, str]]) -> dict[str, str]:
    """Several workers' offers as one: every language any of them has (Python always); where
    they describe a toolchain differently, every description, in order."""
    found: dict[str, list[str]] = {PYTHON: []}
    for offer in offers:
        for name, title in offer.items():
            seen = found.setdefault(name, [])
            if title and title not in seen:
                seen.append(title)
    return {name: "; ".join(sorted(found[name])) for name in ordered(found)}


def split(items: Iterable[_T], language: Callable[[_T], str]) -> list[list[_T]]:
    """`items` split by `language` (of each item's job), each part in the items' order: a
    cluster's chunk holds jobs of one language."""
    parts: dict[str, list[_T]] = {}
    for item in items:
        parts.setdefault(language(item), []).append(item)
    return list(parts.values())
