from django.db import transaction
from django.db.models import F
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
    # Creating the row for a new year may race; ignore_conflicts makes the loser a no-op.
    NumberSequence.objects.bulk_create(
        [NumberSequence(prefix=prefix, year=year, last_value=0)], ignore_conflicts=True
    )
    NumberSequence.objects.filter(prefix=prefix, year=year).update(last_value=F("last_value") + 1)
    value = NumberSequence.objects.get(prefix=prefix, year=year).last_value
    return f"{prefix}-{year}-{value:06d}"
