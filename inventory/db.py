"""The triggers that make stock movements append-only (the audit table's mechanism)."""

from articurated.db import AppendOnlyTriggers

MOVEMENT_TRIGGERS = AppendOnlyTriggers(
    "inventory_stockmovement", prefix="movement", message="stock movements are append-only"
)


def triggers_install(connection) -> None:
    MOVEMENT_TRIGGERS.install(connection)


def triggers_remove(connection) -> None:
    MOVEMENT_TRIGGERS.remove(connection)
