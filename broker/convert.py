"""protobuf <-> domain types, in one place (the broker's boundary).

Each object has one protobuf form and one converter each way: a Job message is read into the
job's dict form (DESIGN section 4) and validated by `Job.from_dict`, so both front ends report
the same field names in their errors; tests go through the test kinds' own converters
(executor/judging/registry.py). Results likewise: `result_to_pb` / `result_from_pb`.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from executor import Job, JobResult, JobRules, Limits, RunOutput, TestResult, Verdict
from executor.judging import registry
from executor.judging.special import Checker
from executor.result import BuildInfo
from executor.text import check_job_text

from .protos import pb

_LIMIT_FIELDS = ("cpu_s", "wall_s", "memory_mb", "output_kb", "disk_mb", "files", "processes")
_MODES = {pb.MODE_ALL: "all", pb.MODE_FIRST_FAILURE: "first_failure"}


def limits_to_dict(msg: Any) -> dict[str, float]:
    """The limits a Limits message sets (unset ones take the server's defaults)."""
    return {name: getattr(msg, name) for name in _LIMIT_FIELDS if msg.HasField(name)}


def limits_to_pb(limits: Limits | Mapping[str, Any]) -> Any:
    return pb.Limits(**(limits.to_dict() if isinstance(limits, Limits) else limits))


def chosen_limits(limits: Limits) -> dict[str, float]:
    """The limits that travel (Limits.chosen_dict): the server's own defaults apply to the rest."""
    return limits.chosen_dict()


def tests_from_pb(tests: Any) -> list[Any]:
    """Test messages in their JSON form (validated by the job, or by `parse_tests`)."""
    return [registry.from_pb(t, f"tests[{i}]") for i, t in enumerate(tests)]


def tests_to_pb(tests: Any) -> list[Any]:
    """Parsed tests as Test messages."""
    out = []
    for test in tests:
        field, value = registry.to_pb(test)
        out.append(pb.Test(**{field: value}))
    return out


def job_from_pb(msg: Any, defaults: Limits, rules: JobRules) -> Job:
    """Validate a Job message (raises InvalidJob naming the field)."""
    data: dict[str, Any] = {
        "id": msg.id,
        "language": msg.language or "python",
        "program": msg.program,
        "tests": tests_from_pb(msg.tests),
        "mode": _MODES.get(msg.mode, "all"),
    }
    if msg.HasField("limits"):
        data["limits"] = limits_to_dict(msg.limits)
    if msg.prelude:
        data["prelude"] = msg.prelude
    if msg.HasField("checker"):
        data["checker"] = checker_from_pb(msg.checker)
    check_job_text(data)  # protobuf strings are UTF-8, but JSON in call tests may hold "\ud800"
    return Job.from_dict(data, defaults, rules)


def score_request(msg: Any) -> dict[str, Any]:
    """A ScoreRequest in its dict form (validated by gateway.Gateway.score_jobs, as the HTTP
    API's /v1/score body is)."""
    request: dict[str, Any] = {
        "programs": list(msg.programs),
        "tests": tests_from_pb(msg.tests),
        "group_id": msg.group_id or "group",
        "language": msg.language or "python",
        "mode": _MODES.get(msg.mode, "all"),
    }
    if msg.HasField("limits"):
        request["limits"] = limits_to_dict(msg.limits)
    if msg.prelude:
        request["prelude"] = msg.prelude
    if msg.HasField("checker"):
        request["checker"] = checker_from_pb(msg.checker)
    return request


def checker_from_pb(msg: Any) -> dict[str, Any]:
    """A Checker message in the job's JSON form (validated by the job)."""
    return {"language": msg.language, "program": msg.program}


def checker_to_pb(checker: Checker) -> Any:
    return pb.Checker(language=checker.language, program=checker.program)


def job_to_pb(job: Job | Mapping[str, Any]) -> Any:
    """A job (a Job, or its dict form, validated here as the server would, but for the
    server's own size rules) as a Job message. A dict's limits travel as written; a Job's,
    where they differ from the defaults. Raises InvalidJob naming the field, including for
    text protobuf cannot carry (lone surrogates) or an id with a NUL."""
    if isinstance(job, Job):
        check_job_text(job.to_dict())
        limits = chosen_limits(job.limits)
    else:
        check_job_text(job)  # the text as written: the job read from it holds the same
        written = job.get("limits") or {}
        job = Job.from_dict(job, rules=JobRules.unbounded())
        resolved = job.limits.to_dict()
        limits = {k: resolved[k] for k in written}  # as written, in their validated types
    msg = pb.Job(
        id=job.id,
        language=job.language,
        program=job.program,
        tests=tests_to_pb(job.tests),
        mode=pb.MODE_FIRST_FAILURE if job.first_failure else pb.MODE_ALL,
        prelude=job.prelude,
    )
    if limits:
        msg.limits.CopyFrom(limits_to_pb(limits))
    if job.checker is not None:
        msg.checker.CopyFrom(checker_to_pb(job.checker))
    return msg


def result_to_pb(result: JobResult, into: Any = None) -> Any:
    """A JobResult as its message; `into`: a new element of a repeated JobResult field to fill
    in place (`results.add()`), which spares copying a finished message into its parent."""
    msg = into if into is not None else pb.JobResult()
    msg.id = result.id
    msg.verdict = _VERDICT_PB[result.verdict]
    msg.pass_rate = result.pass_rate
    msg.passed = result.passed
    msg.total = result.total
    msg.cpu_ms = result.cpu_ms
    msg.peak_kb = result.peak_kb
    msg.cached = result.cached
    if result.message:
        msg.message = result.message
    msg.attempts = result.attempts
    if result.build is not None:
        msg.build.cpu_ms, msg.build.wall_ms, msg.build.cached, msg.build.stopped = (
            result.build.cpu_ms,
            result.build.wall_ms,
            result.build.cached,
            result.build.stopped,
        )
    add = msg.tests.add
    for t in result.tests:
        if t.output is not None:
            add(verdict=_VERDICT_PB[t.verdict], message=t.message or "", cpu_ms=t.cpu_ms, output=_output_pb(t.output))
        elif t.message:
            add(verdict=_VERDICT_PB[t.verdict], message=t.message, cpu_ms=t.cpu_ms)
        else:  # an unset cpu_ms (None) stays unset
            add(verdict=_VERDICT_PB[t.verdict], cpu_ms=t.cpu_ms)
    return msg


class ReplyRoom:
    """What is left of one reply message's size (the server's message cap, less room for its
    framing). A raw run's output is the part of a result that can be large (each within its
    job's output_kb, but a group's together need not fit), then its tests' messages: a result
    past what is left has its outputs cut (marked `truncated`), then its messages left out, and
    every result's verdicts still come back. Each of `count` results has room kept for its
    verdicts (`tests` each) whatever the results before it took."""

    MARGIN = 64 << 10

    def __init__(self, max_bytes: int, count: int = 1, tests: int = 1) -> None:
        self.share = 64 + 24 * tests  # a result without output or messages: ids, numbers, verdicts
        self.left = max_bytes - self.MARGIN - count * self.share

    def fit(self, msg: Any) -> Any:
        """`msg` (a JobResult message, in place) cut to what is left and its own share, which it
        then takes (with what a reply spends around it: framing, its verdict row, pass rate)."""
        around = 18 + len(msg.tests)
        room = self.left + self.share

        def over() -> int:
            return int(msg.ByteSize()) + around - room

        if over() > 0:
            outputs = sorted(
                (t.output for t in msg.tests if t.HasField("output")), key=lambda o: -(len(o.stdout) + len(o.stderr))
            )
            for out in outputs:
                for field in ("stdout", "stderr"):
                    text, excess = getattr(out, field), over()
                    if excess > 0 and text:
                        # Cutting n characters takes n bytes at least (UTF-8).
                        setattr(out, field, text[: max(0, len(text) - excess - 16)])
                        out.truncated = True
                if over() > 0 and out.files:
                    out.files.clear()
                    out.truncated = True
        if over() > 0:
            for t in msg.tests:
                t.ClearField("message")
            msg.message = "test messages left out: the reply would pass its size cap"
        self.left = room - (msg.ByteSize() + around)
        return msg


def score_response(results: Iterable[JobResult], room: ReplyRoom | None = None) -> Any:
    """A Score answer: each result, its row of the verdict matrix and its pass rate, built in
    place as `results` yields them (each fit into `room`, when given)."""
    resp = pb.ScoreResponse()
    add_result, add_row, rates = resp.results.add, resp.matrix.add, resp.pass_rates
    for result in results:
        msg = result_to_pb(result, add_result())
        if room is not None:
            room.fit(msg)
        add_row(verdicts=[_VERDICT_PB[t.verdict] for t in result.tests])
        rates.append(msg.pass_rate)
    return resp


def result_from_pb(msg: Any) -> JobResult:
    tests = tuple(
        TestResult(
            _verdict(t.verdict),
            t.message or None,
            t.cpu_ms if t.HasField("cpu_ms") else None,
            _output(t.output) if t.HasField("output") else None,
        )
        for t in msg.tests
    )
    return JobResult(
        msg.id,
        _verdict(msg.verdict),
        tests,
        msg.cpu_ms,
        msg.peak_kb,
        msg.cached,
        msg.message or None,
        msg.attempts or 1,
        BuildInfo(msg.build.cpu_ms, msg.build.wall_ms, msg.build.cached, msg.build.stopped)
        if msg.HasField("build")
        else None,
    )


def verdict_name(value: int) -> str:
    """A Verdict enum number as its wire string ("passed"; "verdict_unspecified" for 0)."""
    name = _VERDICT_NAMES.get(value)
    return name if name is not None else str(pb.Verdict.Name(value)).lower()


def _output_pb(out: RunOutput) -> Any:
    return pb.RunOutput(
        stdout=out.stdout,
        stderr=out.stderr,
        exit_code=out.exit_code,
        signal=out.signal or "",
        wall_ms=out.wall_ms,
        cpu_ms=out.cpu_ms,
        limit=out.limit or "",
        truncated=out.truncated,
        files=dict(out.files),
    )


def _output(msg: Any) -> RunOutput:
    return RunOutput(
        msg.stdout,
        msg.stderr,
        msg.exit_code if msg.HasField("exit_code") else None,
        msg.signal or None,
        msg.wall_ms,
        msg.cpu_ms,
        msg.limit or None,
        msg.truncated,
        tuple(sorted(msg.files.items())),
    )


_VERDICT_PB: dict[Verdict, int] = {v: int(pb.Verdict.Value(v.name)) for v in Verdict}
_VERDICTS: dict[int, Verdict] = {n: v for v, n in _VERDICT_PB.items()}
_VERDICT_NAMES: dict[int, str] = {int(n): str(pb.Verdict.Name(n)).lower() for n in pb.Verdict.values()}


def _verdict(value: int) -> Verdict:
    """A Verdict enum number as a Verdict: VERDICT_UNSPECIFIED reads as infra_error; a number
    this side does not know raises ValueError."""
    verdict = _VERDICTS.get(value)
    if verdict is not None:
        return verdict
    if pb.Verdict.Name(value) == "VERDICT_UNSPECIFIED":
        return Verdict.INFRA_ERROR
    raise ValueError(f"unknown verdict {value}")
