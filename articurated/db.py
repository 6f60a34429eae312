"""Raw SQL that differs by database (triggers), run the same way by every app that has some."""

from collections.abc import Sequence


def vendor_sql_run(connection, *, postgresql: str, sqlite: Sequence[str]) -> None:
    """Runs the PostgreSQL script, or the SQLite statements one by one (SQLite's driver takes
    one statement per execute); other databases get nothing."""
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute(postgresql)
        elif connection.vendor == "sqlite":
            for statement in sqlite:
                cursor.execute(statement)
