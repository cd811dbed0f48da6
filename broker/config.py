"""The broker's configuration: one frozen object, built by the CLI and passed down."""

from __future__ import annotations

from dataclasses import dataclass, field

from executor import ExecutorConfig


@dataclass(frozen=True)
class ServerConfig:
    """How `acefarm serve` listens and what it accepts.

    broker_url:     Redis URL for cluster mode; None runs an embedded Pool.
    max_queue:      jobs admitted but not finished; more get RESOURCE_EXHAUSTED.
    max_batch_jobs: jobs in one ExecuteBatch/Score request.
    token:          bearer token clients must send (None: no auth).
    tls_cert/key:   PEM files; both set turns TLS on.
    metrics_port:   Prometheus metrics over HTTP (0: off).
    http_port:      the HTTP API (http.py) beside gRPC, on the same host (None: off; 0: any free).
    """

    host: str = "127.0.0.1"
    port: int = 50051
    broker_url: str | None = None
    max_queue: int = 20_000
    max_batch_jobs: int = 4096
    max_message_bytes: int = 64 << 20
    token: str | None = None
    tls_cert: str | None = None
    tls_key: str | None = None
    metrics_port: int = 0
    http_port: int | None = None
    rpc_threads: int = 256  # most handlers just wait on futures; health checks need a free one
    executor: ExecutorConfig = field(default_factory=ExecutorConfig)
