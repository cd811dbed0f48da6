"""protobuf <-> domain types, in one place (the broker's boundary).

Jobs arriving over the wire become the same dicts the CLI reads from JSONL and
are validated by `Job.from_dict`, so both front ends report the same field
names in their errors.
"""

from __future__ import annotations

import json
from typing import Any

from executor import AssertTest, CallTest, InvalidJob, Job, JobResult, JobRules, Limits, TestResult, Verdict
from executor.text import check_job_text

from .protos import pb

_LIMIT_FIELDS = ("cpu_s", "wall_s", "memory_mb", "output_kb", "disk_mb", "files", "processes")
_MODES = {pb.MODE_ALL: "all", pb.MODE_FIRST_FAILURE: "first_failure"}


def limits_to_dict(msg: Any) -> dict[str, float]:
    return {name: getattr(msg, name) for name in _LIMIT_FIELDS if msg.HasField(name)}


def limits_to_pb(limits: Limits) -> Any:
    return pb.Limits(**limits.to_dict())


def tests_to_list(tests: Any) -> list[Any]:
    out: list[Any] = []
    for i, t in enumerate(tests):
        kind = t.WhichOneof("kind")
        if kind == "snippet":
            out.append(t.snippet)
        elif kind == "stdio":
            d: dict[str, Any] = {
                "stdin": t.stdio.stdin,
                "expected_stdout": t.stdio.expected_stdout,
                "checker": t.stdio.checker or "tokens",
            }
            if t.stdio.HasField("tolerance"):
                d["tolerance"] = t.stdio.tolerance
            out.append(d)
        elif kind == "call":
            out.append(
                {
                    "call": t.call.func,
                    "args": _json(t.call.args_json or "[]", f"tests[{i}].call.args_json"),
                    "expected": _json(t.call.expected_json or "null", f"tests[{i}].call.expected_json"),
                }
            )
        else:
            raise InvalidJob(f"tests[{i}]", "empty test (set snippet, stdio or call)")
    return out


def tests_to_pb(tests: list[Any]) -> list[Any]:
    """The inverse of tests_to_list, for clients (JSONL test entries -> Test messages)."""
    out = []
    for t in tests:
        if isinstance(t, str):
            out.append(pb.Test(snippet=t))
        elif "call" in t:
            out.append(
                pb.Test(
                    call=pb.CallTest(
                        func=t["call"],
                        args_json=json.dumps(t.get("args", [])),
                        expected_json=json.dumps(t.get("expected")),
                    )
                )
            )
        else:
            stdio = pb.StdioTest(
                stdin=t.get("stdin", ""),
                expected_stdout=t.get("expected_stdout", ""),
                checker=t.get("checker", "tokens"),
            )
            if "tolerance" in t:
                stdio.tolerance = t["tolerance"]
            out.append(pb.Test(stdio=stdio))
    return out


def job_from_pb(msg: Any, defaults: Limits, rules: JobRules) -> Job:
    """Validate a Job message (raises InvalidJob naming the field)."""
    data: dict[str, Any] = {
        "id": msg.id,
        "language": msg.language or "python",
        "program": msg.program,
        "tests": tests_to_list(msg.tests),
        "mode": _MODES.get(msg.mode, "all"),
    }
    if msg.HasField("limits"):
        data["limits"] = limits_to_dict(msg.limits)
    check_job_text(data)  # protobuf strings are UTF-8, but JSON in call tests may hold "\ud800"
    return Job.from_dict(data, defaults, rules)


def job_to_pb(data: dict[str, Any]) -> Any:
    """A JSONL job dict (DESIGN section 4) as a Job message, for clients. Raises InvalidJob
    naming the field for text protobuf cannot carry (lone surrogates) or an id with a NUL."""
    check_job_text(data)
    msg = pb.Job(
        id=data["id"],
        language=data.get("language", "python"),
        program=data["program"],
        tests=tests_to_pb(data["tests"]),
        mode=pb.MODE_FIRST_FAILURE if data.get("mode") == "first_failure" else pb.MODE_ALL,
    )
    if data.get("limits"):
        msg.limits.CopyFrom(pb.Limits(**data["limits"]))
    return msg


def result_to_pb(result: JobResult) -> Any:
    return pb.JobResult(
        id=result.id,
        verdict=_verdict_pb(result.verdict),
        pass_rate=result.pass_rate,
        passed=result.passed,
        total=result.total,
        cpu_ms=result.cpu_ms,
        peak_kb=result.peak_kb,
        cached=result.cached,
        message=result.message or "",
        tests=[
            pb.TestResult(verdict=_verdict_pb(t.verdict), message=t.message or "", cpu_ms=t.cpu_ms or 0.0)
            for t in result.tests
        ],
    )


def result_from_pb(msg: Any) -> JobResult:
    tests = tuple(TestResult(_verdict(t.verdict), t.message or None, t.cpu_ms or None) for t in msg.tests)
    return JobResult(msg.id, _verdict(msg.verdict), tests, msg.cpu_ms, msg.peak_kb, msg.cached, msg.message or None)


def _verdict_pb(v: Verdict) -> int:
    return pb.Verdict.Value(v.name)


def _verdict(value: int) -> Verdict:
    name = pb.Verdict.Name(value)
    if name == "VERDICT_UNSPECIFIED":
        return Verdict.INFRA_ERROR
    return Verdict[name]


def _json(text: str, field: str) -> Any:
    try:
        return json.loads(text)
    except ValueError as exc:
        raise InvalidJob(field, f"not valid JSON: {exc}") from None
    except RecursionError:
        raise InvalidJob(field, "JSON nested too deeply") from None


def job_domain_to_pb(job: Job) -> Any:
    """A validated Job as a Job message (what the SDK sends); raises InvalidJob as job_to_pb."""
    check_job_text(job.to_dict())
    tests = []
    for t in job.tests:
        if isinstance(t, AssertTest):
            tests.append(pb.Test(snippet=t.code))
        elif isinstance(t, CallTest):
            tests.append(
                pb.Test(
                    call=pb.CallTest(
                        func=t.func, args_json=json.dumps(list(t.args)), expected_json=json.dumps(t.expected)
                    )
                )
            )
        else:
            tests.append(
                pb.Test(
                    stdio=pb.StdioTest(
                        stdin=t.stdin, expected_stdout=t.expected_stdout, checker=t.checker, tolerance=t.tolerance
                    )
                )
            )
    # Only limits that differ from the defaults travel: the server's own defaults apply to the rest.
    default = Limits().to_dict()
    chosen = {k: v for k, v in job.limits.to_dict().items() if v != default[k]}
    return pb.Job(
        id=job.id,
        language=job.language,
        program=job.program,
        tests=tests,
        limits=pb.Limits(**chosen),
        mode=pb.MODE_FIRST_FAILURE if job.first_failure else pb.MODE_ALL,
    )
