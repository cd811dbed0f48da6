"""Helpers of the per-language suite: jobs with fresh ids, and a language's availability."""

from __future__ import annotations

import itertools
import json
import secrets
from typing import Any

import pytest

from executor import Job, JobResult, Pool, Verdict
from executor.languages import PYTHON, toolchains

_ids = itertools.count()
RUN = secrets.token_hex(4)  # this session's: a program text with it was never built before


def job(language: str, program: str, tests: list[Any], **limits: Any) -> Job:
    return Job.from_dict(
        {
            "id": f"{language}/{RUN}/{next(_ids)}",
            "language": language,
            "program": program,
            "tests": tests,
            "limits": limits,
        }
    )


def require(pool: Pool, language: str) -> None:
    """Skip when this machine has no toolchain for `language`; fail when it has one the pool
    does not offer (its self-test failed on every slot)."""
    if language == PYTHON:
        return
    if language not in toolchains([language]):
        pytest.skip(f"no {language} toolchain on this machine (make setup installs it)")
    assert language in pool.toolchains, f"{language}'s toolchain is here, but it failed its self-test in the pool"


def verdicts(result: JobResult) -> list[str]:
    return [t.verdict.value for t in result.tests]


def show(result: JobResult) -> str:
    return json.dumps(result.to_dict(), indent=1)[:6000]


def stdin_test(stdin: str, expected: str) -> dict[str, str]:
    return {"stdin": stdin, "expected_stdout": expected}


def raw(stdin: str = "") -> list[dict[str, Any]]:
    return [{"raw": {"stdin": stdin}}]


def failing(result: JobResult) -> bool:
    """A verdict of the program's own: not passed, and never the farm's infra_error."""
    return result.verdict not in (Verdict.PASSED, Verdict.INFRA_ERROR) and result.passed == 0
