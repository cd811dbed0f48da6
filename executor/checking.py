"""Running a job's special judge (judging/special.py) on the slot that ran its program.

Once the sandbox has answered a job that has a checker, the pool (pool.py) hands the answer
here, on the same slot, before it is judged. For each test whose program run ended well (an
ok phase, its stdout kept: at most output_kb), the checker runs in a request of its own, one
test per request, as a command (the zygote's "exec" job, sandbox/zygote.py, role X): its blob
holds the checker (a Python source, or the binary its build left) and the test's three files,
input.txt, output.txt and answer.txt; its one test is a raw run (a "capture" with no files to
write or fetch), so its phase carries its exit status, signal, stdout, stderr and the limit
that ended it. That phase goes into the program's phase as "check" (or, when the checker could
not run at all, why, as a string), where special.judge reads it.

Why a request per test: the expected output enters the sandbox only now, after the program's
runs ended and their processes were killed, and only the checker's child gets it; the blob is
moved into a memfd by the kernel (no base64 in a JSON frame, no frame size to outgrow), and
the zygote wipes the working directory after every child, so nothing of the program's run,
and nothing of an earlier test, is in the checker's directory.

A C++ checker is built once per source (by the pool's BuildCache, keyed like a program's build
but under its own language name, so a program and a checker of the same text never share a
build): the 16 jobs of a GRPO group, or every job of a problem, build it once. A slot that needs
a build another slot is running waits for it (a few seconds, once per checker) instead of
building it again. A checker that does not compile makes each test it should judge
`infra_error`, with the compiler's message.

The checker's limits (CHECKER_LIMITS) are its own, not the job's: the program's limits are
the problem's, the checker's cost is the judge's. Checking stops at the first test it cannot
judge (the job is then `infra_error` whatever the rest say), and, for a job that stops at its
first failure, at the first test it rejects.

Which failures are the program's: a checker that crashes, loops or exits 3 on a program's output
is run again on the test's expected answer as the output (a control run). When it accepts that,
the checker works and the program's output broke it: the test fails. Only a checker that cannot
judge the expected answer either (a broken checker or test) makes the test `infra_error`: no
output a program prints can turn its result into "no result".
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from typing import Any

from . import builds
from .builds import BuildCache, Built
from .errors import SlotCrashed
from .judging import special
from .judging.prepare import PreparedJob
from .languages import Language, Toolchain
from .languages import cpp as cpp_lang
from .languages.base import find
from .limits import Limits
from .sandbox import artifact, statuses
from .sandbox.zygote import MAX_SPLICED
from .slot import Slot
from .verdict import Verdict

# The checker's own limits: CPU and wall time for one test, memory (testlib alone keeps a
# 16 MiB buffer), what it may print (its verdict line; more ends it), no extra processes.
CHECKER_LIMITS = Limits(cpu_s=5.0, wall_s=15.0, memory_mb=1024, output_kb=64, disk_mb=64, files=64, processes=0)
ANSWER_SLACK_S = 10.0  # beyond a phase's wall limit: the child's set-up and the wipe after it
BUILD_WAIT_S = 120.0  # how long a slot waits for the build of its checker on another slot

# A Python checker runs under this: an exception it does not catch would exit with status 1,
# testlib's "wrong answer"; a crash is the checker's failure (status 3), never the program's.
# sys.exit(...) stays the checker's own verdict. (No braces: the text is a command template.)
PYTHON_MAIN = (
    "import os, runpy, sys, traceback\n"
    "sys.argv = sys.argv[1:]\n"
    "try:\n"
    "    runpy.run_path(sys.argv[0], run_name='__main__')\n"
    "except SystemExit:\n"
    "    raise\n"
    "except BaseException:\n"
    "    sys.stdout.flush()\n"
    "    traceback.print_exc()\n"
    "    sys.stderr.flush()\n"
    "    os._exit(3)\n"
)
PYTHON = Language(
    name="checker-python",
    title="Python checker",
    source="checker.py",
    run=("{python3}", "-I", "-c", PYTHON_MAIN, "checker.py", *special.ARGS),
    tools=("python3",),
    version=("{python3}", "--version"),
    packages=("python3",),
    self_test=("", (), ()),
)
CPP = replace(
    cpp_lang.LANGUAGE,
    name="checker-cpp",
    title="C++17 checker (g++)",
    source="checker.cpp",
    compile=("{g++}", "-std=gnu++17", "-O2", "-pipe", "-o", "checker", "{source}"),
    keep=("checker",),
    run=("./checker", *special.ARGS),
)
LANGUAGES: dict[str, Language] = {"python": PYTHON, "cpp": CPP}

Outcome = dict[str, Any] | str  # a raw run's phase, or why the checker did not run


def check(
    slot: Slot, cache: BuildCache, prepared: PreparedJob, answer: dict[str, Any], revive: Callable[[], None]
) -> None:
    """Run the job's checker on `slot` for each test of `answer` (the sandbox's answer to
    `prepared`) whose program run ended well, putting its outcome in that phase's "check".
    `revive` starts the slot again when it is not running. Raises SlotCrashed (or
    SandboxUnavailable) when the slot fails: the pool then runs the whole job again."""
    checker = prepared.job.checker
    phases = answer.get("tests")
    if checker is None or not isinstance(phases, list):
        return
    todo = [i for i, p in enumerate(phases) if p.get("s") == statuses.OK and isinstance(p.get("stdout"), str)]
    if not todo:
        return
    toolchain = find(LANGUAGES[checker.language])
    files: bytes | Outcome
    if toolchain is None:
        files = f"checkers in {checker.language} cannot run on this worker (its toolchain is missing)"
    else:
        files = _checker_files(slot, cache, toolchain, checker.program, revive)
    if not isinstance(files, bytes):
        for i in todo:
            phases[i]["check"] = files
        return
    assert toolchain is not None
    for n, i in enumerate(todo):
        phase = phases[i]
        test = prepared.plans[i].test
        phase["check"] = _run(
            slot, toolchain, checker.program, files, test.stdin, phase["stdout"], test.expected_stdout, revive
        )
        verdict = special.judge(phase).verdict
        if verdict is Verdict.INFRA_ERROR and isinstance(phase["check"], dict):
            # Whose fault? The checker run again on the expected answer as the output: when it
            # accepts that, it works, and what it could not judge was the program's output.
            phase["control"] = _run(
                slot, toolchain, checker.program, files, test.stdin, test.expected_stdout, test.expected_stdout, revive
            )
            verdict = special.judge(phase).verdict
        if verdict is Verdict.INFRA_ERROR:
            for later in todo[n + 1 :]:
                phases[later]["check"] = "the checker could not judge an earlier test"
            return
        if verdict is not Verdict.PASSED and prepared.job.first_failure:
            return  # the tests after it are skipped (judge.py)


def _run(
    slot: Slot,
    toolchain: Toolchain,
    program: str,
    files: bytes,
    stdin: str,
    output: str,
    answer: str,
    revive: Callable[[], None],
) -> Outcome:
    """The checker's run on one test: its raw-run phase."""
    blob: bytes = files + artifact.pack(
        [
            (special.INPUT, _bytes(stdin), False),
            (special.OUTPUT, _bytes(output), False),
            (special.ANSWER, _bytes(answer), False),
        ]
    )
    if len(blob) > MAX_SPLICED:
        return f"the test's input, output and answer together pass {MAX_SPLICED >> 20} MiB"
    limits = replace(CHECKER_LIMITS, disk_mb=CHECKER_LIMITS.disk_mb + (len(blob) >> 20) + 1)
    request = {
        "mode": "stdio",
        "first_failure": False,
        "limits": limits.to_dict(),
        "tests": [{"stdin": "", "capture": {"files": {}, "fetch": []}}],
        "exec": _spec(toolchain, toolchain.language.run, program, limits.memory_mb),
        "program": blob,
    }
    got = _ask(slot, request, limits.wall_s, revive)
    tests = got.get("tests")
    if not isinstance(tests, list) or len(tests) != 1 or not isinstance(tests[0], dict):
        raise SlotCrashed("the checker's answer has no phase")
    outcome: dict[str, Any] = tests[0]
    return outcome


def _checker_files(
    slot: Slot, cache: BuildCache, toolchain: Toolchain, program: str, revive: Callable[[], None]
) -> bytes | Outcome:
    """What each check unpacks before its test's files: the checker's source, or the files of
    its build (built here, once, when no slot has yet); else why there are none (a failed
    build's phase, or a string)."""
    lang = toolchain.language
    if lang.compile is None:
        source: bytes = artifact.pack([(lang.source, _bytes(program), False)])
        return source
    built = cache.obtain(toolchain.build_key(program), lambda: _build(slot, toolchain, program, revive), BUILD_WAIT_S)
    if built is None:
        return "the checker's build did not finish"
    return built.files if built.files is not None else _failed(built)


def _build(slot: Slot, toolchain: Toolchain, program: str, revive: Callable[[], None]) -> Built | None:
    """Build the checker on `slot`, as any program is built (builds.build_request), under the
    build limits of its language: its outcome, or None when the build did not come to an end."""
    request = builds.build_request(toolchain, program, CHECKER_LIMITS)
    return builds.outcome(_ask(slot, request, float(request["build"]["limits"]["wall_s"]), revive))


def _ask(slot: Slot, request: dict[str, Any], wall_s: float, revive: Callable[[], None]) -> dict[str, Any]:
    """Send `request` to the slot (started again first if need be) and read its answer."""
    revive()
    slot.send(request, None)
    got = slot.answer(wall_s + ANSWER_SLACK_S)
    if got.get("restart"):
        slot.close()  # the zygote asked to be replaced: the next request starts a fresh one
    if "infra" in got:
        raise SlotCrashed(str(got["infra"]))
    return got


def _spec(toolchain: Toolchain, argv: tuple[str, ...], program: str, memory_mb: int) -> dict[str, Any]:
    """A command of the checker's (its build or its run) as the zygote's exec spec: its
    address space bounded at `memory_mb`, no threads of its own."""
    return {
        "argv": toolchain.command(argv, program, memory_mb),
        "env": toolchain.environment(builds.HOME),
        "threads": 0,
        "oom": [],
        "as_mb": memory_mb,
        "data_mb": None,
    }


def _failed(built: Built) -> dict[str, Any]:
    """The outcome, for every test, of a checker that does not compile."""
    return {"s": statuses.COMPILE, "m": str(built.phase.get("m") or "the build failed")}


def _bytes(text: str) -> bytes:
    return text.encode("utf-8", "surrogatepass")
