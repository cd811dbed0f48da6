"""A farm client for tests whose server is on another host (netns.py): run it on a host of its own.

    ip netns exec NS python -m tests.cluster.lan_client HOST:PORT JOBS.jsonl OUT.json [--timeout S]

Waits for the server's health check, then sends the jobs with the SDK (`Client.execute_batch`,
one stream, the given deadline). Every message the ExecuteBatch stream delivers is appended to
OUT.json.stream as it arrives, flushed, with the number of the stream it came on (the test
watches progress there, and sees a job answered twice even where the SDK keeps only the first
answer); the results the SDK returns are written to OUT.json at the end. Exits 1 on an error,
its traceback on stderr.
"""

from __future__ import annotations

import argparse
import itertools
import json
import sys
import time
from collections.abc import Callable, Iterator
from typing import Any

import grpc
from grpc_health.v1 import health_pb2, health_pb2_grpc

from broker.client import Client
from broker.convert import result_from_pb


def wait_healthy(target: str, timeout_s: float) -> None:
    deadline = time.monotonic() + timeout_s
    with grpc.insecure_channel(target) as ch:
        stub = health_pb2_grpc.HealthStub(ch)
        while True:
            try:
                resp = stub.Check(health_pb2.HealthCheckRequest(service=""), timeout=1)
                if resp.status == health_pb2.HealthCheckResponse.SERVING:
                    return
            except grpc.RpcError:
                pass
            if time.monotonic() > deadline:
                raise TimeoutError(f"{target} not healthy after {timeout_s:.0f} s")
            time.sleep(0.1)


def recorded(call: Callable[..., Any], log: Any) -> Callable[..., Iterator[Any]]:
    """ExecuteBatch, each message it yields also written to `log` as a JSON line."""
    streams = itertools.count()

    def execute_batch(request: Any, **kwargs: Any) -> Iterator[Any]:
        stream = next(streams)
        for msg in call(request, **kwargs):
            log.write(json.dumps(result_from_pb(msg).to_dict() | {"stream": stream}) + "\n")
            log.flush()
            yield msg

    return execute_batch


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("target")
    ap.add_argument("jobs")
    ap.add_argument("out")
    ap.add_argument("--timeout", type=float, default=120.0, help="the SDK's deadline per call")
    ap.add_argument("--wait", type=float, default=60.0, help="seconds to wait for the server's health")
    args = ap.parse_args(argv)
    with open(args.jobs) as fh:
        jobs = [json.loads(line) for line in fh if line.strip()]
    wait_healthy(args.target, args.wait)
    with open(args.out + ".stream", "w") as log, Client(args.target, timeout_s=args.timeout) as farm:
        farm.stub.ExecuteBatch = recorded(farm.stub.ExecuteBatch, log)
        results = [r.to_dict() for r in farm.execute_batch(jobs, chunk=len(jobs))]
    with open(args.out, "w") as fh:
        json.dump(results, fh)
    return 0


if __name__ == "__main__":
    sys.exit(main())
