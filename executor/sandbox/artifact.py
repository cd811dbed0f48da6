"""Files of a program that is not Python, as one blob: its sources before a build, what the
build made after it (a binary, class files). Standard library only.

Format: records of ``name length (2 bytes) | name (UTF-8) | mode (1 byte: 1 executable) |
size (4 bytes) | bytes``, big-endian, back to back. Names are plain file names of the
working directory: no "/", no "..", nothing hidden.

The host packs a program's sources (it names them); the zygote packs what a build left in
the working directory (`pack_found`: regular files only, opened without following links, at
most MAX_BYTES in all) and hands the blob to every run of the program, whose child unpacks
it into its own, empty, working directory before the program starts (`read`, then `write`).
"""

import fnmatch
import os
import stat

MAX_BYTES = 64 << 20  # what one build may leave (a Go binary is about 2 MB)
MAX_FILES = 4096
_O_READ = os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC
_O_WRITE = os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_CLOEXEC


class Invalid(Exception):
    """A blob or a name that is not well formed, or more than the limits allow."""


def valid_name(name):
    return (
        isinstance(name, str)
        and 0 < len(name) <= 255
        and "/" not in name
        and "\0" not in name
        and name not in (".", "..")
        and not name.startswith(".")
    )


def pack(files):
    """The blob of `files`: [(name, bytes, executable)]."""
    out = bytearray()
    for name, data, executable in files:
        if not valid_name(name):
            raise Invalid("not a plain file name: %r" % (name,))
        raw = name.encode("utf-8")
        out += len(raw).to_bytes(2, "big") + raw + (b"\1" if executable else b"\0") + len(data).to_bytes(4, "big")
        out += data
    return bytes(out)


def pack_found(workdir, patterns):
    """(the blob of the files in `workdir` whose names match one of `patterns`, sorted by
    name, or None when none does). Raises Invalid past MAX_BYTES or MAX_FILES."""
    names = sorted(n for n in os.listdir(workdir) if valid_name(n) and any(fnmatch.fnmatchcase(n, p) for p in patterns))
    if len(names) > MAX_FILES:
        raise Invalid("the build left more than %d files" % MAX_FILES)
    files, total = [], 0
    for name in names:
        try:
            fd = os.open(os.path.join(workdir, name), _O_READ)
        except OSError:
            continue  # a link, or gone
        try:
            info = os.fstat(fd)
            if not stat.S_ISREG(info.st_mode):
                continue
            total += info.st_size
            if total > MAX_BYTES:
                raise Invalid("the build left more than %d MiB" % (MAX_BYTES >> 20))
            chunks, size = [], 0
            while size < info.st_size:
                chunk = os.read(fd, min(1 << 20, info.st_size - size))
                if not chunk:
                    break
                chunks.append(chunk)
                size += len(chunk)
            files.append((name, b"".join(chunks), bool(info.st_mode & 0o100)))
        finally:
            os.close(fd)
    return pack(files) if files else None


def unpack(blob, workdir="."):
    """Write the files of `blob` into `workdir` (which must not hold them yet)."""
    write(read(blob), workdir)


def read(blob):
    """The files of `blob`: [(name, bytes as a memoryview, executable)], checked (Invalid when
    it is not well formed), nothing written."""
    view, at = memoryview(blob), 0
    count, files = 0, []
    while at < len(view):
        count += 1
        if count > MAX_FILES or at + 2 > len(view):
            raise Invalid("malformed blob")
        n = int.from_bytes(view[at : at + 2], "big")
        name = bytes(view[at + 2 : at + 2 + n]).decode("utf-8")
        at += 2 + n
        if not valid_name(name) or at + 5 > len(view):
            raise Invalid("malformed blob")
        executable = view[at] == 1
        size = int.from_bytes(view[at + 1 : at + 5], "big")
        at += 5
        if at + size > len(view):
            raise Invalid("malformed blob")
        files.append((name, view[at : at + size], executable))
        at += size
    return files


def write(files, workdir="."):
    """Write `files` (as `read` gives them) into `workdir` (which must not hold them yet)."""
    for name, data, executable in files:
        fd = os.open(os.path.join(workdir, name), _O_WRITE, 0o700 if executable else 0o600)
        try:
            while data:
                data = data[os.write(fd, data) :]
        finally:
            os.close(fd)
