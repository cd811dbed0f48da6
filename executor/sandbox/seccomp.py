"""A seccomp filter the zygote installs on itself, inherited by every child.

firejail's filter cannot stop a child from signalling the zygote (same uid,
same sandbox). This one lets a process signal only pid 0 (its own group) and
pids/groups newer than the zygote: in the sandbox's pid namespace those are
exactly the children and their descendants (pids below the zygote's, such as
the namespace's init, are never reused). It also denies ptrace-like calls,
signals sent by other means (sigqueue, pidfd, F_SETOWN/SIGIO), and the x32
and foreign-architecture syscall ABIs. Standard library only.
"""

import ctypes
import os
import platform

# BPF opcodes
_LD_W_ABS = 0x20
_JEQ_K = 0x15
_JGE_K = 0x35
_JGT_K = 0x25
_RET_K = 0x06

_RET_ALLOW = 0x7FFF0000
_RET_KILL_PROCESS = 0x80000000
_RET_ERRNO_EPERM = 0x00050000 | 1

_PR_SET_NO_NEW_PRIVS = 38
_PR_SET_SECCOMP = 22
_SECCOMP_MODE_FILTER = 2

_F_SETOWN = 8
_F_SETOWN_EX = 15
_F_SETSIG = 10

# (audit arch, {name: syscall number})
_ARCH = {
    "x86_64": (0xC000003E, {
        "kill": 62, "tkill": 200, "tgkill": 234, "ptrace": 101,
        "process_vm_readv": 310, "process_vm_writev": 311,
        "rt_sigqueueinfo": 129, "rt_tgsigqueueinfo": 297,
        "pidfd_send_signal": 424, "pidfd_open": 434, "pidfd_getfd": 438,
        "fcntl": 72, "kcmp": 312,
    }),
    "aarch64": (0xC00000B7, {
        "kill": 129, "tkill": 130, "tgkill": 131, "ptrace": 117,
        "process_vm_readv": 270, "process_vm_writev": 271,
        "rt_sigqueueinfo": 138, "rt_tgsigqueueinfo": 240,
        "pidfd_send_signal": 424, "pidfd_open": 434, "pidfd_getfd": 438,
        "fcntl": 25, "kcmp": 272,
    }),
}


_libc = ctypes.CDLL(None, use_errno=True)  # loaded once, in the zygote


class _SockFilter(ctypes.Structure):
    _fields_ = [("code", ctypes.c_ushort), ("jt", ctypes.c_ubyte),
                ("jf", ctypes.c_ubyte), ("k", ctypes.c_uint)]


class _SockFprog(ctypes.Structure):
    _fields_ = [("len", ctypes.c_ushort), ("filter", ctypes.POINTER(_SockFilter))]


def _program(zygote_pid):
    machine = platform.machine()
    if machine not in _ARCH:
        raise OSError("no child seccomp filter for architecture " + machine)
    audit_arch, nr = _ARCH[machine]
    deny = [nr[n] for n in ("ptrace", "process_vm_readv", "process_vm_writev",
                            "rt_sigqueueinfo", "rt_tgsigqueueinfo", "pidfd_send_signal",
                            "pidfd_open", "pidfd_getfd", "kcmp")]
    signal_calls = [nr["kill"], nr["tkill"], nr["tgkill"]]

    # Assembled with symbolic labels, then resolved to relative jumps.
    ins = []  # (code, jt_label, jf_label, k) or ("label", name)

    def op(code, k, jt=None, jf=None):
        ins.append((code, jt, jf, k))

    def label(name):
        ins.append(("label", name))

    op(_LD_W_ABS, 4)                                   # arch
    op(_JEQ_K, audit_arch, None, "kill")
    op(_LD_W_ABS, 0)                                   # syscall nr
    if machine == "x86_64":
        op(_JGE_K, 0x40000000, "kill", None)           # x32 ABI
    for n in signal_calls:
        op(_JEQ_K, n, "check_pid", None)
    for n in deny:
        op(_JEQ_K, n, "eperm", None)
    op(_JEQ_K, nr["fcntl"], "check_fcntl", None)
    op(_RET_K, _RET_ALLOW)
    label("check_pid")
    op(_LD_W_ABS, 16)                                  # low word of args[0]
    op(_JEQ_K, 0, "allow", None)                       # own process group
    op(_JGE_K, 0x80000000, "negative", None)
    op(_JGT_K, zygote_pid, "allow", "eperm")           # children and their descendants
    label("negative")                                  # -pgid; -1 means everyone
    op(_JGE_K, (1 << 32) - zygote_pid, "eperm", "allow")
    label("check_fcntl")
    op(_LD_W_ABS, 24)                                  # low word of args[1]
    op(_JEQ_K, _F_SETOWN, "eperm", None)               # SIGIO to another pid
    op(_JEQ_K, _F_SETOWN_EX, "eperm", None)
    op(_JEQ_K, _F_SETSIG, "eperm", None)
    label("allow")
    op(_RET_K, _RET_ALLOW)
    label("eperm")
    op(_RET_K, _RET_ERRNO_EPERM)
    label("kill")
    op(_RET_K, _RET_KILL_PROCESS)

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
        out.append((code, jt_off, jf_off, k))
        n += 1
    return out


def install(zygote_pid=None):
    """Install the filter on the calling process (the zygote); irreversible."""
    prog = _program(os.getpid() if zygote_pid is None else zygote_pid)
    arr = (_SockFilter * len(prog))(*[_SockFilter(c, t, f, k) for c, t, f, k in prog])
    fprog = _SockFprog(len(prog), arr)
    if _libc.prctl(_PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0:
        raise OSError(ctypes.get_errno(), "prctl(NO_NEW_PRIVS) failed")
    if _libc.prctl(_PR_SET_SECCOMP, _SECCOMP_MODE_FILTER, ctypes.byref(fprog), 0, 0) != 0:
        raise OSError(ctypes.get_errno(), "prctl(SET_SECCOMP) failed")


__all__ = ["install"]
