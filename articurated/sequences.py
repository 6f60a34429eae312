from django.db import connection, transaction
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
