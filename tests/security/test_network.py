"""Hostile programs against the network: the sandbox must not reach the test's own
Redis (127.0.0.1 TCP, ::1, UDP, its unix socket), a host abstract unix socket, or
create netlink/packet sockets. Only this machine's addresses are ever used.
"""

from __future__ import annotations

import secrets
import socket

import pytest

from executor import Verdict

from .security_support import make_job, show

pytestmark = pytest.mark.security

NET_PROBE = r'''
import errno, os, socket
def _err(e):
    return errno.errorcode.get(e.errno, str(e.errno)) if getattr(e, "errno", None) else type(e).__name__
def attempt(family, kind, addr, payload=b"*1\r\n$4\r\nPING\r\n"):
    """'reached: ...' only if the peer was reached; otherwise how it was stopped."""
    try:
        s = socket.socket(family, kind)
    except OSError as e:
        return "socket " + _err(e)
    try:
        s.settimeout(1.0)
        if kind == socket.SOCK_DGRAM and family != socket.AF_UNIX:
            s.sendto(payload, addr)
            return "reached: datagram sent"
        s.connect(addr)
        s.sendall(payload + b"*3\r\n$3\r\nSET\r\n$14\r\nacefarm:canary\r\n$5\r\npwned\r\n")
        return "reached: " + repr(s.recv(64))
    except OSError as e:
        return "connect " + _err(e)
    finally:
        s.close()
def blocked(results):
    return [r for r in results if r.startswith("reached")]
'''


def _redis_untouched(redis) -> None:
    assert redis.alive(), "the test's redis-server stopped answering"
    assert redis.cli("get", "acefarm:canary") == "untouched"


def _attempts(redis, abstract_name: str) -> dict[str, str]:
    port = redis.port
    return {
        "tcp4": f"attempt(socket.AF_INET, socket.SOCK_STREAM, ('127.0.0.1', {port}))",
        "tcp4-other-loopback": f"attempt(socket.AF_INET, socket.SOCK_STREAM, ('127.0.0.2', {port}))",
        "tcp6": f"attempt(socket.AF_INET6, socket.SOCK_STREAM, ('::1', {port}))",
        "tcp6-mapped": f"attempt(socket.AF_INET6, socket.SOCK_STREAM, ('::ffff:127.0.0.1', {port}))",
        "udp4": f"attempt(socket.AF_INET, socket.SOCK_DGRAM, ('127.0.0.1', {port}))",
        "udp6": f"attempt(socket.AF_INET6, socket.SOCK_DGRAM, ('::1', {port}))",
        "create_connection": f"attempt_cc({port})",
        "unix-test-redis": f"attempt(socket.AF_UNIX, socket.SOCK_STREAM, {redis.unixsocket!r})",
        "unix-var-run-redis": "attempt(socket.AF_UNIX, socket.SOCK_STREAM, '/var/run/redis/redis-server.sock')",
        "unix-run-redis": "attempt(socket.AF_UNIX, socket.SOCK_STREAM, '/run/redis/redis-server.sock')",
        "unix-abstract": f"attempt(socket.AF_UNIX, socket.SOCK_STREAM, '\\0{abstract_name}')",
        "unix-abstract-dgram": f"attempt(socket.AF_UNIX, socket.SOCK_DGRAM, '\\0{abstract_name}')",
        "netlink-route": "attempt(socket.AF_NETLINK, socket.SOCK_RAW, (0, 0))",
        "packet": "attempt(socket.AF_PACKET, socket.SOCK_RAW, ('lo', 0))",
        "raw-icmp": "attempt(socket.AF_INET, socket.SOCK_RAW, ('127.0.0.1', 0))",
    }


@pytest.fixture
def abstract_listener():
    """A listening abstract unix socket on the host; nothing from the sandbox may arrive."""
    name = "acefarm-security-" + secrets.token_hex(6)
    srv = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    srv.bind("\0" + name)
    srv.listen(8)
    srv.setblocking(False)
    yield name, srv
    srv.close()


def _no_connection(srv: socket.socket) -> bool:
    try:
        conn, _ = srv.accept()
    except BlockingIOError:
        return True
    conn.close()
    return False


ATTEMPT_NAMES = [
    "tcp4",
    "tcp4-other-loopback",
    "tcp6",
    "tcp6-mapped",
    "udp4",
    "udp6",
    "create_connection",
    "unix-test-redis",
    "unix-var-run-redis",
    "unix-run-redis",
    "unix-abstract",
    "unix-abstract-dgram",
    "netlink-route",
    "packet",
    "raw-icmp",
]

CREATE_CONNECTION = r"""
def attempt_cc(port):
    for host in ("localhost", "127.0.0.1", "::1"):
        try:
            socket.create_connection((host, port), timeout=1).close()
            return "reached: " + host
        except OSError:
            pass
    return "blocked"
"""


@pytest.mark.parametrize("name", ATTEMPT_NAMES)
def test_cannot_reach_local_services(pool, host, redis_server, abstract_listener, name):
    abstract_name, srv = abstract_listener
    expr = _attempts(redis_server, abstract_name)[name]
    program = NET_PROBE + CREATE_CONNECTION
    result = pool.run(make_job(program, [f"assert blocked([{expr}]) == []"]))
    assert result.verdict is Verdict.PASSED, show(result)
    assert _no_connection(srv), "a connection from the sandbox reached the host's abstract socket"
    _redis_untouched(redis_server)
    host.check()


def test_raw_socket_syscall_is_refused(pool, host, redis_server):
    """socket(2) through ctypes, bypassing the socket module: AF_INET/AF_INET6/AF_NETLINK/AF_PACKET."""
    program = r"""
import ctypes
libc = ctypes.CDLL(None, use_errno=True)
def probe():
    made = []
    for family, kind in ((2, 1), (2, 2), (2, 3), (10, 1), (16, 3), (17, 3)):
        fd = libc.syscall(ctypes.c_long(41), ctypes.c_long(family), ctypes.c_long(kind), ctypes.c_long(0))
        if fd >= 0:
            made.append((family, kind))
    return made
"""
    result = pool.run(make_job(program, ["assert probe() == []"]))
    assert result.verdict is Verdict.PASSED, show(result)
    _redis_untouched(redis_server)
    host.check()


# IORING_OP_SOCKET (opcode 45) creates a socket inside the kernel, where no seccomp
# filter looks at the address family.
IO_URING = r'''
import ctypes, errno, mmap, socket, struct
libc = ctypes.CDLL(None, use_errno=True)
def _sys(*args):
    r = libc.syscall(*[ctypes.c_long(a) if isinstance(a, int) else a for a in args])
    return r, ctypes.get_errno()
def uring_socket(domain, kind):
    """A socket made by io_uring: its fd, or a string saying what stopped it."""
    params = (ctypes.c_ubyte * 120)()
    fd, err = _sys(425, 4, params)                       # io_uring_setup
    if fd < 0:
        return "io_uring_setup " + errno.errorcode.get(err, str(err))
    p = bytes(params)
    sq_entries, cq_entries = struct.unpack_from("II", p, 0)
    _, sq_tail, sq_mask, _, _, _, sq_array = struct.unpack_from("7I", p, 40)
    cq_head, _, cq_mask, _, _, cqes = struct.unpack_from("6I", p, 80)
    size = max(sq_array + sq_entries * 4, cqes + cq_entries * 16)
    ring = mmap.mmap(fd, size, mmap.MAP_SHARED, mmap.PROT_READ | mmap.PROT_WRITE, offset=0)
    sqes = mmap.mmap(fd, sq_entries * 64, mmap.MAP_SHARED, mmap.PROT_READ | mmap.PROT_WRITE,
                     offset=0x10000000)
    sqe = bytearray(64)
    struct.pack_into("BBHiQQIIQ", sqe, 0, 45, 0, 0, domain, kind, 0, 0, 0, 7)
    sqes[0:64] = bytes(sqe)
    tail = struct.unpack_from("I", ring, sq_tail)[0]
    struct.pack_into("I", ring, sq_array + (tail & sq_mask) * 4, 0)
    struct.pack_into("I", ring, sq_tail, tail + 1)
    n, err = _sys(426, fd, 1, 1, 1, 0, 0)                # io_uring_enter(GETEVENTS)
    if n < 0:
        return "io_uring_enter " + errno.errorcode.get(err, str(err))
    head = struct.unpack_from("I", ring, cq_head)[0]
    _, res, _ = struct.unpack_from("QiI", ring, cqes + (head & cq_mask) * 16)
    if res < 0:
        return "IORING_OP_SOCKET " + errno.errorcode.get(-res, str(-res))
    return res
def families():
    made = []
    for family in (socket.AF_INET, socket.AF_INET6, socket.AF_NETLINK, socket.AF_PACKET):
        if isinstance(uring_socket(family, socket.SOCK_RAW if family in (16, 17) else socket.SOCK_STREAM), int):
            made.append(int(family))
    return made
def reach(port):
    fd = uring_socket(socket.AF_INET, socket.SOCK_STREAM)
    if not isinstance(fd, int):
        return "blocked: " + fd
    s = socket.socket(fileno=fd)
    s.settimeout(1.0)
    try:
        s.connect(("127.0.0.1", port))
        s.sendall(b"*1\r\n$4\r\nPING\r\n")
        return "reached: " + repr(s.recv(64))
    except OSError as e:
        return "blocked: connect " + errno.errorcode.get(e.errno, str(e.errno))
'''


def test_io_uring_socket_cannot_reach_redis(pool, host, redis_server):
    """Even a socket made behind seccomp's back has an empty network namespace."""
    result = pool.run(make_job(IO_URING, [f"assert reach({redis_server.port}).startswith('blocked')"]))
    assert result.verdict is Verdict.PASSED, show(result)
    _redis_untouched(redis_server)
    host.check()


def test_io_uring_cannot_create_non_unix_sockets(pool, host, redis_server):
    result = pool.run(make_job(IO_URING, ["assert families() == []"]))
    assert result.verdict is Verdict.PASSED, show(result)
    _redis_untouched(redis_server)
    host.check()
