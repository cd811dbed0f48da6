"""A server's call threads: farm calls that wait on their jobs never hold all of them, so health
checks and GetInfo are answered however many calls wait (300 concurrent Execute calls starved
them: DEADLINE_EXCEEDED on the health check, a Kubernetes probe's restart)."""

import concurrent.futures
import time

import grpc
from grpc_health.v1 import health_pb2, health_pb2_grpc

from broker.config import ServerConfig
from broker.protos import pb, rpc
from broker.server import FarmServer
from executor import ExecutorConfig, Pool
from tests.trainer.gate import Gate


def test_waiting_calls_leave_threads_for_health_checks():
    with Pool(ExecutorConfig(slots=1)) as pool:
        gate = Gate(pool, expect=99, patience=4.0)  # every job waits 4 s before it runs
        server = FarmServer(ServerConfig(port=0, rpc_threads=8, executor=pool.config), gate).start()
        try:
            channel = grpc.insecure_channel(f"127.0.0.1:{server.port}")
            farm, health = rpc.FarmStub(channel), health_pb2_grpc.HealthStub(channel)

            def execute(i: int) -> str:
                job = pb.Job(id=f"s{i}", program="x = 1", tests=[pb.Test(snippet="assert x == 1")])
                try:
                    return str(farm.Execute(pb.ExecuteRequest(job=job), timeout=30).verdict)
                except grpc.RpcError as exc:
                    return exc.code().name

            with concurrent.futures.ThreadPoolExecutor(12) as threads:
                calls = [threads.submit(execute, i) for i in range(12)]
                time.sleep(1.0)  # all 12 sent; those seated wait at the gate
                t0 = time.monotonic()
                status = health.Check(health_pb2.HealthCheckRequest(), timeout=2).status
                assert status == health_pb2.HealthCheckResponse.SERVING and time.monotonic() - t0 < 2
                info = farm.GetInfo(pb.GetInfoRequest(), timeout=2)
                assert info.slots == 1
                outcomes = [c.result() for c in calls]
            # 8 threads, 2 kept free: 6 calls seated and answered, the others refused at once
            # (the SDK retries RESOURCE_EXHAUSTED).
            assert outcomes.count("RESOURCE_EXHAUSTED") == 6, outcomes
            assert len([o for o in outcomes if o != "RESOURCE_EXHAUSTED"]) == 6, outcomes
            channel.close()
        finally:
            server.stop(grace=1)
