"""The HTTP API beside gRPC (`acefarm serve --http-port N`): FastAPI on uvicorn.

Routes, over the gRPC server's own Gateway (the same dispatcher, queue, limits, token and
metrics):

    POST /run_code      SandboxFusion's run_code (runcode.py), a raw run
    GET  /v1/ping       "pong" (SandboxFusion's liveness check)
    POST /get_reward    OpenRLHF's remote reward (reward.py)
    POST /v1/execute    a job (DESIGN section 4 dict) -> its result dict (Execute)
    POST /v1/score      {"programs", "tests", ...} -> results, matrix, pass_rates (Score)
    GET  /v1/info       what this farm runs and accepts (GetInfo)
    GET  /openapi.json  the OpenAPI document of all of them

Every route but /v1/ping and /openapi.json needs the server's bearer token when it has one:
`Authorization: Bearer TOKEN`, or `?token=TOKEN` for clients that cannot send headers (verl,
OpenRLHF: their URL is used as given). Refusals: 401 (token), 400 naming the field (a job
the farm refuses; /run_code answers 422 in FastAPI's shape, as SandboxFusion does), 413 (a
body past the server's message size), 429 with Retry-After (the queue is full: the gRPC
API's RESOURCE_EXHAUSTED), 503 (the farm cannot run jobs). A client that disconnects
cancels its jobs, down to the running programs.
"""

from __future__ import annotations

import asyncio
import json
import logging
import math
import socket
import threading
from typing import Any
from urllib.parse import parse_qs

import grpc
import uvicorn
from fastapi import FastAPI, Query, Request
from fastapi.encoders import jsonable_encoder
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.concurrency import run_in_threadpool
from starlette.types import Message, Receive, Scope, Send

from executor import InvalidJob, Job, JobResult, Verdict
from executor.fair import Flow
from executor.job import LANGUAGES
from executor.text import check_job_text

from . import __version__, reward, runcode
from .client import CLIENT_HEADER
from .errors import LanguageUnavailable, RequestRejected, http_status_for, status_for
from .gateway import Admitted, Gateway, flow_of

log = logging.getLogger(__name__)

OPEN_PATHS = frozenset({"/v1/ping", "/openapi.json"})
ROUTES = frozenset({"/run_code", "/v1/ping", "/get_reward", "/v1/execute", "/v1/score", "/v1/info", "/openapi.json"})
RETRY_AFTER_S = "1"
CODE_HEADER = "X-AceFarm-Code"


class ClientGone(Exception):
    """The client disconnected before its jobs ended (they are cancelled)."""


def _flow(request: Request) -> Flow:
    """Whose the request's jobs are (gateway.flow_of): its `acefarm-client` header, else its
    client's address. Not its connection: HTTP clients (verl's, OpenRLHF's) open one per
    request in flight, and would take as many turns."""
    peer = request.client
    return flow_of(request.headers.get(CLIENT_HEADER), f"http:{peer.host}" if peer else "http")


async def results_of(request: Request, admitted: Admitted) -> list[JobResult]:
    """Wait for the admitted jobs' results; cancel them if the client goes away first. Their
    queue units come back here either way (the response is written right after)."""
    futures = admitted.futures
    waiting: asyncio.Future[Any] = asyncio.ensure_future(asyncio.gather(*(asyncio.wrap_future(f) for f in futures)))
    gone: asyncio.Future[Any] = asyncio.ensure_future(_disconnected(request))
    try:
        await asyncio.wait([waiting, gone], return_when=asyncio.FIRST_COMPLETED)
        if not waiting.done():
            raise ClientGone()
        results: list[JobResult] = waiting.result()
        return results
    finally:
        gone.cancel()
        admitted.close()  # first: the dispatcher stops them, down to the program
        waiting.cancel()


async def _disconnected(request: Request) -> None:
    while (await request.receive())["type"] != "http.disconnect":
        pass


def _refused(status: int, detail: str, code: str, **more: Any) -> JSONResponse:
    """A refusal: `detail` for people, `code` (the gRPC status name) for programs, in the body
    and in a header (which the metrics count it by: HTTP 400 is two gRPC statuses)."""
    headers = {CODE_HEADER: code}
    if status in (429, 503):
        headers["Retry-After"] = RETRY_AFTER_S
    return JSONResponse({"detail": detail, "code": code, **more}, status_code=status, headers=headers)


def _finite(value: Any) -> Any:
    """`value` (JSON-like) with NaN and infinities as their names, which JSON cannot hold."""
    if isinstance(value, float) and not math.isfinite(value):
        return repr(value)
    if isinstance(value, dict):
        return {k: _finite(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_finite(v) for v in value]
    return value


def _invalid(exc: InvalidJob, prefix: str = "") -> JSONResponse:
    field = f"{prefix}{exc.field}"
    return _refused(400, f"{field}: {exc.message}", "INVALID_ARGUMENT", field=field, message=exc.message)


async def _json_body(request: Request) -> Any:
    try:
        return json.loads(await request.body())
    except (ValueError, UnicodeDecodeError) as exc:
        raise RequestRejected(grpc.StatusCode.INVALID_ARGUMENT, f"body: not valid JSON ({exc})") from None
    except RecursionError:
        raise RequestRejected(grpc.StatusCode.INVALID_ARGUMENT, "body: JSON nested too deeply") from None


def _job_schema() -> dict[str, Any]:
    test = {
        "description": "A test: an assert snippet (string), or an object: {call, args, expected}, "
        "{stdin, expected_stdout, checker?, tolerance?}, {stdin, accepted_stdout, checker?}, "
        "{raw: {stdin?, files?, fetch_files?}} (README: test kinds)",
        "anyOf": [{"type": "string"}, {"type": "object"}],
    }
    limits = {"type": "object", "description": "cpu_s, wall_s, memory_mb, output_kb, disk_mb, files, processes"}
    checker = {
        "type": "object",
        "description": "A special judge deciding every (stdin/stdout) test, testlib's convention: "
        "run as `checker input.txt output.txt answer.txt`, exit 0 passed, 1/2 failed, 3 not judgeable",
        "required": ["language", "program"],
        "properties": {"language": {"type": "string", "enum": ["python", "cpp"]}, "program": {"type": "string"}},
    }
    return {
        "job": {
            "type": "object",
            "required": ["id", "program", "tests"],
            "properties": {
                "id": {"type": "string"},
                "language": {"type": "string", "enum": list(LANGUAGES)},
                "program": {"type": "string"},
                "tests": {"type": "array", "items": test},
                "limits": limits,
                "mode": {"type": "string", "enum": ["all", "first_failure"]},
                "checker": checker,
            },
        },
        "score": {
            "type": "object",
            "required": ["programs", "tests"],
            "properties": {
                "programs": {"type": "array", "items": {"type": "string"}},
                "tests": {"type": "array", "items": test},
                "group_id": {"type": "string"},
                "language": {"type": "string", "enum": list(LANGUAGES)},
                "limits": limits,
                "mode": {"type": "string", "enum": ["all", "first_failure"]},
                "checker": checker,
            },
        },
    }


def _body_doc(schema: dict[str, Any]) -> dict[str, Any]:
    return {"requestBody": {"required": True, "content": {"application/json": {"schema": schema}}}}


def create_app(gateway: Gateway) -> _Guard:
    """The HTTP API over `gateway` (its token, size caps and metrics included)."""
    app = FastAPI(
        title="AceFarm",
        version=__version__,
        description="Run untrusted programs against tests in a sandbox; verdicts decided on the trusted side.",
        docs_url=None,
        redoc_url=None,
    )
    schemas = _job_schema()

    @app.exception_handler(RequestRejected)
    async def rejected(request: Request, exc: RequestRejected) -> JSONResponse:
        return _refused(http_status_for(exc), exc.message, exc.code.name)

    @app.exception_handler(InvalidJob)
    async def invalid_job(request: Request, exc: InvalidJob) -> JSONResponse:
        return _invalid(exc)

    @app.exception_handler(RequestValidationError)
    async def malformed(request: Request, exc: RequestValidationError) -> JSONResponse:
        # FastAPI's 422, its `input` echoed as JSON can write it: a NaN there made the answer
        # itself fail (a 500).
        return JSONResponse({"detail": _finite(jsonable_encoder(exc.errors()))}, status_code=422)

    @app.exception_handler(LanguageUnavailable)
    async def language_unavailable(request: Request, exc: LanguageUnavailable) -> JSONResponse:
        more = {"language": exc.language, "available": list(exc.available)}
        return _refused(http_status_for(exc), str(exc), status_for(exc).name, **more)

    @app.exception_handler(ClientGone)
    async def client_gone(request: Request, exc: ClientGone) -> JSONResponse:
        return _refused(499, "the client disconnected; its jobs were cancelled", "CANCELLED")

    @app.exception_handler(Exception)
    async def failed(request: Request, exc: Exception) -> JSONResponse:
        status = http_status_for(exc)
        if status == 500:
            log.exception("internal error")
        return _refused(status, f"{type(exc).__name__}: {exc}", status_for(exc).name)

    @app.post("/run_code", response_model=runcode.RunCodeResponse, tags=["SandboxFusion"])
    async def run_code(body: runcode.RunCodeRequest, request: Request) -> Any:
        """SandboxFusion's run_code: run `code` on `stdin`, answer its output and exit."""
        offer = gateway.dispatcher.languages
        if runcode.FARM_LANGUAGES.get(body.language) not in offer:
            return runcode.unsupported(body.language, offer)
        try:
            job = runcode.job_for(body, gateway.limits, gateway.rules)
        except InvalidJob as exc:
            return JSONResponse(runcode.invalid(exc), status_code=422)
        try:
            (result,) = await results_of(request, gateway.submit([job], _flow(request)))
        except RequestRejected as exc:
            if exc.code is grpc.StatusCode.RESOURCE_EXHAUSTED:
                raise  # 429, as on every route: the client backs off
            return runcode.sandbox_error(exc.message)
        except LanguageUnavailable as exc:  # its last worker went since the check above
            return runcode.unsupported(body.language, exc.available)
        except ClientGone:
            raise
        except Exception as exc:  # the farm could not run it: SandboxFusion's infrastructure answer
            log.warning("run_code: %s: %s", type(exc).__name__, exc)
            return runcode.sandbox_error(f"the farm could not run the program: {type(exc).__name__}: {exc}")
        return runcode.response_for(result)

    @app.get("/v1/ping", tags=["SandboxFusion"])
    async def ping() -> str:
        """Liveness: "pong"."""
        return "pong"

    @app.post("/get_reward", response_model=reward.GetRewardResponse, tags=["OpenRLHF"])
    async def get_reward(
        body: reward.GetRewardRequest,
        request: Request,
        binary: bool = Query(False, description="1/0 for all tests passed instead of the pass rate"),
        on_infra_error: str = Query(
            "zero", pattern="^(zero|error)$", description="zero: reward 0 flagged in extra_logs; error: answer 503"
        ),
    ) -> Any:
        """OpenRLHF's remote reward: each query's response scored against its label's tests."""
        gateway.check_batch(len(body.query), "query")  # before any work on its queries
        try:
            # Reading tests costs time with their size: off the event loop, which serves every route.
            jobs, found = await run_in_threadpool(reward.jobs_for, body, gateway.limits, gateway.rules)
        except InvalidJob as exc:
            return _invalid(exc)
        results = await results_of(request, gateway.submit(jobs, _flow(request)))
        failed = [r for r in results if r.verdict is Verdict.INFRA_ERROR]
        if failed and on_infra_error == "error":
            return _refused(503, f"the farm could not run a sample: {failed[0].message}", "UNAVAILABLE")
        return reward.rewards(results, found, binary)

    @app.post("/v1/execute", tags=["AceFarm"], openapi_extra=_body_doc(schemas["job"]))
    async def execute(request: Request) -> Any:
        """One job (DESIGN section 4) -> its result."""
        data = await _json_body(request)
        check_job_text(data)
        job = await run_in_threadpool(Job.from_dict, data, gateway.limits, gateway.rules)
        (result,) = await results_of(request, gateway.submit([job], _flow(request)))
        return result.to_dict()

    @app.post("/v1/score", tags=["AceFarm"], openapi_extra=_body_doc(schemas["score"]))
    async def score(request: Request) -> Any:
        """A group of programs against one suite -> results, the verdict matrix, pass rates."""
        data = await _json_body(request)
        if not isinstance(data, dict):
            raise InvalidJob("body", "must be a JSON object")
        jobs = await run_in_threadpool(gateway.score_jobs, data)
        results = await results_of(request, gateway.submit(jobs, _flow(request)))
        return {
            "results": [r.to_dict() for r in results],
            "matrix": [[t.verdict.value for t in r.tests] for r in results],
            "pass_rates": [r.pass_rate for r in results],
        }

    @app.get("/v1/info", tags=["AceFarm"])
    async def info() -> Any:
        """What this farm runs and accepts."""
        return gateway.info()

    return _Guard(app, gateway)


class _Guard:
    """The ASGI layer in front of the routes: the bearer token, the body size cap, and the
    request metrics. The body is read here whole (up to the cap) and handed on."""

    def __init__(self, app: FastAPI, gateway: Gateway) -> None:
        self.app = app
        self.gateway = gateway
        self.max_body = gateway.config.max_message_bytes

    def __getattr__(self, name: str) -> Any:  # the FastAPI app's own attributes (openapi(), routes)
        return getattr(self.app, name)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        path = scope.get("path", "")
        route = path if path in ROUTES else "other"
        seen = [0]
        refused_as: list[str] = []  # the refusal's own gRPC status, where it names one

        async def counted(message: Message) -> None:
            if message["type"] == "http.response.start":
                seen[0] = message["status"]
                header = CODE_HEADER.lower().encode()
                refused_as.extend(v.decode("latin-1") for k, v in message.get("headers", ()) if k == header)
            await send(message)

        try:
            refusal = self._refusal(scope, path)
            if refusal is not None:
                await refusal(scope, receive, counted)
                return
            body, more = await self._body(scope, receive)
            if body is None:
                await _refused(413, f"body larger than {self.max_body} bytes", "INVALID_ARGUMENT")(
                    scope, receive, counted
                )
                return
            await self.app(scope, _replay(body, more, receive), counted)
        finally:
            self.gateway.metrics.http_requests.labels(route, str(seen[0] or 499)).inc()
            code = {400: "INVALID_ARGUMENT", 401: "UNAUTHENTICATED", 413: "INVALID_ARGUMENT", 422: "INVALID_ARGUMENT"}
            if seen[0] in code or seen[0] == 429:
                label = refused_as[0] if refused_as else code.get(seen[0], "RESOURCE_EXHAUSTED")
                self.gateway.metrics.rejected.labels(label).inc()

    def _refusal(self, scope: Scope, path: str) -> JSONResponse | None:
        if path in OPEN_PATHS or self.gateway.authorized(None):
            return None
        headers = dict(scope.get("headers") or ())
        header = headers.get(b"authorization", b"").decode("latin-1") or None
        if header is None:
            token = parse_qs(scope.get("query_string", b"").decode("latin-1")).get("token")
            header = f"Bearer {token[-1]}" if token else None
        if self.gateway.authorized(header):
            return None
        response = _refused(401, "missing or wrong bearer token", "UNAUTHENTICATED")
        response.headers["WWW-Authenticate"] = "Bearer"
        return response

    async def _body(self, scope: Scope, receive: Receive) -> tuple[bytes | None, bool]:
        """The request body, or None past the cap; `more`: the client is still connected."""
        headers = dict(scope.get("headers") or ())
        try:
            if int(headers.get(b"content-length", b"0")) > self.max_body:
                return None, True
        except ValueError:
            pass
        chunks: list[bytes] = []
        size = 0
        while True:
            message = await receive()
            if message["type"] == "http.disconnect":
                return b"".join(chunks), False
            chunk = message.get("body", b"")
            size += len(chunk)
            if size > self.max_body:
                return None, True
            chunks.append(chunk)
            if not message.get("more_body"):
                return b"".join(chunks), True


def _replay(body: bytes, connected: bool, receive: Receive) -> Receive:
    """A receive that gives `body` once, then what the connection says (its disconnect)."""
    sent = [False]

    async def again() -> Message:
        if not sent[0]:
            sent[0] = True
            return {"type": "http.request", "body": body, "more_body": False}
        if not connected:
            return {"type": "http.disconnect"}
        return await receive()

    return again


class HttpServer:
    """The HTTP API served by uvicorn in a thread of its own, beside the gRPC server."""

    def __init__(
        self,
        gateway: Gateway,
        host: str,
        port: int,
        tls_cert: str | None = None,
        tls_key: str | None = None,
    ) -> None:
        family = socket.AF_INET6 if ":" in host else socket.AF_INET
        self.socket = socket.socket(family, socket.SOCK_STREAM)
        self.socket.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.socket.bind((host, port))
        self.socket.listen(2048)
        self.port: int = self.socket.getsockname()[1]
        config = uvicorn.Config(
            create_app(gateway),
            log_level="warning",
            access_log=False,  # a ?token= would be in it
            lifespan="off",
            ssl_certfile=tls_cert,
            ssl_keyfile=tls_key,
            timeout_keep_alive=75,
        )
        self.server = uvicorn.Server(config)
        self._thread = threading.Thread(target=self.server.run, kwargs={"sockets": [self.socket]}, daemon=True)

    def start(self) -> HttpServer:
        self._thread.start()
        return self

    def stop(self, grace: float = 5.0) -> None:
        self.server.should_exit = True
        self._thread.join(grace)
        self.socket.close()


__all__ = ["HttpServer", "create_app"]
