"""articurated_number_next(prefix, year) on PostgreSQL: the next value of that prefix and year's
database sequence, made by its first call and started after the year's counter row
(articurated.sequences.sequence_next_number_unlocked_rollback_unsafe). Nothing on SQLite."""

from django.db import migrations

CREATE = """
CREATE OR REPLACE FUNCTION articurated_number_next(p_prefix text, p_year integer)
RETURNS bigint LANGUAGE plpgsql AS $$
DECLARE
    name text := format('articurated_number_%s_%s', lower(p_prefix), p_year);
    counted bigint;
BEGIN
    IF to_regclass(name) IS NULL THEN
        SELECT last_value INTO counted FROM {table} WHERE prefix = p_prefix AND year = p_year;
        BEGIN
            EXECUTE format('CREATE SEQUENCE %I START WITH %s', name, coalesce(counted, 0) + 1);
        EXCEPTION WHEN duplicate_table OR unique_violation THEN
            NULL;  -- the year's first numbers were taken at once: another call made it
        END;
    END IF;
    RETURN nextval(name);
END
$$;
"""

DROP = "DROP FUNCTION IF EXISTS articurated_number_next(text, integer);"


def forwards(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        table = schema_editor.quote_name(
            apps.get_model("articurated", "NumberSequence")._meta.db_table
        )
        # No parameters: the function's own `%s` are format()'s, not placeholders.
        schema_editor.execute(CREATE.replace("{table}", table), params=None)


def backwards(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(DROP, params=None)


class Migration(migrations.Migration):
    dependencies = [("articurated", "0001_initial")]

    operations = [migrations.RunPython(forwards, backwards)]
