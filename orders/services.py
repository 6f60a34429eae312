"""Every write to an order goes through these functions (STYLE.md rule 1).

Each one: checks the actor's permission, opens a transaction, locks the order row
(SELECT … FOR UPDATE; on SQLite the IMMEDIATE transaction holds the write lock), checks the
transition is allowed from the current state, calls the pure @transition method, saves with
update_fields, writes exactly one audit record, and sends the in-transaction signal that lets
invoicing/payments queue their work on commit.
"""

from collections.abc import Iterable, Mapping
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from django.db import transaction
from django_fsm import can_proceed

from articurated.context import ActionContext
from articurated.errors import InvalidTransition, PermissionDenied, ValidationFailed
from articurated.fsm import fsm_allowed_targets, inputs_require, row_lock_rollback_unsafe
from articurated.sequences import sequence_next_number_rollback_unsafe
from audit.models import EntityType
from audit.services import audit_record_create_rollback_unsafe
from orders.models import ADDRESS_PARTS, LineItem, Order, OrderStatus
from orders.signals import order_cancelled, order_shipped

CENT = Decimal("0.01")

# Each target state is reached by exactly one transition.
TRANSITION_BY_TARGET = {
    OrderStatus.PAID: "pay",
    OrderStatus.PROCESSING_IN_WAREHOUSE: "start_processing",
    OrderStatus.SHIPPED: "ship",
    OrderStatus.DELIVERED: "deliver",
    OrderStatus.CANCELLED: "cancel",
}


def order_allowed_transitions(order: Order) -> list[str]:
    """States the state machine allows next from the order's current state, in lifecycle
    order (so PENDING_PAYMENT gives ["PAID", "CANCELLED"])."""
    return fsm_allowed_targets(order, states=OrderStatus.values)


def order_may(actor, transition_name: str) -> bool:
    """Whether this actor's role may ever make the transition (None is the system)."""
    return actor is None or actor.has_perm(f"orders.{transition_name}_order")


def _ensure_may(actor, transition_name: str, verb: str) -> None:
    if not order_may(actor, transition_name):
        raise PermissionDenied(f"Your role may not {verb} orders.")


def _order_lock_rollback_unsafe(order_id) -> Order:
    return row_lock_rollback_unsafe(Order, order_id, label="Order")


def _order_transition_rollback_unsafe(
    *,
    order_id,
    name: str,
    actor,
    context: ActionContext,
    required: Mapping[str, Any] | None = None,
    fields: Iterable[str] = (),
    reason: str | None = None,
    metadata: dict | None = None,
    arguments: Mapping[str, Any] | None = None,
) -> tuple[Order, str]:
    _ensure_may(actor, name, name.replace("_", " "))
    order = _order_lock_rollback_unsafe(order_id)
    method = getattr(order, name)
    if not can_proceed(method):
        target = next(str(t) for t, n in TRANSITION_BY_TARGET.items() if n == name)
        raise InvalidTransition(
            kind="order",
            number=order.number,
            current=order.status,
            requested=target,
            allowed=order_allowed_transitions(order),
        )
    inputs_require(required or {})
    previous = order.status
    method(**(arguments or {}))
    order._history_user = actor if actor is not None and actor.is_authenticated else None
    order.save(update_fields=["status", "updated_at", *fields])
    audit_record_create_rollback_unsafe(
        entity_type=EntityType.ORDER,
        entity_id=order.pk,
        entity_number=order.number,
        transition=name,
        previous_state=previous,
        new_state=order.status,
        actor=actor,
        context=context,
        reason=reason,
        metadata=metadata,
    )
    return order, previous


@transaction.atomic
def order_pay(
    *,
    order_id,
    actor,
    context: ActionContext,
    payment_reference: str,
    payment_method: str | None = None,
    reason: str | None = None,
) -> Order:
    """PENDING_PAYMENT → PAID. Integrator, support, manager. Locks the order."""
    order, _ = _order_transition_rollback_unsafe(
        order_id=order_id,
        name="pay",
        actor=actor,
        context=context,
        required={"payment_reference": payment_reference},
        fields=["payment_reference", "payment_method", "paid_at"],
        reason=reason,
        metadata={"payment_reference": payment_reference, "payment_method": payment_method},
        arguments={"payment_reference": payment_reference, "payment_method": payment_method},
    )
    return order


@transaction.atomic
def order_start_processing(
    *, order_id, actor, context: ActionContext, reason: str | None = None
) -> Order:
    """PAID → PROCESSING_IN_WAREHOUSE. Warehouse, manager. Locks the order."""
    order, _ = _order_transition_rollback_unsafe(
        order_id=order_id,
        name="start_processing",
        actor=actor,
        context=context,
        fields=["processing_started_at"],
        reason=reason,
    )
    return order


@transaction.atomic
def order_ship(
    *,
    order_id,
    actor,
    context: ActionContext,
    carrier: str,
    tracking_number: str,
    reason: str | None = None,
) -> Order:
    """PROCESSING_IN_WAREHOUSE → SHIPPED. Warehouse, manager. Locks the order; sends
    `order_shipped` inside the transaction so invoicing records its invoice job with it."""
    order, _ = _order_transition_rollback_unsafe(
        order_id=order_id,
        name="ship",
        actor=actor,
        context=context,
        required={"carrier": carrier, "tracking_number": tracking_number},
        fields=["carrier", "tracking_number", "shipped_at"],
        reason=reason,
        metadata={"carrier": carrier, "tracking_number": tracking_number},
        arguments={"carrier": carrier, "tracking_number": tracking_number},
    )
    order_shipped.send(sender=Order, order=order, actor=actor, context=context)
    return order


@transaction.atomic
def order_deliver(*, order_id, actor, context: ActionContext, reason: str | None = None) -> Order:
    """SHIPPED → DELIVERED (opens the return window). Warehouse, integrator, manager."""
    order, _ = _order_transition_rollback_unsafe(
        order_id=order_id,
        name="deliver",
        actor=actor,
        context=context,
        fields=["delivered_at"],
        reason=reason,
    )
    return order


@transaction.atomic
def order_cancel(*, order_id, actor, context: ActionContext, reason: str) -> Order:
    """PENDING_PAYMENT or PAID → CANCELLED. Support, integrator, manager. Locks the order;
    sends `order_cancelled` inside the transaction so payments records the refund of a PAID
    order with it."""
    order, previous = _order_transition_rollback_unsafe(
        order_id=order_id,
        name="cancel",
        actor=actor,
        context=context,
        required={"reason": reason},
        fields=["cancellation_reason", "cancelled_at"],
        reason=reason,
        arguments={"reason": reason},
    )
    order_cancelled.send(
        sender=Order, order=order, previous_state=previous, actor=actor, context=context
    )
    return order


def _money(value) -> Decimal:
    return Decimal(value).quantize(CENT, rounding=ROUND_HALF_UP)


@transaction.atomic
def order_create(
    *,
    actor,
    context: ActionContext,
    customer_email: str,
    customer_name: str,
    shipping_address: Mapping[str, str],
    items: list[Mapping[str, Any]],
    currency: str = "USD",
    billing_address: Mapping[str, str] | None = None,
    shipping_amount: Decimal = Decimal("0"),
    tax_amount: Decimal = Decimal("0"),
    notes: str = "",
) -> Order:
    """Creates a PENDING_PAYMENT order with its lines and server-computed money.
    Support, integrator, manager. Allocates the next ORD number under the sequence lock and
    writes the `create` audit record in the same transaction."""
    if actor is not None and not actor.has_perm("orders.add_order"):
        raise PermissionDenied("Your role may not create orders.")
    if not items:
        raise ValidationFailed(
            "An order needs at least one item.",
            details={"items": ["At least one item is required."]},
        )
    lines = [
        LineItem(
            position=index,
            sku=item["sku"],
            name=item["name"],
            quantity=item["quantity"],
            unit_price=_money(item["unit_price"]),
            line_total=_money(item["unit_price"]) * item["quantity"],
        )
        for index, item in enumerate(items)
    ]
    subtotal = sum((line.line_total for line in lines), Decimal("0.00"))
    shipping_amount, tax_amount = _money(shipping_amount), _money(tax_amount)
    billing = billing_address or shipping_address
    order = Order(
        number=sequence_next_number_rollback_unsafe(prefix="ORD"),
        customer_email=customer_email,
        customer_name=customer_name,
        currency=currency,
        subtotal=subtotal,
        shipping_amount=shipping_amount,
        tax_amount=tax_amount,
        total_amount=subtotal + shipping_amount + tax_amount,
        notes=notes or "",
        created_by=actor if actor is not None and actor.is_authenticated else None,
        **{f"shipping_{part}": shipping_address.get(part) or "" for part in ADDRESS_PARTS},
        **{f"billing_{part}": billing.get(part) or "" for part in ADDRESS_PARTS},
    )
    order._history_user = order.created_by
    order.save()
    for line in lines:
        line.order = order
    LineItem.objects.bulk_create(lines)
    audit_record_create_rollback_unsafe(
        entity_type=EntityType.ORDER,
        entity_id=order.pk,
        entity_number=order.number,
        transition="create",
        previous_state=None,
        new_state=order.status,
        actor=actor,
        context=context,
        metadata={"total_amount": str(order.total_amount), "currency": order.currency},
    )
    return order


def order_change_state(
    *, order_id, actor, context: ActionContext, new_state: str, **params: Any
) -> Order:
    """Moves an order to `new_state` through the one transition that reaches it (API and admin
    door). `params` are that transition's inputs (payment_reference, carrier, reason, …).
    A state no transition reaches is refused as an invalid transition."""
    name = TRANSITION_BY_TARGET.get(new_state)
    if name is None:
        with transaction.atomic():
            order = _order_lock_rollback_unsafe(order_id)
            raise InvalidTransition(
                kind="order",
                number=order.number,
                current=order.status,
                requested=new_state,
                allowed=order_allowed_transitions(order),
            )
    service = {
        "pay": order_pay,
        "start_processing": order_start_processing,
        "ship": order_ship,
        "deliver": order_deliver,
        "cancel": order_cancel,
    }[name]
    accepted = {
        "pay": ("payment_reference", "payment_method", "reason"),
        "start_processing": ("reason",),
        "ship": ("carrier", "tracking_number", "reason"),
        "deliver": ("reason",),
        "cancel": ("reason",),
    }[name]
    arguments = {key: params.get(key) for key in accepted}
    if name == "cancel":
        arguments["reason"] = params.get("reason") or ""
    return service(order_id=order_id, actor=actor, context=context, **arguments)
