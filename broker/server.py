"""The gRPC front end: validates, applies backpressure, hands jobs to a Dispatcher.

Requests are parsed here (not by grpc's deserializer) so that a malformed
message, invalid UTF-8 or an unknown field gets INVALID_ARGUMENT with the
reason instead of INTERNAL. Every admitted job holds one unit of the queue
budget until its result is out; a request that does not fit is refused whole
with RESOURCE_EXHAUSTED. When a client cancels or its deadline passes, the
jobs it is waiting for are cancelled, down to the running program.
"""

from __future__ import annotations

import concurrent.futures
import functools
import logging
import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import Future
from typing import Any

import grpc
from google.protobuf import message as pb_message
from google.protobuf import unknown_fields
from grpc_health.v1 import health, health_pb2, health_pb2_grpc
from grpc_reflection.v1alpha import reflection

from executor import InvalidJob, Job, JobResult
from executor.limits import BOUNDS

from . import __version__
from .config import ServerConfig
from .convert import job_from_pb, limits_to_pb, result_to_pb, score_jobs
from .dispatcher import Dispatcher
from .errors import RequestRejected, abort_for
from .metrics import Metrics
from .protos import pb

log = logging.getLogger(__name__)
SERVICE = "acefarm.v1.Farm"


class Admission:
    """A counting budget of queued+running jobs (the bounded queue)."""

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


def _parse(cls: Any, data: bytes, what: str) -> Any:
    try:
        msg = cls.FromString(data)
    except pb_message.DecodeError as exc:
        raise RequestRejected(
            grpc.StatusCode.INVALID_ARGUMENT, f"{what} is not a valid {cls.DESCRIPTOR.full_name}: {exc}"
        ) from None
    _no_unknown_fields(msg, what)
    return msg


def _bytes(msg: Any) -> bytes:
    """A message's wire form (the stubs are generated at install time: untyped here)."""
    data: bytes = msg.SerializeToString()
    return data


def _no_unknown_fields(msg: Any, where: str) -> None:
    unknown = list(unknown_fields.UnknownFieldSet(msg))  # type: ignore[call-overload]
    if unknown:
        raise RequestRejected(
            grpc.StatusCode.INVALID_ARGUMENT,
            f"{where}: unknown field number {unknown[0].field_number} (client and server disagree on acefarm.v1?)",
        )
    for field, value in msg.ListFields():
        if field.message_type is None:
            continue
        if field.is_repeated:
            for i, item in enumerate(value):
                _no_unknown_fields(item, f"{where}.{field.name}[{i}]")
        else:
            _no_unknown_fields(value, f"{where}.{field.name}")


class FarmService:
    """The acefarm.v1.Farm methods, over a Dispatcher."""

    def __init__(self, dispatcher: Dispatcher, config: ServerConfig, metrics: Metrics) -> None:
        self.dispatcher = dispatcher
        self.config = config
        self.metrics = metrics
        self.admission = Admission(config.max_queue, metrics)
        self.limits = config.executor.limits
        self.rules = config.executor.rules

    # -- helpers -----------------------------------------------------------------
    def _jobs(self, messages: Any, where: str, single: bool = False) -> list[Job]:
        if len(messages) > self.config.max_batch_jobs:
            raise RequestRejected(
                grpc.StatusCode.INVALID_ARGUMENT,
                f"{where}: {len(messages)} jobs; at most {self.config.max_batch_jobs} per request",
            )
        jobs, seen = [], set()
        for i, msg in enumerate(messages):
            try:
                job = job_from_pb(msg, self.limits, self.rules)
            except InvalidJob as exc:
                at = where if single else f"{where}[{i}]"
                raise RequestRejected(grpc.StatusCode.INVALID_ARGUMENT, f"{at}.{exc.field}: {exc.message}") from None
            if job.id in seen:
                raise RequestRejected(grpc.StatusCode.INVALID_ARGUMENT, f"{where}[{i}].id: duplicate id {job.id!r}")
            seen.add(job.id)
            jobs.append(job)
        return jobs

    def _submit(self, jobs: list[Job], context: grpc.ServicerContext) -> list[Future[JobResult]]:
        self.admission.take(len(jobs))
        futures: list[Future[JobResult]] = []
        try:
            self._submit_all(jobs, futures)
        except BaseException:
            self.admission.give(len(jobs) - len(futures))  # the ones never submitted
            for f in futures:
                self.dispatcher.cancel(f)
            raise

        def on_rpc_end() -> None:  # cancelled, deadline passed, or simply done
            for f in futures:
                if not f.done():
                    self.dispatcher.cancel(f)

        if not context.add_callback(on_rpc_end):  # the RPC is already over
            on_rpc_end()
        return futures

    def _submit_all(self, jobs: list[Job], futures: list[Future[JobResult]]) -> None:
        for job in jobs:
            admitted = time.monotonic()
            started = [admitted]

            def on_start(started: list[float] = started, admitted: float = admitted) -> None:
                started[0] = time.monotonic()
                self.metrics.queue_wait.observe(started[0] - admitted)

            fut = self.dispatcher.submit(job, on_start)
            futures.append(fut)
            fut.add_done_callback(functools.partial(self._finished_with, started=started))

    def _finished_with(self, fut: Future[JobResult], started: list[float]) -> None:
        self._finished(fut, started[0])

    def _finished(self, fut: Future[JobResult], started: float) -> None:
        self.admission.give()
        if fut.cancelled() or fut.exception() is not None:
            return
        self.metrics.run_time.observe(time.monotonic() - started)
        self.metrics.observe(fut.result())

    @staticmethod
    def _result(fut: Future[JobResult], context: grpc.ServicerContext) -> JobResult:
        remaining = _remaining(context)
        try:
            return fut.result(timeout=remaining)
        except concurrent.futures.TimeoutError:
            raise RequestRejected(grpc.StatusCode.DEADLINE_EXCEEDED, "deadline passed before the job ended") from None
        except concurrent.futures.CancelledError:
            raise RequestRejected(grpc.StatusCode.CANCELLED, "the job was cancelled") from None

    # -- methods -------------------------------------------------------------------
    def Execute(self, data: bytes, context: grpc.ServicerContext) -> bytes:
        req = _parse(pb.ExecuteRequest, data, "request")
        if not req.HasField("job"):
            raise RequestRejected(grpc.StatusCode.INVALID_ARGUMENT, "request.job: missing")
        (fut,) = self._submit(self._jobs([req.job], "job", single=True), context)
        return _bytes(result_to_pb(self._result(fut, context)))

    def ExecuteBatch(self, data: bytes, context: grpc.ServicerContext) -> Iterator[bytes]:
        req = _parse(pb.BatchRequest, data, "request")
        futures = self._submit(self._jobs(req.jobs, "jobs"), context)
        for fut in concurrent.futures.as_completed(futures, timeout=_remaining(context)):
            try:
                yield _bytes(result_to_pb(fut.result()))
            except concurrent.futures.CancelledError:
                raise RequestRejected(grpc.StatusCode.CANCELLED, "the batch was cancelled") from None

    def ExecuteBatchUnary(self, data: bytes, context: grpc.ServicerContext) -> bytes:
        req = _parse(pb.BatchRequest, data, "request")
        futures = self._submit(self._jobs(req.jobs, "jobs"), context)
        results = [result_to_pb(self._result(f, context)) for f in futures]
        return _bytes(pb.BatchResponse(results=results))

    def Score(self, data: bytes, context: grpc.ServicerContext) -> bytes:
        req = _parse(pb.ScoreRequest, data, "request")
        if not req.programs:
            raise RequestRejected(grpc.StatusCode.INVALID_ARGUMENT, "programs: empty")
        try:  # the suite validated once, with the right field names, for every program
            jobs = score_jobs(req, self.limits, self.rules)
        except InvalidJob as exc:
            raise RequestRejected(grpc.StatusCode.INVALID_ARGUMENT, f"{exc.field}: {exc.message}") from None
        if len(jobs) > self.config.max_batch_jobs:
            raise RequestRejected(
                grpc.StatusCode.INVALID_ARGUMENT,
                f"programs: {len(jobs)} jobs; at most {self.config.max_batch_jobs} per request",
            )
        futures = self._submit(jobs, context)
        results = [result_to_pb(self._result(f, context)) for f in futures]  # each converted once
        return _bytes(
            pb.ScoreResponse(
                results=results,
                matrix=[pb.ScoreRow(verdicts=[t.verdict for t in r.tests]) for r in results],
                pass_rates=[r.pass_rate for r in results],
            )
        )

    def GetInfo(self, data: bytes, context: grpc.ServicerContext) -> bytes:
        _parse(pb.GetInfoRequest, data, "request")
        return _bytes(
            pb.Info(
                version=__version__,
                runtime=self.dispatcher.runtime,
                languages=["python"],
                default_limits=limits_to_pb(self.limits),
                max_limits=_max_limits(),
                slots=self.dispatcher.capacity,
                mode="cluster" if self.config.broker_url else "embedded",
                max_batch_jobs=self.config.max_batch_jobs,
                max_tests_per_job=self.rules.max_tests,
                max_program_bytes=self.rules.max_program_bytes,
                max_message_bytes=self.config.max_message_bytes,
            )
        )


def _remaining(context: grpc.ServicerContext) -> float | None:
    """Seconds to the client's deadline; None when it set none (grpc reports ~forever)."""
    remaining = context.time_remaining()
    return None if remaining is None or remaining > 1e6 else max(0.0, remaining)


def _max_limits() -> Any:
    floats = {"cpu_s", "wall_s"}
    return pb.Limits(**{k: float(hi) if k in floats else int(hi) for k, (_lo, hi) in BOUNDS.items()})


def _guard(fn: Callable[..., Any], metrics: Metrics, streaming: bool) -> Callable[..., Any]:
    """Turn RequestRejected (and surprises) into gRPC statuses, counting them."""

    def unary(data: bytes, context: grpc.ServicerContext) -> Any:
        try:
            return fn(data, context)
        except RequestRejected as exc:
            metrics.rejected.labels(exc.code.name).inc()
            abort_for(exc, context)
        except Exception as exc:
            log.exception("internal error")
            metrics.rejected.labels("INTERNAL").inc()
            context.abort(grpc.StatusCode.INTERNAL, f"internal error: {type(exc).__name__}")

    def stream(data: bytes, context: grpc.ServicerContext) -> Any:
        try:
            yield from fn(data, context)
        except RequestRejected as exc:
            metrics.rejected.labels(exc.code.name).inc()
            abort_for(exc, context)
        except concurrent.futures.TimeoutError:
            metrics.rejected.labels("DEADLINE_EXCEEDED").inc()
            context.abort(grpc.StatusCode.DEADLINE_EXCEEDED, "deadline passed before the batch finished")
        except Exception as exc:
            log.exception("internal error")
            context.abort(grpc.StatusCode.INTERNAL, f"internal error: {type(exc).__name__}")

    return stream if streaming else unary


class _BearerAuth(grpc.ServerInterceptor):  # type: ignore[misc]  # grpc ships no types
    """Requires `authorization: Bearer <token>` on Farm methods (health stays open)."""

    def __init__(self, token: str, metrics: Metrics) -> None:
        self._expected = f"Bearer {token}"
        self._metrics = metrics

        def deny(request: Any, context: grpc.ServicerContext) -> None:
            context.abort(grpc.StatusCode.UNAUTHENTICATED, "missing or wrong bearer token")

        self._deny = grpc.unary_unary_rpc_method_handler(deny)

    def intercept_service(self, continuation: Any, details: Any) -> Any:
        if not details.method.startswith(f"/{SERVICE}/"):
            return continuation(details)
        for key, value in details.invocation_metadata or ():
            if key == "authorization" and _constant_time_eq(value, self._expected):
                return continuation(details)
        self._metrics.rejected.labels("UNAUTHENTICATED").inc()
        if details.method.endswith("/ExecuteBatch"):
            return grpc.unary_stream_rpc_method_handler(
                lambda r, c: c.abort(grpc.StatusCode.UNAUTHENTICATED, "missing or wrong bearer token")
            )
        return self._deny


def _constant_time_eq(a: str, b: str) -> bool:
    import hmac

    return hmac.compare_digest(a.encode(), b.encode())


class FarmServer:
    """A running gRPC server: FarmService + health + reflection (+ metrics)."""

    def __init__(self, config: ServerConfig, dispatcher: Dispatcher) -> None:
        self.config = config
        self.metrics = Metrics()
        self.service = FarmService(dispatcher, config, self.metrics)
        interceptors = [_BearerAuth(config.token, self.metrics)] if config.token else []
        options = [
            ("grpc.max_receive_message_length", config.max_message_bytes),
            ("grpc.max_send_message_length", config.max_message_bytes),
        ]
        self.server = grpc.server(
            concurrent.futures.ThreadPoolExecutor(config.rpc_threads), interceptors=interceptors, options=options
        )
        s, m = self.service, self.metrics
        handlers = {
            "Execute": grpc.unary_unary_rpc_method_handler(_guard(s.Execute, m, False)),
            "ExecuteBatch": grpc.unary_stream_rpc_method_handler(_guard(s.ExecuteBatch, m, True)),
            "ExecuteBatchUnary": grpc.unary_unary_rpc_method_handler(_guard(s.ExecuteBatchUnary, m, False)),
            "Score": grpc.unary_unary_rpc_method_handler(_guard(s.Score, m, False)),
            "GetInfo": grpc.unary_unary_rpc_method_handler(_guard(s.GetInfo, m, False)),
        }
        self.server.add_generic_rpc_handlers([grpc.method_handlers_generic_handler(SERVICE, handlers)])
        self.health = health.HealthServicer()
        health_pb2_grpc.add_HealthServicer_to_server(self.health, self.server)
        reflection.enable_server_reflection(
            [SERVICE, health_pb2.DESCRIPTOR.services_by_name["Health"].full_name, reflection.SERVICE_NAME], self.server
        )
        address = f"{config.host}:{config.port}"
        if config.tls_cert and config.tls_key:
            with open(config.tls_key, "rb") as k, open(config.tls_cert, "rb") as c:
                creds = grpc.ssl_server_credentials([(k.read(), c.read())])
            self.port = self.server.add_secure_port(address, creds)
        else:
            self.port = self.server.add_insecure_port(address)

    def start(self) -> FarmServer:
        self.server.start()
        if self.config.metrics_port:
            self.metrics.serve(self.config.metrics_port, self.config.host)
        for name in ("", SERVICE):
            self.health.set(name, health_pb2.HealthCheckResponse.SERVING)
        return self

    def stop(self, grace: float = 5.0) -> None:
        for name in ("", SERVICE):
            self.health.set(name, health_pb2.HealthCheckResponse.NOT_SERVING)
        self.server.stop(grace).wait()

    def wait(self) -> None:
        self.server.wait_for_termination()


__all__ = ["FarmServer", "FarmService"]
