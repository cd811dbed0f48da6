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
