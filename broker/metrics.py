"""Prometheus metrics of a farm server (served over HTTP by `acefarm serve --metrics-port`)."""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, start_http_server

from executor import JobResult, Verdict

_TIME_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60)


class Metrics:
    """The server's counters, on a registry of its own (several servers per process in tests)."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        r = self.registry
        self.jobs = Counter("acefarm_jobs_total", "Jobs finished, by job verdict.", ["verdict"], registry=r)
        self.tests = Counter("acefarm_tests_total", "Tests finished, by test verdict.", ["verdict"], registry=r)
        self.infra_errors = Counter("acefarm_infra_errors_total", "Jobs that ended in infra_error.", registry=r)
        self.cache_hits = Counter("acefarm_cache_hits_total", "Jobs answered from the result cache.", registry=r)
        self.rejected = Counter(
            "acefarm_rejected_total", "Requests refused (gRPC and HTTP), by gRPC status.", ["code"], registry=r
        )
        self.queue_depth = Gauge("acefarm_queue_depth", "Jobs admitted and not finished.", registry=r)
        self.queue_wait = Histogram(
            "acefarm_queue_wait_seconds", "Admission to start of run.", buckets=_TIME_BUCKETS, registry=r
        )
        self.run_time = Histogram("acefarm_run_seconds", "Start of run to result.", buckets=_TIME_BUCKETS, registry=r)
        self.http_requests = Counter(
            "acefarm_http_requests_total", "HTTP API requests, by route and status.", ["route", "status"], registry=r
        )

    def observe(self, result: JobResult) -> None:
        self.jobs.labels(result.verdict.value).inc()
        counts: dict[Verdict, int] = {}
        for t in result.tests:  # one labelled increment per verdict, not per test
            counts[t.verdict] = counts.get(t.verdict, 0) + 1
        for verdict, n in counts.items():
            self.tests.labels(verdict.value).inc(n)
        if result.verdict is Verdict.INFRA_ERROR:
            self.infra_errors.inc()
        if result.cached:
            self.cache_hits.inc()

    def serve(self, port: int, host: str = "127.0.0.1") -> None:
        start_http_server(port, addr=host, registry=self.registry)
