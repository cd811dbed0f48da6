"""Framing on the sandbox's pipes: a 4-byte big-endian length, then that much UTF-8 JSON.

The JSON goes through the C encoder and scanner, built once at import: a program that later
patches `json`, `isinstance` or other builtins in its own process cannot change them.
Standard library only.
"""

import json
import json.encoder
import json.scanner
import os

MAX_FRAME = 16 << 20
READY_FRAME = len(b'{"ready":true}').to_bytes(4, "big") + b'{"ready":true}'


def _unencodable(obj):
    raise TypeError("not JSON data")


_encode = json.encoder.c_make_encoder(
    None, _unencodable, json.encoder.encode_basestring_ascii, None, ":", ",", False, False, True
)
_scan = json.scanner.c_make_scanner(json.JSONDecoder())
_join = "".join
_len = len
_read, _write = os.read, os.write
_utf8 = bytes.decode


def dumps(obj):
    return _join(_encode(obj, 0))


def loads(body):
    text = _utf8(body, "utf-8")
    value, end = _scan(text, 0)
    if end != _len(text):
        raise ValueError("extra data after a frame")
    return value


def read_exact(fd, n):
    """Exactly `n` bytes from `fd`, or None at EOF."""
    buf = b""
    while _len(buf) < n:
        chunk = _read(fd, n - _len(buf))
        if not chunk:
            return None
        buf += chunk
    return buf


def read_frame(fd, limit=MAX_FRAME):
    """One frame from `fd`, or None at EOF. Reads exactly the frame, never beyond it."""
    head = read_exact(fd, 4)
    if head is None:
        return None
    n = int.from_bytes(head, "big")
    if n > limit:
        raise ValueError("frame too large")
    body = read_exact(fd, n)
    return None if body is None else loads(body)


def write_raw(fd, body):
    write_raw_bytes(fd, _len(body).to_bytes(4, "big") + body)


def write_raw_bytes(fd, data):
    """All of `data` (framed already) to `fd`."""
    while data:
        data = data[_write(fd, data) :]


def write_frame(fd, obj):
    write_raw(fd, dumps(obj).encode("utf-8"))


def read_all(fd):
    """The whole content of a file descriptor (a memfd), from its start, whatever its offset."""
    size = os.fstat(fd).st_size
    chunks, got = [], 0
    while got < size:
        chunk = os.pread(fd, size - got, got)
        if not chunk:
            break
        chunks.append(chunk)
        got += len(chunk)
    return b"".join(chunks)
