"""frames.py: the sandbox's framing, through the C JSON encoder and scanner."""

import json
import os

import pytest

from executor.sandbox import frames


def test_round_trip_and_exact_reads():
    r, w = os.pipe()
    frames.write_frame(w, {"n": "ab", "v": [1, 2.5, "é", None, True]})
    frames.write_frame(w, [1])
    assert frames.read_frame(r) == {"n": "ab", "v": [1, 2.5, "é", None, True]}
    assert frames.read_frame(r) == [1]  # the first read took exactly its frame
    os.close(w)
    assert frames.read_frame(r) is None
    os.close(r)


def test_bad_frames_are_refused():
    with pytest.raises(ValueError):
        frames.loads(b'{"a": 1} trailing')
    with pytest.raises(TypeError):
        frames.dumps({"x": object()})
    r, w = os.pipe()
    os.write(w, (100).to_bytes(4, "big"))
    with pytest.raises(ValueError, match="too large"):
        frames.read_frame(r, limit=10)
    os.close(r)
    os.close(w)


def test_patched_json_does_not_change_frames(monkeypatch):
    monkeypatch.setattr(json.encoder.JSONEncoder, "encode", lambda self, o: '"forged"')
    monkeypatch.setattr(json, "loads", lambda *a, **k: "forged")
    assert frames.loads(frames.dumps({"s": "fail"}).encode()) == {"s": "fail"}


def test_part_frames_never_wait_for_the_host_and_precede_the_answer():
    """The zygote's HostPipe: a host that is not reading (busy judging the job before) never
    blocks a running job; what the pipe cannot take waits, in order, before the answer."""
    import threading

    from executor.sandbox.process import HostPipe

    r, w = os.pipe()
    pipe = HostPipe(w)
    big = ["x" * 1000] * 100  # ~100 KB a frame: more than a pipe holds
    for i in range(5):
        pipe.send_soon({"part": 0, "v": big, "i": i})  # returns at once
    assert pipe.pending  # the pipe is full: the rest is kept
    got: list = []
    reader = threading.Thread(target=lambda: got.extend(iter(lambda: frames.read_frame(r, 1 << 20), None)))
    reader.start()
    pipe.write_frame({"answer": True})  # blocks until everything before it is written
    assert not pipe.pending
    os.close(w)
    reader.join()
    os.close(r)
    assert [f.get("i") for f in got] == [0, 1, 2, 3, 4, None] and got[-1] == {"answer": True}
