"""Hosts on one machine for cluster tests: a network namespace per host, all on one bridge.

A `Lan` makes a namespace `<tag>-lan` holding a bridge, and per host a namespace `<tag>-<host>`
whose `eth0` is one end of a veth pair; the other end, named after the host, is a port of the
bridge. Addresses (10.77.0.0/24) exist only inside the hosts' namespaces: the machine's own
namespace gets no interface, address or route, so runs side by side do not collide. A process
runs on a host through `exec(host)` (`ip netns exec`, which execs the command: its pid is the
process's own). `cut(host)` takes the host's bridge port down (the cable pulled: the host keeps
its address and its open connections, and nothing it sends arrives); `mend(host)` plugs it back.

`close` kills whatever still runs in the namespaces and deletes them; namespaces a killed test
run left behind (its pytest process gone) are deleted by the next `Lan`.
"""

from __future__ import annotations

import os
import re
import signal
import subprocess

NET = "10.77.0"
TAG = "aftest"
_STALE = re.compile(rf"^{TAG}(\d+)-\S+")


def _ip(*args: str) -> str:
    try:
        out = subprocess.run(["ip", *args], capture_output=True, text=True, timeout=30)
    except (OSError, subprocess.TimeoutExpired) as exc:  # no `ip` here, or it hung
        raise RuntimeError(f"ip {' '.join(args)}: {exc}") from exc
    if out.returncode != 0:
        raise RuntimeError(f"ip {' '.join(args)}: {out.stderr.strip() or out.returncode}")
    return out.stdout


def _namespaces() -> list[str]:
    return [line.split()[0] for line in _ip("netns", "list").splitlines() if line.strip()]


def _delete(ns: str) -> None:
    """Kill what runs in `ns` (processes of a test's hosts), then delete it."""
    try:
        pids = [int(p) for p in _ip("netns", "pids", ns).split()]
    except RuntimeError:
        pids = []
    for pid in pids:
        try:
            os.kill(pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
    try:
        _ip("netns", "del", ns)
    except RuntimeError:
        pass


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def unavailable() -> str | None:
    """Why this machine cannot make a Lan (not root, namespaces or veths refused), or None."""
    if os.geteuid() != 0:
        return "network namespaces need root"
    ns = f"{TAG}{os.getpid()}-probe"
    try:
        _ip("netns", "add", ns)
        _ip("-n", ns, "link", "add", "br0", "type", "bridge")
        _ip("-n", ns, "link", "add", "name", "va", "type", "veth", "peer", "name", "vb")
    except RuntimeError as exc:
        return f"cannot make network namespaces here: {exc}"
    finally:
        _delete(ns)
    return None


class Lan:
    """Network namespaces joined by a bridge; see the module's docstring."""

    def __init__(self) -> None:
        self.tag = f"{TAG}{os.getpid()}"
        self.hosts: dict[str, str] = {}  # host -> its address
        for ns in _namespaces():  # left by a run that was killed before its teardown
            m = _STALE.match(ns)
            if m and not _alive(int(m.group(1))):
                _delete(ns)
        self.lan = self.ns("lan")
        self._made = [self.lan]
        try:
            _ip("netns", "add", self.lan)
            _ip("-n", self.lan, "link", "add", "br0", "type", "bridge")
            _ip("-n", self.lan, "link", "set", "br0", "up")
        except BaseException:
            self.close()
            raise

    def ns(self, host: str) -> str:
        return f"{self.tag}-{host}"

    def add(self, host: str, last_octet: int) -> str:
        """A host on the bridge at NET.<last_octet>; returns its address. `host` names its bridge
        port, an interface: 15 bytes at most."""
        ns = self.ns(host)
        addr = f"{NET}.{last_octet}"
        _ip("netns", "add", ns)
        self._made.append(ns)
        _ip("-n", ns, "link", "set", "lo", "up")
        _ip("-n", self.lan, "link", "add", "name", host, "type", "veth", "peer", "name", "eth0", "netns", ns)
        _ip("-n", self.lan, "link", "set", "dev", host, "master", "br0", "up")
        _ip("-n", ns, "addr", "add", f"{addr}/24", "dev", "eth0")
        _ip("-n", ns, "link", "set", "eth0", "up")
        self.hosts[host] = addr
        return addr

    def exec(self, host: str) -> list[str]:
        """The prefix that runs a command on `host`."""
        return ["ip", "netns", "exec", self.ns(host)]

    def cut(self, host: str) -> None:
        _ip("-n", self.lan, "link", "set", "dev", host, "down")

    def mend(self, host: str) -> None:
        _ip("-n", self.lan, "link", "set", "dev", host, "up")

    def close(self) -> None:
        for ns in reversed(self._made):
            _delete(ns)
        self._made.clear()
