"""SandboxFusion's `POST /run_code`, field for field, as one raw run (executor/judging/raw.py).

The request and response models are SandboxFusion's own (its server is FastAPI + pydantic
too, so a bad field gets the same 422 in the same shape). What the farm does with them:

- `code` runs as a program of `language` (`FARM_LANGUAGES`: SandboxFusion's name -> the
  farm's; "nodejs" is the farm's "javascript") on `stdin` in a fresh working directory
  holding `files` (path -> base64; a null content is skipped); `fetch_files` come back base64
  in `files` (missing ones left out, as SandboxFusion does). A compiled language's program is
  built first (once per program: executor/builds.py), under its toolchain's own build limits.
- `run_timeout` (seconds) is the run's wall-clock limit and its CPU-time limit, and
  `memory_limit_MB` its memory limit (-1 or 0: the server's default), both clamped into the
  bounds a server accepts (executor/limits.py BOUNDS). Output is kept up to RUN_OUTPUT_KB
  (at least the server's own default); past it the run is ended. `compile_timeout` and
  `args` are accepted and ignored (a build has its toolchain's limits; a program gets no
  arguments).
- `language`: one SandboxFusion does not know (nor the farm: it also takes its own names
  "c", "cpp20" and "javascript") is its 422 (`literal_error`); one it knows and this farm
  does not offer now (php, or a toolchain no worker has) is a 200 `SandboxError` naming it
  and the languages the farm runs, which is what SandboxFusion answers for a language it
  lists and cannot run.
- The answer: for a compiled language, `compile_result` is the build (`return_code` 0, or 1
  with the compiler's message as `stderr` and no `run_result` when it failed: `Failed`).
  `run_result.status` is `TimeLimitExceeded` (`return_code` null) when a time
  limit ended the run, else `Finished` with the exit status, or minus the signal's number
  when a signal ended it (SIGKILL, -9, for the memory and output limits), as Python's
  subprocess reports it. `status` is `Success` for exit status 0, else `Failed`;
  `SandboxError` only when the farm could not run the program (the SDK retries those).
  `execution_time` is the wall-clock seconds (and `cpu_time`, which the SDK's model reads,
  the CPU seconds); `message` is "" except for SandboxError.
"""

from __future__ import annotations

import os
import re
import signal
from collections.abc import Iterable
from dataclasses import replace
from enum import Enum
from typing import Any, Literal

from pydantic import BaseModel, Field

from executor import InvalidJob, Job, JobResult, JobRules, Limits, Verdict
from executor.limits import BOUNDS

RUN_OUTPUT_KB = 2048  # SandboxFusion keeps 1 MiB of stdout and of stderr
COMPILE_PREFIX = "the program does not compile: "  # executor/judging/judge.py's, before the compiler's words
JOB_ID = "run_code"

Language = Literal[
    "python",
    "cpp",
    "nodejs",
    "go",
    "go_test",
    "java",
    "php",
    "csharp",
    "bash",
    "typescript",
    "sql",
    "rust",
    "cuda",
    "lua",
    "R",
    "perl",
    "D_ut",
    "ruby",
    "scala",
    "julia",
    "pytest",
    "junit",
    "kotlin_script",
    "jest",
    "verilog",
    "python_gpu",
    "lean",
    "swift",
    "racket",
    # The farm's own names beside SandboxFusion's (FARM_LANGUAGES).
    "c",
    "cpp20",
    "javascript",
]
# SandboxFusion's names (and the farm's own) of the languages the farm has.
FARM_LANGUAGES = {
    "python": "python",
    "cpp": "cpp",
    "nodejs": "javascript",
    "go": "go",
    "java": "java",
    "rust": "rust",
    "bash": "bash",
    "c": "c",
    "cpp20": "cpp20",
    "javascript": "javascript",
}
# What the farm's languages are called here when it lists them (SandboxFusion's name first).
REQUEST_NAMES = {"javascript": "nodejs"}


class RunCodeRequest(BaseModel):
    """SandboxFusion's RunCodeRequest (unknown fields are ignored, as there)."""

    compile_timeout: float = Field(10, allow_inf_nan=False)  # NaN or infinity: a 422 naming it
    run_timeout: float = Field(10, allow_inf_nan=False)
    memory_limit_MB: int = -1
    code: str
    stdin: str | None = None
    language: Language
    files: dict[str, str | None] = {}
    fetch_files: list[str] = []
    args: list[str] = []


class RunStatus(str, Enum):
    Success = "Success"
    Failed = "Failed"
    SandboxError = "SandboxError"


class CommandRunStatus(str, Enum):
    Finished = "Finished"
    Error = "Error"
    TimeLimitExceeded = "TimeLimitExceeded"


class CommandRunResult(BaseModel):
    status: CommandRunStatus
    execution_time: float | None = None
    cpu_time: float | None = None  # the SDK's model has it (seconds); SandboxFusion's server leaves it out
    return_code: int | None = None
    stdout: str | None = None
    stderr: str | None = None


class RunCodeResponse(BaseModel):
    status: RunStatus
    message: str
    compile_result: CommandRunResult | None = None
    run_result: CommandRunResult | None = None
    executor_pod_name: str | None = None
    files: dict[str, str] = {}


def _clamp(value: float, name: str) -> float:
    lo, hi = BOUNDS[name]
    return min(max(value, lo), hi)


def limits_for(req: RunCodeRequest, defaults: Limits) -> dict[str, float]:
    """The run's limits: `run_timeout` as wall and CPU time, `memory_limit_MB`, the output
    cap; clamped into the bounds a server accepts."""
    memory = defaults.memory_mb if req.memory_limit_MB <= 0 else int(_clamp(req.memory_limit_MB, "memory_mb"))
    return {
        "cpu_s": _clamp(req.run_timeout, "cpu_s"),
        "wall_s": _clamp(req.run_timeout, "wall_s"),
        "memory_mb": memory,
        "output_kb": int(_clamp(max(defaults.output_kb, RUN_OUTPUT_KB), "output_kb")),
        # SandboxFusion runs a program as a plain process: `subprocess.run([...])` works there.
        "processes": RUN_PROCESSES,
    }


RUN_PROCESSES = 16  # as many as a bash job runs its commands in (executor/languages/bash.py)
MAX_RUN_BYTES = 64 << 20  # a raw run's stdin and files together: the server's message cap


def job_for(req: RunCodeRequest, defaults: Limits, rules: JobRules) -> Job:
    """The raw-run job of a request in a language the farm has (`FARM_LANGUAGES`; InvalidJob
    naming the job's field: `body_loc` turns it into the request's)."""
    files = {path: content for path, content in req.files.items() if content is not None}
    test = {"raw": {"stdin": req.stdin or "", "files": files, "fetch_files": list(req.fetch_files)}}
    data = {
        "id": JOB_ID,
        "language": FARM_LANGUAGES.get(req.language, req.language),
        "program": req.code,
        "tests": [test],
        "limits": limits_for(req, defaults),
    }
    # SandboxFusion has no cap of its own on stdin or files: the request's size cap (the body
    # the server accepts) bounds them, not the per-test cap of assert and stdio tests.
    rules = replace(
        rules,
        max_test_bytes=max(rules.max_test_bytes, MAX_RUN_BYTES),
        max_tests_bytes=max(rules.max_tests_bytes, MAX_RUN_BYTES),
    )
    return Job.from_dict(data, defaults, rules)


_RAW_FIELD = re.compile(r"tests\[0\]\.raw\.(\w+)(?:\.(.+)|\[(\d+)\])?$")


def body_loc(field: str) -> list[str | int]:
    """The request's location of a job field InvalidJob named (FastAPI's `loc` form)."""
    if field == "program":
        return ["body", "code"]
    found = _RAW_FIELD.match(field)
    if found is None:
        return ["body"]
    name, key, index = found.groups()
    loc: list[str | int] = ["body", name]
    if key is not None:
        loc.append(key)
    elif index is not None:
        loc.append(int(index))
    return loc


def invalid(exc: InvalidJob) -> dict[str, Any]:
    """A 422 body in FastAPI's shape for a request the farm's job rules refuse."""
    return {"detail": [{"type": "value_error", "loc": body_loc(exc.field), "msg": exc.message, "input": None}]}


def unsupported(language: str, offer: Iterable[str]) -> RunCodeResponse:
    """The answer to a request in a language the farm does not offer now; `offer`: the farm's
    names of those it does, listed by the names a request gives them."""
    runs = ", ".join(REQUEST_NAMES.get(name, name) for name in offer)
    message = f"language {language!r} is not available on this farm (it runs: {runs})"
    return RunCodeResponse(status=RunStatus.SandboxError, message=message, executor_pod_name=_pod())


def sandbox_error(message: str) -> RunCodeResponse:
    return RunCodeResponse(status=RunStatus.SandboxError, message=message, executor_pod_name=_pod())


def compile_result(result: JobResult) -> CommandRunResult | None:
    """The build of a compiled language's program, as SandboxFusion reports it (None for a
    language without one)."""
    if result.build is None:
        return None
    failed = result.verdict is Verdict.COMPILE_ERROR
    message = (result.message or "").removeprefix(COMPILE_PREFIX) if failed else ""
    return CommandRunResult(
        status=CommandRunStatus.Finished,
        execution_time=result.build.wall_ms / 1000.0,
        cpu_time=result.build.cpu_ms / 1000.0,
        return_code=1 if failed else 0,
        stdout="",
        stderr=message,
    )


def response_for(result: JobResult) -> RunCodeResponse:
    """The SandboxFusion answer for a raw run's result."""
    test = result.tests[0] if result.tests else None
    out = test.output if test is not None else None
    built = compile_result(result)
    if result.verdict is Verdict.COMPILE_ERROR and built is not None:
        return RunCodeResponse(status=RunStatus.Failed, message="", compile_result=built, executor_pod_name=_pod())
    if result.verdict is Verdict.INFRA_ERROR or out is None:
        return sandbox_error(result.message or "the farm could not run the program")
    if out.limit == "timeout":
        run = CommandRunResult(
            status=CommandRunStatus.TimeLimitExceeded,
            execution_time=out.wall_ms / 1000.0,
            cpu_time=out.cpu_ms / 1000.0,
            stdout=out.stdout,
            stderr=out.stderr,
        )
        status = RunStatus.Failed
    else:
        code = out.exit_code if out.exit_code is not None else -_signal_number(out.signal)
        run = CommandRunResult(
            status=CommandRunStatus.Finished,
            execution_time=out.wall_ms / 1000.0,
            cpu_time=out.cpu_ms / 1000.0,
            return_code=code,
            stdout=out.stdout,
            stderr=out.stderr,
        )
        status = RunStatus.Success if code == 0 else RunStatus.Failed
    return RunCodeResponse(
        status=status,
        message="",
        compile_result=built,
        run_result=run,
        executor_pod_name=_pod(),
        files=dict(out.files),
    )


def _signal_number(name: str | None) -> int:
    try:
        return int(signal.Signals[name]) if name else int(signal.SIGKILL)
    except KeyError:
        return int(name) if name and name.isdigit() else int(signal.SIGKILL)


def _pod() -> str | None:
    return os.environ.get("MY_POD_NAME")  # as SandboxFusion: the pod's name under Kubernetes
