#!/usr/bin/env python
"""Drill (QUALITY.md "Payment service"): the gRPC payment server killed with SIGKILL during
RefundPayment; the refund job retries with the same idempotency key and the refund is paid
exactly once.

Against a real RabbitMQ (BROKER_URL=amqp://…) and a database that the processes share
(DATABASE_URL), for one PENDING refund whose order was paid through the payment service:

1. starts `manage.py rungrpc` on a free port with PAYMENT_SERVICE_FAULT_DELAY_SECONDS, so a
   RefundPayment stalls with its work done but not committed, and a short idempotency lease;
2. starts a worker (`rundramatiq`) with PAYMENT_SERVICE_URL pointing at it, sends the refund's
   job, waits until the service has claimed the refund's key (the call is in flight) and
   SIGKILLs the server — the worker's call fails UNAVAILABLE and the job schedules a retry;
3. starts a new server on the same port, waits until the refund is SUCCEEDED and the customer
   e-mailed, stops worker and server with SIGTERM;
4. prints a JSON summary: attempts, what the payment service's tables hold for the payment.

    BROKER_URL=amqp://… DATABASE_URL=postgres://… \\
        python scripts/payment_service_kill_drill.py <refund uuid>

Exit status 0 when the call was cut off mid-flight and the refund was then paid exactly once.
Used by payments/tests/test_payment_service_kill.py.
"""

import argparse
import json
import os
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from django.conf import settings
from worker_kill_drill import ROOT, _wait, _worker_start, _worker_stop  # sets up Django

LEASE_SECONDS = "2"


def _server_start(log: Path, *, port: int, fault_delay: float) -> tuple[subprocess.Popen, int]:
    env = {
        **os.environ,
        "PAYMENT_SERVICE_FAULT_DELAY_SECONDS": str(fault_delay),
        "PAYMENT_IDEMPOTENCY_LEASE_SECONDS": LEASE_SECONDS,
    }
    command = [sys.executable, str(ROOT / "manage.py"), "rungrpc", "--port", str(port)]
    out = tempfile.NamedTemporaryFile(prefix="rungrpc-", suffix=".out", delete=False)
    process = subprocess.Popen(  # noqa: S603 - our own interpreter and manage.py
        command, cwd=ROOT, env=env, stdout=out, stderr=log.open("ab"), start_new_session=True
    )
    marker = "Payment service listening on "

    def bound_port():
        if process.poll() is not None:
            raise RuntimeError(f"rungrpc exited with {process.returncode}")
        for line in Path(out.name).read_text().splitlines():
            if line.startswith(marker):
                return int(line.rsplit(":", 1)[1])
        return None

    return process, _wait(bound_port, seconds=60, what="the gRPC server to listen")


def drill(refund_id: str, *, log: Path, timeout: float) -> dict:
    import dramatiq

    from payment_service.models import IdempotencyRecord, Payment
    from payment_service.models import Refund as ServiceRefund
    from payments.models import Refund

    refund = Refund.objects.select_related("order").get(pk=refund_id)
    payment_id = refund.order.payment_reference
    in_flight = IdempotencyRecord.objects.filter(method="RefundPayment", key=refund.idempotency_key)
    server, port = _server_start(log, port=0, fault_delay=timeout)
    os.environ["PAYMENT_SERVICE_URL"] = f"127.0.0.1:{port}"
    os.environ["PAYMENT_SERVICE_DEADLINE_SECONDS"] = str(timeout)
    os.environ["JOBS_RETRY_MIN_BACKOFF_MS"] = "1000"
    os.environ["JOBS_RETRY_MAX_BACKOFF_MS"] = "4000"
    queues = [settings.JOBS_QUEUES[name] for name in ("refunds", "email")]
    worker = _worker_start(queues, log, fault_delay=0)
    try:
        dramatiq.get_broker().get_actor("refund_process_job").send(refund_id)
        _wait(in_flight.exists, seconds=timeout, what="RefundPayment to be in flight")
        time.sleep(0.5)  # well inside the call: its rows are written, not committed
        os.killpg(server.pid, signal.SIGKILL)
        server.wait(timeout=30)
        killed_mid_call = (
            in_flight.get().state == "IN_PROGRESS"
            and not ServiceRefund.objects.filter(payment_id=payment_id).exists()
        )
        server, _ = _server_start(log, port=port, fault_delay=0)

        def done():
            row = Refund.objects.get(pk=refund_id)
            return row.status == "SUCCEEDED" and row.customer_notified_at is not None

        try:
            completed = _wait(done, seconds=timeout, what="the refund to be paid")
        except TimeoutError:
            completed = False
    finally:
        _worker_stop(worker, signal.SIGTERM)
        _worker_stop(server, signal.SIGTERM)
    final = Refund.objects.get(pk=refund_id)
    paid = list(ServiceRefund.objects.filter(payment_id=payment_id))
    return {
        "refund": refund_id,
        "killed_mid_call": killed_mid_call,
        "completed": bool(completed),
        "status": final.status,
        "attempts": final.attempts,
        "reference": final.reference,
        "service_refunds": [r.id for r in paid],
        "service_refunded_minor": Payment.objects.get(pk=payment_id).refunded_minor,
        "emails": log.read_text(errors="replace").count("Subject: Your refund"),
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("id", help="the PENDING refund's id")
    parser.add_argument("--log", type=Path, help="server and worker output (default: temp file)")
    parser.add_argument("--timeout", type=float, default=60, help="seconds per wait")
    args = parser.parse_args()
    if not settings.BROKER_URL.startswith(("amqp://", "amqps://")):
        parser.error("needs BROKER_URL=amqp://… (a real RabbitMQ)")
    log = args.log or Path(tempfile.mkstemp(prefix="payment-kill-", suffix=".log")[1])
    summary = drill(args.id, log=log, timeout=args.timeout)
    summary["log"] = str(log)
    print(json.dumps(summary))
    ok = summary["killed_mid_call"] and summary["completed"]
    return 0 if ok and len(summary["service_refunds"]) == 1 else 1


if __name__ == "__main__":
    sys.exit(main())
