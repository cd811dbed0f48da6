"""Limits that hold whatever a program does with its output (red-team findings, each a class):
CPU time counted while output keeps the zygote's wait busy, and a raw run's fetched files,
which must leave the zygote's own descriptors alone."""

from __future__ import annotations

import pytest

from .support import job, require, show, stdin_test

pytestmark = pytest.mark.security

# Burns 3.5 s of CPU (the limit is 2 s) while writing a byte every 0.1 ms of it, stderr closed:
# the zygote's wait always has output to read, and a check that ran only on a quiet pipe never ran.
TRICKLE = {
    "c": r"""#include <stdio.h>
#include <time.h>
#include <unistd.h>
static double cpu(void) { struct timespec t; clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &t); return t.tv_sec + t.tv_nsec / 1e9; }
int main(void) {
  long a, b; if (scanf("%ld %ld", &a, &b) != 2) return 1;
  close(2);
  volatile unsigned long x = 0; double next = 0;
  while (cpu() < 3.5) { for (int i = 0; i < 2000; i++) x += i; if (cpu() > next) { write(1, " ", 1); next = cpu() + 0.0001; } }
  printf("%ld\n", a + b); return 0;
}
""",
    "python": """import os, sys, time
a, b = map(int, input().split())
os.close(2)
nxt = 0.0
while time.process_time() < 3.5:
    sum(range(200))
    if time.process_time() > nxt:
        os.write(1, b" ")
        nxt = time.process_time() + 0.0001
print(a + b)
""",
}


@pytest.mark.parametrize("lang", sorted(TRICKLE))
def test_cpu_time_is_held_to_the_limit_while_output_trickles(pool, lang):
    require(pool, lang)
    result = pool.run(job(lang, TRICKLE[lang], [stdin_test("1 2\n", "3\n")]))
    assert result.tests[0].verdict.value == "timeout", show(result)
    assert result.cpu_ms < 3000, show(result)  # ended at the limit, not at the RLIMIT_CPU backstop


def test_raw_runs_that_fetch_files_leave_the_zygote_as_it_was(solo_pool):
    require(solo_pool, "c")
    before = dict(solo_pool.stats)
    program = '#include <stdio.h>\nint main(void) { FILE *f = fopen("out.txt", "w"); fputs("data", f); fclose(f); }\n'
    for i in range(3):
        result = solo_pool.run(job("c", program + f"// {i}\n", [{"raw": {"fetch_files": ["out.txt"]}}]))
        assert result.verdict.value == "passed" and dict(result.tests[0].output.files) == {"out.txt": "ZGF0YQ=="}, show(
            result
        )
    # Then a run with no stdin reads the zygote's /dev/null, not some other descriptor.
    empty = solo_pool.run(
        job("c", "#include <stdio.h>\nint main(void) { return getchar() == EOF ? 0 : 1; }\n", [{"raw": {}}])
    )
    assert empty.verdict.value == "passed", show(empty)
    assert solo_pool.stats["slot_restarts"] == before["slot_restarts"], solo_pool.stats
    assert solo_pool.stats["infra_errors"] == before["infra_errors"], solo_pool.stats


# 0..99999, a line each: 588,890 bytes, past the default output_kb (256 KiB).
COUNT = {
    "c": '#include <stdio.h>\nint main(void) { for (int i = 0; i < 100000; i++) printf("%d\\n", i); return 0; }\n',
    "javascript": "const out = [];\nfor (let i = 0; i < 100000; i++) out.push(i);\nconsole.log(out.join('\\n'));\n",
    "bash": "seq 0 99999\n",
    "python": "print('\\n'.join(map(str, range(100000))))\n",
}


@pytest.mark.parametrize("lang", sorted(COUNT))
def test_a_run_has_room_for_its_expected_output_in_every_language(pool, lang):
    # A test's own expected output (a CodeContests answer of hundreds of KB) raises the run's
    # output limit to four times it; that held for Python only, and every other language's
    # right answer past 256 KiB was output_exceeded.
    require(pool, lang)
    expected = "\n".join(map(str, range(100000))) + "\n"
    result = pool.run(job(lang, COUNT[lang], [{"stdin": "", "expected_stdout": expected}]))
    assert result.pass_rate == 1.0, show(result)
    wrong = COUNT[lang].replace("100000", "99999").replace("seq 0 99999", "seq 0 99998")  # one line short
    assert pool.run(job(lang, wrong, [{"stdin": "", "expected_stdout": expected}])).pass_rate == 0.0


# The right answer, then death by a signal the sandbox's interpreter ignores: natively the
# process dies of it (exit -13, -25), so the run fails.
SIGNALLED = {
    sig: "#include <signal.h>\n#include <stdio.h>\n#include <unistd.h>\nint main(void) {\n  long a, b;\n"
    '  if (scanf("%ld %ld", &a, &b) != 2) return 1;\n  printf("%ld\\n", a + b); fflush(stdout);\n'
    f"  kill(getpid(), {sig});\n  return 0;\n}}\n"
    for sig in ("SIGPIPE", "SIGXFSZ")
}


@pytest.mark.parametrize("sig", sorted(SIGNALLED))
def test_a_native_program_dies_of_the_signals_the_sandbox_ignores(pool, sig):
    require(pool, "c")
    result = pool.run(job("c", SIGNALLED[sig], [stdin_test("1 2\n", "3\n")]))
    assert result.verdict.value != "passed" and result.tests[0].verdict.value != "infra_error", show(result)
