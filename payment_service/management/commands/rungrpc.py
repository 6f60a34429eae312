"""`manage.py rungrpc`: serves the payment service over gRPC (API.md "Payment service")."""

import os
import signal
import sys
import threading

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from payment_service.transport.server import server_start


class Command(BaseCommand):
    help = "Serves PaymentService, grpc.health.v1 and reflection; SIGTERM stops it gracefully."

    def add_arguments(self, parser):
        parser.add_argument("--host", default=None, help="default GRPC_HOST or 127.0.0.1")
        parser.add_argument("--port", type=int, default=None, help="default GRPC_PORT (50051)")
        parser.add_argument("--max-workers", type=int, default=settings.GRPC_MAX_WORKERS)
        parser.add_argument("--grace", type=float, default=settings.GRPC_GRACE_SECONDS)

    def handle(self, *args, host, port, max_workers, grace, **options):
        if settings.IS_PRODUCTION and (
            settings.PAYMENT_SERVICE_TOKEN == settings.DEV_PAYMENT_SERVICE_TOKEN
        ):
            raise CommandError("Set PAYMENT_SERVICE_TOKEN when ARTICURATED_ENV=production.")
        host = host or os.environ.get("GRPC_HOST", "127.0.0.1")
        port = settings.GRPC_PORT if port is None else port
        running = server_start(host=host, port=port, max_workers=max_workers)
        # The bound port, on stdout (with --port 0 the caller learns it here).
        self.stdout.write(f"Payment service listening on {host}:{running.port}")
        sys.stdout.flush()
        stopping = threading.Event()
        for sig in (signal.SIGTERM, signal.SIGINT):
            signal.signal(sig, lambda *_: stopping.set())
        stopping.wait()
        self.stdout.write(f"Stopping: health NOT_SERVING, {grace:.0f} s for calls in flight.")
        running.stop(grace)
