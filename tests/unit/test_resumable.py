"""The resumable JSONL runner (broker/resumable.py) that `acefarm score` and the trainer's steps share."""

import json
from concurrent.futures import Future
from functools import partial

import pytest

from broker.resumable import Unit, done_keys, json_line, output_records, run_resumable


def read(path):
    return [json.loads(line) for line in path.read_text().splitlines()]


def id_key(rec):
    return rec.get("id")


def rows(*ids):
    """Units over ready rows, one per id, that record which keys they were given."""
    seen = {}

    def units(done):
        seen["done"] = set(done)
        for i in ids:
            if i not in done:
                yield Unit(partial(lambda i: [{"id": i}], i))

    return units, seen


def test_output_is_in_unit_order_whenever_units_finish(tmp_path):
    futures = [Future() for _ in range(3)]
    written = []

    def units(done):
        for i, f in enumerate(futures):
            yield Unit(partial(lambda i, f: [{"id": i, "v": f.result()}], i, f), f.done, weight=1)
        # the last unit finishes first, the first last: nothing may be written before the first
        futures[2].set_result("c")
        futures[1].set_result("b")
        assert written == []
        futures[0].set_result("a")

    run_resumable(str(tmp_path / "out.jsonl"), units, id_key, window=10, on_written=written.append)
    assert read(tmp_path / "out.jsonl") == [{"id": 0, "v": "a"}, {"id": 1, "v": "b"}, {"id": 2, "v": "c"}]
    assert written == [1, 1, 1]


def test_the_window_bounds_what_is_in_flight(tmp_path):
    started, finished = [], []

    def finish(i):
        finished.append(i)
        return [{"id": i}]

    def units(done):
        for i in range(6):
            started.append(i)
            # three units of weight 2 in flight at most (window 5): the oldest is waited for
            assert len(started) - len(finished) <= 3
            yield Unit(partial(finish, i), lambda: False, weight=2)

    run_resumable(str(tmp_path / "out.jsonl"), units, id_key, window=5)
    assert [r["id"] for r in read(tmp_path / "out.jsonl")] == list(range(6))


def test_a_unit_writes_any_number_of_lines_and_each_is_flushed(tmp_path):
    out = tmp_path / "out.jsonl"
    seen_on_disk = []

    def units(done):
        yield Unit(lambda: [{"id": "a", "n": 1}, {"id": "a", "n": 2}], lines=4)
        yield Unit(lambda: [])  # a dropped input: nothing written
        seen_on_disk.append(len(read(out)))  # flushed as soon as written
        yield Unit(lambda: [{"id": "b"}])

    progress = []
    run_resumable(str(out), units, id_key, on_written=progress.append)
    assert [r["id"] for r in read(out)] == ["a", "a", "b"]
    assert seen_on_disk == [2] and progress == [4, 1, 1]


def test_resume_trims_a_torn_line_gives_the_done_keys_and_appends(tmp_path):
    out = tmp_path / "out.jsonl"
    out.write_text('{"id": "a"}\n{"id": "b"}\n{"id": "c", "torn')
    units, seen = rows("a", "b", "c", "d")
    run_resumable(str(out), units, id_key, resume=True)
    assert seen["done"] == {"a", "b"}
    assert [r["id"] for r in read(out)] == ["a", "b", "c", "d"]


def test_without_resume_the_output_starts_over(tmp_path):
    out = tmp_path / "out.jsonl"
    out.write_text('{"id": "old"}\n')
    units, seen = rows("a")
    run_resumable(str(out), units, id_key)
    assert seen["done"] == set() and read(out) == [{"id": "a"}]


def test_done_keys_skip_records_without_a_key_and_lines_that_are_not_objects(tmp_path):
    out = tmp_path / "out.jsonl"
    out.write_text('{"id": "a"}\n[1, 2]\nnot json\n{"other": 1}\n{"id": "b"}\n')
    assert done_keys(str(out), id_key) == {"a", "b"}
    assert len(list(output_records(str(out)))) == 3
    assert done_keys(str(tmp_path / "missing.jsonl"), id_key) == set()


def test_the_input_is_closed_when_a_unit_fails(tmp_path):
    closed = []

    def units(done):
        try:
            yield Unit(lambda: [{"id": "a"}])
            yield Unit(lambda: 1 / 0)
            yield Unit(lambda: [{"id": "never"}])
        finally:
            closed.append(True)

    with pytest.raises(ZeroDivisionError):
        run_resumable(str(tmp_path / "out.jsonl"), units, id_key)
    assert closed == [True] and read(tmp_path / "out.jsonl") == [{"id": "a"}]


def test_json_line_escapes_text_no_encoder_takes():
    line = json_line({"id": "x", "text": "bad \ud800 surrogate"})
    assert line.endswith("\n") and "\n" not in line[:-1]
    line.encode("utf-8")  # writable as UTF-8
    assert json.loads(line)["id"] == "x"


def test_the_output_is_never_the_input_nor_written_by_two_runs_at_once(tmp_path):
    import fcntl

    from broker.errors import OutputUnusable

    src = tmp_path / "in.jsonl"
    src.write_text('{"id": 1}\n{"id": 2}\n')
    units, _ = rows(1, 2)
    for resume in (False, True):  # emptied before it was read; resumed, its lines counted as done
        with pytest.raises(OutputUnusable, match="is the input"):
            run_resumable(str(src), units, id_key, resume, inputs=[str(src)])
        assert src.read_text() == '{"id": 1}\n{"id": 2}\n'
    (tmp_path / "link.jsonl").symlink_to(src)
    with pytest.raises(OutputUnusable, match="is the input"):
        run_resumable(str(tmp_path / "link.jsonl"), units, id_key, inputs=[str(src)])
    dst = tmp_path / "out.jsonl"
    dst.write_text('{"id": 1}\n')
    with open(dst) as other:  # another run holds it: neither emptied nor appended to
        fcntl.flock(other.fileno(), fcntl.LOCK_EX)
        for resume in (False, True):
            with pytest.raises(OutputUnusable, match="another run"):
                run_resumable(str(dst), units, id_key, resume, inputs=[str(src)])
        assert dst.read_text() == '{"id": 1}\n'
    run_resumable(str(dst), units, id_key, True, inputs=[str(src)])
    assert read(dst) == [{"id": 1}, {"id": 2}]
    with pytest.raises(OutputUnusable, match="cannot open"):
        run_resumable(str(tmp_path / "missing" / "out.jsonl"), units, id_key)
    if __import__("os").path.exists("/dev/full"):
        with pytest.raises(OutputUnusable, match="cannot write"):
            run_resumable("/dev/full", units, id_key)
