"""`manage.py rungrpc`: serves the payment service over gRPC (API.md "Payment service")."""

import os
import signal
import sys
import threading

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError


def _processes_default() -> int:
    return int(os.environ.get("GRPC_PROCESSES", "1"))


class Command(BaseCommand):
    help = "Serves PaymentService, grpc.health.v1 and reflection; SIGTERM stops it gracefully."

    def add_arguments(self, parser):
        parser.add_argument("--host", default=None, help="default GRPC_HOST or 127.0.0.1")
        parser.add_argument("--port", type=int, default=None, help="default GRPC_PORT (50051)")
        parser.add_argument("--max-workers", type=int, default=settings.GRPC_MAX_WORKERS)
        parser.add_argument("--grace", type=float, default=settings.GRPC_GRACE_SECONDS)
        parser.add_argument(
            "--processes",
            type=int,
            default=None,
            help="server processes sharing the port, each with --max-workers threads "
            "(default GRPC_PROCESSES or 1)",
        )

    def handle(self, *args, host, port, max_workers, grace, processes, **options):
        if settings.IS_PRODUCTION and (
            settings.PAYMENT_SERVICE_TOKEN == settings.DEV_PAYMENT_SERVICE_TOKEN
        ):
            raise CommandError("Set PAYMENT_SERVICE_TOKEN when ARTICURATED_ENV=production.")
        host = host or os.environ.get("GRPC_HOST", "127.0.0.1")
        port = settings.GRPC_PORT if port is None else port
        processes = _processes_default() if processes is None else processes
        if processes < 1:
            raise CommandError("--processes must be at least 1.")
        if processes == 1:
            self._serve_here(host=host, port=port, max_workers=max_workers, grace=grace)
            return
        from payment_service.transport.processes import servers_run

        status = servers_run(
            host=host,
            port=port,
            processes=processes,
            max_workers=max_workers,
            grace=grace,
            on_listening=lambda bound: self._listening(host, bound, processes),
        )
        if status:
            raise CommandError("A gRPC server process failed; all were stopped.")

    def _listening(self, host: str, port: int, processes: int) -> None:
        # The bound port, on stdout (with --port 0 the caller learns it here), as the last word.
        if processes > 1:
            self.stdout.write(f"{processes} server processes share the port.")
        self.stdout.write(f"Payment service listening on {host}:{port}")
        sys.stdout.flush()

    def _serve_here(self, *, host: str, port: int, max_workers: int, grace: float) -> None:
        from payment_service.transport.server import server_start

        running = server_start(host=host, port=port, max_workers=max_workers)
        self._listening(host, running.port, 1)
        stopping = threading.Event()
        for sig in (signal.SIGTERM, signal.SIGINT):
            signal.signal(sig, lambda *_: stopping.set())
        stopping.wait()
        self.stdout.write(f"Stopping: health NOT_SERVING, {grace:.0f} s for calls in flight.")
        running.stop(grace)
