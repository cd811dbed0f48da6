"""Programs against a special judge (executor/checking.py): none may earn a pass the checker did
not give on its own output.

The checker here passes only an output equal to the jury's answer, a random token that is in
no input: a program can pass only by reading the answer, or by making the checker misjudge.
The checker also refuses (status 3: not judgeable, which fails these tests) to judge in a
directory holding anything but its own four files, or files that change under it, so a file a
program left behind, or a process it left running, would show.
"""

from __future__ import annotations

import secrets

import pytest

from executor import Job, Verdict

from .security_support import SMALL, assert_no_reward, show

pytestmark = pytest.mark.security

CHECKER = r"""
import os, sys, time
def read():
    return [open(p, encoding="utf-8", errors="replace").read() for p in sys.argv[1:4]]
first = read()
mine = sorted(os.listdir("."))
time.sleep(0.3)  # time for anything left running to tamper with the files
if read() != first or mine != ["answer.txt", "checker.py", "input.txt", "output.txt"]:
    print("tampered:", mine)
    sys.exit(3)
inp, out, ans = first
if out.strip() != ans.strip():
    print("wrong answer: expected the token, found", repr(out[:60]))
    sys.exit(1)
print("ok")
"""


def job(program: str, n: int = 2, **limits: object) -> tuple[Job, list[str]]:
    answers = [f"ANS-{secrets.token_hex(8)}" for _ in range(n)]
    tests = [{"stdin": f"{i}\n", "expected_stdout": a + "\n"} for i, a in enumerate(answers)]
    data = {
        "id": "spj-" + secrets.token_hex(4),
        "program": program,
        "tests": tests,
        "limits": {**SMALL, **limits},
        "checker": {"language": "python", "program": CHECKER},
    }
    return Job.from_dict(data), answers


def wrong(result, *, expected_words: str = "wrong answer") -> None:
    assert_no_reward(result, [Verdict.FAILED] * len(result.tests))
    assert all(expected_words in (t.message or "") for t in result.tests), show(result)


def test_the_checker_passes_the_answer_itself(pool):
    j, answers = job("print('placeholder')")
    program = f"print({answers!r}[int(input())])"
    right = Job.from_dict(j.to_dict() | {"program": program})
    assert pool.run(right).verdict is Verdict.PASSED


SEARCH = r"""
import os
found = []
def grab(path):
    try:  # never blocking: its own stdout is a pipe
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK)
    except OSError:
        return
    try:
        found.append(os.read(fd, 4096).decode("utf-8", "replace"))
    except OSError:
        pass
    finally:
        os.close(fd)
for root in (".", "..", "/tmp", "/dev/shm", "/var/tmp", "/run"):
    for here, dirs, files in os.walk(root):
        for name in files:
            grab(os.path.join(here, name))
for name in ("answer.txt", "../answer.txt", "/tmp/answer.txt", "/tmp/w/answer.txt", "output.txt", "checker.py"):
    grab(name)
for pid in os.listdir("/proc"):
    if pid.isdigit():
        for part in ("cmdline", "environ", "cwd/answer.txt"):
            grab(f"/proc/{pid}/{part}")
        try:
            fds = os.listdir(f"/proc/{pid}/fd")
        except OSError:
            fds = []
        for fd in fds:
            grab(f"/proc/{pid}/fd/{fd}")
tokens = [t for text in found for t in text.split() if t.startswith("ANS-")]
print(tokens[0] if tokens else "nothing found")
"""


def test_a_program_cannot_find_the_answer_anywhere_it_can_look(pool, host):
    j, _ = job(SEARCH, cpu_s=2, wall_s=6)
    wrong(pool.run(j))
    host.check()


def test_files_a_program_leaves_never_reach_the_checkers_directory(pool, host):
    program = r"""
import os
for d in (".", "/tmp", "/tmp/w"):
    for name in ("answer.txt", "output.txt", "input.txt", "checker.py", "checker", "extra"):
        try:
            with open(os.path.join(d, name), "w") as fh:
                fh.write("forged\n")
            os.chmod(os.path.join(d, name), 0o444)
        except OSError:
            pass
try:
    os.mkdir("answer.txt.d")
    os.chmod(".", 0o500)
except OSError:
    pass
print("forged")
"""
    j, _ = job(program)
    wrong(pool.run(j))  # a leftover file would have made the checker refuse (exit 3: not judgeable)
    host.check()


def test_a_process_left_running_cannot_tamper_with_the_checker(pool, host):
    program = r"""
import os, signal, time
main = os.getpid()
if os.fork() == 0:
    os.setsid()
    if os.fork() == 0:
        parent = os.getppid()  # left alone: stopped, it would hold the run's pipes (a timeout)
        null = os.open("/dev/null", os.O_RDWR)
        for fd in (0, 1, 2):  # a daemon: the run's pipes closed, so the run ends without it
            os.dup2(null, fd)
        end = time.time() + 4
        while time.time() < end:
            for d in ("/tmp/w", "/tmp", "."):
                for name in ("output.txt", "answer.txt", "checker.py"):
                    try:
                        with open(os.path.join(d, name), "w") as fh:
                            fh.write("same\n")
                    except OSError:
                        pass
            for pid in range(main + 1, main + 400):  # whatever starts after this run: a checker
                if pid not in (os.getpid(), parent):
                    try:
                        os.kill(pid, signal.SIGSTOP)
                    except OSError:
                        pass
            time.sleep(0.01)
    os._exit(0)
time.sleep(0.05)
print("same")
"""
    j, _ = job(program, processes=4, wall_s=6)
    wrong(pool.run(j))
    host.check()


@pytest.mark.parametrize(
    "program",
    [
        "print('ok')",
        "import sys\nprint('ok 1 number(s): \"ANS\"')\nprint('ok', file=sys.stderr)\nsys.exit(0)",
        "print('ANS-')",
        "import sys\nsys.stdout.buffer.write(b'\\xff\\xfe\\x00ANS-\\x00\\n' * 1000)",
        "print('\\n' * 1000 + 'ok')",
    ],
    ids=["ok", "testlib-text", "prefix", "bytes", "blank-lines"],
)
def test_printing_what_a_checker_says_is_not_what_it_decides(pool, program):
    j, _ = job(program)
    wrong(pool.run(j))


@pytest.mark.parametrize(
    "fragile",
    [
        "import sys\nn = int(open(sys.argv[2]).read())\nsys.exit(0 if n == 42 else 1)\n",  # raises on a word
        "import sys\nif open(sys.argv[2]).read().strip() != '42':\n    sys.exit(3)\n",  # testlib's fail
        "import sys\nif 'forty' in open(sys.argv[2]).read():\n    while True: pass\n",  # loops on it
    ],
    ids=["raises", "fail-exit", "loops"],
)
def test_a_program_that_makes_the_checker_fail_gets_a_failure_not_no_result(pool, fragile):
    # The checker judges the expected answer (a control run): its failure is the program's output's
    # doing, and the program cannot turn its 0 into "no result" that way.
    data = {
        "id": "spj-fragile",
        "program": "print('forty-two')",
        "tests": [{"stdin": "", "expected_stdout": "42\n"}],
        "checker": {"language": "python", "program": fragile},
    }
    result = pool.run(Job.from_dict(data))
    assert result.verdict is Verdict.FAILED and result.tests[0].verdict is Verdict.FAILED, show(result)
    assert "checker could not judge the output" in result.tests[0].message
