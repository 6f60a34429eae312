"""The CSV rules of API.md "Imports (CSV)", as a manager sees them after an import: what is in
the catalogue, the counts, the error list, the stock and its movements."""

import pytest
from django.utils import timezone

from audit.models import AuditRecord
from catalogue.models import Category, Product, Sku
from conftest import (
    TEST_CONTEXT,
    requires_postgres,
    statement_timeout_seen_on,
    statement_timeout_show,
)
from imports.models import ImportStatus
from imports.services import import_cancel, import_create, import_process, import_retry
from imports.signals import import_completed
from imports.tests.conftest import csv_file
from inventory.models import StockLevel, StockMovement

pytestmark = pytest.mark.django_db


def counts(imp):
    return {k: getattr(imp, k) for k in ("created", "updated", "unchanged", "invalid")}


def test_new_skus_are_created_with_product_category_and_stock(run_import):
    # when
    imp = run_import(
        "sku,name,description,price,currency,category,active,stock,attributes\n"
        'MUG-1,Blue mug,Stoneware,12.50,eur,Ceramics / Mugs,yes,4,"{""glaze"": ""blue""}"\n'
        "MUG-2,Red mug,,13.00,EUR,Ceramics > Mugs,0,0,\n"
    )

    # then
    assert imp.status == ImportStatus.COMPLETED
    assert counts(imp) == {"created": 2, "updated": 0, "unchanged": 0, "invalid": 0}
    assert (imp.total_rows, imp.processed_rows, imp.percent) == (2, 2, 100.0)
    mug = Sku.objects.select_related("product__category").get(code="MUG-1")
    assert mug.product.name == "Blue mug"
    assert mug.product.description == "Stoneware"
    assert str(mug.price) == "12.50" and mug.currency == "EUR"
    assert mug.attributes == {"glaze": "blue"}
    assert mug.active is True and Sku.objects.get(code="MUG-2").active is False
    mugs = Category.objects.get(name="Mugs")
    assert mugs.parent.name == "Ceramics"
    assert Sku.objects.get(code="MUG-2").product.category == mugs  # both separators, one tree
    assert StockLevel.objects.get(sku=mug).on_hand == 4
    movement = StockMovement.objects.get(sku=mug)
    assert (movement.reason, movement.delta_on_hand, movement.import_id) == ("IMPORTED", 4, imp.pk)
    assert StockLevel.objects.get(sku__code="MUG-2").on_hand == 0


def test_upsert_is_case_insensitive_and_keeps_the_code_as_written(run_import):
    # given VASE-01 from the test catalogue
    before = Sku.objects.get(code="VASE-01")

    # when a file names it in lower case with a new price and stock
    imp = run_import("SKU,PRICE,STOCK\nvase-01,51.00,12\n")

    # then the same SKU changed, its version went up, and no second SKU appeared
    assert counts(imp) == {"created": 0, "updated": 1, "unchanged": 0, "invalid": 0}
    sku = Sku.objects.get(pk=before.pk)
    assert sku.code == "VASE-01"
    assert str(sku.price) == "51.00"
    assert sku.version == before.version + 1
    assert Sku.objects.filter(code__iexact="vase-01").count() == 1
    level = StockLevel.objects.get(sku=sku)
    assert level.on_hand == 12
    movement = StockMovement.objects.filter(sku=sku, import_id=imp.pk).get()
    assert movement.reason == "IMPORTED"
    assert movement.delta_on_hand == 12 - 1_000_000


def test_the_last_row_of_a_sku_wins(run_import):
    imp = run_import("sku,name,price\nNEW-1,First,1.00\nnew-1,Second,2.00\nNEW-1,Third,3.00\n")

    assert counts(imp) == {"created": 1, "updated": 0, "unchanged": 0, "invalid": 0}
    assert imp.processed_rows == imp.total_rows == 3
    sku = Sku.objects.get(code__iexact="new-1")
    assert (sku.product.name, str(sku.price)) == ("Third", "3.00")


@pytest.mark.parametrize("bom", [False, True])
@pytest.mark.parametrize("delimiter", [",", ";"])
def test_delimiter_and_bom_are_detected(run_import, delimiter, bom):
    text = delimiter.join(["Price", "sku", "Name"]) + "\n"
    text += delimiter.join(["7.00", "BOM-1", '"Plate, small"' if delimiter == "," else "Plate"])
    imp = run_import(text + "\n", bom=bom)

    assert imp.status == ImportStatus.COMPLETED, imp.error
    assert counts(imp)["created"] == 1
    sku = Sku.objects.get(code="BOM-1")
    assert str(sku.price) == "7.00"
    assert sku.product.name in ("Plate, small", "Plate")


def test_invalid_rows_are_reported_and_skipped(run_import):
    imp = run_import(
        "sku,name,price,currency,active,stock,attributes,category\n"
        "OK-1,Fine,1.00,USD,true,1,,\n"
        "bad code,Nope,1.00,,,,,\n"
        "OK-2,,1.00,,,,,\n"
        "OK-3,Pricey,1.005,,,,,\n"
        "OK-4,Money,1.00,dollars,,,,\n"
        "OK-5,Flag,1.00,,maybe,,,\n"
        "OK-6,Stock,1.00,,,-3,,\n"
        'OK-7,Attrs,1.00,,,,"[1,2]",\n'
        "OK-8,Cat,1.00,,,,,A /  / B\n"
        ",No code,1.00,,,,,\n"
    )

    assert imp.status == ImportStatus.COMPLETED
    assert counts(imp) == {"created": 1, "updated": 0, "unchanged": 0, "invalid": 9}
    assert imp.processed_rows == imp.total_rows == 10
    errors = list(imp.row_errors.order_by("row").values_list("row", "column", "value"))
    assert errors == [
        (3, "sku", "bad code"),
        (4, "name", ""),
        (5, "price", "1.005"),
        (6, "currency", "dollars"),
        (7, "active", "maybe"),
        (8, "stock", "-3"),
        (9, "attributes", "[1,2]"),
        (10, "category", "A /  / B"),
        (11, "sku", ""),
    ]
    assert all(message for message in imp.row_errors.values_list("message", flat=True))
    assert not Sku.objects.filter(code__startswith="OK-").exclude(code="OK-1").exists()
    assert not Category.objects.filter(name="A").exists()


def test_deleted_skus_are_restored(run_import, users):
    # given a SKU deleted with its product
    from catalogue.services import product_delete

    sku = Sku.objects.get(code="BOWL-02")
    product_delete(product_id=sku.product_id, actor=users["Manager"], context=TEST_CONTEXT,
                   expected_version=sku.product.version)  # fmt: skip

    # when a file names it again
    imp = run_import("sku,price\nbowl-02,21.00\n")

    # then it is live again, with its product, and counted as updated
    assert counts(imp) == {"created": 0, "updated": 1, "unchanged": 0, "invalid": 0}
    sku = Sku.objects.get(pk=sku.pk)
    assert sku.deleted_at is None and str(sku.price) == "21.00"
    assert Product.objects.get(pk=sku.product_id).deleted_at is None


def _sku_deleted_and_code_reused(users, code: str) -> tuple[Sku, Sku]:
    """A SKU deleted, then its code (in another case) given to a new SKU of the same product:
    (the deleted one, the new one)."""
    from catalogue.services import sku_create, sku_delete

    manager = users["Manager"]
    old = Sku.objects.get(code=code)
    sku_delete(sku_id=old.pk, actor=manager, context=TEST_CONTEXT, expected_version=old.version)
    new = sku_create(actor=manager, context=TEST_CONTEXT, product_id=old.product_id,
                     sku=code.lower(), price="5.00", currency=old.currency)  # fmt: skip
    return old, new


def test_a_live_sku_wins_over_a_deleted_one_with_its_code(run_import, users):
    # given VASE-01 deleted and its code taken by a new live SKU
    old, new = _sku_deleted_and_code_reused(users, "VASE-01")

    # when a file names the code
    imp = run_import("sku,price\nVase-01,7.00\n")

    # then the live SKU is updated and the deleted one stays deleted, as it was
    assert counts(imp) == {"created": 0, "updated": 1, "unchanged": 0, "invalid": 0}
    new.refresh_from_db()
    old.refresh_from_db()
    assert (new.deleted_at, str(new.price)) == (None, "7.00")
    assert old.deleted_at is not None and str(old.price) != "7.00"


def test_of_two_deleted_skus_with_one_code_the_latest_deleted_is_restored(run_import, users):
    # given VASE-01 deleted, its code reused by a new SKU, and that one deleted too
    from catalogue.services import sku_delete

    old, new = _sku_deleted_and_code_reused(users, "VASE-01")
    sku_delete(sku_id=new.pk, actor=users["Manager"], context=TEST_CONTEXT,
               expected_version=new.version)  # fmt: skip

    # when a file names the code
    imp = run_import("sku,price\nVASE-01,8.00\n")

    # then the one deleted last comes back; the older stays deleted
    assert counts(imp)["updated"] == 1
    new.refresh_from_db()
    old.refresh_from_db()
    assert (new.deleted_at, str(new.price)) == (None, "8.00")
    assert old.deleted_at is not None


def _table_counts(column: str) -> dict:
    """PostgreSQL's per-table maintenance counter `column` (analyze_count, vacuum_count) of
    the tables an import writes."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT relname, {column} FROM pg_stat_user_tables WHERE relname IN "
            "('catalogue_product', 'catalogue_sku', 'inventory_stocklevel')"
        )
        return dict(cursor.fetchall())


@requires_postgres()
@pytest.mark.django_db(transaction=True)
@pytest.mark.empty_catalogue
def test_a_large_import_leaves_the_planner_statistics_of_what_it_wrote(run_import):
    # given catalogue tables the planner has never analyzed (autovacuum may be off or late)
    from django.db import connection

    before = _table_counts("analyze_count")

    # when an import writes more than a tenth of them
    rows = "".join(f"ST-{i},Stat {i},1.00,1,Prints\n" for i in range(30))
    imp = run_import("sku,name,price,stock,category\n" + rows)

    # then they were analyzed before it reported COMPLETED (a bulk delete of what it imported
    # plans with real row counts: without them it ran past five minutes)
    assert imp.status == ImportStatus.COMPLETED
    after = _table_counts("analyze_count")
    assert all(after[table] > before.get(table, 0) for table in after), (before, after)
    with connection.cursor() as cursor:
        cursor.execute("SELECT reltuples FROM pg_class WHERE relname = 'catalogue_sku'")
        assert cursor.fetchone()[0] == 30


@requires_postgres()
@pytest.mark.django_db(transaction=True)
@pytest.mark.empty_catalogue
def test_an_import_that_rewrote_a_fifth_of_the_skus_vacuums_them(run_import):
    # given 30 imported SKUs (autovacuum may be off or late)
    rows = "".join(f"VAC-{i},Vac {i},1.00,Prints\n" for i in range(30))
    run_import("sku,name,price,category\n" + rows)
    before = _table_counts("vacuum_count")["catalogue_sku"]

    # when a second file changes the price of 10 of them (a third: over a fifth)
    changed = "".join(f"VAC-{i},2.00\n" for i in range(10))
    imp = run_import("sku,price\n" + changed)

    # then their table was vacuumed (its dead rows reclaimed) before COMPLETED
    assert imp.status == ImportStatus.COMPLETED and imp.updated == 10
    assert _table_counts("vacuum_count")["catalogue_sku"] == before + 1


def test_rows_with_the_same_product_are_variants_of_one_product(run_import):
    imp = run_import(
        "sku,product,name,category\nTEE-S,tee,T-shirt,Textiles\nTEE-M,TEE,T-shirt,Textiles\n"
        "SOLO,,Solo,Textiles\n"
    )

    assert counts(imp)["created"] == 3
    tee = Sku.objects.get(code="TEE-S").product
    assert set(tee.skus.values_list("code", flat=True)) == {"TEE-S", "TEE-M"}
    assert Sku.objects.get(code="SOLO").product != tee


def test_the_same_file_again_changes_nothing(run_import):
    text = "sku,name,price,stock,category\nR-1,One,1.00,5,Prints\nR-2,Two,2.00,6,Prints\n"
    first = run_import(text)
    versions = dict(Sku.objects.filter(code__startswith="R-").values_list("code", "version"))
    movements = StockMovement.objects.count()

    again = run_import(text)

    assert counts(first)["created"] == 2
    assert counts(again) == {"created": 0, "updated": 0, "unchanged": 2, "invalid": 0}
    assert dict(Sku.objects.filter(code__startswith="R-").values_list("code", "version")) == (
        versions
    )
    assert StockMovement.objects.count() == movements


def test_stock_below_allocated_is_refused_for_that_row(run_import):
    # given orders holding 2 units of CUP
    level = StockLevel.objects.get(sku__code="CUP")
    StockLevel.objects.filter(pk=level.pk).update(allocated=2)

    # when a file sets its stock to 1, and another SKU's to 3
    imp = run_import("sku,stock\nCUP,1\nPEN,3\n")

    # then CUP is refused (and untouched), PEN is set
    assert counts(imp) == {"created": 0, "updated": 1, "unchanged": 0, "invalid": 1}
    error = imp.row_errors.get()
    assert (error.row, error.column, error.value) == (2, "stock", "1")
    assert StockLevel.objects.get(sku__code="CUP").on_hand == 1_000_000
    assert StockLevel.objects.get(sku__code="PEN").on_hand == 3


def test_one_audit_record_per_import_not_per_row(run_import):
    before = AuditRecord.objects.count()
    imp = run_import("sku,name\n" + "".join(f"AUD-{i},Thing {i}\n" for i in range(50)))

    records = AuditRecord.objects.filter(entity_id=imp.pk).order_by("created_at")
    assert [r.transition for r in records] == ["import_queue", "import_completed"]
    assert records.last().metadata["created"] == 50
    assert AuditRecord.objects.count() == before + 2


def test_small_batches_give_the_same_result(run_import, settings):
    settings.IMPORT_BATCH_PRODUCTS = 3
    imp = run_import("sku,name,stock\n" + "".join(f"B-{i},Thing {i},{i}\n" for i in range(10)))

    assert imp.batches_done == 4
    assert counts(imp) == {"created": 10, "updated": 0, "unchanged": 0, "invalid": 0}
    assert StockLevel.objects.get(sku__code="B-9").on_hand == 9


def test_cancel_stops_at_the_next_batch_and_keeps_what_was_committed(
    users, settings, tmp_path, monkeypatch
):
    # given an import of 10 products in batches of 3
    settings.MEDIA_ROOT = tmp_path
    settings.IMPORT_BATCH_PRODUCTS = 3
    text = "sku,name\n" + "".join(f"C-{i},Thing {i}\n" for i in range(10))
    imp = import_create(file=csv_file(text), actor=users["Manager"], context=TEST_CONTEXT)

    # when the manager cancels it while its second batch is being applied
    from imports import engine

    real = engine.batch_apply

    def apply_then_cancel(**kwargs):
        counts_ = real(**kwargs)
        if kwargs["batch_no"] == 1:
            import_cancel(import_id=imp.pk, actor=users["Manager"], context=TEST_CONTEXT)
        return counts_

    monkeypatch.setattr(engine, "batch_apply", apply_then_cancel)
    import_process(import_id=imp.pk)

    # then the two batches committed stay and are counted; nothing after them
    imp.refresh_from_db()
    assert imp.status == ImportStatus.CANCELLED
    assert imp.created == 6 and imp.batches_done == 2
    assert Sku.objects.filter(code__startswith="C-").count() == 6
    assert imp.finished_at is not None


def test_cancel_of_an_ended_import_is_refused(run_import, users):
    from imports.services import ImportFinished

    imp = run_import("sku,name\nEND-1,x\n")

    with pytest.raises(ImportFinished):
        import_cancel(import_id=imp.pk, actor=users["Manager"], context=TEST_CONTEXT)


def test_a_failed_import_is_retried_and_resumes_with_true_counts(
    users, settings, tmp_path, monkeypatch
):
    # given an import whose third batch fails
    settings.MEDIA_ROOT = tmp_path
    settings.IMPORT_BATCH_PRODUCTS = 2
    text = "sku,name,stock\n" + "".join(f"F-{i},Thing {i},{i + 1}\n" for i in range(7))
    imp = import_create(file=csv_file(text), actor=users["Manager"], context=TEST_CONTEXT)
    from imports import engine

    real = engine.batch_apply

    def failing(**kwargs):
        if kwargs["batch_no"] == 2:
            raise RuntimeError("database went away")
        return real(**kwargs)

    monkeypatch.setattr(engine, "batch_apply", failing)
    import_process(import_id=imp.pk)
    imp.refresh_from_db()
    assert imp.status == ImportStatus.FAILED
    assert "database went away" in imp.error
    assert (imp.created, imp.batches_done) == (4, 2)

    # when the manager retries it (the fault gone)
    monkeypatch.setattr(engine, "batch_apply", real)
    import_retry(import_id=imp.pk, actor=users["Manager"], context=TEST_CONTEXT)
    import_process(import_id=imp.pk)

    # then it completes, each row applied once, counted once
    imp.refresh_from_db()
    assert imp.status == ImportStatus.COMPLETED
    assert counts(imp) == {"created": 7, "updated": 0, "unchanged": 0, "invalid": 0}
    assert imp.processed_rows == 7
    assert StockMovement.objects.filter(import_id=imp.pk).count() == 7
    assert imp.attempts == 2


@pytest.mark.django_db(transaction=True)
def test_the_sweep_resends_a_silent_import(
    users, settings, tmp_path, jobs, django_capture_on_commit_callbacks
):
    from imports.models import Import
    from imports.services import import_sweep

    settings.MEDIA_ROOT = tmp_path
    imp = import_create(file=csv_file("sku,name\nSW-1,x\n"), actor=users["Manager"],
                        context=TEST_CONTEXT)  # fmt: skip
    jobs.broker.flush_all()  # the message is lost
    Import.objects.filter(pk=imp.pk).update(heartbeat_at=timezone.now() - timezone.timedelta(1))

    with django_capture_on_commit_callbacks(execute=True):
        assert import_sweep(grace_seconds=60) == 1
    assert [m.actor_name for m in jobs.queued("imports")] == ["import_process_job"]
    jobs.drain()

    imp.refresh_from_db()
    assert imp.status == ImportStatus.COMPLETED


@requires_postgres()
@pytest.mark.django_db(transaction=True)
def test_an_import_runs_under_the_bulk_limit_and_gives_the_connection_its_own_back(
    run_import, settings
):
    # given a worker connection with a request's statement limit, the bulk limit at 5 minutes
    settings.DATABASE_BULK_STATEMENT_TIMEOUT = 300

    # when an import runs to the end (the limit in force read as it completes)
    with statement_timeout_seen_on(import_completed) as seen:
        imp = run_import("sku,name\nLIM-1,Limit mug\n")

    # then it ran under the bulk limit, and the connection has its own limit again
    assert imp.status == ImportStatus.COMPLETED
    assert seen == ["5min"]
    assert statement_timeout_show() == "5s"
