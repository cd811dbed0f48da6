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
import logging
import threading
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import Future
from typing import TYPE_CHECKING, Any

import grpc
from google.protobuf import message as pb_message
from google.protobuf import unknown_fields
from grpc_health.v1 import health, health_pb2, health_pb2_grpc
from grpc_reflection.v1alpha import reflection

from executor import InvalidJob, Job, JobResult

from .client import CLIENT_HEADER
from .config import ServerConfig
from .convert import ReplyRoom, job_from_pb, limits_to_pb, result_to_pb, score_request, score_response
from .dispatcher import Dispatcher
from .errors import BrokerError, RequestRejected, abort_for, status_for
from .gateway import Admitted, Gateway, flow_of
from .metrics import Metrics
from .protos import pb

if TYPE_CHECKING:
    from .http import HttpServer

log = logging.getLogger(__name__)
SERVICE = "acefarm.v1.Farm"
RESULT_CHUNK = 32  # results a Score waits for at once


class Request:
    """A request as grpc hands it to a method: decoded on grpc's receiving thread (so the wire
    bytes are gone before the method runs), in a box the method empties with `_parse`. grpc's
    own frames keep what they passed until the method returns: a method that drops its message
    (a Score, once its jobs hold the suite) frees its megabytes only if nothing else holds them.
    A message that does not decode is kept as its error, for the method to refuse with
    INVALID_ARGUMENT (grpc itself would answer INTERNAL)."""

    __slots__ = ("error", "message")

    def __init__(self, message: Any = None, error: str | None = None) -> None:
        self.message = message
        self.error = error

    @staticmethod
    def decoder(cls: Any) -> Callable[[bytes], Request]:
        def decode(data: bytes) -> Request:
            try:
                return Request(cls.FromString(data))
            except pb_message.DecodeError as exc:
                return Request(error=f"is not a valid {cls.DESCRIPTOR.full_name}: {exc}")

        return decode


def _parse(cls: Any, data: bytes | Request, what: str) -> Any:
    """The request message, validated (no unknown fields); RequestRejected if it is not one."""
    box = data if isinstance(data, Request) else Request.decoder(cls)(data)
    msg, box.message = box.message, None
    if msg is None:
        raise RequestRejected(grpc.StatusCode.INVALID_ARGUMENT, f"{what} {box.error}")
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
    """The acefarm.v1.Farm methods, over the server's Gateway (admission, limits, metrics)."""

    def __init__(self, gateway: Gateway) -> None:
        self.gateway = gateway
        self.config = gateway.config
        self.limits = gateway.limits
        self.rules = gateway.rules

    # -- helpers -----------------------------------------------------------------
    def _jobs(self, messages: Any, where: str, single: bool = False) -> list[Job]:
        self.gateway.check_batch(len(messages), where)
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

    def _submit(self, jobs: list[Job], context: grpc.ServicerContext) -> Admitted:
        named = next((v for k, v in context.invocation_metadata() if k == CLIENT_HEADER), None)
        admitted = self.gateway.submit(jobs, flow_of(named if isinstance(named, str) else None, context.peer()))
        # Cancelled, deadline passed, or done: unfinished jobs stop, undelivered units return.
        if not context.add_callback(admitted.close):  # the RPC is already over
            admitted.close()
        return admitted

    @staticmethod
    def _result(fut: Future[JobResult], context: grpc.ServicerContext) -> JobResult:
        remaining = _remaining(context)
        try:
            return fut.result(timeout=remaining)
        except concurrent.futures.TimeoutError:
            raise RequestRejected(grpc.StatusCode.DEADLINE_EXCEEDED, "deadline passed before the job ended") from None
        except concurrent.futures.CancelledError:
            raise RequestRejected(grpc.StatusCode.CANCELLED, "the job was cancelled") from None

    def _room(self, jobs: Sequence[Job] = ()) -> ReplyRoom:
        """One reply's room, for `jobs`' results: their raw outputs (then messages) are cut to
        fit the message cap."""
        tests = max((len(j.tests) for j in jobs), default=1)
        return ReplyRoom(self.config.max_message_bytes, max(len(jobs), 1), tests)

    @staticmethod
    def _results(futures: list[Future[JobResult]], context: grpc.ServicerContext) -> Iterator[JobResult]:
        """The futures' results in order, waited for RESULT_CHUNK at a time: this thread wakes
        once per chunk, not once per job."""
        for at in range(0, len(futures), RESULT_CHUNK):
            chunk = futures[at : at + RESULT_CHUNK]
            concurrent.futures.wait(chunk, timeout=_remaining(context))
            for fut in chunk:
                yield FarmService._result(fut, context)

    # -- methods -------------------------------------------------------------------
    def Execute(self, data: bytes | Request, context: grpc.ServicerContext) -> bytes:
        req = _parse(pb.ExecuteRequest, data, "request")
        if not req.HasField("job"):
            raise RequestRejected(grpc.StatusCode.INVALID_ARGUMENT, "request.job: missing")
        (fut,) = self._submit(self._jobs([req.job], "job", single=True), context).futures
        return _bytes(self._room().fit(result_to_pb(self._result(fut, context))))

    def ExecuteBatch(self, data: bytes | Request, context: grpc.ServicerContext) -> Iterator[bytes]:
        req = _parse(pb.BatchRequest, data, "request")
        admitted = self._submit(self._jobs(req.jobs, "jobs"), context)
        for fut in concurrent.futures.as_completed(admitted.futures, timeout=_remaining(context)):
            try:
                yield _bytes(self._room().fit(result_to_pb(fut.result())))
            except concurrent.futures.CancelledError:
                raise RequestRejected(grpc.StatusCode.CANCELLED, "the batch was cancelled") from None
            # grpc resumes this generator once the message is sent (flow control holds it while
            # the client does not read): only then does the job's queue unit come back.
            admitted.delivered()

    def ExecuteBatchUnary(self, data: bytes | Request, context: grpc.ServicerContext) -> bytes:
        req = _parse(pb.BatchRequest, data, "request")
        jobs = self._jobs(req.jobs, "jobs")
        room = self._room(jobs)
        futures = self._submit(jobs, context).futures
        results = [room.fit(result_to_pb(self._result(f, context))) for f in futures]
        return _bytes(pb.BatchResponse(results=results))

    def Score(self, data: bytes | Request, context: grpc.ServicerContext) -> bytes:
        req = _parse(pb.ScoreRequest, data, "request")
        try:  # the suite validated once, with the right field names, for every program
            jobs = self.gateway.score_jobs(score_request(req))
        except InvalidJob as exc:
            raise RequestRejected(grpc.StatusCode.INVALID_ARGUMENT, f"{exc.field}: {exc.message}") from None
        del req  # the parsed message: its suite lives on in the jobs' one copy
        room = self._room(jobs)
        futures = self._submit(jobs, context).futures
        return _bytes(score_response(self._results(futures, context), room))  # converted as they come

    def GetInfo(self, data: bytes | Request, context: grpc.ServicerContext) -> bytes:
        _parse(pb.GetInfoRequest, data, "request")
        info = self.gateway.info()
        info["default_limits"] = limits_to_pb(info["default_limits"])
        info["max_limits"] = limits_to_pb(info["max_limits"])
        return _bytes(pb.Info(**info))


def _remaining(context: grpc.ServicerContext) -> float | None:
    """Seconds to the client's deadline; None when it set none (grpc reports ~forever)."""
    remaining = context.time_remaining()
    return None if remaining is None or remaining > 1e6 else max(0.0, remaining)


RESERVED_THREADS = 16  # of the server's call threads, never held by farm calls (see _guard)


def _guard(
    fn: Callable[..., Any], metrics: Metrics, streaming: bool, seats: threading.BoundedSemaphore | None = None
) -> Callable[..., Any]:
    """Turn the broker's refusals (and surprises) into gRPC statuses, counting them. `seats`:
    how many such calls may hold a call thread at once (each waits for its jobs there); past
    them a call is refused at once with RESOURCE_EXHAUSTED, which clients retry, so threads stay
    free for health checks and GetInfo (300 concurrent Execute calls had starved them)."""

    def seat(context: grpc.ServicerContext) -> None:
        """Take a seat, or end the call with RESOURCE_EXHAUSTED (context.abort raises)."""
        if seats is not None and not seats.acquire(blocking=False):
            metrics.rejected.labels("RESOURCE_EXHAUSTED").inc()
            context.abort(grpc.StatusCode.RESOURCE_EXHAUSTED, "every call thread of this server is busy; retry")

    def unary(data: bytes, context: grpc.ServicerContext) -> Any:
        seat(context)
        try:
            return fn(data, context)
        except BrokerError as exc:  # a refusal: its status from errors.py's table
            metrics.rejected.labels(status_for(exc).name).inc()
            abort_for(exc, context)
        except Exception as exc:
            log.exception("internal error")
            metrics.rejected.labels("INTERNAL").inc()
            context.abort(grpc.StatusCode.INTERNAL, f"internal error: {type(exc).__name__}")
        finally:
            if seats is not None:
                seats.release()

    def stream(data: bytes, context: grpc.ServicerContext) -> Any:
        seat(context)
        try:
            yield from fn(data, context)
        except BrokerError as exc:
            metrics.rejected.labels(status_for(exc).name).inc()
            abort_for(exc, context)
        except concurrent.futures.TimeoutError:
            metrics.rejected.labels("DEADLINE_EXCEEDED").inc()
            context.abort(grpc.StatusCode.DEADLINE_EXCEEDED, "deadline passed before the batch finished")
        except Exception as exc:
            log.exception("internal error")
            context.abort(grpc.StatusCode.INTERNAL, f"internal error: {type(exc).__name__}")
        finally:
            if seats is not None:
                seats.release()

    return stream if streaming else unary


class _BearerAuth(grpc.ServerInterceptor):  # type: ignore[misc]  # grpc ships no types
    """Requires `authorization: Bearer <token>` on Farm methods (health stays open)."""

    def __init__(self, gateway: Gateway, metrics: Metrics) -> None:
        self._gateway = gateway
        self._metrics = metrics

        def deny(request: Any, context: grpc.ServicerContext) -> None:
            context.abort(grpc.StatusCode.UNAUTHENTICATED, "missing or wrong bearer token")

        self._deny = grpc.unary_unary_rpc_method_handler(deny)

    def intercept_service(self, continuation: Any, details: Any) -> Any:
        if not details.method.startswith(f"/{SERVICE}/"):
            return continuation(details)
        for key, value in details.invocation_metadata or ():
            if key == "authorization" and self._gateway.authorized(value):
                return continuation(details)
        self._metrics.rejected.labels("UNAUTHENTICATED").inc()
        if details.method.endswith("/ExecuteBatch"):
            return grpc.unary_stream_rpc_method_handler(
                lambda r, c: c.abort(grpc.StatusCode.UNAUTHENTICATED, "missing or wrong bearer token")
            )
        return self._deny


class FarmServer:
    """A running gRPC server: FarmService + health + reflection (+ metrics, + the HTTP API)."""

    def __init__(self, config: ServerConfig, dispatcher: Dispatcher) -> None:
        self.config = config
        self.metrics = Metrics()
        self.metrics.watch(dispatcher.status)
        self.gateway = Gateway(dispatcher, config, self.metrics)
        self.service = FarmService(self.gateway)
        interceptors = [_BearerAuth(self.gateway, self.metrics)] if config.token else []
        options = [
            ("grpc.max_receive_message_length", config.max_message_bytes),
            ("grpc.max_send_message_length", config.max_message_bytes),
        ]
        self.server = grpc.server(
            concurrent.futures.ThreadPoolExecutor(config.rpc_threads), interceptors=interceptors, options=options
        )
        s, m = self.service, self.metrics
        seats = threading.BoundedSemaphore(config.rpc_threads - min(RESERVED_THREADS, config.rpc_threads // 4))
        handlers = {
            "Execute": grpc.unary_unary_rpc_method_handler(
                _guard(s.Execute, m, False, seats), request_deserializer=Request.decoder(pb.ExecuteRequest)
            ),
            "ExecuteBatch": grpc.unary_stream_rpc_method_handler(
                _guard(s.ExecuteBatch, m, True, seats), request_deserializer=Request.decoder(pb.BatchRequest)
            ),
            "ExecuteBatchUnary": grpc.unary_unary_rpc_method_handler(
                _guard(s.ExecuteBatchUnary, m, False, seats), request_deserializer=Request.decoder(pb.BatchRequest)
            ),
            "Score": grpc.unary_unary_rpc_method_handler(
                _guard(s.Score, m, False, seats), request_deserializer=Request.decoder(pb.ScoreRequest)
            ),
            "GetInfo": grpc.unary_unary_rpc_method_handler(
                _guard(s.GetInfo, m, False), request_deserializer=Request.decoder(pb.GetInfoRequest)
            ),
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
        self.http: HttpServer | None = None
        if config.http_port is not None:
            from .http import HttpServer

            self.http = HttpServer(self.gateway, config.host, config.http_port, config.tls_cert, config.tls_key)

    def start(self) -> FarmServer:
        self.server.start()
        if self.http is not None:
            self.http.start()
        if self.config.metrics_port:
            self.metrics.serve(self.config.metrics_port, self.config.host)
        for name in ("", SERVICE):
            self.health.set(name, health_pb2.HealthCheckResponse.SERVING)
        return self

    def stop(self, grace: float = 5.0) -> None:
        for name in ("", SERVICE):
            self.health.set(name, health_pb2.HealthCheckResponse.NOT_SERVING)
        if self.http is not None:
            self.http.stop(grace)
        self.server.stop(grace).wait()

    def wait(self) -> None:
        self.server.wait_for_termination()


__all__ = ["FarmServer", "FarmService"]
