"""Every write to a return goes through these functions (STYLE.md rule 1).

Creation locks the order row, so the units of one order are counted and taken by one request
at a time. A transition checks the actor's permission, opens a transaction, locks the return
row (and, for reject and complete, which touch the order, the order row first: order before
return, the same order as creation, so they never deadlock), checks the
transition is allowed from the current state, calls the pure @transition method, saves with
update_fields, and writes exactly one audit record in the same transaction.
On SQLite the IMMEDIATE transaction holds the database write lock instead of row locks.
"""

import uuid
from collections.abc import Callable, Iterable, Mapping
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import transaction
from django.db.models import F, Sum
from django.utils import timezone
from django_fsm import can_proceed

from articurated.context import ActionContext
from articurated.errors import InvalidTransition, NotFound, PermissionDenied, ValidationFailed
from articurated.fsm import fsm_allowed_targets, inputs_require, row_lock_rollback_unsafe
from articurated.sequences import sequence_next_number_rollback_unsafe
from audit.models import EntityType
from audit.services import audit_record_create_rollback_unsafe
from inventory.services import StockLine, stock_return_rollback_unsafe
from orders.models import LineItem, Order, OrderStatus
from returns.errors import OrderNotReturnable, ReturnWindowExpired
from returns.models import Return, ReturnLine, ReturnReason, ReturnStatus
from returns.signals import return_completed

# Each target state is reached by exactly one transition.
TRANSITION_BY_TARGET = {
    ReturnStatus.APPROVED: "approve",
    ReturnStatus.REJECTED: "reject",
    ReturnStatus.IN_TRANSIT: "mark_in_transit",
    ReturnStatus.RECEIVED: "receive",
    ReturnStatus.COMPLETED: "complete",
}


def return_allowed_transitions(return_obj: Return) -> list[str]:
    """States the state machine allows next from the return's current state, in lifecycle
    order (so REQUESTED gives ["APPROVED", "REJECTED"])."""
    return fsm_allowed_targets(return_obj, states=ReturnStatus.values)


def return_may(actor, transition_name: str) -> bool:
    """Whether this actor's role may ever make the transition (None is the system)."""
    return actor is None or actor.has_perm(f"returns.{transition_name}_return")


def _user(actor):
    return actor if actor is not None and actor.is_authenticated else None


def _timestamp(value: datetime) -> str:
    # The same shape DRF gives timestamps in response bodies.
    return value.astimezone(UTC).isoformat().replace("+00:00", "Z")


def _return_lock_rollback_unsafe(return_id) -> Return:
    return row_lock_rollback_unsafe(Return, return_id, label="Return")


def _order_of_return_lock_rollback_unsafe(return_id) -> None:
    """Locks the order a return belongs to, before the return itself is locked."""
    try:
        order_id = Return.objects.filter(pk=return_id).values_list("order_id", flat=True).first()
    except (DjangoValidationError, ValueError):
        order_id = None
    if order_id is None:
        raise NotFound(f"Return {return_id} does not exist.")
    list(Order.objects.select_for_update().filter(pk=order_id).values_list("pk", flat=True))


def _return_transition_rollback_unsafe(
    *,
    return_id,
    name: str,
    actor,
    context: ActionContext,
    required: Mapping[str, Any] | None = None,
    fields: Iterable[str] = (),
    reason: str | None = None,
    metadata: dict | Callable[[Return], dict] | None = None,
    arguments: Mapping[str, Any] | None = None,
    lock_order: bool = False,
) -> Return:
    if not return_may(actor, name):
        raise PermissionDenied(f"Your role may not {name.replace('_', ' ')} returns.")
    if lock_order:
        _order_of_return_lock_rollback_unsafe(return_id)
    return_obj = _return_lock_rollback_unsafe(return_id)
    method = getattr(return_obj, name)
    if not can_proceed(method):
        target = next(str(t) for t, n in TRANSITION_BY_TARGET.items() if n == name)
        raise InvalidTransition(
            kind="return",
            number=return_obj.number,
            current=return_obj.status,
            requested=target,
            allowed=return_allowed_transitions(return_obj),
        )
    inputs_require(required or {})
    previous = return_obj.status
    method(**(arguments or {}))
    return_obj._history_user = _user(actor)
    return_obj.save(update_fields=["status", "updated_at", *fields])
    audit_record_create_rollback_unsafe(
        entity_type=EntityType.RETURN,
        entity_id=return_obj.pk,
        entity_number=return_obj.number,
        transition=name,
        previous_state=previous,
        new_state=return_obj.status,
        actor=actor,
        context=context,
        reason=reason,
        metadata=metadata(return_obj) if callable(metadata) else metadata,
    )
    return return_obj


# --- creation ------------------------------------------------------------------------------


def _order_lock_rollback_unsafe(order_id) -> Order:
    try:
        return Order.objects.select_for_update().get(pk=order_id)
    except (Order.DoesNotExist, DjangoValidationError, ValueError):
        # The id comes from the request body, so it is a bad field value, not an unknown path.
        raise ValidationFailed(
            f"Order {order_id} does not exist.", details={"order_id": ["No order with this id."]}
        ) from None


def _ensure_returnable(order: Order) -> None:
    if order.status != OrderStatus.DELIVERED:
        raise OrderNotReturnable(
            f"Order {order.number} is {order.status}; only a DELIVERED order can be returned.",
            details={"order_status": order.status},
        )
    window_days = settings.RETURN_WINDOW_DAYS
    # Exactly `window_days` after delivery is still inside the window.
    if timezone.now() > order.delivered_at + timedelta(days=window_days):
        raise ReturnWindowExpired(
            f"Order {order.number} was delivered more than {window_days} days ago.",
            details={"delivered_at": _timestamp(order.delivered_at), "window_days": window_days},
        )


def _units_left(order: Order, lines: list[LineItem]) -> dict[uuid.UUID, int]:
    """Units of each line not yet in a return that is not REJECTED (read under the order
    lock, so no other request can take them meanwhile)."""
    taken = dict(
        ReturnLine.objects.filter(line_item__order=order)
        .exclude(return_request__status=ReturnStatus.REJECTED)
        .values("line_item")
        .annotate(units=Sum("quantity"))
        .values_list("line_item", "units")
    )
    return {line.pk: line.quantity - (taken.get(line.pk) or 0) for line in lines}


def _as_uuid(value) -> uuid.UUID | None:
    try:
        return value if isinstance(value, uuid.UUID) else uuid.UUID(str(value))
    except (TypeError, ValueError, AttributeError):
        return None


def _chosen_units(
    *, order: Order, reason: str, items: list[Mapping[str, Any]] | None
) -> list[tuple[LineItem, int]]:
    """The (line, quantity) pairs the return takes; all units left when `items` is None.
    Every problem is reported at once, keyed like the request body (`items.0.quantity`)."""
    lines = list(order.items.order_by("position"))
    left = _units_left(order, lines)
    errors: dict[str, list[str]] = {}
    if reason not in ReturnReason.values:
        errors["reason"] = [f"Unknown reason; one of {', '.join(ReturnReason.values)}."]
    chosen: list[tuple[LineItem, int]] = []
    if items is None:
        chosen = [(line, left[line.pk]) for line in lines if left[line.pk] > 0]
        if not chosen:
            errors["items"] = ["Nothing left to return: every unit is already in a return."]
    elif not items:
        errors["items"] = ["At least one item is required."]
    else:
        by_id = {line.pk: line for line in lines}
        seen: set[uuid.UUID] = set()
        for index, item in enumerate(items):
            line = by_id.get(_as_uuid(item.get("line_item_id")))
            quantity = item.get("quantity")
            if line is None:
                errors[f"items.{index}.line_item_id"] = ["Not a line item of this order."]
            elif line.pk in seen:
                errors[f"items.{index}.line_item_id"] = ["This line item is listed twice."]
            elif not isinstance(quantity, int) or isinstance(quantity, bool) or quantity < 1:
                errors[f"items.{index}.quantity"] = ["Ensure this value is at least 1."]
            elif quantity > left[line.pk]:
                errors[f"items.{index}.quantity"] = [
                    f"Only {left[line.pk]} of {line.quantity} units of {line.sku} are left "
                    "to return."
                ]
            else:
                chosen.append((line, quantity))
            if line is not None:
                seen.add(line.pk)
    if errors:
        field, messages = next(iter(errors.items()))
        raise ValidationFailed(f"Cannot open this return: {field}: {messages[0]}", details=errors)
    return chosen


@transaction.atomic
def return_create(
    *,
    actor,
    context: ActionContext,
    order_id,
    reason: str,
    comment: str = "",
    items: list[Mapping[str, Any]] | None = None,
) -> Return:
    """Opens a REQUESTED return for units of a DELIVERED order, inside the return window.
    Support, integrator, manager (None = the system). `items` is a list of
    {"line_item_id", "quantity"}; None means every unit not yet returned.

    Locks the order row for the whole transaction, so concurrent returns of the same order
    count units one after the other; raises its `returned_quantity` with F() updates,
    allocates the next RMA number and writes the `create` audit record, all in this
    transaction. Sends nothing."""
    if actor is not None and not actor.has_perm("returns.add_return"):
        raise PermissionDenied("Your role may not open returns.")
    order = _order_lock_rollback_unsafe(order_id)
    _ensure_returnable(order)
    chosen = _chosen_units(order=order, reason=reason, items=items)

    lines = [
        ReturnLine(
            line_item=line,
            quantity=quantity,
            unit_price=line.unit_price,
            refund_amount=line.unit_price * quantity,
        )
        for line, quantity in chosen
    ]
    user = _user(actor)
    return_obj = Return(
        number=sequence_next_number_rollback_unsafe(prefix="RMA"),
        order=order,
        reason=reason,
        comment=comment or "",
        refund_amount=sum((line.refund_amount for line in lines), Decimal("0.00")),
        currency=order.currency,
        created_by=user,
    )
    return_obj._history_user = user
    return_obj.save()
    for line in lines:
        line.return_request = return_obj
    ReturnLine.objects.bulk_create(lines)
    for line, quantity in chosen:
        LineItem.objects.filter(pk=line.pk).update(
            returned_quantity=F("returned_quantity") + quantity
        )
    audit_record_create_rollback_unsafe(
        entity_type=EntityType.RETURN,
        entity_id=return_obj.pk,
        entity_number=return_obj.number,
        transition="create",
        previous_state=None,
        new_state=return_obj.status,
        actor=actor,
        context=context,
        reason=comment or None,
        metadata={
            "order_number": order.number,
            "reason": reason,
            "refund_amount": str(return_obj.refund_amount),
            "currency": return_obj.currency,
            "items": [
                {"line_item_id": str(line.pk), "sku": line.sku, "quantity": quantity}
                for line, quantity in chosen
            ],
        },
    )
    return return_obj


# --- transitions ---------------------------------------------------------------------------


@transaction.atomic
def return_approve(
    *, return_id, actor, context: ActionContext, reason: str | None = None
) -> Return:
    """REQUESTED → APPROVED. Managers only (and the system). Locks the return; stores the
    decision (reason, who, when). Sends nothing."""
    return _return_transition_rollback_unsafe(
        return_id=return_id,
        name="approve",
        actor=actor,
        context=context,
        fields=["decision_reason", "decided_by", "decided_at"],
        reason=reason,
        arguments={"decided_by": _user(actor), "reason": reason},
    )


@transaction.atomic
def return_reject(*, return_id, actor, context: ActionContext, reason: str) -> Return:
    """REQUESTED → REJECTED; `reason` is required. Managers only (and the system). Locks the
    order, then the return; stores the decision and gives the return's units back to the
    order lines (`returned_quantity`), so they may be returned again. Sends nothing."""
    return_obj = _return_transition_rollback_unsafe(
        return_id=return_id,
        name="reject",
        actor=actor,
        context=context,
        required={"reason": reason},
        fields=["decision_reason", "decided_by", "decided_at"],
        reason=reason,
        arguments={"decided_by": _user(actor), "reason": reason},
        lock_order=True,
    )
    for line in return_obj.lines.all():
        LineItem.objects.filter(pk=line.line_item_id).update(
            returned_quantity=F("returned_quantity") - line.quantity
        )
    return return_obj


@transaction.atomic
def return_mark_in_transit(
    *,
    return_id,
    actor,
    context: ActionContext,
    carrier: str | None = None,
    tracking_number: str | None = None,
    reason: str | None = None,
) -> Return:
    """APPROVED → IN_TRANSIT, with the parcel's carrier and tracking number if known.
    Integrator, support, warehouse, manager. Locks the return. Sends nothing."""
    return _return_transition_rollback_unsafe(
        return_id=return_id,
        name="mark_in_transit",
        actor=actor,
        context=context,
        fields=["carrier", "tracking_number", "in_transit_at"],
        reason=reason,
        metadata={"carrier": carrier or None, "tracking_number": tracking_number or None},
        arguments={"carrier": carrier, "tracking_number": tracking_number},
    )


@transaction.atomic
def return_receive(
    *,
    return_id,
    actor,
    context: ActionContext,
    inspection_note: str | None = None,
    reason: str | None = None,
    restock: bool | None = True,
) -> Return:
    """IN_TRANSIT → RECEIVED, with the warehouse's inspection note if any. Warehouse, manager.
    Locks the return, then the stock rows of its tracked SKUs: the units go back on hand
    (`restock`, the default) or are counted as damaged. Sends nothing."""
    restock = restock is not False
    return_obj = _return_transition_rollback_unsafe(
        return_id=return_id,
        name="receive",
        actor=actor,
        context=context,
        fields=["inspection_note", "received_at"],
        reason=reason,
        metadata={"inspection_note": inspection_note or None, "restock": restock},
        arguments={"inspection_note": inspection_note},
    )
    lines = [
        StockLine(
            index=line.line_item.position,
            sku_id=line.line_item.catalogue_sku_id,
            quantity=line.quantity,
        )
        for line in return_obj.lines.select_related("line_item")
        if line.line_item.stock_tracked
    ]
    stock_return_rollback_unsafe(
        lines=lines,
        return_id=return_obj.pk,
        order_id=return_obj.order_id,
        restock=restock,
        actor=actor,
        note=f"{return_obj.number}: {inspection_note or ''}".strip(": "),
    )
    return return_obj


@transaction.atomic
def return_complete(
    *, return_id, actor, context: ActionContext, reason: str | None = None
) -> Return:
    """RECEIVED → COMPLETED. Warehouse, manager. Locks the order, then the return; sends
    `return_completed` inside the transaction, so payments records the refund with it (and
    queues the gateway call on commit). Payments locks the order again to check the refunded
    total: holding it first keeps the order → return lock order of return_create and
    return_reject, so a completion and a rejection of the same return cannot deadlock."""
    return_obj = _return_transition_rollback_unsafe(
        return_id=return_id,
        name="complete",
        actor=actor,
        context=context,
        fields=["completed_at"],
        reason=reason,
        metadata=lambda r: {"refund_amount": str(r.refund_amount), "currency": r.currency},
        lock_order=True,
    )
    return_completed.send(sender=Return, return_request=return_obj, actor=actor, context=context)
    return return_obj


_SERVICES = {
    "approve": (return_approve, ("reason",)),
    "reject": (return_reject, ("reason",)),
    "mark_in_transit": (return_mark_in_transit, ("carrier", "tracking_number", "reason")),
    "receive": (return_receive, ("inspection_note", "reason", "restock")),
    "complete": (return_complete, ("reason",)),
}


def return_change_state(
    *, return_id, actor, context: ActionContext, new_state: str, **params: Any
) -> Return:
    """Moves a return to `new_state` through the one transition that reaches it (API and admin
    door). `params` are that transition's inputs (reason, carrier, tracking_number,
    inspection_note); others are ignored. A state no transition reaches (REQUESTED) is
    refused as an invalid transition."""
    name = TRANSITION_BY_TARGET.get(new_state)
    if name is None:
        with transaction.atomic():
            return_obj = _return_lock_rollback_unsafe(return_id)
            raise InvalidTransition(
                kind="return",
                number=return_obj.number,
                current=return_obj.status,
                requested=new_state,
                allowed=return_allowed_transitions(return_obj),
            )
    service, accepted = _SERVICES[name]
    arguments = {key: params.get(key) for key in accepted}
    if name == "reject":
        arguments["reason"] = params.get("reason") or ""
    return service(return_id=return_id, actor=actor, context=context, **arguments)
