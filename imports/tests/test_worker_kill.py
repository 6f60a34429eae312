"""A worker SIGKILLed mid-import on a real RabbitMQ: RabbitMQ hands the message to the next
worker, which resumes after the last committed batch; every row applied once, counts true.
Worker processes share the test database, hence PostgreSQL and committed data."""

import pytest

from conftest import TEST_CONTEXT, requires_postgres, requires_rabbitmq
from imports.models import ImportStatus
from imports.services import import_create
from imports.tests.conftest import csv_file
from inventory.models import StockMovement


@pytest.mark.rabbitmq
@requires_rabbitmq()
@requires_postgres()
@pytest.mark.django_db(transaction=True)
def test_a_worker_killed_mid_import_is_resumed_and_applies_every_row_once(
    worker_kill_drill, drill_env, users, tmp_path
):
    # given a queued import of 40 SKUs that runs in batches of 10 products
    drill_env["IMPORT_BATCH_PRODUCTS"] = "10"
    text = "sku,name,stock\n" + "".join(f"KILL-{i},Thing {i},{i + 1}\n" for i in range(40))
    text += "bad code,x,1\n"
    imp = import_create(file=csv_file(text), actor=users["Manager"], context=TEST_CONTEXT)

    # when a real worker is SIGKILLed after its first batch and another worker takes over
    summary = worker_kill_drill("import", imp.pk)

    # then the first attempt was cut off mid-import, the second completed it
    assert summary["killed_mid_job"], summary
    assert summary["completed"], (tmp_path / "workers.log").read_text()[-3000:]
    imp.refresh_from_db()
    assert imp.status == ImportStatus.COMPLETED
    assert imp.attempts == 2
    assert (imp.created, imp.updated, imp.unchanged, imp.invalid) == (40, 0, 0, 1)
    assert imp.processed_rows == imp.total_rows == 41
    assert StockMovement.objects.filter(import_id=imp.pk).count() == 40
    assert imp.row_errors.count() == 1
