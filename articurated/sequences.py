from django.db import connection, transaction
from django.db.models.expressions import RawSQL
from django.utils import timezone

from articurated.models import NumberSequence


def sequence_next_number_rollback_unsafe(*, prefix: str) -> str:
    """Next human number such as ORD-2026-000042.

    Must run inside the caller's transaction (it asserts so): the UPDATE locks the counter row
    until that transaction ends, so concurrent callers queue up, and a rollback returns the
    number. That is what keeps the sequence free of gaps and duplicates.
    """
    assert transaction.get_connection().in_atomic_block, "allocate numbers inside atomic()"
    year = timezone.now().year
    value = _increment(prefix, year)
    if value is None:
        # The first number of a year: create the row (a racing creator makes ours a no-op).
        NumberSequence.objects.bulk_create(
            [NumberSequence(prefix=prefix, year=year, last_value=0)], ignore_conflicts=True
        )
        value = _increment(prefix, year)
    return f"{prefix}-{year}-{value:06d}"


def sequence_next_number_unlocked_rollback_unsafe(*, prefix: str) -> str:
    """Next human number such as ORD-2026-000042, holding no lock until commit: for numbers
    that must be unique and increasing but may skip (orders; invoices stay gapless).

    On PostgreSQL a database sequence per prefix and year gives it (`articurated_number_next`,
    migration 0002): concurrent callers never wait for each other, and a transaction that rolls
    back after taking a number leaves that number unused. The year's sequence is made by its
    first number and continues from the year's counter row, if there is one. On SQLite this is
    sequence_next_number_rollback_unsafe: its writers queue for the database anyway."""
    number = sequence_next_number_unlocked_value(prefix=prefix)
    if isinstance(number, str):
        return number
    with connection.cursor() as cursor:
        cursor.execute(number.sql, number.params)
        return cursor.fetchone()[0]


def sequence_next_number_unlocked_value(*, prefix: str) -> str | RawSQL:
    """sequence_next_number_unlocked_rollback_unsafe as a new row's field value: on PostgreSQL
    the SQL expression that takes the number in the row's own INSERT (one statement fewer;
    articurated.db.row_save_new_rollback_unsafe reads it back), elsewhere the number."""
    assert transaction.get_connection().in_atomic_block, "allocate numbers inside atomic()"
    if connection.vendor != "postgresql":
        return sequence_next_number_rollback_unsafe(prefix=prefix)
    year = timezone.now().year
    # The sequence is named number_sequence_name(prefix, year); made by its first call.
    return RawSQL(_NUMBER_SQL, (f"{prefix}-{year}-", prefix, year))  # noqa: S611 - fixed text


# `{value:06d}`: six digits at least, more when the year needs them (lpad alone would cut).
_NUMBER_SQL = (
    "SELECT %s || CASE WHEN n < 1000000 THEN lpad(n::text, 6, '0') ELSE n::text END "
    "FROM articurated_number_next(%s, %s) AS n"
)


def number_sequence_name(prefix: str, year: int) -> str:
    """The PostgreSQL sequence of a prefix and year (articurated_number_next builds the same
    name), for bulk loaders that write numbers themselves."""
    return f"articurated_number_{prefix.lower()}_{year}"


def _increment(prefix: str, year: int) -> int | None:
    # One statement (UPDATE … RETURNING, PostgreSQL and SQLite 3.35+): the counter row is
    # locked from here to commit, so the fewer round trips after it the better.
    table = connection.ops.quote_name(NumberSequence._meta.db_table)
    with connection.cursor() as cursor:
        cursor.execute(
            f"UPDATE {table} SET last_value = last_value + 1 "  # noqa: S608 - a model's table
            "WHERE prefix = %s AND year = %s RETURNING last_value",
            [prefix, year],
        )
        row = cursor.fetchone()
    return None if row is None else row[0]
