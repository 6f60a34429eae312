"""Helpers shared by the services that move a django-fsm-2 status (orders, returns)."""

from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import models, transaction

from articurated.errors import NotFound, ValidationFailed


def fsm_allowed_targets(instance, *, states: Iterable[str]) -> list[str]:
    """The states the instance's state machine allows next, in the order of `states` (the
    lifecycle order), so an order in PENDING_PAYMENT gives ["PAID", "CANCELLED"]."""
    targets = {str(t.target) for t in instance.get_available_status_transitions()}
    return [state for state in states if state in targets]


def row_lock_rollback_unsafe(
    model: type[models.Model], pk, *, label: str, select_related: Sequence[str] = ()
):
    """SELECT … FOR UPDATE of one row, or NotFound (also for an id that is not a UUID).
    Related rows are read with it but only this row is locked (FOR UPDATE OF self).
    Inside the caller's transaction (asserted): the lock lasts until it ends."""
    assert transaction.get_connection().in_atomic_block, "lock rows inside atomic()"
    rows = model.objects.select_for_update(of=("self",)).select_related(*select_related)
    try:
        return rows.get(pk=pk)
    except (model.DoesNotExist, DjangoValidationError, ValueError):
        raise NotFound(f"{label} {pk} does not exist.") from None


def inputs_require(values: Mapping[str, Any]) -> None:
    """VALIDATION_ERROR naming each input that is missing or blank."""
    missing = {name: ["This field is required."] for name, value in values.items() if not value}
    if missing:
        raise ValidationFailed(f"Missing {', '.join(missing)}.", details=missing)
