"""The raw run: run the program once on a stdin and report what it did.

JSON form: {"raw": {"stdin": "1 2\\n", "files": {"data.txt": "<base64>"}, "fetch_files": ["out.txt"]}}
(every field optional). The program runs as `python3 prog.py` would, in a fresh working
directory holding `files`; the result's `output` (result.RunOutput) carries its stdout and
stderr, its exit status or signal, its wall and CPU time, the limit that ended it, and the
`fetch_files` found after it. The test passes when the program exits 0 within the job's
limits. There is no expected output: this kind is how front ends that only run code
(SandboxFusion's `/run_code`) reach the sandbox.
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Any, ClassVar

from ..errors import InvalidJob
from ..result import RunOutput, TestResult
from ..sandbox import statuses
from ..verdict import Verdict
from .kind import STDIO, JudgeContext, Phase, Plan, ended
from .stdio import parse_stdin, unknown_fields

FIELDS = ("stdin", "files", "fetch_files")
MAX_FILES = 64
MAX_PATH = 255
# The phase status of a run a limit ended -> RunOutput.limit.
_LIMITS = {
    statuses.TIMEOUT: "timeout",
    statuses.MEMORY: "memory",
    statuses.OUTPUT: "output",
    statuses.DISK: "disk",
}


@dataclass(frozen=True)
class RawRun:
    """Run the program on `stdin` in a directory holding `files` ((path, base64) pairs);
    fetch `fetch_files` back after it."""

    stdin: str = ""
    files: tuple[tuple[str, str], ...] = ()
    fetch_files: tuple[str, ...] = ()


def check_path(path: Any, where: str) -> str:
    """A path inside the run's working directory: relative, without '.' or '..' parts."""
    if not isinstance(path, str) or not path:
        raise InvalidJob(where, "must be a non-empty string")
    if len(path) > MAX_PATH or "\x00" in path or "\\" in path:
        raise InvalidJob(where, f"not a usable path {path[:80]!r}")
    if path.startswith("/") or any(part in ("", ".", "..") for part in path.split("/")):
        raise InvalidJob(where, f"must be a relative path inside the working directory, without '.' or '..': {path!r}")
    return path


def _files(raw: Any, where: str) -> tuple[tuple[str, str], ...]:
    if not isinstance(raw, Mapping):
        raise InvalidJob(where, "must be an object of path -> base64 content")
    if len(raw) > MAX_FILES:
        raise InvalidJob(where, f"has {len(raw)} files; at most {MAX_FILES}")
    out = []
    for path, content in raw.items():
        check_path(path, f"{where}.{path}")
        if not isinstance(content, str):
            raise InvalidJob(f"{where}.{path}", "must be a base64 string")
        try:
            base64.b64decode(content, validate=True)
        except (binascii.Error, ValueError):
            raise InvalidJob(f"{where}.{path}", "not valid base64") from None
        out.append((path, content))
    return tuple(sorted(out))


def _fetch(raw: Any, where: str) -> tuple[str, ...]:
    if not isinstance(raw, list):
        raise InvalidJob(where, "must be a list of paths")
    if len(raw) > MAX_FILES:
        raise InvalidJob(where, f"has {len(raw)} paths; at most {MAX_FILES}")
    return tuple(check_path(p, f"{where}[{i}]") for i, p in enumerate(raw))


def output_of(test: RawRun, phase: Phase) -> RunOutput:
    """The run's RunOutput from its phase; fetched files only where the test asked for them
    and the content is base64 (the child's report is the program's claim)."""
    fetched = phase.get("files")
    files: list[tuple[str, str]] = []
    if isinstance(fetched, dict):
        for path in test.fetch_files:
            content = fetched.get(path)
            if isinstance(content, str) and content.isascii():
                try:
                    base64.b64decode(content, validate=True)
                except (binascii.Error, ValueError):
                    continue
                files.append((path, content))
    status = phase.get("s")
    exit_code, sig = phase.get("exit"), phase.get("sig")
    return RunOutput(
        stdout=_text(phase.get("stdout")),
        stderr=_text(phase.get("stderr")),
        exit_code=exit_code if isinstance(exit_code, int) and not isinstance(exit_code, bool) else None,
        signal=sig if isinstance(sig, str) else None,
        wall_ms=_number(phase.get("wall_ms")),
        cpu_ms=_number(phase.get("cpu_ms")),
        limit=_LIMITS.get(str(status)),
        truncated=status == statuses.OUTPUT,
        files=tuple(files),
    )


def _text(value: Any) -> str:
    return value if isinstance(value, str) else ""


def _number(value: Any) -> float:
    return float(value) if isinstance(value, (int, float)) and not isinstance(value, bool) else 0.0


class Raw:
    name: ClassVar[str] = "raw"
    pb_field: ClassVar[str] = "raw"
    mode: ClassVar[str] = STDIO
    test_type: ClassVar[type] = RawRun

    def parse(self, raw: Any, where: str) -> RawRun | None:
        if not isinstance(raw, Mapping) or "raw" not in raw:
            return None
        unknown_fields(raw, ("raw",), where, "a raw run")
        body = raw["raw"]
        where = f"{where}.raw"
        if not isinstance(body, Mapping):
            raise InvalidJob(where, f"must be an object with any of {', '.join(FIELDS)}")
        unknown_fields(body, FIELDS, where, "a raw run")
        return RawRun(
            parse_stdin(body, where),
            _files(body.get("files", {}), f"{where}.files"),
            _fetch(body.get("fetch_files", []), f"{where}.fetch_files"),
        )

    def to_raw(self, test: RawRun) -> dict[str, Any]:
        body: dict[str, Any] = {"stdin": test.stdin}
        if test.files:
            body["files"] = dict(test.files)
        if test.fetch_files:
            body["fetch_files"] = list(test.fetch_files)
        return {"raw": body}

    def from_pb(self, msg: Any, where: str) -> dict[str, Any]:
        return {"raw": {"stdin": msg.stdin, "files": dict(msg.files), "fetch_files": list(msg.fetch_files)}}

    def to_pb(self, test: RawRun) -> dict[str, Any]:
        return {"stdin": test.stdin, "files": dict(test.files), "fetch_files": list(test.fetch_files)}

    def plan(self, test: RawRun, earlier: Sequence[Plan]) -> Plan:
        return Plan(test, self)

    def sandbox_spec(self, plan: Plan) -> dict[str, Any]:
        test: RawRun = plan.test
        return {"stdin": test.stdin, "capture": {"files": dict(test.files), "fetch": list(test.fetch_files)}}

    def judge(self, plan: Plan, phase: Phase, ctx: JudgeContext) -> TestResult:
        if phase.get("s") == statuses.SKIPPED:
            return ended(phase)
        output = output_of(plan.test, phase)
        if phase.get("s") == statuses.OK:
            return TestResult(Verdict.PASSED, None, output.cpu_ms, output)
        return replace(ended(phase), cpu_ms=output.cpu_ms, output=output)


KIND = Raw()
