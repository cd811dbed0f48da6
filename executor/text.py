"""Writable text: what every front end can write out (UTF-8 JSONL, protobuf, JSON over Redis).

A Python `str` can hold what no UTF-8 writer accepts: lone surrogates (`'\\ud800'`, from a
program's `raise ValueError('\\ud800')` or a JSON `"\\ud800"` escape). NUL characters are valid
UTF-8 but break C-string consumers and terminals. Anything a program chooses (messages, output
excerpts, values shown in failures) is made writable where results are built (result.py):
such characters become visible backslash text (`\\ud800`, `\\x00`) and long text is cut. Input
that would be echoed back (ids, test texts, whole AceCode rows) is checked instead, and
refused naming the field (`check_writable`).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from .errors import InvalidJob

#: characters of one result message (a test's or a job's) before it is cut
MESSAGE_MAX = 4096
#: characters of all test messages of one job together; past it each is cut to its share
JOB_MESSAGES_MAX = 64 * 1024
#: the least share of one test's message when a job's messages are cut
MESSAGE_SHARE_MIN = 160

_SURROGATE = re.compile("[\ud800-\udfff]")
_SURROGATE_OR_NUL = re.compile("[\x00\ud800-\udfff]")


def _escape(match: re.Match[str]) -> str:
    c = match.group()
    return "\\x00" if c == "\x00" else f"\\u{ord(c):04x}"


def writable(value: Any, limit: int | None = None) -> str:
    """`value` as text any front end can write it: lone surrogates and NULs as backslash text,
    at most `limit` characters (the end replaced by a note of the full length)."""
    text = value if isinstance(value, str) else str(value)
    size = len(text)
    if limit is not None and size > limit:
        text = text[:limit]  # first, so escaping never works on more than `limit`
    if not (text.isascii() and "\x00" not in text):
        text = _SURROGATE_OR_NUL.sub(_escape, text)
    if limit is not None and (size > limit or len(text) > limit):
        note = f"... [{size} characters, cut]"
        text = text[: max(0, limit - len(note))] + note[:limit]
    return text


def problem(text: str, nul: bool = False) -> str | None:
    """Why `text` cannot be written out as it is (None when it can)."""
    if text.isascii() and not (nul and "\x00" in text):
        return None
    found = (_SURROGATE_OR_NUL if nul else _SURROGATE).search(text)
    if found is None:
        return None
    at = found.start()
    if found.group() == "\x00":
        return f"contains a NUL character (at character {at})"
    return f"not valid UTF-8 text (a lone surrogate \\u{ord(found.group()):04x} at character {at})"


def check_writable(value: Any, field: str, nul: bool = False) -> None:
    """Raise InvalidJob naming the first string in `value` (a JSON-like value: strings, numbers,
    lists, dicts) that is not writable text, keys included, or the first value that is not JSON
    at all (a numpy number or array, a set, bytes: a job travels as JSON); `nul`: refuse NULs
    too."""
    stack: list[tuple[Any, str]] = [(value, field)]
    while stack:
        item, where = stack.pop()
        if isinstance(item, str):
            why = problem(item, nul)
            if why:
                raise InvalidJob(where, why)
        elif isinstance(item, Mapping):
            for key, sub in reversed(list(item.items())):
                at = f"{where}.{writable(key)}" if where else writable(key)
                if isinstance(key, str) and problem(key, nul):
                    raise InvalidJob(at, f"field name {problem(key, nul)}")
                stack.append((sub, at))
        elif isinstance(item, (list, tuple)):
            stack.extend((sub, f"{where}[{i}]") for i, sub in reversed(list(enumerate(item))))
        elif not (item is None or isinstance(item, (bool, int, float))):
            kind = f"{type(item).__module__}.{type(item).__qualname__}".removeprefix("builtins.")
            raise InvalidJob(where, f"a {kind} is not a JSON value (numbers, text, lists and objects only)")


def check_job_text(data: Any) -> None:
    """Refuse a job (a DESIGN section 4 dict) whose id is not writable text (lone surrogates,
    NULs) or whose program or tests hold lone surrogates, naming the field. A result echoes
    its job's id; a program or test that no UTF-8 writer accepts could not travel to a farm."""
    if not isinstance(data, Mapping):
        return  # Job.from_dict reports the shape
    if isinstance(data.get("id"), str):
        check_writable(data["id"], "id", nul=True)
    for key in data:
        if isinstance(key, str) and problem(key):
            raise InvalidJob(writable(key), f"field name {problem(key)}")
    for name in ("program", "tests", "language", "mode"):
        if name in data:
            check_writable(data[name], name)


def writable_tree(value: Any) -> Any:
    """A JSON-like value with every string (keys too) made writable, not cut."""
    if isinstance(value, str):
        return writable(value)
    if isinstance(value, Mapping):
        return {writable(k) if isinstance(k, str) else k: writable_tree(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [writable_tree(v) for v in value]
    return value
