"""Prometheus metrics of a farm server (served over HTTP by `acefarm serve --metrics-port`)."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, start_http_server
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

from executor import JobResult, Verdict

from .dispatcher import FarmStatus
from .registry import WorkerInfo

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
        self.queue_depth = Gauge(
            "acefarm_queue_depth", "Jobs admitted and not yet delivered to their client.", registry=r
        )
        self.queue_wait = Histogram(
            "acefarm_queue_wait_seconds", "Admission to start of run.", buckets=_TIME_BUCKETS, registry=r
        )
        self.run_time = Histogram("acefarm_run_seconds", "Start of run to result.", buckets=_TIME_BUCKETS, registry=r)
        self.http_requests = Counter(
            "acefarm_http_requests_total", "HTTP API requests, by route and status.", ["route", "status"], registry=r
        )
        # Each verdict's series looked up once (labels() takes a lock and builds a key per call).
        self._jobs_by = {v: self.jobs.labels(v.value) for v in Verdict}
        self._tests_by = {v: self.tests.labels(v.value) for v in Verdict}

    def watch(self, status: Callable[[], FarmStatus]) -> None:
        """Export the farm behind the dispatcher (workers, slots, queue, failovers), read from
        `status` at each scrape."""
        self.registry.register(_FarmCollector(status))

    def observe(self, result: JobResult) -> None:
        self._jobs_by[result.verdict].inc()
        counts: dict[Verdict, int] = {}
        for t in result.tests:  # one labelled increment per verdict, not per test
            counts[t.verdict] = counts.get(t.verdict, 0) + 1
        for verdict, n in counts.items():
            self._tests_by[verdict].inc(n)
        if result.verdict is Verdict.INFRA_ERROR:
            self.infra_errors.inc()
        if result.cached:
            self.cache_hits.inc()

    def serve(self, port: int, host: str = "127.0.0.1") -> None:
        start_http_server(port, addr=host, registry=self.registry)


class _FarmCollector(Collector):
    """The dispatcher's view of the farm, as gauges and counters at scrape time."""

    def __init__(self, status: Callable[[], FarmStatus]) -> None:
        self.status = status

    def collect(self) -> Iterator[Metric]:
        s = self.status()
        yield GaugeMetricFamily("acefarm_workers", "Live workers (heartbeats; the embedded pool is one).", s.workers)
        yield GaugeMetricFamily("acefarm_slots", "Sandbox slots of the live workers.", s.slots)
        yield GaugeMetricFamily("acefarm_slots_busy", "Slots running a job now.", s.busy)
        chunks = GaugeMetricFamily(
            "acefarm_cluster_chunks", "Cluster queue: chunks waiting, or taken and not acknowledged.", labels=["state"]
        )
        chunks.add_metric(["waiting"], s.chunks_waiting)
        chunks.add_metric(["taken"], s.chunks_taken)
        yield chunks
        yield GaugeMetricFamily(
            "acefarm_jobs_waiting",
            "Jobs waiting for their turn here (not started, or not sent to a worker).",
            s.jobs_waiting,
        )
        yield GaugeMetricFamily(
            "acefarm_flows_waiting", "Clients (flows) with jobs waiting for their turn.", s.flows_waiting
        )
        yield CounterMetricFamily("acefarm_failovers", "Chunks requeued from dead workers.", s.failovers)
        yield CounterMetricFamily("acefarm_cancellations", "Jobs cancelled before their answer.", s.cancellations)


class WorkerMetrics:
    """An `acefarm worker`'s own metrics (`--metrics-port`), read from the worker at scrape time:
    its slots and busy slots, chunks and jobs by outcome, sandbox restarts, host CPU and memory."""

    def __init__(
        self,
        info: Callable[[], WorkerInfo],
        jobs: Callable[[], Mapping[str, int]],
        chunks: Callable[[], Mapping[str, int]],
    ) -> None:
        self.registry = CollectorRegistry()
        self.registry.register(_WorkerCollector(info, jobs, chunks))

    def serve(self, port: int, host: str = "0.0.0.0") -> None:
        start_http_server(port, addr=host, registry=self.registry)


class _WorkerCollector(Collector):
    def __init__(
        self,
        info: Callable[[], WorkerInfo],
        jobs: Callable[[], Mapping[str, int]],
        chunks: Callable[[], Mapping[str, int]],
    ) -> None:
        self.info, self.jobs, self.chunks = info, jobs, chunks

    def collect(self) -> Iterator[Metric]:
        w = self.info()
        yield GaugeMetricFamily("acefarm_worker_slots", "Sandbox slots of this worker.", w.slots)
        yield GaugeMetricFamily("acefarm_worker_slots_busy", "Slots running a job now.", w.busy)
        jobs = CounterMetricFamily(
            "acefarm_worker_jobs",
            "Jobs by outcome: their verdict when published; cancelled (dropped before running or "
            "stopped); answered_elsewhere (a redelivered chunk's jobs already answered).",
            labels=["outcome"],
        )
        for outcome, n in sorted(self.jobs().items()):
            jobs.add_metric([outcome], n)
        yield jobs
        chunks = CounterMetricFamily(
            "acefarm_worker_chunks", "Chunks finished: done, or gave_up (delivered too often).", labels=["outcome"]
        )
        for outcome, n in sorted(self.chunks().items()):
            chunks.add_metric([outcome], n)
        yield chunks
        yield CounterMetricFamily("acefarm_worker_sandbox_restarts", "Sandbox slots restarted.", w.restarts)
        yield GaugeMetricFamily("acefarm_host_cpu_percent", "Host CPU use since the last reading.", w.cpu_percent)
        yield GaugeMetricFamily("acefarm_host_memory_percent", "Host memory in use.", w.memory_percent)
