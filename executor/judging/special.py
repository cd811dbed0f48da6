"""Special judges: a checker program, given with the job, decides its stdin/stdout tests.

Problems with many right answers (any shortest path, any valid colouring, a real number
within a tolerance the problem defines) are judged on Codeforces, Polygon and the judges
that follow them by a *checker*: a program of the problem's, run after the contestant's, that
reads the test's input, the contestant's output and the jury's answer and says whether the
output is right. A job carries one:

    {"id": "q7/s3", "language": "cpp", "program": "...",
     "checker": {"language": "python" | "cpp", "program": "<the checker's source>"},
     "tests": [{"stdin": "4\\n", "expected_stdout": "1 2 3 4\\n"}, ...]}

The checker is a field of the job, not of each test: a problem has one checker for all its
tests (Polygon's model), a suite of hundreds of tests carries it once, and the many jobs of a
GRPO group name the same one, so it is built once (executor/checking.py). Every test of such
a job is a stdin/stdout test (`stdin`, `expected_stdout`): its expected output is the jury's
answer the checker reads, and the test's built-in comparer (`checker`, `tolerance`) is not
used. Any program language works, Python included.

How a checker runs (testlib's convention, exactly): in a working directory of its own holding
three files, as

    checker input.txt output.txt answer.txt

argv[1] the test's input (its stdin), argv[2] the program's output (its stdout as the sandbox
kept it: at most the job's output_kb, as UTF-8 text), argv[3] the jury's answer (the test's
expected_stdout); its stdin is empty. A Python checker runs as `python3 -I checker.py
input.txt output.txt answer.txt` would (sys.argv[1:4] are the three files), except that an
exception it does not catch is its failure (status 3), not testlib's "wrong answer" (1) that
CPython's own exit status would say; `sys.exit("why")` is a wrong answer with that message, as
usual. A C++ checker is compiled once (g++ -std=gnu++17 -O2) and run the same way. testlib.h
is not provided (no package registry the farm installs from ships it): a C++ checker must be
self-contained, reading argv[1..3] itself, as the tests' checkers do.

Its exit status is its verdict (testlib's codes, without EJUDGE/CONTESTER/TESTSYS):
0 ok (passed); 1 wrong answer, 2 presentation error, 4 wrong output format ("dirt"), 8 an
unexpected end of the program's output (all failed); 3 "fail", the checker itself found the
test or its answer wrong, and any other status (7, testlib's partial points, included: the
farm scores a test as passed or not), a signal, or a limit reached: the test cannot be judged,
`infra_error` (no reward), never passed. What it printed (testlib prints its verdict line to
stderr; stdout and stderr are both read) becomes the test's message, capped at MESSAGE_MAX
characters. A passed test has no message.

Trust: the program's process gets the stdin only; the expected output and the checker enter
the sandbox after the program's runs ended, in a request of their own, and the checker runs in
a fresh child, in a freshly wiped working directory, with its own limits (checking.py). The
program reaches it only through output.txt, so the worst it can do is make the checker crash
or loop on that output, which is not judgeable, never a pass.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from ..errors import InvalidJob
from ..result import TestResult
from ..sandbox import statuses
from ..verdict import Verdict
from .kind import Phase, ended

LANGUAGES = ("python", "cpp")
FIELDS = ("language", "program")

# The three files in the checker's working directory, in testlib's argv order.
INPUT, OUTPUT, ANSWER = "input.txt", "output.txt", "answer.txt"
ARGS = (INPUT, OUTPUT, ANSWER)

# testlib's exit codes (its defaults: no EJUDGE, CONTESTER or TESTSYS).
OK_EXIT, WA_EXIT, PE_EXIT, FAIL_EXIT, DIRT_EXIT, POINTS_EXIT, UNEXPECTED_EOF_EXIT = 0, 1, 2, 3, 4, 7, 8
REJECTED = {
    WA_EXIT: "wrong answer",
    PE_EXIT: "presentation error",
    DIRT_EXIT: "wrong output format",
    UNEXPECTED_EOF_EXIT: "unexpected end of the output",
}
MESSAGE_MAX = 1000  # characters of the checker's own text kept in a test's message


@dataclass(frozen=True)
class Checker:
    """A job's special judge: its `language` (one of LANGUAGES) and source `program`."""

    language: str
    program: str

    def to_raw(self) -> dict[str, str]:
        """The JSON form `parse` reads back."""
        return {"language": self.language, "program": self.program}


def parse(raw: Any, max_bytes: int) -> Checker | None:
    """A job's `checker` field (None: none); InvalidJob naming the field."""
    if raw is None:
        return None
    if isinstance(raw, Checker):
        return raw
    if not isinstance(raw, Mapping):
        raise InvalidJob("checker", 'must be an object {"language": ..., "program": ...}')
    unknown = sorted(set(raw) - set(FIELDS))
    if unknown:
        raise InvalidJob(f"checker.{unknown[0]}", f"unknown field (known: {', '.join(FIELDS)})")
    language = raw.get("language")
    if language not in LANGUAGES:
        raise InvalidJob("checker.language", f"must be one of {', '.join(LANGUAGES)}, got {language!r}")
    program = raw.get("program")
    if not isinstance(program, str) or not program.strip():
        raise InvalidJob("checker.program", "missing or not a non-empty string")
    if len(program.encode("utf-8", "surrogatepass")) > max_bytes:
        raise InvalidJob("checker.program", f"larger than {max_bytes} bytes")
    return Checker(language, program)


def judge(phase: Phase) -> TestResult:
    """A test's verdict under a checker: the program's own end when its run did not end
    well (a limit, a crash: the checker never ran), else what the checker's run (`phase["check"]`,
    a raw run's phase, sandbox/zygote.py) says."""
    if phase.get("s") != statuses.OK:
        return ended(phase)
    cpu_ms = phase.get("cpu_ms")
    check = phase.get("check")
    if not isinstance(check, dict):
        why = check if isinstance(check, str) else "the checker did not run"
        return TestResult(Verdict.INFRA_ERROR, f"not judged: {why}", cpu_ms)
    said = _said(check)
    code = check.get("exit")
    if check.get("s") in (statuses.OK, statuses.ERROR) and isinstance(code, int) and not isinstance(code, bool):
        if code == OK_EXIT:
            return TestResult(Verdict.PASSED, None, cpu_ms)
        if code in REJECTED:
            return TestResult(Verdict.FAILED, f"checker: {said or REJECTED[code]}", cpu_ms)
        if code == FAIL_EXIT:
            why = "the checker failed (exit 3, testlib's fail)"
        elif code == POINTS_EXIT:
            why = "the checker gave partial points (exit 7), which the farm does not score"
        else:
            why = f"the checker exited with status {code}, which is not a verdict"
    elif check.get("s") == statuses.COMPILE:
        why = "the checker does not compile"
        said = _capped(str(check.get("m") or ""))
    else:
        why = f"the checker's run ended ({check.get('s')}): {check.get('m') or 'no verdict'}"
    if _accepts(phase.get("control")):  # it judges the expected answer: this output broke it
        return TestResult(
            Verdict.FAILED, f"checker could not judge the output ({why})" + (f": {said}" if said else ""), cpu_ms
        )
    return TestResult(Verdict.INFRA_ERROR, f"not judged: {why}" + (f": {said}" if said else ""), cpu_ms)


def _accepts(control: Any) -> bool:
    """Did the control run (the checker on the expected answer as the output) accept it?"""
    return (
        isinstance(control, dict)
        and control.get("s") == statuses.OK
        and control.get("exit") == OK_EXIT
        and not isinstance(control.get("exit"), bool)
    )


def _said(check: Phase) -> str:
    """What the checker printed (stderr first: testlib's verdict line), capped."""
    parts = [check.get("stderr"), check.get("stdout")]
    return _capped("\n".join(p.strip() for p in parts if isinstance(p, str) and p.strip()))


def _capped(text: str) -> str:
    text = text.strip()
    return text if len(text) <= MESSAGE_MAX else text[: MESSAGE_MAX - 3] + "..."
