"""A worker killed with SIGKILL mid-job on a real RabbitMQ: the job runs again and completes
once. Worker processes share the test database, hence PostgreSQL and committed data."""

import pytest

from audit.models import AuditRecord
from conftest import requires_postgres, requires_rabbitmq
from payments.models import Refund, RefundStatus
from payments.tests.conftest import cancelled_paid_order, service_refunds


@pytest.mark.rabbitmq
@requires_rabbitmq()
@requires_postgres()
@pytest.mark.django_db(transaction=True)
def test_a_worker_killed_mid_refund_job_pays_once(worker_kill_drill, tmp_path, jobs):
    # given a cancelled PAID order whose refund is PENDING
    order = cancelled_paid_order()
    refund = Refund.objects.get(order=order)

    # when a real worker is SIGKILLed mid-job and another worker takes over
    summary = worker_kill_drill("refund", refund.pk)

    # then the first attempt was cut off, the second paid it, once
    assert summary["killed_mid_job"], summary
    assert summary["completed"], (tmp_path / "workers.log").read_text()[-3000:]
    refund.refresh_from_db()
    assert refund.status == RefundStatus.SUCCEEDED
    assert refund.attempts == 2
    assert [paid.id for paid in service_refunds(order)] == [refund.reference]
    assert summary["emails"] == 1
    assert AuditRecord.objects.filter(entity_type="REFUND", transition="succeed").count() == 1
