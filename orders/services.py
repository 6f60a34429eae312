"""Every write to an order goes through these functions (STYLE.md rule 1).

Each one: checks the actor's permission, opens a transaction, locks the order row
(SELECT … FOR UPDATE; on SQLite the IMMEDIATE transaction holds the write lock), checks the
transition is allowed from the current state, calls the pure @transition method, saves with
update_fields, writes exactly one audit record, and sends the in-transaction signal that lets
invoicing/payments queue their work on commit.
"""

import uuid
from collections.abc import Iterable, Mapping
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import transaction
from django_fsm import can_proceed

from articurated.context import ActionContext
from articurated.db import row_save_new_rollback_unsafe, rows_insert_rollback_unsafe
from articurated.errors import InvalidTransition, PermissionDenied, ValidationFailed
from articurated.fsm import fsm_allowed_targets, inputs_require, row_lock_rollback_unsafe
from articurated.sequences import sequence_next_number_unlocked_value
from audit.models import EntityType
from audit.services import audit_record_create_rollback_unsafe
from inventory.selectors import sku_by_codes_with_available, stock_covers
from inventory.services import (
    StockLine,
    stock_allocate_rollback_unsafe,
    stock_deallocate_rollback_unsafe,
    stock_ship_rollback_unsafe,
    stock_wanted,
)
from orders.errors import OrderNotEditable
from orders.models import ADDRESS_PARTS, LineItem, Order, OrderStatus
from orders.payment_verification import order_payment_verify_rollback_unsafe
from orders.selectors import order_new_body_complete, order_one_to_one_relations
from orders.signals import order_cancelled, order_shipped
from orders.validation import FROZEN_STATES, order_details_clean

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
    # The invoice comes with the locked row (a join; only the order is locked), so the body a
    # state change answers with needs no second read of it.
    return row_lock_rollback_unsafe(
        Order, order_id, label="Order", select_related=order_one_to_one_relations()
    )


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
        subject=order,
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
    """PENDING_PAYMENT → PAID. Integrator, support, manager. Locks the order. With
    PAYMENTS_VERIFY, asks the payment service whether the reference paid this order's total
    (PaymentMismatch otherwise; the transaction rolls back, nothing is written)."""
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
    if settings.PAYMENTS_VERIFY:
        order_payment_verify_rollback_unsafe(order, payment_reference)
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
    stock_ship_rollback_unsafe(lines=_stock_lines(order), order_id=order.pk, actor=actor)
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
    stock_deallocate_rollback_unsafe(lines=_stock_lines(order), order_id=order.pk, actor=actor)
    order_cancelled.send(
        sender=Order, order=order, previous_state=previous, actor=actor, context=context
    )
    return order


def _money(value) -> Decimal:
    return Decimal(value).quantize(CENT, rounding=ROUND_HALF_UP)


def _stock_lines(order: Order) -> list[StockLine]:
    """The lines of an order that hold stock (allocated when it was created)."""
    rows = order.items.filter(stock_tracked=True).values_list(
        "position", "catalogue_sku_id", "quantity"
    )
    return [StockLine(index=p, sku_id=sku_id, quantity=q) for p, sku_id, q in rows]


def _skus_resolve(items: list[Mapping[str, Any]], currency: str) -> tuple[list, dict]:
    """The live catalogue SKU of each item (code in any case, SKU and product active, priced in
    the order's currency), or VALIDATION_ERROR naming every bad `items.N.sku`; and the stock
    available of each, {sku_id: count or None}, read with them without a lock."""
    found = sku_by_codes_with_available(item["sku"] for item in items)
    errors: dict[str, list[str]] = {}
    skus = []
    for index, item in enumerate(items):
        sku, _ = found.get(item["sku"].lower(), (None, None))
        if sku is None or not sku.orderable:
            problem = f"No SKU {item['sku']} for sale in the catalogue."
        elif sku.currency != currency:
            problem = f"SKU {sku.code} is priced in {sku.currency}, the order in {currency}."
        else:
            skus.append(sku)
            continue
        errors[f"items.{index}.sku"] = [problem]
    if errors:
        raise ValidationFailed(next(iter(errors.values()))[0], details=errors)
    return skus, {sku.pk: available for sku, available in found.values()}


@transaction.atomic
def order_create(**kwargs) -> Order:
    """order_create_rollback_unsafe in a transaction of its own (or a savepoint of the
    caller's): see there. Admin, commands, tests."""
    return order_create_rollback_unsafe(**kwargs)


def order_create_rollback_unsafe(
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
    Support, integrator, manager. Each item names a live catalogue SKU (any case); its name
    and unit price default to the catalogue's. Allocates the stock of every tracked line or
    none (INSUFFICIENT_STOCK listing each short line), locking the SKUs' stock rows in
    primary-key order, and writes the `create` audit record in the same transaction, which
    is the caller's (asserted; on an error the caller must roll it back, as atomic() does).

    Every create over the same SKUs waits on their stock rows, which stay locked until
    commit, so they are taken last (STYLE.md: hold hot locks last and briefly). Everything
    else comes first: the SKUs with their stock available, the money, the lines written
    (their foreign key to the order is checked at commit), the order row, which takes the
    number (on PostgreSQL in its own INSERT), its history row, the audit record and the
    webhook event. The number holds no lock (unique and increasing, not gapless: see
    sequence_next_number_unlocked_rollback_unsafe); so that an order refused for stock does
    not use one, stock that the SKUs' read (without a lock) finds short is allocated (or
    refused) before the number. Otherwise one UPDATE allocates the stock and one INSERT
    writes its movements, last. Returns the order with its body relations in hand (lines, no
    returns, no invoice)."""
    assert transaction.get_connection().in_atomic_block, "create orders inside atomic()"
    if actor is not None and not actor.has_perm("orders.add_order"):
        raise PermissionDenied("Your role may not create orders.")
    if not items:
        raise ValidationFailed(
            "An order needs at least one item.",
            details={"items": ["At least one item is required."]},
        )
    skus, available = _skus_resolve(items, currency)
    order_id = uuid.uuid4()
    lines = []
    for index, (item, sku) in enumerate(zip(items, skus, strict=True)):
        price = item.get("unit_price")
        price = _money(sku.price if price is None else price)
        lines.append(
            LineItem(
                position=index,
                sku=sku.code,
                catalogue_sku=sku,
                stock_tracked=sku.track_inventory,
                name=item.get("name") or sku.display_name,
                quantity=item["quantity"],
                unit_price=price,
                line_total=price * item["quantity"],
            )
        )
    subtotal = sum((line.line_total for line in lines), Decimal("0.00"))
    shipping_amount, tax_amount = _money(shipping_amount), _money(tax_amount)
    billing = billing_address or shipping_address
    created_by = actor if actor is not None and actor.is_authenticated else None
    order = Order(
        id=order_id,
        customer_email=customer_email,
        customer_name=customer_name,
        currency=currency,
        subtotal=subtotal,
        shipping_amount=shipping_amount,
        tax_amount=tax_amount,
        total_amount=subtotal + shipping_amount + tax_amount,
        notes=notes or "",
        created_by=created_by,
        **{f"shipping_{part}": shipping_address.get(part) or "" for part in ADDRESS_PARTS},
        **{f"billing_{part}": billing.get(part) or "" for part in ADDRESS_PARTS},
    )
    for line in lines:
        line.order = order
    rows_insert_rollback_unsafe(lines, transaction.get_connection())
    stock_lines = [
        StockLine(index=line.position, sku_id=line.catalogue_sku_id, quantity=line.quantity)
        for line in lines
        if line.stock_tracked
    ]

    def allocate():
        stock_allocate_rollback_unsafe(
            lines=stock_lines, skus={sku.pk: sku for sku in skus}, order_id=order_id, actor=actor
        )

    allocated = not stock_covers(stock_wanted(stock_lines), available)
    if allocated:
        allocate()  # refuses with every short line before a number is taken, unless restocked
    # On PostgreSQL the order's INSERT takes its number (sequence_next_number_unlocked_value).
    order.number = sequence_next_number_unlocked_value(prefix="ORD")
    order._history_user = created_by
    row_save_new_rollback_unsafe(order, transaction.get_connection())
    order._update_initial_state()  # as django-fsm's ConcurrentTransitionMixin.save does
    order_new_body_complete(order, items=lines)
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
        subject=order,
    )
    if not allocated:
        # The hot lock, last: every create of these SKUs waits for it until commit.
        allocate()
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


@transaction.atomic
def order_update_details(
    *, order_id, actor, context: ActionContext, changes: Mapping[str, Any]
) -> Order:
    """Corrects an order's customer, addresses or notes (support, manager: `change_order`).
    Locks the order; refuses once it is SHIPPED, DELIVERED or CANCELLED; validates like the
    API's order body (orders/validation.py) and refuses rather than cuts. Saves only the
    fields that change (django-simple-history records who changed what from what) and writes
    one `update` audit record naming them. Nothing changing is not an error: no write."""
    if actor is not None and not actor.has_perm("orders.change_order"):
        raise PermissionDenied("Your role may not change orders.")
    order = _order_lock_rollback_unsafe(order_id)
    if order.status in FROZEN_STATES:
        raise OrderNotEditable(
            f"{order.number} is {order.get_status_display().lower()}: its customer, addresses "
            "and notes can no longer be changed.",
            details={"current_state": order.status},
        )
    try:
        cleaned = order_details_clean(order=order, changes=changes)
    except DjangoValidationError as error:
        raise ValidationFailed("Some details were refused.", details=error.message_dict) from None
    changed = {name: value for name, value in cleaned.items() if getattr(order, name) != value}
    if not changed:
        return order
    for name, value in changed.items():
        setattr(order, name, value)
    order._history_user = actor if actor is not None and actor.is_authenticated else None
    order.save(update_fields=[*changed, "updated_at"])
    audit_record_create_rollback_unsafe(
        entity_type=EntityType.ORDER,
        entity_id=order.pk,
        entity_number=order.number,
        transition="update",
        previous_state=order.status,
        new_state=order.status,
        actor=actor,
        context=context,
        metadata={"fields": sorted(changed)},
    )
    return order
