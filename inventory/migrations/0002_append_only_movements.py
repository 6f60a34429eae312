from django.db import migrations

from inventory.db import triggers_install, triggers_remove


def install(apps, schema_editor):
    triggers_install(schema_editor.connection)


def remove(apps, schema_editor):
    triggers_remove(schema_editor.connection)


class Migration(migrations.Migration):
    dependencies = [("inventory", "0001_initial")]
    operations = [migrations.RunPython(install, remove)]
