from django.conf import settings
from django.db import models


class NumberSequence(models.Model):
    """One counter per (prefix, year). Incremented inside the transaction that uses the number,
    so a rolled-back transaction gives its number back: the numbers stay gapless (invoices,
    returns). Order numbers on PostgreSQL come from a sequence that starts after this row
    (articurated.sequences.sequence_next_number_unlocked_rollback_unsafe)."""

    prefix = models.CharField(max_length=8)
    year = models.PositiveSmallIntegerField()
    last_value = models.PositiveIntegerField(default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["prefix", "year"], name="unique_sequence_per_year")
        ]

    def __str__(self) -> str:
        return f"{self.prefix}-{self.year}: {self.last_value}"


class IdempotencyKey(models.Model):
    """The first response to a POST made with an Idempotency-Key, replayed for 24 hours."""

    class State(models.TextChoices):
        IN_PROGRESS = "IN_PROGRESS"
        COMPLETED = "COMPLETED"

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE)
    scope = models.CharField(max_length=100)
    key = models.CharField(max_length=255)
    request_hash = models.CharField(max_length=64)
    state = models.CharField(max_length=12, choices=State.choices, default=State.IN_PROGRESS)
    response_status = models.PositiveSmallIntegerField(null=True)
    response_body = models.JSONField(null=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["user", "scope", "key"], name="unique_idempotency_key_per_user"
            )
        ]

    def __str__(self) -> str:
        return f"{self.scope} {self.key} ({self.state})"
