import platform

import pytest

from executor.sandbox import seccomp


@pytest.mark.skipif(platform.machine() not in ("x86_64", "aarch64"), reason="arch without a filter")
def test_filter_assembles_with_valid_jumps():
    prog = seccomp._program(6)
    assert 10 < len(prog) < 255
    jumps = {0x15, 0x25, 0x35, 0x45}
    for i, (code, jt, jf, _k) in enumerate(prog):
        assert 0 <= jt < 256 and 0 <= jf < 256
        if code in jumps:  # every jump lands on an instruction
            assert i + 1 + jt < len(prog) and i + 1 + jf < len(prog)
    assert prog[-1][0] == 0x06  # ends with a return


@pytest.mark.skipif(platform.machine() not in ("x86_64", "aarch64"), reason="arch without a filter")
def test_fork_server_filter_refuses_memfds():
    """The fork server's filter (inherited by every child) answers memfd_create and memfd_secret
    with EPERM: their pages are memory no address-space limit sees."""
    _, nr = seccomp._ARCH[platform.machine()]
    prog = seccomp._signal_floor_program(6, seccomp.UNMAPPED_MEMORY)
    eperm = next(i for i, (code, _, _, k) in enumerate(prog) if code == 0x06 and k == seccomp._RET_ERRNO_EPERM)
    for name in seccomp.UNMAPPED_MEMORY:
        at = next(i for i, (code, _, _, k) in enumerate(prog) if code == 0x15 and k == nr[name])
        assert at + 1 + prog[at][1] == eperm
    assert len(prog) == len(seccomp._signal_floor_program(6)) + len(seccomp.UNMAPPED_MEMORY)
