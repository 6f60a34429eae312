import pytest

from articurated.health import broker_check
from articurated.jobs import sweep_send
from invoicing.models import Invoice, InvoiceStatus
from invoicing.tests.conftest import shipped_order


@pytest.mark.django_db(transaction=True)
def test_the_scheduled_sweep_recovers_work_lost_with_a_restarted_process(jobs):
    # given an order shipped by a process whose in-memory queue is gone
    order = shipped_order()
    jobs.broker.flush_all()

    # when a worker's scheduler sends the sweeps (as the embedded worker does on boot)
    sweep_send(grace_seconds=0)
    jobs.drain()

    # then the invoice is generated
    assert Invoice.objects.get(order=order).status == InvoiceStatus.GENERATED


@pytest.mark.parametrize(
    ("broker_url", "embedded", "expected"),
    [
        ("", True, "embedded"),
        ("", False, "no worker"),
        ("amqp://guest:guest@127.0.0.1:1/", False, "unreachable"),
    ],
)
def test_health_reports_how_jobs_run(settings, broker_url, embedded, expected):
    settings.BROKER_URL = broker_url
    settings.DRAMATIQ_EMBEDDED_WORKER = embedded
    settings.TESTING = False
    assert broker_check() == expected
