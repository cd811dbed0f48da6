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
