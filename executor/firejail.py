"""The firejail command line for one slot: the sandbox's whole policy.

The zygote runs under these flags for its whole life. The filesystem view is
the root mounted read-only with everything but the interpreter's needs
blacklisted (so host files, sockets under /run and /var, and other users' data
are not even visible); /tmp and /dev are private and fresh; no network (a new
empty namespace, and only AF_UNIX sockets may be created), no capabilities,
no new privileges, firejail's seccomp filter and no new namespaces.
"""

from __future__ import annotations

import os
import pwd

from .config import ExecutorConfig
from .errors import SandboxUnavailable

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
    "--private-etc=none",
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


SLOT_USERS = 32  # `make setup` creates <sandbox_user>-0 .. -31


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
    return user_prefix(config, slot) + [config.firejail, *FLAGS, *keep, *blacklist, *argv]
