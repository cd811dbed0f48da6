"""What every front end of a farm server shares: admission, limits, submission, metrics, auth.

The gRPC service (server.py) and the HTTP API (http.py) are two front ends over one Gateway:
the same dispatcher, the same bounded queue (a request that does not fit is refused whole
with RESOURCE_EXHAUSTED), the same default limits and size rules, the same bearer token and
the same metrics. Each front end converts its own request form into jobs and its own
refusals into its protocol's statuses (errors.py holds both tables).
"""

from __future__ import annotations

import functools
import hmac
import threading
import time
from collections.abc import Mapping, Sequence
from concurrent.futures import Future
from typing import Any

import grpc

from executor import InvalidJob, Job, JobResult
from executor.fair import Flow
from executor.job import check_prelude, parse_tests
from executor.judging import special
from executor.languages import PYTHON
from executor.limits import BOUNDS
from executor.text import check_writable

from . import __version__
from .config import ServerConfig
from .dispatcher import Dispatcher
from .errors import LanguageUnavailable, RequestRejected
from .metrics import Metrics

MAX_FLOW_NAME = 200


def flow_of(name: str | None, connection: str) -> Flow:
    """Whose a request's jobs are, for the queue's turns (executor/fair.py): the `name` its
    client gives (the `acefarm-client` header: requests that give one name share a turn),
    else the client's `connection` (gRPC's peer; for HTTP the client's address)."""
    return ("name", name[:MAX_FLOW_NAME]) if name else ("connection", connection)


SCORE_FIELDS = frozenset({"programs", "tests", "group_id", "language", "limits", "mode", "prelude", "checker"})


class Admission:
    """A counting budget of jobs admitted and not yet delivered (the bounded queue): a job's
    unit comes back when its result has gone out to the client (or the request ended), not
    when it finished, so results waiting for a slow reader count too."""

    def __init__(self, limit: int, metrics: Metrics) -> None:
        self.limit = limit
        self.used = 0
        self._lock = threading.Lock()
        self._metrics = metrics

    def take(self, n: int) -> None:
        with self._lock:
            if self.used + n > self.limit:
                raise RequestRejected(
                    grpc.StatusCode.RESOURCE_EXHAUSTED,
                    f"farm queue is full ({self.used} of {self.limit} jobs in flight); retry later with backoff",
                )
            self.used += n
            self._metrics.queue_depth.set(self.used)

    def give(self, n: int = 1) -> None:
        with self._lock:
            self.used -= n
            self._metrics.queue_depth.set(self.used)


class Admitted:
    """The jobs of one request, holding their units of the queue budget until their results
    are delivered: `delivered()` as each goes out, `close()` when the request ends, however it
    ends (it cancels what has not finished, down to the running programs, and gives back every
    unit not given yet). Safe to call from several threads; close() more than once."""

    def __init__(self, gateway: Gateway, futures: list[Future[JobResult]]) -> None:
        self.futures = futures
        self._gateway = gateway
        self._held = len(futures)
        self._lock = threading.Lock()

    def delivered(self, n: int = 1) -> None:
        """`n` results have been handed to the client."""
        with self._lock:
            n = min(n, self._held)
            self._held -= n
        if n:
            self._gateway.admission.give(n)

    def close(self) -> None:
        self._gateway.cancel(self.futures)
        with self._lock:
            n, self._held = self._held, 0
        if n:
            self._gateway.admission.give(n)

    def __enter__(self) -> Admitted:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


class Gateway:
    """Admits jobs and hands them to the dispatcher, counting them in the metrics."""

    def __init__(self, dispatcher: Dispatcher, config: ServerConfig, metrics: Metrics) -> None:
        self.dispatcher = dispatcher
        self.config = config
        self.metrics = metrics
        self.admission = Admission(config.max_queue, metrics)
        self.limits = config.executor.limits
        self.rules = config.executor.rules
        self._expected = f"Bearer {config.token}" if config.token else None

    def authorized(self, header: str | None) -> bool:
        """Does an `authorization` header value carry the server's bearer token (always, when
        it has none)? Compared in constant time."""
        if self._expected is None:
            return True
        return header is not None and hmac.compare_digest(header.encode(), self._expected.encode())

    def check_batch(self, n: int, where: str) -> None:
        if n > self.config.max_batch_jobs:
            raise RequestRejected(
                grpc.StatusCode.INVALID_ARGUMENT, f"{where}: {n} jobs; at most {self.config.max_batch_jobs} per request"
            )

    def check_languages(self, jobs: Sequence[Job]) -> None:
        """Refuse a request with a job in a language the farm does not offer now
        (LanguageUnavailable: FAILED_PRECONDITION). Python is always admitted: every worker
        runs it, and in cluster mode its jobs wait in the queue for one, as they always have."""
        offer: Mapping[str, str] | None = None
        for job in jobs:
            if job.language == PYTHON:
                continue
            if offer is None:
                offer = self.dispatcher.languages
            if job.language not in offer:
                raise LanguageUnavailable(job.language, list(offer), job.id)

    def submit(self, jobs: Sequence[Job], flow: Flow = None) -> Admitted:
        """Admit `jobs` whole (or refuse them all: RESOURCE_EXHAUSTED, or LanguageUnavailable)
        and start them, as `flow`'s (whose they are: `flow_of`). The caller closes the
        returned Admitted when its request ends."""
        self.check_languages(jobs)
        self.admission.take(len(jobs))
        futures: list[Future[JobResult]] = []
        try:
            for job in jobs:
                admitted = time.monotonic()
                started = [admitted]

                def on_start(at: float, started: list[float] = started, admitted: float = admitted) -> None:
                    started[0] = at
                    self.metrics.queue_wait.observe(max(0.0, at - admitted))

                fut = self.dispatcher.submit(job, on_start, flow)
                futures.append(fut)
                fut.add_done_callback(functools.partial(self._finished, started=started))
        except BaseException:
            self.admission.give(len(jobs) - len(futures))  # the ones never submitted
            Admitted(self, futures).close()
            raise
        return Admitted(self, futures)

    def cancel(self, futures: Sequence[Future[JobResult]]) -> None:
        """Stop the jobs of `futures` not finished yet, down to their running programs."""
        for f in futures:
            if not f.done():
                self.dispatcher.cancel(f)

    def _finished(self, fut: Future[JobResult], started: list[float]) -> None:
        if fut.cancelled() or fut.exception() is not None:
            return
        self.metrics.run_time.observe(time.monotonic() - started[0])
        self.metrics.observe(fut.result())

    def score_jobs(self, request: Mapping[str, Any]) -> list[Job]:
        """A Score request in its dict form ({"programs", "tests", "group_id"?, "language"?,
        "limits"?, "mode"?, "prelude"?, "checker"?}; convert.score_request reads the protobuf one) as its jobs,
        "<group_id>/<index>": the suite is read and validated once and shared by every
        program. InvalidJob names the field (`tests[3]...`, `programs[1]`)."""
        unknown = sorted(set(request) - SCORE_FIELDS)
        if unknown:
            raise InvalidJob(unknown[0], f"unknown field (known: {', '.join(sorted(SCORE_FIELDS))})")
        programs = request.get("programs")
        if not isinstance(programs, list) or not programs:
            raise InvalidJob("programs", "missing, empty or not a list")
        group = _given(request, "group_id", "group")
        if not isinstance(group, str) or not group:
            raise InvalidJob("group_id", "must be a non-empty string")
        check_writable(group, "group_id", nul=True)  # it becomes the results' ids
        raw_tests = request.get("tests")
        check_writable(raw_tests, "tests")  # JSON may spell lone surrogates ("\ud800")
        tests = parse_tests(raw_tests, self.rules)
        limits = self.limits.merged(request.get("limits"))
        language, mode = _given(request, "language", "python"), _given(request, "mode", "all")
        named = request.get("prelude")  # absent or null: the one the tests' shape implies (Job.from_parts)
        prelude = None if named is None else check_prelude(named)
        check_writable(request.get("checker"), "checker")
        checker = special.parse(request.get("checker"), self.rules.max_program_bytes)  # once, shared
        self.check_batch(len(programs), "programs")  # before the suite is read, nothing copied
        jobs = []
        for i, program in enumerate(programs):
            try:
                jobs.append(
                    Job.from_parts(f"{group}/{i}", program, tests, language, limits, mode, self.rules, prelude, checker)
                )
            except InvalidJob as exc:  # the program's own field; the group's (mode, language) as they are
                field = f"programs[{i}].{exc.field}" if exc.field == "program" else exc.field
                raise InvalidJob(field, exc.message) from None
        return jobs

    def info(self) -> dict[str, Any]:
        """What this farm runs and accepts (GetInfo): `languages` it offers now and
        `toolchains`, what runs each (where known)."""
        offer = self.dispatcher.languages
        return {
            "version": __version__,
            "runtime": self.dispatcher.runtime,
            "languages": list(offer),
            "toolchains": {name: title for name, title in offer.items() if title},
            "default_limits": self.limits.to_dict(),
            "max_limits": max_limits(),
            "slots": self.dispatcher.status().slots,
            "mode": "cluster" if self.config.broker_url else "embedded",
            "max_batch_jobs": self.config.max_batch_jobs,
            "max_tests_per_job": self.rules.max_tests,
            "max_program_bytes": self.rules.max_program_bytes,
            "max_message_bytes": self.config.max_message_bytes,
        }


def max_limits() -> dict[str, float]:
    """The largest limits a job may ask for (limits.BOUNDS)."""
    floats = {"cpu_s", "wall_s"}
    return {k: float(hi) if k in floats else int(hi) for k, (_lo, hi) in BOUNDS.items()}


def _given(request: Mapping[str, Any], key: str, default: Any) -> Any:
    """A request's field, or `default` where it is absent or null (never where it is a wrong
    value that happens to be false: `[]`, `0`, `""` are refused by their checks)."""
    value = request.get(key)
    return default if value is None else value
