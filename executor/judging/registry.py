"""The test kinds the farm knows, in the order a test's JSON form is tried against them.

Everything that handles tests without caring about their kind goes through here: the job's
validation (`parse`), its JSON and protobuf forms (`to_raw`, `from_pb`, `to_pb`), hashing,
and preparation. A new kind is a module of this package with a `KIND`, listed in KINDS.
"""

from __future__ import annotations

from typing import Any

from ..errors import InvalidJob
from . import accepted, call, raw, snippet, stdio
from .kind import Kind

KINDS: tuple[Kind, ...] = (snippet.KIND, call.KIND, accepted.KIND, raw.KIND, stdio.KIND)
_BY_TYPE: dict[type, Kind] = {k.test_type: k for k in KINDS}
_BY_PB_FIELD: dict[str, Kind] = {k.pb_field: k for k in KINDS}

SHAPES = "a string (assert), or an object with 'call', 'accepted_stdout', 'raw', or 'stdin'/'expected_stdout'"


def parse(raw: Any, where: str) -> Any:
    """The test `raw` (its JSON form) as its kind's data; InvalidJob naming the field."""
    for kind in KINDS:
        test = kind.parse(raw, where)
        if test is not None:
            return test
    if isinstance(raw, dict):
        raise InvalidJob(where, f"an object test needs {SHAPES}")
    raise InvalidJob(where, f"must be {SHAPES}")


def kind_of(test: Any) -> Kind:
    """The kind of a parsed test."""
    try:
        return _BY_TYPE[type(test)]
    except KeyError:
        raise TypeError(f"not a test of a known kind: {type(test).__name__}") from None


def to_raw(test: Any) -> Any:
    """A test's JSON form (what `parse` reads back)."""
    return kind_of(test).to_raw(test)


def key(test: Any) -> Any:
    """What identifies a test in a content hash: its kind and JSON form."""
    kind = kind_of(test)
    return [kind.name, kind.to_raw(test)]


def from_pb(msg: Any, where: str) -> Any:
    """A proto `Test` message's JSON form (validated later, by `parse`)."""
    field = msg.WhichOneof("kind")
    if field is None:
        raise InvalidJob(where, f"empty test (set one of {', '.join(_BY_PB_FIELD)})")
    return _BY_PB_FIELD[field].from_pb(getattr(msg, field), where)


def to_pb(test: Any) -> tuple[str, Any]:
    """(the `Test.kind` field, its value: a scalar or the keyword arguments of its message)."""
    kind = kind_of(test)
    return kind.pb_field, kind.to_pb(test)
