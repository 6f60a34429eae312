from django.db import migrations

from audit.db import triggers_install


def install(apps, schema_editor):
    # The shared triggers (articurated.db.append_only_install) also refuse SQLite's REPLACE.
    triggers_install(schema_editor.connection)


class Migration(migrations.Migration):
    dependencies = [("audit", "0002_append_only_triggers")]
    operations = [migrations.RunPython(install, migrations.RunPython.noop)]
