#!/usr/bin/env python
"""Exit 0 when a gRPC server answers grpc.health.v1 Check with SERVING, 1 otherwise (the
compose health check of the payment service; grpc_health_probe without the extra binary).

    python scripts/grpc_health_check.py localhost:50051 [service]
"""

import sys

import grpc
from grpc_health.v1 import health_pb2, health_pb2_grpc


def main() -> int:
    target = sys.argv[1] if len(sys.argv) > 1 else "localhost:50051"
    service = sys.argv[2] if len(sys.argv) > 2 else ""
    with grpc.insecure_channel(target) as channel:
        try:
            answer = health_pb2_grpc.HealthStub(channel).Check(
                health_pb2.HealthCheckRequest(service=service), timeout=3
            )
        except grpc.RpcError as error:
            print(f"{target}: {error.code().name}")
            return 1
    print(f"{target}: {health_pb2.HealthCheckResponse.ServingStatus.Name(answer.status)}")
    return 0 if answer.status == health_pb2.HealthCheckResponse.SERVING else 1


if __name__ == "__main__":
    sys.exit(main())
