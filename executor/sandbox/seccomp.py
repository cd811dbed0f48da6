"""A seccomp filter the zygote installs on itself, inherited by every child.

firejail's filter is shared by the zygote and its children, so it cannot stop
a child from acting on the zygote (same uid, same sandbox) or from leaving
state behind for the next program. This one, on top of it:

- lets a process signal only pid 0 (its own group) and pids/groups newer than
  the zygote: in the sandbox's pid namespace those are exactly the children
  and their descendants (pids below the zygote's, such as the namespace's
  init, are never reused);
- lets a process change resource limits, scheduling, I/O priority and CPU
  affinity only of itself (pid 0), never of the zygote or the whole user;
- refuses clone(CLONE_PARENT) (siblings of the zygote's children, which it would have to reap)
  and clone3 (its flags sit in memory a filter cannot read; glibc falls back to clone);
- denies ptrace-like calls, signals sent by other means (sigqueue, pidfd,
  F_SETOWN/FIOSETOWN/SIOCSPGRP for SIGIO), SysV IPC and POSIX message queues
  (they would outlive a run), the kernel keyring (per-user, shared across
  runs), io_uring (it creates sockets around --protocol), bpf, perf events,
  userfaultfd and page migration of other processes;
- kills a process that uses the x32 or a foreign-architecture syscall ABI.

The fork server stacks a second filter on itself (SignalFloor), inherited by every child: no
signals to it or the zygote, and no memfds (UNMAPPED_MEMORY).

Standard library only.
"""

import ctypes
import platform

# BPF opcodes
_LD_W_ABS = 0x20
_JEQ_K = 0x15
_JGE_K = 0x35
_JGT_K = 0x25
_JSET_K = 0x45
_RET_K = 0x06

_RET_ALLOW = 0x7FFF0000
_RET_KILL_PROCESS = 0x80000000
_RET_ERRNO_EPERM = 0x00050000 | 1
_RET_ERRNO_ENOSYS = 0x00050000 | 38

_PR_SET_NO_NEW_PRIVS = 38
_PR_SET_SECCOMP = 22
_SECCOMP_MODE_FILTER = 2

_F_SETOWN = 8
_F_SETOWN_EX = 15
_F_SETSIG = 10
_FIOSETOWN = 0x8901
_SIOCSPGRP = 0x8902
_TIOCSPGRP = 0x5410

# seccomp_data: nr at 0, arch at 4, args[i] at 16 + 8 i (low word first on both arches)
_ARG = [16 + 8 * i for i in range(6)]

_DENY = (
    "ptrace",
    "process_vm_readv",
    "process_vm_writev",
    "rt_sigqueueinfo",
    "rt_tgsigqueueinfo",
    "pidfd_send_signal",
    "pidfd_open",
    "pidfd_getfd",
    "kcmp",
    "shmget",
    "shmat",
    "shmctl",
    "shmdt",
    "semget",
    "semop",
    "semctl",
    "semtimedop",
    "msgget",
    "msgsnd",
    "msgrcv",
    "msgctl",
    "mq_open",
    "mq_unlink",
    "mq_timedsend",
    "mq_timedreceive",
    "mq_notify",
    "mq_getsetattr",
    "add_key",
    "keyctl",
    "request_key",
    "bpf",
    "perf_event_open",
    "userfaultfd",
    "migrate_pages",
    "move_pages",
    "process_madvise",
    "process_mrelease",
)
_ENOSYS = ("io_uring_setup", "io_uring_enter", "io_uring_register", "clone3")  # clone3: flags unreadable
_CLONE_PARENT = 0x00008000
_CLONE_THREAD = 0x00010000
_RET_ERRNO_EAGAIN = 0x00050000 | 11
_SELF_ONLY = ("prlimit64", "sched_setaffinity", "sched_setscheduler", "sched_setparam", "sched_setattr")

# (audit arch, {name: syscall number})
_ARCH = {
    "x86_64": (
        0xC000003E,
        {
            "kill": 62,
            "tkill": 200,
            "tgkill": 234,
            "ptrace": 101,
            "process_vm_readv": 310,
            "process_vm_writev": 311,
            "rt_sigqueueinfo": 129,
            "rt_tgsigqueueinfo": 297,
            "pidfd_send_signal": 424,
            "pidfd_open": 434,
            "pidfd_getfd": 438,
            "fcntl": 72,
            "ioctl": 16,
            "kcmp": 312,
            "shmget": 29,
            "shmat": 30,
            "shmctl": 31,
            "shmdt": 67,
            "semget": 64,
            "semop": 65,
            "semctl": 66,
            "semtimedop": 220,
            "msgget": 68,
            "msgsnd": 69,
            "msgrcv": 70,
            "msgctl": 71,
            "mq_open": 240,
            "mq_unlink": 241,
            "mq_timedsend": 242,
            "mq_timedreceive": 243,
            "mq_notify": 244,
            "mq_getsetattr": 245,
            "add_key": 248,
            "request_key": 249,
            "keyctl": 250,
            "bpf": 321,
            "perf_event_open": 298,
            "userfaultfd": 323,
            "migrate_pages": 256,
            "move_pages": 279,
            "process_madvise": 440,
            "process_mrelease": 448,
            "io_uring_setup": 425,
            "io_uring_enter": 426,
            "io_uring_register": 427,
            "clone": 56,
            "clone3": 435,
            "fork": 57,
            "vfork": 58,
            "prlimit64": 302,
            "sched_setaffinity": 203,
            "sched_setscheduler": 144,
            "sched_setparam": 142,
            "sched_setattr": 314,
            "setpriority": 141,
            "ioprio_set": 251,
            "memfd_create": 319,
            "memfd_secret": 447,
        },
    ),
    "aarch64": (
        0xC00000B7,
        {
            "kill": 129,
            "tkill": 130,
            "tgkill": 131,
            "ptrace": 117,
            "process_vm_readv": 270,
            "process_vm_writev": 271,
            "rt_sigqueueinfo": 138,
            "rt_tgsigqueueinfo": 240,
            "pidfd_send_signal": 424,
            "pidfd_open": 434,
            "pidfd_getfd": 438,
            "fcntl": 25,
            "ioctl": 29,
            "kcmp": 272,
            "shmget": 194,
            "shmctl": 195,
            "shmat": 196,
            "shmdt": 197,
            "semget": 190,
            "semctl": 191,
            "semtimedop": 192,
            "semop": 193,
            "msgget": 186,
            "msgctl": 187,
            "msgrcv": 188,
            "msgsnd": 189,
            "mq_open": 180,
            "mq_unlink": 181,
            "mq_timedsend": 182,
            "mq_timedreceive": 183,
            "mq_notify": 184,
            "mq_getsetattr": 185,
            "add_key": 217,
            "request_key": 218,
            "keyctl": 219,
            "bpf": 280,
            "perf_event_open": 241,
            "userfaultfd": 282,
            "migrate_pages": 238,
            "move_pages": 239,
            "process_madvise": 440,
            "process_mrelease": 448,
            "io_uring_setup": 425,
            "io_uring_enter": 426,
            "io_uring_register": 427,
            "clone": 220,
            "clone3": 435,
            "prlimit64": 261,
            "sched_setaffinity": 122,
            "sched_setscheduler": 119,
            "sched_setparam": 118,
            "sched_setattr": 274,
            "setpriority": 140,
            "ioprio_set": 30,
            "memfd_create": 279,
            "memfd_secret": 447,
        },
    ),
}


_libc = ctypes.CDLL(None, use_errno=True)  # loaded once, in the zygote


class _SockFilter(ctypes.Structure):
    _fields_ = [("code", ctypes.c_ushort), ("jt", ctypes.c_ubyte), ("jf", ctypes.c_ubyte), ("k", ctypes.c_uint)]


class _SockFprog(ctypes.Structure):
    _fields_ = [("len", ctypes.c_ushort), ("filter", ctypes.POINTER(_SockFilter))]


def _program(zygote_pid):
    machine = platform.machine()
    if machine not in _ARCH:
        raise OSError("no seccomp filter for architecture " + machine)
    audit_arch, nr = _ARCH[machine]

    asm = _Asm()
    op, label = asm.op, asm.label

    op(_LD_W_ABS, 4)  # arch
    op(_JEQ_K, audit_arch, None, "kill")
    op(_LD_W_ABS, 0)  # syscall nr
    if machine == "x86_64":
        op(_JGE_K, 0x40000000, "kill", None)  # x32 ABI
    for name in ("kill", "tkill", "tgkill"):
        op(_JEQ_K, nr[name], "check_pid", None)
    for name in _DENY:
        op(_JEQ_K, nr[name], "eperm", None)
    for name in _ENOSYS:
        op(_JEQ_K, nr[name], "enosys", None)
    for name in _SELF_ONLY:
        op(_JEQ_K, nr[name], "check_self", None)
    op(_JEQ_K, nr["setpriority"], "check_setpriority", None)
    op(_JEQ_K, nr["ioprio_set"], "check_ioprio", None)
    op(_JEQ_K, nr["fcntl"], "check_fcntl", None)
    op(_JEQ_K, nr["ioctl"], "check_ioctl", None)
    op(_JEQ_K, nr["clone"], "check_clone", None)
    op(_RET_K, _RET_ALLOW)

    label("check_clone")  # CLONE_PARENT: children the zygote never asked for
    op(_LD_W_ABS, _ARG[0])
    op(_JSET_K, _CLONE_PARENT, "eperm", "allow")

    asm.signal_check(zygote_pid)  # children and their descendants

    label("check_self")  # prlimit64/sched_*(pid, ...): only 0
    op(_LD_W_ABS, _ARG[0])
    op(_JEQ_K, 0, "allow", "eperm")

    label("check_setpriority")  # setpriority(PRIO_PROCESS=0, 0, prio) only
    op(_LD_W_ABS, _ARG[0])
    op(_JEQ_K, 0, None, "eperm")
    op(_LD_W_ABS, _ARG[1])
    op(_JEQ_K, 0, "allow", "eperm")

    label("check_ioprio")  # ioprio_set(IOPRIO_WHO_PROCESS=1, 0, ...) only
    op(_LD_W_ABS, _ARG[0])
    op(_JEQ_K, 1, None, "eperm")
    op(_LD_W_ABS, _ARG[1])
    op(_JEQ_K, 0, "allow", "eperm")

    label("check_fcntl")  # SIGIO to another process
    op(_LD_W_ABS, _ARG[1])
    op(_JEQ_K, _F_SETOWN, "eperm", None)
    op(_JEQ_K, _F_SETOWN_EX, "eperm", None)
    op(_JEQ_K, _F_SETSIG, "eperm", "allow")

    label("check_ioctl")
    op(_LD_W_ABS, _ARG[1])
    op(_JEQ_K, _FIOSETOWN, "eperm", None)
    op(_JEQ_K, _SIOCSPGRP, "eperm", None)
    op(_JEQ_K, _TIOCSPGRP, "eperm", "allow")

    label("allow")
    op(_RET_K, _RET_ALLOW)
    label("eperm")
    op(_RET_K, _RET_ERRNO_EPERM)
    label("enosys")
    op(_RET_K, _RET_ERRNO_ENOSYS)
    label("kill")
    op(_RET_K, _RET_KILL_PROCESS)

    return asm.code()


class _Asm:
    """A BPF program written with symbolic labels, resolved to relative jumps by `code`."""

    def __init__(self):
        self.ins = []  # (code, jt_label, jf_label, k) or ("label", name)

    def op(self, code, k, jt=None, jf=None):
        self.ins.append((code, jt, jf, k))

    def label(self, name):
        self.ins.append(("label", name))

    def signal_check(self, floor):
        """At label check_pid (kill(pid, ...), tkill/tgkill(id, ...)): to "allow" for pid 0
        (own group) and for pids and groups above `floor`, to "eperm" for the rest."""
        self.label("check_pid")
        self.op(_LD_W_ABS, _ARG[0])
        self.op(_JEQ_K, 0, "allow", None)
        self.op(_JGE_K, 0x80000000, "negative", None)
        self.op(_JGT_K, floor, "allow", "eperm")
        self.label("negative")  # -pgid; -1 means everyone
        self.op(_JGE_K, (1 << 32) - floor, "eperm", "allow")

    def code(self):
        return _assemble(self.ins)


def _assemble(ins):
    """Resolve symbolic labels to relative jumps."""
    positions, n = {}, 0
    for item in ins:
        if item[0] == "label":
            positions[item[1]] = n
        else:
            n += 1
    out, n = [], 0
    for item in ins:
        if item[0] == "label":
            continue
        code, jt, jf, k = item
        jt_off = positions[jt] - n - 1 if jt else 0
        jf_off = positions[jf] - n - 1 if jf else 0
        if not (0 <= jt_off < 256 and 0 <= jf_off < 256):
            raise OSError("seccomp filter too long for 8-bit jumps")
        out.append((code, jt_off, jf_off, k))
        n += 1
    return out


def _signal_floor_program(floor, deny=()):
    """kill/tkill/tgkill only of pid 0 (own group) and of pids and groups above `floor`;
    the syscalls in `deny` fail with EPERM."""
    audit_arch, nr = _ARCH[platform.machine()]
    asm = _Asm()
    asm.op(_LD_W_ABS, 4)
    asm.op(_JEQ_K, audit_arch, None, "allow")  # the zygote's filter kills foreign ABIs
    asm.op(_LD_W_ABS, 0)
    for name in ("kill", "tkill", "tgkill"):
        asm.op(_JEQ_K, nr[name], "check_pid", None)
    for name in deny:
        asm.op(_JEQ_K, nr[name], "eperm", None)
    asm.op(_RET_K, _RET_ALLOW)
    asm.signal_check(floor)
    asm.label("allow")
    asm.op(_RET_K, _RET_ALLOW)
    asm.label("eperm")
    asm.op(_RET_K, _RET_ERRNO_EPERM)
    return asm.code()


def _threads_only_program():
    """clone only with CLONE_THREAD; any other clone, fork and vfork fail with EAGAIN."""
    audit_arch, nr = _ARCH[platform.machine()]
    asm = _Asm()
    asm.op(_LD_W_ABS, 4)
    asm.op(_JEQ_K, audit_arch, None, "allow")  # the zygote's filter kills foreign ABIs
    asm.op(_LD_W_ABS, 0)
    asm.op(_JEQ_K, nr["clone"], "check_clone", None)
    for name in ("fork", "vfork"):  # x86_64 only: newer ABIs fork through clone
        if name in nr:
            asm.op(_JEQ_K, nr[name], "eagain", None)
    asm.op(_RET_K, _RET_ALLOW)
    asm.label("check_clone")
    asm.op(_LD_W_ABS, _ARG[0])
    asm.op(_JSET_K, _CLONE_THREAD, "allow", "eagain")
    asm.label("allow")
    asm.op(_RET_K, _RET_ALLOW)
    asm.label("eagain")
    asm.op(_RET_K, _RET_ERRNO_EAGAIN)
    return asm.code()


def _fprog(prog):
    arr = (_SockFilter * len(prog))(*[_SockFilter(c, t, f, k) for c, t, f, k in prog])
    return _SockFprog(len(prog), arr), arr


def _set_filter(fprog):
    if _libc.prctl(_PR_SET_SECCOMP, _SECCOMP_MODE_FILTER, ctypes.byref(fprog), 0, 0) != 0:
        raise OSError(ctypes.get_errno(), "prctl(SET_SECCOMP) failed")


def install(zygote_pid):
    """Install the filter on the calling process (the zygote); irreversible."""
    fprog, _keep = _fprog(_program(zygote_pid))
    if _libc.prctl(_PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0:
        raise OSError(ctypes.get_errno(), "prctl(NO_NEW_PRIVS) failed")
    _set_filter(fprog)


# Memory that no address-space limit sees: a memfd's pages count in RLIMIT_AS only while
# mapped (60 memfds of 64 MiB, filled with posix_fallocate, held 3.8 GB under a 512 MB limit).
# The fork server denies these to itself and so to every child; the zygote still makes memfds.
UNMAPPED_MEMORY = ("memfd_create", "memfd_secret")


class SignalFloor:
    """A filter, built in the zygote and installed by a child, that forbids signalling any pid
    up to `floor`: a program's child may not signal the test process forked before it. The
    syscalls in `deny` fail with EPERM (the fork server's: UNMAPPED_MEMORY)."""

    def __init__(self, floor, deny=()):
        self._fprog, self._keep = _fprog(_signal_floor_program(floor, deny))

    def install(self):
        _set_filter(self._fprog)  # stacked on the zygote's: the stricter answer wins


class ThreadsOnly:
    """A filter a run installs when the threads its runtime starts on its own (a JVM's, Go's,
    node's) are all it may start: RLIMIT_NPROC, which counts threads and processes alike, lets
    it start that many, so a program could make them processes (a shell, a fork bomb). Here a
    new thread (clone with CLONE_THREAD) is allowed; a new process (any other clone, fork,
    vfork; clone3 is ENOSYS already) fails with EAGAIN, as past RLIMIT_NPROC."""

    def __init__(self):
        self._fprog, self._keep = _fprog(_threads_only_program())

    def install(self):
        _set_filter(self._fprog)


__all__ = ["SignalFloor", "ThreadsOnly", "install"]
