"""Hostile programs against the filesystem view: writes outside the working dir,
reads of host secrets, symlink escapes, leftovers between runs, /proc and the
host's environment.

Each program reports what it observed inside the sandbox as the value of a test
expression; the trusted side compares it with the literal in the test (which
never enters the sandbox), and the host is checked afterwards.
"""

from __future__ import annotations

import secrets

import pytest

from executor import Verdict
from executor.languages.python import THREAD_ENV

from .security_support import REPO, SECRET_ENV, make_job, show

pytestmark = pytest.mark.security

WRITE_PROBE = r'''
import os, shutil
def probe(target, name):
    """Every way we know to put a file named `name` into `target`; returns those that worked."""
    path = os.path.join(target, name)
    worked = []
    attempts = {
        "open": lambda: open(path, "w").write("pwned"),
        "os.open": lambda: os.close(os.open(path, os.O_CREAT | os.O_WRONLY, 0o666)),
        "mkdir": lambda: os.mkdir(path),
        "symlink": lambda: os.symlink("/tmp/w", path),
        "mkfifo": lambda: os.mkfifo(path),
        "rename": lambda: (open("/tmp/w/src", "w").write("x"), os.rename("/tmp/w/src", path)),
        "link": lambda: (open("/tmp/w/src2", "w").write("x"), os.link("/tmp/w/src2", path)),
        "copy": lambda: (open("/tmp/w/src3", "w").write("x"), shutil.copy("/tmp/w/src3", path)),
    }
    for how, fn in attempts.items():
        try:
            fn()
            worked.append(how)
        except OSError:
            pass
    return worked
'''

# Host directories a program must not be able to write into (the sandbox's root is
# read-only, the rest is hidden or owned by root). All of them are in WATCHED_DIRS.
WRITE_TARGETS = [
    "/",
    "/etc",
    "/root",
    str(REPO),
    str(REPO / "executor"),
    "/var/tmp",
    "/usr/local",
    "/home",
    "/dev",
    "/dev/shm",
    "/run",
]


@pytest.mark.parametrize("target", WRITE_TARGETS)
def test_write_outside_workdir_is_blocked(pool, host, target):
    result = pool.run(make_job(WRITE_PROBE, [f"assert probe({target!r}, {host.pwn!r}) == []"]))
    assert result.verdict is Verdict.PASSED, show(result)
    host.check()


def test_write_to_tmp_outside_workdir_stays_in_the_sandbox(pool, host):
    """/tmp is the sandbox's own tmpfs: writing there works, but never reaches the host's /tmp."""
    program = r"""
import os
def tmp_write(name):
    path = "/tmp/" + name
    with open(path, "w") as fh:
        fh.write("pwned")
    os.makedirs(path + ".d/sub")
    return open(path).read()
"""
    result = pool.run(make_job(program, [f"assert tmp_write({host.pwn!r}) == 'pwned'"]))
    assert result.verdict is Verdict.PASSED, show(result)
    host.check()


def test_host_tmp_canary_is_invisible_and_untouchable(pool, host):
    program = r"""
import os
def probe(path):
    seen = "present" if os.path.exists(path) else "absent"
    try:
        seen += ":" + open(path).read()
    except OSError:
        pass
    for attack in (lambda: open(path, "w").write("pwned"), lambda: os.unlink(path),
                   lambda: os.chmod(path, 0)):
        try:
            attack()
        except OSError:
            pass
    return seen
"""
    path = str(host.tmp_canary.path)
    result = pool.run(make_job(program, [f"assert probe({path!r}) == 'absent'"]))
    assert result.verdict is Verdict.PASSED, show(result)
    host.check()


def test_test_tmp_canary_cannot_be_read_changed_or_removed(pool, host):
    program = r"""
import os
def probe(path):
    done = []
    for name, attack in [("read", lambda: open(path).read()),
                         ("overwrite", lambda: open(path, "w").write("pwned")),
                         ("append", lambda: open(path, "a").write("pwned")),
                         ("chmod", lambda: os.chmod(path, 0)),
                         ("rename", lambda: os.rename(path, path + ".moved")),
                         ("unlink", lambda: os.unlink(path)),
                         ("sibling", lambda: open(os.path.join(os.path.dirname(path), "x"), "w").write("x")),
                         ("listdir", lambda: os.listdir(os.path.dirname(path)))]:
        try:
            attack()
            done.append(name)
        except OSError:
            pass
    return done
"""
    path = str(host.canary.path)
    result = pool.run(make_job(program, [f"assert probe({path!r}) == []"]))
    assert result.verdict is Verdict.PASSED, show(result)
    host.check()


READ_PROBE = r"""
import os
def probe(path):
    try:
        if os.path.isdir(path):
            return "listed %d entries" % len(os.listdir(path))
        with open(path, "rb") as fh:
            return "read %d bytes" % len(fh.read())
    except OSError:
        return "blocked"
"""

# Host files with secrets or repo content; the sandbox must not read (or even see) them.
READ_TARGETS = [
    "/etc/shadow",
    "/etc/passwd",
    "/etc/hostname",
    "/root",
    "/root/.bashrc",
    str(REPO / "pyproject.toml"),
    str(REPO / "executor" / "sandbox" / "zygote.py"),
    "/proc/1/environ",
    "/proc/1/root/etc/shadow",
    "/proc/1/cwd",
    "/home",
    "/var/run/redis",
    "/run/user",
    "/proc/kcore",
    "/sys/kernel",
]


@pytest.mark.parametrize("path", READ_TARGETS)
def test_host_secrets_are_unreadable(pool, host, path):
    result = pool.run(make_job(READ_PROBE, [f"assert probe({path!r}) == 'blocked'"]))
    assert result.verdict is Verdict.PASSED, show(result)
    host.check()


def test_symlink_escapes_lead_nowhere(pool, host):
    program = r"""
import os
def probe(targets):
    read = []
    for i, target in enumerate(targets):
        link = "/tmp/w/l%d" % i
        try:
            os.symlink(target, link)
            with open(link, "rb") as fh:
                fh.read(1)
            read.append(target)
        except OSError:
            pass
    return read
"""
    targets = [
        "/etc/shadow",
        str(REPO / "pyproject.toml"),
        str(host.canary.path),
        str(host.tmp_canary.path),
        "/proc/1/root" + str(REPO / "pyproject.toml"),
        "/proc/1/cwd/etc/shadow",
        "/root/.bashrc",
    ]
    result = pool.run(make_job(program, [f"assert probe({targets!r}) == []"]))
    assert result.verdict is Verdict.PASSED, show(result)
    host.check()


def test_leftovers_of_one_run_are_gone_for_the_next(solo_pool, host):
    """Job A hides a secret all over its scratch space (and tries /dev/shm); job B, on the
    same zygote, must find nothing: the scratch dir is wiped between runs."""
    secret = "leftover-" + secrets.token_hex(12)
    plant = (
        r"""
import os, socket
SECRET = %r
def plant():
    planted = []
    def put(path):
        try:
            with open(path, "w") as fh:
                fh.write(SECRET)
            planted.append(path)
        except OSError:
            pass
    put("/tmp/w/secret.txt")
    put("/tmp/w/.hidden")
    put("/tmp/secret.txt")
    os.makedirs("/tmp/deep/er/est", exist_ok=True)
    put("/tmp/deep/er/est/secret.txt")
    os.chmod("/tmp/deep/er", 0)            # a directory the wiper cannot enter as-is
    os.makedirs("/tmp/ro", exist_ok=True)
    put("/tmp/ro/secret.txt")
    os.chmod("/tmp/ro/secret.txt", 0)
    os.chmod("/tmp/ro", 0o500)             # read-only directory
    os.mkfifo("/tmp/fifo")
    s = socket.socket(socket.AF_UNIX)
    s.bind("/tmp/sock")                     # a socket file
    os.symlink("/tmp/secret.txt", "/tmp/w/link")
    put("/dev/shm/secret.txt")
    put("/dev/secret.txt")
    put("/var/tmp/secret.txt")
    return sorted(planted)
"""
        % secret
    )
    a = solo_pool.run(make_job(plant, ["assert len(plant()) >= 5"]))
    assert a.verdict is Verdict.PASSED, show(a)

    search = (
        r"""
import os
SECRET = %r
def search():
    found = [p for p in ("/dev/shm/secret.txt", "/dev/secret.txt", "/var/tmp/secret.txt") if os.path.lexists(p)]
    for top in ("/tmp", "/dev/shm", "/var/tmp"):
        for root, dirs, files in os.walk(top):
            for name in dirs + files:
                path = os.path.join(root, name)
                if path != "/tmp/w":
                    found.append(path)           # anything but the empty working dir is a leftover
                try:
                    with open(path) as fh:
                        if SECRET in fh.read(4096):
                            found.append("secret in " + path)
                except OSError:
                    pass
    return sorted(set(found))
"""
        % secret
    )
    b = solo_pool.run(make_job(search, ["assert search() == []"]))
    assert b.verdict is Verdict.PASSED, show(b)
    host.check()


def test_proc_shows_no_host_processes(pool, host, redis_server):
    program = r"""
import os
def probe():
    # The sandbox's own: its init, this child, the fork server (parent) and the zygote above it.
    with open("/proc/%d/stat" % os.getppid()) as fh:
        zygote = int(fh.read().rsplit(")", 1)[1].split()[1])
    mine = {1, os.getpid(), os.getppid(), zygote}
    others = []
    for name in os.listdir("/proc"):
        if name.isdigit() and int(name) not in mine:
            try:
                others.append(open("/proc/%s/cmdline" % name).read())
            except OSError:
                others.append(name)
    return others
"""
    result = pool.run(make_job(program, ["assert probe() == []"]))
    assert result.verdict is Verdict.PASSED, show(result)
    assert redis_server.alive()
    host.check()


# The sandbox's own environment: its paths, and one thread for each numerical library.
ENV_NAMES = sorted(["HOME", "LANG", "PATH", *THREAD_ENV])


def test_host_environment_is_not_visible(pool, host, host_secret):
    """A secret set in the worker's environment before the Pool started is nowhere in
    the sandbox: not in os.environ, not in any /proc/*/environ it can read."""
    program = r"""
import os
def probe(name, value):
    hits = []
    if name in os.environ or any(value in v for v in os.environ.values()):
        hits.append("os.environ")
    for pid in [p for p in os.listdir("/proc") if p.isdigit()] + ["self", "thread-self"]:
        for what in ("environ", "cmdline"):
            try:
                data = open("/proc/%s/%s" % (pid, what), "rb").read()
            except OSError:
                continue
            if name.encode() in data or value.encode() in data:
                hits.append("/proc/%s/%s" % (pid, what))
    return hits
def env_names():
    return sorted(os.environ)
"""
    result = pool.run(
        make_job(
            program,
            [f"assert probe({SECRET_ENV!r}, {host_secret!r}) == []", f"assert env_names() == {ENV_NAMES!r}"],
        )
    )
    assert result.verdict is Verdict.PASSED, show(result)
    host.check()
