"""Helpers shared by the services that move a django-fsm-2 status (orders, returns)."""

from collections.abc import Iterable, Mapping
from typing import Any

from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import models, transaction

from articurated.errors import NotFound, ValidationFailed


def fsm_allowed_targets(instance, *, states: Iterable[str]) -> list[str]:
    """The states the instance's state machine allows next, in the order of `states` (the
    lifecycle order), so an order in PENDING_PAYMENT gives ["PAID", "CANCELLED"]."""
    targets = {str(t.target) for t in instance.get_available_status_transitions()}
    return [state for state in states if state in targets]


def row_lock_rollback_unsafe(model: type[models.Model], pk, *, label: str, **related):
    """SELECT … FOR UPDATE of one row, or NotFound (also for an id that is not a UUID).
    Inside the caller's transaction (asserted): the lock lasts until it ends."""
    assert transaction.get_connection().in_atomic_block, "lock rows inside atomic()"
    try:
        return model.objects.select_for_update(**related).get(pk=pk)
    except (model.DoesNotExist, DjangoValidationError, ValueError):
        raise NotFound(f"{label} {pk} does not exist.") from None


def inputs_require(values: Mapping[str, Any]) -> None:
    """VALIDATION_ERROR naming each input that is missing or blank."""
    missing = {name: ["This field is required."] for name, value in values.items() if not value}
    if missing:
        raise ValidationFailed(f"Missing {', '.join(missing)}.", details=missing)
