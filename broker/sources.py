"""Where `acefarm score` (and the trainer's steps) read input: JSONL lines, or Parquet rows.

Parquet (a dataset such as AceCode-87K) is read through `datasets`, here only: a row is a
line, and a field a row lacks (None in its column) is dropped, as if the line had not had it.
"""

from __future__ import annotations

from collections.abc import Generator, Iterator
from typing import Any


def is_parquet(path: str) -> bool:
    return path.endswith(".parquet")


def parquet_rows(path: str) -> Iterator[dict[str, Any]]:
    """The rows of a Parquet file, as dicts without the fields they lack."""
    for row in _load(path):
        yield _drop_none(row)


def source_items(path: str) -> Generator[bytes | dict[str, Any], None, None]:
    """A file's input lines, in order: a JSONL file's lines (bytes), or a Parquet file's rows (dicts)."""
    if is_parquet(path):
        yield from parquet_rows(path)
        return
    with open(path, "rb") as fh:
        first = fh.readline()
        if first.startswith(_BOM):  # a byte-order mark (pandas' utf-8-sig, Windows tools): not the row's
            first = first[len(_BOM) :]
        if first:
            yield first
        yield from fh


_BOM = b"\xef\xbb\xbf"


def count_lines(path: str) -> int:
    """Input lines in `path` (non-blank JSONL lines, or Parquet rows)."""
    if is_parquet(path):
        return len(_load(path))
    with open(path, "rb") as fh:
        return sum(1 for raw in fh if raw.strip())


def _load(path: str) -> Any:
    import datasets  # heavy: only for Parquet input

    return datasets.load_dataset("parquet", data_files=path, split="train")


def _drop_none(value: Any) -> Any:
    """`value` without the nulls Arrow pads a struct's absent fields with. A call test's
    `"expected": null` (a function that returns None) is its data, kept: a call test has one,
    unless it has `accepted` instead. (Nulls Arrow padded into dicts a test's arguments hold
    cannot be told from the data's own: such arguments are best kept as JSON text.)"""
    if isinstance(value, dict):
        keep_expected = value.get("call") is not None and value.get("accepted") is None
        return {k: _drop_none(v) for k, v in value.items() if v is not None or (k == "expected" and keep_expected)}
    if isinstance(value, list):
        return [_drop_none(v) for v in value]
    return value
