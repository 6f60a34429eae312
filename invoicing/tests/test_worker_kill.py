"""A worker killed with SIGKILL mid-job on a real RabbitMQ: the job runs again and completes
once. Worker processes share the test database, hence PostgreSQL and committed data."""

import json
import os
import subprocess
import sys
import uuid
from pathlib import Path

import pytest
from django.conf import settings
from django.db import connection

from articurated.models import NumberSequence
from audit.models import AuditRecord
from conftest import requires_postgres
from invoicing.models import Invoice, InvoiceStatus
from invoicing.tests.conftest import pdf_text, shipped_order

ROOT = Path(__file__).resolve().parents[2]
BROKER_URL = os.environ.get("BROKER_URL", "")

rabbitmq = pytest.mark.skipif(
    not BROKER_URL.startswith(("amqp://", "amqps://")),
    reason="needs a real RabbitMQ: run with BROKER_URL=amqp://…",
)


@pytest.fixture
def drill_env(tmp_path):
    """The environment of the drill and its workers: this test's database, media and a queue
    prefix of their own, so parallel runs on one RabbitMQ never take each other's messages."""
    prefix = f"test-{uuid.uuid4().hex[:10]}-"
    db = connection.settings_dict
    env = {
        **os.environ,
        "DATABASE_URL": f"postgres://{db['USER']}:{db['PASSWORD'] or ''}@{db['HOST']}:"
        f"{db['PORT'] or 5432}/{db['NAME']}",
        "BROKER_URL": BROKER_URL,
        "JOBS_QUEUE_PREFIX": prefix,
        "MEDIA_ROOT": settings.MEDIA_ROOT,
        "EMAIL_BACKEND": "django.core.mail.backends.console.EmailBackend",
        "JOBS_SWEEP_INTERVAL_SECONDS": "0",
    }
    env.pop("PYTEST_VERSION", None)
    env.pop("TEST_DB_SUFFIX", None)
    yield env
    _queues_delete(prefix)


def _queues_delete(prefix: str) -> None:
    import pika

    connection = pika.BlockingConnection(pika.URLParameters(BROKER_URL))
    try:
        channel = connection.channel()
        for name in ("invoices", "refunds", "email"):
            for suffix in ("", ".DQ", ".XQ"):
                channel.queue_delete(f"{prefix}{name}{suffix}")
    finally:
        connection.close()


def run_drill(kind: str, row_id, env: dict, tmp_path) -> dict:
    result = subprocess.run(
        [sys.executable, str(ROOT / "scripts" / "worker_kill_drill.py"), kind, str(row_id),
         "--log", str(tmp_path / "workers.log")],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    assert result.returncode in (0, 1), result.stderr[-3000:]
    return json.loads(result.stdout.strip().splitlines()[-1])


@pytest.mark.rabbitmq
@rabbitmq
@requires_postgres()
@pytest.mark.django_db(transaction=True)
def test_a_worker_killed_mid_invoice_job_loses_nothing_and_doubles_nothing(
    drill_env, tmp_path, jobs
):
    # given a shipped order whose invoice is PENDING
    order = shipped_order()
    invoice = Invoice.objects.get(order=order)

    # when a real worker is SIGKILLed mid-job and another worker takes over
    summary = run_drill("invoice", invoice.pk, drill_env, tmp_path)

    # then the first attempt was cut off, the second completed it, once
    assert summary["killed_mid_job"], summary
    assert summary["completed"], (tmp_path / "workers.log").read_text()[-3000:]
    invoice.refresh_from_db()
    assert invoice.status == InvoiceStatus.GENERATED
    assert invoice.attempts == 2
    assert NumberSequence.objects.get(prefix="INV").last_value == 1
    data = invoice.pdf.read()
    assert data.startswith(b"%PDF-")
    text = pdf_text(data, tmp_path)
    assert order.number in text
    assert str(order.total_amount) in text
    assert summary["emails"] == 1
    assert AuditRecord.objects.filter(entity_type="INVOICE", transition="generate").count() == 1
