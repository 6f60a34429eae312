"""Import events reach real receivers on 127.0.0.1 with the import body: exactly one event per
thing that happened to an import (its own audit records send no second one), and none per
imported row."""

from collections import Counter

import pytest

from conftest import TEST_CONTEXT
from imports import engine
from imports.models import ImportStatus
from imports.services import import_cancel, import_create, import_process, import_retry
from imports.tests.conftest import csv_file
from webhooks.models import Event

pytestmark = pytest.mark.django_db(transaction=True)

CSV = "sku,name,price,stock\n" + "".join(f"IM-{n},Print {n},12.00,{n + 1}\n" for n in range(5))


@pytest.fixture(autouse=True)
def _media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path


def _upload(users):
    return import_create(file=csv_file(CSV), actor=users["Manager"], context=TEST_CONTEXT)


def test_a_completed_import_sends_import_completed_with_its_counts(
    receiver, endpoint_for, jobs, users
):
    # given an endpoint subscribed to everything and one to import.failed only
    every, failures = receiver(), receiver()
    endpoint_for(every)
    endpoint_for(failures, events=["import.failed"])

    # when a manager uploads a file of five new SKUs and the job runs it
    imp = _upload(users)
    import_process(import_id=imp.pk)
    jobs.drain()

    # then the import's two events arrived, not one per row, and each once
    assert not every.rejected
    assert Counter(r.event["type"] for r in every.received) == {
        "import.queued": 1,
        "import.completed": 1,
    }
    (completed,) = [r.event for r in every.received if r.event["type"] == "import.completed"]
    data = completed["data"]
    assert (data["id"], data["status"], data["filename"]) == (str(imp.pk), "COMPLETED", "skus.csv")
    assert (data["total_rows"], data["created"], data["invalid"], data["percent"]) == (5, 5, 0, 100)
    assert data["finished_at"] is not None
    assert data["errors_url"].endswith(f"/imports/{imp.pk}/errors")
    # and the endpoint that wants failures only got nothing
    assert failures.received == []


def test_a_failed_import_sends_import_failed_then_its_retry_and_completion(
    receiver, endpoint_for, jobs, users, monkeypatch
):
    # given an endpoint subscribed to the import's ends and retries
    target = receiver()
    endpoint_for(target, events=["import.completed", "import.failed", "import.retry_requested"])
    real = engine.batch_apply

    def failing(**kwargs):
        raise RuntimeError("database went away")

    # when the job fails, the manager retries it, and it runs again without the fault
    monkeypatch.setattr(engine, "batch_apply", failing)
    imp = _upload(users)
    import_process(import_id=imp.pk)
    jobs.drain()
    failed_types = [r.event["type"] for r in target.received]
    monkeypatch.setattr(engine, "batch_apply", real)
    import_retry(import_id=imp.pk, actor=users["Manager"], context=TEST_CONTEXT)
    import_process(import_id=imp.pk)
    jobs.drain()

    # then first exactly one import.failed with the error, then the retry and the completion
    assert failed_types == ["import.failed"]
    failed = target.received[0].event["data"]
    assert failed["status"] == "FAILED"
    assert "database went away" in failed["error"]
    assert Counter(r.event["type"] for r in target.received) == {
        "import.failed": 1,
        "import.retry_requested": 1,
        "import.completed": 1,
    }
    assert Event.objects.filter(type__startswith="product.").count() == 0


def test_a_cancelled_import_sends_import_cancelled(receiver, endpoint_for, jobs, users):
    # given
    target = receiver()
    endpoint_for(target, events=["import.cancelled"])

    # when a queued import is cancelled before its job ran
    imp = _upload(users)
    import_cancel(import_id=imp.pk, actor=users["Manager"], context=TEST_CONTEXT)
    assert import_process(import_id=imp.pk) == ImportStatus.CANCELLED
    jobs.drain()

    # then
    (received,) = target.received
    assert received.event["type"] == "import.cancelled"
    assert received.event["data"]["id"] == str(imp.pk)
    assert received.event["data"]["status"] == "CANCELLED"
