"""The imports back-office with Django's test client: the upload page, the import's page with
cancel and retry, and bulk delete / restore on the product list."""

import pytest
from django.test import Client
from django.urls import reverse

from audit.models import AuditRecord
from catalogue.models import Product, Sku
from conftest import TEST_CONTEXT
from imports.models import Import, ImportStatus
from imports.services import import_create, import_process
from imports.tests.conftest import csv_file

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path


def logged_in(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def test_a_manager_uploads_from_the_admin_and_gets_the_import_to_follow(users, jobs):
    client = logged_in(users["Manager"])
    url = reverse("admin:imports_upload")

    page = client.get(url)
    assert page.status_code == 200
    assert b'type="file"' in page.content

    response = client.post(url, {"file": csv_file("sku,name\nADM-1,Thing\n")})
    assert response.status_code == 202
    body = response.json()
    imp = Import.objects.get(pk=body["id"])
    assert imp.status == ImportStatus.QUEUED
    assert body["events_url"] == f"/api/v1/imports/{imp.pk}/events"
    assert [m.actor_name for m in jobs.queued("imports")] == []  # queued on commit only
    # a file without a sku column is refused with the API's message, nothing recorded
    refused = client.post(url, {"file": csv_file("code\nX\n")})
    assert refused.status_code == 400
    assert "sku" in refused.json()["error"]["message"]
    assert Import.objects.count() == 1


def test_warehouse_staff_cannot_upload(users):
    response = logged_in(users["Warehouse"]).post(
        reverse("admin:imports_upload"), {"file": csv_file("sku\nX\n")}
    )
    assert response.status_code == 403
    assert not Import.objects.exists()


def test_the_import_page_shows_progress_and_cancels(users):
    imp = import_create(file=csv_file("sku,name\nP-1,x\n"), actor=users["Manager"],
                        context=TEST_CONTEXT)  # fmt: skip
    client = logged_in(users["Manager"])
    url = reverse("admin:imports_import_change", args=[imp.pk])

    page = client.get(url)
    assert page.status_code == 200
    assert b'id="import-progress"' in page.content
    assert b"Cancel import" in page.content

    client.post(reverse("admin:imports_cancel", args=[imp.pk]))
    imp.refresh_from_db()
    assert imp.status == ImportStatus.CANCELLED
    assert b"Cancel import" not in client.get(url).content


def test_a_failed_import_is_retried_from_its_page(users, monkeypatch):
    imp = import_create(file=csv_file("sku,name\nR-1,x\n"), actor=users["Manager"],
                        context=TEST_CONTEXT)  # fmt: skip
    from imports import engine

    monkeypatch.setattr(engine, "stage_prepare", lambda **kw: 1 / 0)
    import_process(import_id=imp.pk)
    monkeypatch.undo()
    client = logged_in(users["Manager"])
    assert (
        b"Retry import" in client.get(reverse("admin:imports_import_change", args=[imp.pk])).content
    )

    client.post(reverse("admin:imports_retry", args=[imp.pk]))
    import_process(import_id=imp.pk)

    imp.refresh_from_db()
    assert imp.status == ImportStatus.COMPLETED
    assert Sku.objects.filter(code="R-1").exists()


def _bulk(client, data, query=""):
    return client.post(reverse("admin:catalogue_product_changelist") + query, data)


def test_bulk_delete_needs_the_count_typed_then_deletes_all_matching(users):
    client = logged_in(users["Manager"])
    live = Product.objects.live().count()
    assert live >= 5
    base = {"action": "products_bulk_delete", "select_across": "1",
            "_selected_action": [str(Product.objects.first().pk)]}  # fmt: skip

    # the confirmation shows how many
    confirm = _bulk(client, base)
    assert confirm.status_code == 200
    assert f'<strong id="bulk-count">{live}</strong>'.encode() in confirm.content
    # a wrong number deletes nothing
    _bulk(client, {**base, "confirm_count": str(live - 1)})
    assert Product.objects.live().count() == live
    # the right one deletes every matching product and their SKUs
    _bulk(client, {**base, "confirm_count": str(live)})
    assert Product.objects.live().count() == 0
    assert Sku.objects.live().count() == 0
    # and one audit record names how many and what was chosen (integrators' one
    # products.bulk_deleted event), none per product
    (record,) = AuditRecord.objects.filter(entity_type="PRODUCT", transition__contains="delete")
    assert record.transition == "bulk_delete"
    assert (record.metadata["deleted"], record.metadata["selection"]) == (live, {"all": True})


def test_bulk_delete_of_the_selection_only_and_restore(users):
    client = logged_in(users["Manager"])
    chosen = list(Product.objects.live().order_by("pk")[:2])
    ids = [str(p.pk) for p in chosen]
    base = {"action": "products_bulk_delete", "select_across": "0", "_selected_action": ids}
    _bulk(client, {**base, "confirm_count": "2"})
    assert Product.objects.deleted().count() == 2
    (record,) = AuditRecord.objects.filter(transition="bulk_delete")
    assert record.metadata["selection"] == {"ids": sorted(ids)}

    # restore, from the list of deleted products
    _bulk(client, {"action": "restore", "select_across": "0", "_selected_action": ids},
          query="?life=deleted")  # fmt: skip

    assert Product.objects.deleted().count() == 0
