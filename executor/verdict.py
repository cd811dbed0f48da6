"""Verdicts: what happened to one test, and to one job."""

from __future__ import annotations

from enum import Enum


class Verdict(str, Enum):
    """Per-test (and per-job) outcome. Values are the wire strings."""

    PASSED = "passed"
    FAILED = "failed"
    TIMEOUT = "timeout"
    MEMORY_EXCEEDED = "memory_exceeded"
    OUTPUT_EXCEEDED = "output_exceeded"
    RUNTIME_ERROR = "runtime_error"
    SYNTAX_ERROR = "syntax_error"
    COMPILE_ERROR = "compile_error"
    SKIPPED = "skipped"
    INFRA_ERROR = "infra_error"

    def __str__(self) -> str:
        return self.value
