"""Other jobs' data in memory: a program reads every byte of its own address space looking for
what earlier jobs on the same slot sent or returned. Children are copies of the fork server
(forker.py), which holds nothing of any job; programs and snippet sources reach them through
memfds the kernel fills from the host's pipe (zygote._splice_in)."""

import secrets

from executor import Verdict

from .security_support import make_job, show

# Scans every readable mapping of its own process for `needle` (built at run time, so the
# scanner's own source never holds it).
SCANNER = r"""
import ctypes
def scan(head, tail):
    # /proc/self/mem is closed to a non-dumpable process; ctypes reads the mappings directly.
    # head + tail is never built here (it would then be in memory): each head found is
    # followed by a compare of the bytes after it with tail.
    head, tail = head.encode(), tail.encode()
    found = []
    with open("/proc/self/maps") as maps:
        regions = [line.split() for line in maps]
    for parts in regions:
        name = parts[5] if len(parts) > 5 else "anonymous"
        if not parts[1].startswith("r") or name in ("[vvar]", "[vvar_vclock]", "[vsyscall]"):
            continue
        start, end = (int(x, 16) for x in parts[0].split("-"))
        data = ctypes.string_at(start, end - start)
        at = data.find(head)
        while at >= 0:
            if data[at + len(head):at + len(head) + len(tail)] == tail:
                found.append(name)
                break
            at = data.find(head, at + 1)
    return found
"""


def test_earlier_programs_are_not_in_a_later_childs_memory(solo_pool, host):
    head, tail = "acefarm-program-", secrets.token_hex(8)
    secret_program = f"KEY = {head + tail!r}\ndef solve(x):\n    return len(KEY) + x\n"
    for i in range(3):
        assert (
            solo_pool.run(make_job(secret_program, [f"assert solve({i}) == {len(head + tail) + i}"])).verdict
            is Verdict.PASSED
        )
    # The scanner must find something it knows is there, or finding nothing proves nothing.
    probe = solo_pool.run(
        make_job(SCANNER + "MINE = 'acefarm-self-' + 'check'\n", ["assert scan('acefarm-self-', 'check') != []"])
    )
    assert probe.verdict is Verdict.PASSED, show(probe)
    result = solo_pool.run(make_job(SCANNER, [f"assert scan({head!r}, {tail!r}) == []"]))
    assert result.verdict is Verdict.PASSED, show(result)
    host.check()


def test_earlier_snippet_sources_are_not_in_a_later_childs_memory(solo_pool, host):
    head, tail = "acefarm-snippet-", secrets.token_hex(8)
    snippet = f"xs = [1]\nfor x in xs:\n    assert solve(x) == {head + tail!r}\n"  # the test process's
    solo_pool.run(make_job("def solve(x):\n    return None\n", [snippet]))
    result = solo_pool.run(
        make_job(
            SCANNER,
            [
                f"assert scan({head!r}, {tail!r}) == []",
                f"xs = [1]\nfor x in xs:\n    assert scan({head!r}, {tail!r}) == []",
            ],
        )
    )
    assert result.verdict is Verdict.PASSED, show(result)
    host.check()


def test_earlier_programs_values_are_not_in_a_later_childs_memory(solo_pool, host):
    """What a program returns is parsed by the zygote, which children are never copies of
    (they are forked by the fork server, forker.py)."""
    head, tail = "acefarm-value-", secrets.token_hex(8)
    solo_pool.run(make_job(f"def solve(x):\n    return {head!r} + {tail!r}\n", ["assert solve(1) == 'x'"]))
    result = solo_pool.run(make_job(SCANNER, [f"assert scan({head!r}, {tail!r}) == []"]))
    assert result.verdict is Verdict.PASSED, show(result)
