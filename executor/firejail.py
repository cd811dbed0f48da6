"""The firejail command line for one slot: the sandbox's whole policy.

The zygote runs under these flags for its whole life. The filesystem view is
the root mounted read-only with everything but the interpreter's needs
blacklisted (so host files, sockets under /run and /var, and other users' data
are not even visible); /tmp and /dev are private and fresh; no network (a new
empty namespace, and only AF_UNIX sockets may be created), no capabilities,
no new privileges, firejail's seccomp filter and no new namespaces.
"""

from __future__ import annotations

import fcntl
import os
import pwd
import subprocess
import tempfile
import threading

from .config import ExecutorConfig
from .errors import SandboxUnavailable
from .users import SLOT_USERS

# Top-level directories the interpreter needs; every other entry of / is hidden.
VISIBLE_TOP = {"usr", "lib", "lib32", "lib64", "libx32", "bin", "sbin", "etc", "proc", "dev", "tmp"}

FLAGS = (
    "--quiet",
    "--noprofile",
    "--net=none",
    "--protocol=unix",
    "--caps.drop=all",
    "--nonewprivs",
    "--seccomp",
    "--restrict-namespaces",
    "--nogroups",
    "--private-tmp",
    "--private-dev",
    "--read-only=/",
    "--nosound",
    "--no3d",
    "--notv",
    "--nodvd",
    "--nou2f",
    "--novideo",
    "--noinput",
    "--disable-mnt",
    "--ipc-namespace",
)


def hidden_paths(interpreter: str) -> list[str]:
    """Paths to blacklist: all of / but what the interpreter needs.

    /run is special: firejail keeps its own state in /run/firejail, so each
    other entry of /run is hidden instead.
    """
    keep = set(VISIBLE_TOP)
    parts = os.path.realpath(interpreter).strip("/").split("/")
    if parts and parts[0]:
        keep.add(parts[0])
    hidden = []
    for name in sorted(os.listdir("/")):
        if name in keep:
            continue
        path = "/" + name
        if name == "run" and os.path.isdir(path):
            hidden += [f"/run/{n}" for n in sorted(os.listdir(path)) if n != "firejail"]
        else:
            hidden.append(path)
    return hidden


def slot_user(config: ExecutorConfig, slot: int) -> tuple[pwd.struct_passwd, int]:
    """The user slot `slot` runs as, and how many slots of the pool share it.

    Its own user where `make setup` made one (`<sandbox_user>-N`): the kernel's per-user
    process count (RLIMIT_NPROC) is then the slot's alone. Else the shared sandbox user.
    """
    try:
        return pwd.getpwnam(f"{config.sandbox_user}-{slot % SLOT_USERS}"), -(-config.slots // SLOT_USERS)
    except KeyError:
        pass
    try:
        return pwd.getpwnam(config.sandbox_user), config.slots
    except KeyError:
        raise SandboxUnavailable(
            f"running as root but the sandbox user {config.sandbox_user!r} does not exist; "
            "create it with `make setup` (useradd --system acefarm-sandbox)"
        ) from None


def user_prefix(config: ExecutorConfig, slot: int = 0) -> list[str]:
    """`setpriv` to the slot's sandbox user when we are root; nothing otherwise."""
    if os.geteuid() != 0:
        return []
    pw, _ = slot_user(config, slot)
    # firejail is setuid root and needs its capabilities; it drops them itself.
    return ["setpriv", f"--reuid={pw.pw_uid}", f"--regid={pw.pw_gid}", "--clear-groups"]


def command(config: ExecutorConfig, argv: list[str], slot: int = 0, keep_fds: tuple[int, ...] = ()) -> list[str]:
    """The full command that starts `argv` inside the sandbox, for slot number `slot`.
    `keep_fds`: descriptors firejail leaves open for it (it closes every other one above 2)."""
    if not config.firejail or not os.access(config.firejail, os.X_OK):
        raise SandboxUnavailable(
            "firejail is not installed (apt-get install firejail, or `make setup`); "
            "refusing to run untrusted code without it (see --insecure-no-sandbox)"
        )
    blacklist = [f"--blacklist={p}" for p in hidden_paths(argv[0])]
    # No "--": with it firejail runs the command through the user's login shell.
    keep = [f"--keep-fd={','.join(map(str, sorted(keep_fds)))}"] if keep_fds else []
    return user_prefix(config, slot) + [config.firejail, *FLAGS, private_etc(config), *keep, *blacklist, *argv]


# firejail keeps its state in /run/firejail (a tmpfs: gone at each boot), built by the first
# sandbox that finds it missing: two read-only marks it bind-mounts and later checks. Sandboxes
# started at once on a fresh boot race there: one sees the other's marks half-mounted and fails
# ("invalid read-only mount"). So the first sandbox of a boot starts alone.
STATE_MARKS = ("/run/firejail/firejail.ro.dir", "/run/firejail/firejail.ro.file")
_building = threading.Lock()


def _mounted(paths: tuple[str, ...]) -> bool:
    try:
        with open("/proc/self/mountinfo") as fh:
            points = {line.split(" ", 5)[4] for line in fh if line.count(" ") >= 5}
    except OSError:
        return True  # nothing to go by: let the sandbox say what is wrong
    return all(p in points for p in paths)


def build_state(config: ExecutorConfig) -> None:
    """Have firejail build its state directory, alone, before sandboxes start side by side.

    A read of the mount table when the marks are there (each slot start: well under a
    millisecond against firejail's tens). Serialized across this host's processes by a lock file
    (two workers starting together race as two slots do) and across threads by a lock. A failed
    build is left for the slot's own start to report, with its message."""
    if not config.firejail or _mounted(STATE_MARKS):
        return
    with _building:
        path = os.path.join(tempfile.gettempdir(), "acefarm-firejail-state.lock")
        try:
            fd = os.open(path, os.O_RDONLY | os.O_CREAT | os.O_NOFOLLOW | os.O_CLOEXEC, 0o644)
        except OSError:
            fd = -1  # this process's threads still go one at a time
        try:
            if fd >= 0:
                fcntl.flock(fd, fcntl.LOCK_EX)
            if not _mounted(STATE_MARKS):
                subprocess.run(
                    [config.firejail, "--quiet", "--noprofile", "--net=none", "true"],
                    stdin=subprocess.DEVNULL,
                    stdout=subprocess.DEVNULL,
                    stderr=subprocess.DEVNULL,
                    timeout=60,
                    check=False,
                )
        except (OSError, subprocess.SubprocessError):
            pass
        finally:
            if fd >= 0:
                os.close(fd)


def private_etc(config: ExecutorConfig) -> str:
    """The sandbox's /etc: empty, but for what the languages' toolchains read there (the JVM's
    configuration) and, with Python's packages, Debian's alternatives links (numpy's BLAS)."""
    from .languages import python, toolchains

    wanted = {e for tc in toolchains(config.languages).values() for e in tc.language.etc}
    if python.installed_packages(config.python_packages):
        wanted.update(python.ETC)
    keep = sorted(e for e in wanted if os.path.isdir("/etc/" + e))
    return "--private-etc=" + (",".join(keep) if keep else "none")


# What firejail (setuid root) needs to build the sandbox, found by taking each capability out of
# the bounding set in turn: namespaces and mounts (SYS_ADMIN), the sandbox's loopback (NET_ADMIN),
# its private /dev (MKNOD), its copies of /etc files (CHOWN, FOWNER, DAC_OVERRIDE), dropping its
# own capabilities (SETPCAP), and setpriv's switch to the slot's user (SETUID, SETGID). A
# container runtime's default set lacks SYS_ADMIN and NET_ADMIN.
CAPABILITIES = {
    "CAP_CHOWN": 0,
    "CAP_DAC_OVERRIDE": 1,
    "CAP_FOWNER": 3,
    "CAP_SETGID": 6,
    "CAP_SETUID": 7,
    "CAP_SETPCAP": 8,
    "CAP_NET_ADMIN": 12,
    "CAP_SYS_ADMIN": 21,
    "CAP_MKNOD": 27,
}


def _status() -> dict[str, str]:
    try:
        with open("/proc/self/status") as fh:
            return dict(line.rstrip("\n").split(":\t", 1) for line in fh if ":\t" in line)
    except OSError:
        return {}


def missing_privileges() -> list[str]:
    """What this process lacks for firejail to build a sandbox: capabilities absent from its
    bounding set (a setuid program gets no more), and no_new_privs (a setuid program gets
    nothing). Empty when nothing is known to be missing."""
    status = _status()
    missing = []
    try:
        bounding = int(status.get("CapBnd", "0"), 16)
    except ValueError:
        bounding = -1
    if bounding >= 0:
        missing += [name for name, bit in CAPABILITIES.items() if not bounding >> bit & 1]
    if status.get("NoNewPrivs", "0").strip() == "1":
        missing.append("no_new_privs is set (setuid firejail cannot gain its privileges)")
    return missing


def diagnosis() -> str:
    """What may stop firejail here, for the message of a sandbox that failed to start: missing
    privileges, a seccomp filter or an AppArmor profile confining this process."""
    notes = []
    missing = missing_privileges()
    if missing:
        notes.append("missing: " + ", ".join(missing))
    if _status().get("Seccomp", "0").strip() == "2":
        notes.append(
            "a seccomp filter confines this process (runtimes' default profiles let firejail work; "
            "a stricter one may refuse its namespaces)"
        )
    try:
        with open("/proc/self/attr/current") as fh:
            profile = fh.read().strip()
    except OSError:
        profile = ""
    if profile and profile != "unconfined":
        notes.append(f"AppArmor profile {profile!r} (containers: --security-opt apparmor=unconfined)")
    return "; ".join(notes)


def check_privileges() -> None:
    """Refuse to start sandboxes that cannot be built, naming what is missing (the README's
    container section says how to grant it)."""
    missing = missing_privileges()
    if missing:
        raise SandboxUnavailable(
            "firejail cannot build the sandbox: this process lacks "
            + ", ".join(missing)
            + " (in a container: --cap-add SYS_ADMIN --cap-add NET_ADMIN, see the README's container section)"
        )
