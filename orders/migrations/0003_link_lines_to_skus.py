"""Existing order lines gain their SKU where a live SKU has the line's code (any case); the
others stay unlinked. No stock is taken for them (they were never allocated)."""

from django.db import migrations

LINK = """
UPDATE orders_lineitem SET sku_id = (
    SELECT s.id FROM catalogue_sku s
    WHERE lower(s.code) = lower(orders_lineitem.sku) AND s.deleted_at IS NULL
)
WHERE sku_id IS NULL AND EXISTS (
    SELECT 1 FROM catalogue_sku s
    WHERE lower(s.code) = lower(orders_lineitem.sku) AND s.deleted_at IS NULL
)
"""


def lines_link(connection) -> None:
    with connection.cursor() as cursor:
        cursor.execute(LINK)


def forwards(apps, schema_editor):
    lines_link(schema_editor.connection)


class Migration(migrations.Migration):
    dependencies = [("orders", "0002_lineitem_catalogue_sku"), ("catalogue", "0001_initial")]
    operations = [migrations.RunPython(forwards, migrations.RunPython.noop)]
