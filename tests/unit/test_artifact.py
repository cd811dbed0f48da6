"""The blob of a program's files (executor/sandbox/artifact.py)."""

import os

import pytest

from executor.sandbox import artifact


def test_a_blob_unpacks_to_the_files_it_packed(tmp_path):
    blob = artifact.pack([("main", b"\x7fELF...", True), ("Main$1.class", b"\xca\xfe", False)])
    artifact.unpack(blob, str(tmp_path))
    assert (tmp_path / "main").read_bytes() == b"\x7fELF..."
    assert os.stat(tmp_path / "main").st_mode & 0o777 == 0o700
    assert os.stat(tmp_path / "Main$1.class").st_mode & 0o777 == 0o600


@pytest.mark.parametrize("name", ["", ".", "..", "../x", "a/b", ".hidden", "x\0y", "n" * 256])
def test_only_plain_names_are_packed(name):
    with pytest.raises(artifact.Invalid):
        artifact.pack([(name, b"", False)])


def test_a_forged_name_in_a_blob_is_refused(tmp_path):
    raw = b"../evil"
    blob = len(raw).to_bytes(2, "big") + raw + b"\0" + (1).to_bytes(4, "big") + b"x"
    with pytest.raises(artifact.Invalid):
        artifact.unpack(blob, str(tmp_path))
    assert not (tmp_path.parent / "evil").exists()


def test_a_truncated_blob_is_refused(tmp_path):
    blob = artifact.pack([("main", b"0123456789", True)])
    with pytest.raises(artifact.Invalid):
        artifact.unpack(blob[:-3], str(tmp_path))


def test_what_a_build_left_is_kept_by_pattern_without_links_or_directories(tmp_path):
    (tmp_path / "main").write_bytes(b"binary")
    (tmp_path / "A.class").write_bytes(b"a")
    (tmp_path / "B.class").symlink_to("/etc/passwd")  # a link the build made: never followed
    (tmp_path / "C.class").mkdir()
    (tmp_path / "main.cpp").write_text("source")
    blob = artifact.pack_found(str(tmp_path), ["*.class"])
    out = tmp_path / "out"
    out.mkdir()
    artifact.unpack(blob, str(out))
    assert sorted(os.listdir(out)) == ["A.class"]
    assert artifact.pack_found(str(tmp_path), ["nothing"]) is None


def test_a_build_that_left_too_much_is_refused(tmp_path, monkeypatch):
    monkeypatch.setattr(artifact, "MAX_BYTES", 1000)
    (tmp_path / "main").write_bytes(b"x" * 1001)
    with pytest.raises(artifact.Invalid, match="more than"):
        artifact.pack_found(str(tmp_path), ["main"])
