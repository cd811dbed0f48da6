"""The farm's Python SDK: `Client` (sync) and `AsyncClient` (asyncio).

    from broker.client import Client

    with Client("localhost:50051") as farm:
        result = farm.execute({"id": "q1", "program": "...", "tests": ["assert f(1) == 2"]})
        group = farm.score(programs, tests)          # a GRPO group: pass matrix + rates

Jobs are JSONL-style dicts (DESIGN section 4) or `executor.Job` objects. Text protobuf cannot
carry (a lone surrogate; a NUL in an id) is refused before sending, with InvalidJob naming the
field; results arrive writable (executor/text.py).
Transient failures (UNAVAILABLE, RESOURCE_EXHAUSTED, a broken stream) are
retried with exponential backoff, resending the same job ids, and results
are keyed by id, so a retry never counts a job twice.
"""

from __future__ import annotations

import asyncio
import queue
import random
import threading
import time
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any

import grpc

from executor import Job, JobResult, JobRules, Limits, Verdict
from executor.job import check_checker, check_prelude, parse_tests
from executor.judging import special
from executor.judging.special import Checker
from executor.text import check_writable

from .convert import (
    checker_to_pb,
    chosen_limits,
    job_to_pb,
    limits_to_pb,
    result_from_pb,
    tests_to_pb,
    verdict_name,
)
from .errors import FarmUnavailable
from .protos import pb, rpc

RETRYABLE = {grpc.StatusCode.UNAVAILABLE, grpc.StatusCode.RESOURCE_EXHAUSTED, grpc.StatusCode.ABORTED}


def _retryable(exc: grpc.RpcError) -> bool:
    """Transient failures only: a request over the message-size limit will not shrink by retrying."""
    details = (exc.details() or "").lower()
    return exc.code() in RETRYABLE and "larger than max" not in details and "message too large" not in details


_OPTIONS = [
    ("grpc.max_receive_message_length", 64 << 20),
    ("grpc.max_send_message_length", 64 << 20),
    ("grpc.keepalive_time_ms", 30_000),
    # A connection of its own: the farm gives each connection (or each `name`) its own turn
    # in its queue (executor/fair.py); clients in one process must not share theirs unasked.
    ("grpc.use_local_subchannel_pool", 1),
]
CLIENT_HEADER = "acefarm-client"  # gRPC metadata and HTTP header: the name a client gives (gateway.flow_of)


@dataclass(frozen=True)
class GroupScore:
    """A Score answer: one result per program, the programs x tests verdict matrix, pass rates
    (0.0 for a program the farm could not score: see `rewards`)."""

    results: list[JobResult]
    matrix: list[list[str]]
    pass_rates: list[float]

    @property
    def rewards(self) -> list[float | None]:
        """The pass rates as rewards: None where the result is `infra_error` (the farm could
        not score it, or a test could not be judged), which an RL step should leave out
        rather than count as a 0."""
        return [None if r.verdict is Verdict.INFRA_ERROR else rate for r, rate in zip(self.results, self.pass_rates)]


def _job_pb(job: dict[str, Any] | Job) -> Any:
    return job_to_pb(job)


def _credentials(tls: bool | str | bytes | None) -> grpc.ChannelCredentials | None:
    if not tls:
        return None
    if tls is True:
        return grpc.ssl_channel_credentials()
    if isinstance(tls, bytes):
        ca = tls
    else:
        with open(tls, "rb") as fh:
            ca = fh.read()
    return grpc.ssl_channel_credentials(root_certificates=ca)


def _score_request(
    programs: Sequence[str],
    tests: Any,
    group_id: str,
    limits: Limits | dict[str, Any] | None,
    first_failure: bool,
    prelude: str | None = None,
    language: str = "python",
    checker: Checker | dict[str, Any] | None = None,
) -> Any:
    check_writable(group_id, "group_id", nul=True)  # it becomes the results' ids
    check_writable(list(programs), "programs")
    check_writable(tests, "tests")
    suite = parse_tests(tests, JobRules.unbounded())
    if prelude is None:  # the one the tests' shape implies: Python's imports, for Python only
        prelude = suite.prelude if language == "python" else ""
    prelude = check_prelude(prelude)
    check_writable(checker.to_raw() if isinstance(checker, Checker) else checker, "checker")
    judge = special.parse(checker, JobRules.unbounded().max_program_bytes)
    check_checker(judge, suite)
    req = pb.ScoreRequest(
        group_id=group_id,
        programs=list(programs),
        tests=tests_to_pb(suite),
        language=language,
        mode=pb.MODE_FIRST_FAILURE if first_failure else pb.MODE_ALL,
        prelude=prelude,
    )
    if isinstance(limits, Limits):  # only what differs from the defaults: the server's apply otherwise
        limits = chosen_limits(limits)
    if limits:
        req.limits.CopyFrom(limits_to_pb(limits))
    if judge is not None:
        req.checker.CopyFrom(checker_to_pb(judge))
    return req


def _group(resp: Any) -> GroupScore:
    results = [result_from_pb(r) for r in resp.results]
    matrix = [[verdict_name(v) for v in row.verdicts] for row in resp.matrix]
    return GroupScore(results, matrix, list(resp.pass_rates))


_DRAINED = object()  # the end of a stream on a _drain queue


def _drain(stream: Any, inbox: queue.SimpleQueue[Any]) -> None:
    """Read `stream` into `inbox` as fast as it answers, then _DRAINED; what it raised goes in
    before _DRAINED."""
    try:
        for msg in stream:
            inbox.put(msg)
    except Exception as exc:  # raised where the results are read
        inbox.put(exc)
    finally:
        inbox.put(_DRAINED)


def _cancel(stream: Any) -> None:
    """Cancel a streaming call (a no-op once it is over). What a client interceptor may hand
    back instead, a plain iterator, has no cancel: it is read to its end by its _drain."""
    cancel = getattr(stream, "cancel", None)
    if cancel is not None:
        cancel()


DEFAULT_RETRIES = 16
"""Retries of a call the farm could not take (UNAVAILABLE, RESOURCE_EXHAUSTED...): with the
backoff (0.1 s doubling, capped at 5 s, jittered), about a minute, so a server restarting or
rescheduled is waited for, not turned into a failed RL step."""
DEFAULT_TIMEOUT_S = 300.0
"""Every call's deadline unless the client is made with another `timeout_s` (None: none). Each
attempt of a retried call gets the whole deadline; a farm that cannot answer within it fails the
call with DEADLINE_EXCEEDED instead of leaving an RL step waiting forever."""


class _Connection:
    """What both clients hold: a channel (sync or asyncio), the stub, auth metadata, retry policy."""

    _channels: Any = grpc  # grpc or grpc.aio: the same secure_channel/insecure_channel pair

    def __init__(
        self,
        target: str,
        token: str | None = None,
        tls: bool | str | bytes | None = None,
        retries: int = DEFAULT_RETRIES,
        backoff_s: float = 0.1,
        timeout_s: float | None = DEFAULT_TIMEOUT_S,
        name: str | None = None,
    ) -> None:
        """`name`: whose jobs these are, for the farm's turns. The farm starts queued jobs one
        client at a time in turn; clients that give one name share a turn (one trainer's many
        processes, say), and one that gives none is known by its connection."""
        creds = _credentials(tls)
        self.channel = (
            self._channels.secure_channel(target, creds, _OPTIONS)
            if creds
            else self._channels.insecure_channel(target, _OPTIONS)
        )
        self.stub = rpc.FarmStub(self.channel)
        self.metadata: tuple[tuple[str, str], ...] = (("authorization", f"Bearer {token}"),) if token else ()
        if name:
            self.metadata += ((CLIENT_HEADER, name),)
        self.retries = retries
        self.backoff_s = backoff_s
        self.timeout_s = timeout_s


class Client(_Connection):
    """A blocking client. Thread-safe; one channel per client."""

    def __enter__(self) -> Client:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        self.channel.close()

    def _call(self, method: Any, request: Any) -> Any:
        for attempt in range(self.retries + 1):
            try:
                return method(request, timeout=self.timeout_s, metadata=self.metadata)
            except grpc.RpcError as exc:
                if not _retryable(exc) or attempt == self.retries:
                    raise
                time.sleep(_delay(self.backoff_s, attempt))
        raise AssertionError("unreachable")

    def execute(self, job: dict[str, Any] | Job) -> JobResult:
        """Run one job."""
        return result_from_pb(self._call(self.stub.Execute, pb.ExecuteRequest(job=_job_pb(job))))

    def execute_batch(self, jobs: Iterable[dict[str, Any] | Job], chunk: int = 512) -> Iterator[JobResult]:
        """Run many jobs; results come back in input order, each as soon as it and every one
        before it are done. A job id may appear once (ValueError on a repeat, naming it).

        Each chunk is one streaming ExecuteBatch call, read as fast as the farm answers
        whatever the consumer does meanwhile (its deadline is the farm's, not the consumer's).
        If the stream breaks (server restart, network), the jobs without a result yet are sent
        again with the same ids after a backoff. Closing the iterator cancels the call and the
        farm drops the jobs not yet run: a `break` out of `for r in farm.execute_batch(...)`
        does (the loop drops the iterator); one kept in a variable needs `close()`, or
        `contextlib.closing(farm.execute_batch(...))`.
        """
        batch: list[Any] = []
        seen: set[str] = set()
        for job in jobs:
            msg = _job_pb(job)
            if msg.id in seen:  # the server sees one chunk: a repeat across chunks is caught here
                raise ValueError(f"job id {msg.id!r} appears twice in one execute_batch")
            seen.add(msg.id)
            batch.append(msg)
            if len(batch) >= chunk:
                yield from self._run_chunk(batch)
                batch = []
        if batch:
            yield from self._run_chunk(batch)

    def _run_chunk(self, batch: list[Any]) -> Iterator[JobResult]:
        results: dict[str, JobResult] = {}
        order = [j.id for j in batch]
        given = 0  # results yielded so far, in input order
        for attempt in range(self.retries + 1):
            todo = [j for j in batch if j.id not in results]
            if not todo:
                break
            stream = self.stub.ExecuteBatch(pb.BatchRequest(jobs=todo), timeout=self.timeout_s, metadata=self.metadata)
            inbox: queue.SimpleQueue[Any] = queue.SimpleQueue()
            threading.Thread(target=_drain, args=(stream, inbox), daemon=True, name="acefarm-stream").start()
            try:
                while (msg := inbox.get()) is not _DRAINED:
                    if isinstance(msg, Exception):
                        raise msg
                    results.setdefault(msg.id, result_from_pb(msg))  # first answer wins
                    while given < len(order) and order[given] in results:
                        given += 1
                        yield results[order[given - 1]]
            except grpc.RpcError as exc:
                if not _retryable(exc) or attempt == self.retries:
                    raise
                time.sleep(_delay(self.backoff_s, attempt))
            finally:  # closed early: the farm cancels what has not run
                _cancel(stream)
        missing = [i for i in order[given:] if i not in results]
        if missing:
            raise FarmUnavailable(f"no result for {len(missing)} jobs (first: {missing[0]}) after retries")
        for i in order[given:]:
            yield results[i]

    def execute_many(self, jobs: Iterable[dict[str, Any] | Job]) -> list[JobResult]:
        """Run a batch in one unary call (ExecuteBatchUnary); results in input order.

        Cheaper per job than the stream when the whole batch is wanted at once;
        retried whole (same ids) on a transient failure.
        """
        resp = self._call(self.stub.ExecuteBatchUnary, pb.BatchRequest(jobs=[_job_pb(j) for j in jobs]))
        return [result_from_pb(r) for r in resp.results]

    def score(
        self,
        programs: Sequence[str],
        tests: Any,
        group_id: str = "group",
        limits: Limits | dict[str, Any] | None = None,
        first_failure: bool = False,
        prelude: str | None = None,
        language: str = "python",
        checker: Checker | dict[str, Any] | None = None,
    ) -> GroupScore:
        """Score a group of programs in `language` against one test suite (sent once): a list
        of tests, or the code-RL shape (executor/judging/formats.py). `prelude` None: the one
        the tests' shape implies. `checker`: a special judge for the suite
        (executor/judging/special.py), {"language": "python" | "cpp", "program": source}, sent once."""
        request = _score_request(programs, tests, group_id, limits, first_failure, prelude, language, checker)
        return _group(self._call(self.stub.Score, request))

    def info(self) -> Any:
        return self._call(self.stub.GetInfo, pb.GetInfoRequest())


class AsyncClient(_Connection):
    """The asyncio twin of Client (grpc.aio)."""

    _channels = grpc.aio

    async def __aenter__(self) -> AsyncClient:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()

    async def close(self) -> None:
        await self.channel.close()

    async def _call(self, method: Any, request: Any) -> Any:
        for attempt in range(self.retries + 1):
            try:
                return await method(request, timeout=self.timeout_s, metadata=self.metadata)
            except grpc.aio.AioRpcError as exc:
                if not _retryable(exc) or attempt == self.retries:
                    raise
                await asyncio.sleep(_delay(self.backoff_s, attempt))
        raise AssertionError("unreachable")

    async def execute(self, job: dict[str, Any] | Job) -> JobResult:
        return result_from_pb(await self._call(self.stub.Execute, pb.ExecuteRequest(job=_job_pb(job))))

    async def execute_batch(self, jobs: Iterable[dict[str, Any] | Job]) -> list[JobResult]:
        """Run many jobs in one unary call; results in input order."""
        batch = [_job_pb(j) for j in jobs]
        resp = await self._call(self.stub.ExecuteBatchUnary, pb.BatchRequest(jobs=batch))
        return [result_from_pb(r) for r in resp.results]

    async def score(
        self,
        programs: Sequence[str],
        tests: Any,
        group_id: str = "group",
        limits: Limits | dict[str, Any] | None = None,
        first_failure: bool = False,
        prelude: str | None = None,
        language: str = "python",
        checker: Checker | dict[str, Any] | None = None,
    ) -> GroupScore:
        request = _score_request(programs, tests, group_id, limits, first_failure, prelude, language, checker)
        return _group(await self._call(self.stub.Score, request))

    async def info(self) -> Any:
        return await self._call(self.stub.GetInfo, pb.GetInfoRequest())


def _delay(base: float, attempt: int) -> float:
    return float(min(5.0, base * (2**attempt)) * (0.5 + random.random()))
