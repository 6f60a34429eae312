"""Builds and stops the gRPC server: PaymentService, the standard grpc.health.v1.Health and
server reflection, behind CallInterceptor. Used by `manage.py rungrpc` and the tests."""

import logging
from concurrent import futures
from dataclasses import dataclass

import grpc
from grpc_health.v1 import health, health_pb2, health_pb2_grpc
from grpc_reflection.v1alpha import reflection

from payment_service.transport.interceptor import CallInterceptor
from payment_service.transport.servicer import PaymentServiceServicer
from payment_service_pb import payments_pb2, payments_pb2_grpc

logger = logging.getLogger("payment_service.grpc")

SERVICE_NAME = payments_pb2.DESCRIPTOR.services_by_name["PaymentService"].full_name


@dataclass
class RunningServer:
    server: grpc.Server
    health: health.HealthServicer
    port: int

    def stop(self, grace: float) -> None:
        """Graceful shutdown: health turns NOT_SERVING (load balancers stop sending), new calls
        are refused, calls in flight get `grace` seconds to finish."""
        self.health.enter_graceful_shutdown()
        self.server.stop(grace).wait()
        logger.info("gRPC server on port %d stopped.", self.port)


def server_start(
    *, host: str = "127.0.0.1", port: int = 0, max_workers: int = 16, reuse_port: bool = False
) -> RunningServer:
    """Starts serving on host:port (0 picks a free port) and returns the running server.
    `reuse_port`: other processes serve the same port (transport/processes.py)."""
    server = grpc.server(
        futures.ThreadPoolExecutor(max_workers=max_workers, thread_name_prefix="grpc"),
        interceptors=[CallInterceptor()],
        options=[("grpc.so_reuseport", 1)] if reuse_port else None,
    )
    payments_pb2_grpc.add_PaymentServiceServicer_to_server(PaymentServiceServicer(), server)
    health_servicer = health.HealthServicer()
    health_pb2_grpc.add_HealthServicer_to_server(health_servicer, server)
    reflection.enable_server_reflection(
        (SERVICE_NAME, health.SERVICE_NAME, reflection.SERVICE_NAME), server
    )
    bound = server.add_insecure_port(f"{host}:{port}")
    if not bound:
        raise OSError(f"could not bind {host}:{port}")
    server.start()
    for name in ("", SERVICE_NAME):
        health_servicer.set(name, health_pb2.HealthCheckResponse.SERVING)
    logger.info("gRPC server listening on %s:%d", host, bound)
    return RunningServer(server=server, health=health_servicer, port=bound)
