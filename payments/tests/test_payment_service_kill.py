"""QUALITY.md "Payment service" drill: the gRPC payment server SIGKILLed during RefundPayment,
on a real RabbitMQ and PostgreSQL (the server, the worker and this test share the database)."""

import json
import subprocess
import sys

import pytest

from conftest import ROOT, requires_postgres, requires_rabbitmq
from payments.models import Refund, RefundStatus
from payments.tests.conftest import cancelled_paid_order, service_refunds


@pytest.mark.rabbitmq
@requires_rabbitmq()
@requires_postgres()
@pytest.mark.django_db(transaction=True)
def test_the_payment_server_killed_mid_refund_pays_it_once(drill_env, tmp_path, jobs):
    # given a cancelled PAID order whose refund is PENDING
    order = cancelled_paid_order()
    refund = Refund.objects.get(order=order)

    # when the payment server is SIGKILLed during RefundPayment and comes back
    result = subprocess.run(
        [sys.executable, str(ROOT / "scripts" / "payment_service_kill_drill.py"), str(refund.pk),
         "--log", str(tmp_path / "drill.log")],
        cwd=ROOT, env=drill_env, capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    assert result.returncode in (0, 1), result.stderr[-3000:]
    summary = json.loads(result.stdout.strip().splitlines()[-1])
    print(json.dumps(summary))  # the drill's figures, shown with -s

    # then the call was cut off mid-flight, the job retried with the same key, paid once
    log = (tmp_path / "drill.log").read_text()[-3000:]
    assert summary["killed_mid_call"], log
    assert summary["completed"], log
    refund.refresh_from_db()
    assert refund.status == RefundStatus.SUCCEEDED
    assert refund.attempts >= 2
    assert [paid.id for paid in service_refunds(order)] == [refund.reference]
    assert summary["service_refunded_minor"] == 10400
    assert summary["emails"] == 1
