"""Errors of the broker, and the one table that maps exceptions to gRPC statuses (and those to
HTTP statuses, for the HTTP API)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import NoReturn

import grpc

from executor import ExecutorError, InvalidJob, PoolClosed, SandboxUnavailable


class BrokerError(Exception):
    """Base of the broker's own errors."""


class RequestRejected(BrokerError):
    """A request refused with a definite gRPC status and a message for the caller."""

    def __init__(self, code: grpc.StatusCode, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


class FarmUnavailable(BrokerError):
    """The client could not get an answer from the farm (after its retries)."""


class LanguageUnavailable(BrokerError):
    """A job in a language this farm does not offer now (none of its live workers has it).
    `available`: the languages it offers, in the executor's order."""

    def __init__(self, language: str, available: Sequence[str], job_id: str | None = None) -> None:
        self.language = language
        self.available = tuple(available)
        self.job_id = job_id
        reason = f"language {language!r} is not available on this farm (available: {', '.join(self.available)})"
        super().__init__(f"job {job_id!r}: {reason}" if job_id is not None else reason)


class OutputUnusable(BrokerError):
    """A run's output file cannot be used: it is one of the run's inputs, another run is
    writing it, or it cannot be opened or written (a missing directory, a full disk)."""


# Exception type -> status, most specific first.
STATUS_TABLE: tuple[tuple[type[BaseException], grpc.StatusCode], ...] = (
    (InvalidJob, grpc.StatusCode.INVALID_ARGUMENT),
    # A known language the farm lacks now: not the request's fault, and no use retrying it
    # until an operator adds a worker that has it.
    (LanguageUnavailable, grpc.StatusCode.FAILED_PRECONDITION),
    (PoolClosed, grpc.StatusCode.UNAVAILABLE),
    (SandboxUnavailable, grpc.StatusCode.UNAVAILABLE),
    (ExecutorError, grpc.StatusCode.INTERNAL),
)


def status_for(exc: BaseException) -> grpc.StatusCode:
    if isinstance(exc, RequestRejected):
        return exc.code
    for kind, code in STATUS_TABLE:
        if isinstance(exc, kind):
            return code
    return grpc.StatusCode.INTERNAL


def abort_for(exc: BaseException, context: grpc.ServicerContext) -> NoReturn:
    context.abort(status_for(exc), str(exc))
    raise AssertionError("unreachable")  # context.abort raises


# gRPC status -> HTTP status (the HTTP API, http.py): the same refusals, as HTTP says them.
HTTP_STATUS: dict[grpc.StatusCode, int] = {
    grpc.StatusCode.INVALID_ARGUMENT: 400,
    grpc.StatusCode.FAILED_PRECONDITION: 400,
    grpc.StatusCode.UNAUTHENTICATED: 401,
    grpc.StatusCode.RESOURCE_EXHAUSTED: 429,
    grpc.StatusCode.CANCELLED: 499,
    grpc.StatusCode.INTERNAL: 500,
    grpc.StatusCode.UNAVAILABLE: 503,
    grpc.StatusCode.DEADLINE_EXCEEDED: 504,
}


def http_status_for(exc: BaseException) -> int:
    return HTTP_STATUS.get(status_for(exc), 500)
