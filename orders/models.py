import uuid
from decimal import Decimal

from django.conf import settings
from django.db import models
from django.utils import timezone
from django_fsm import ConcurrentTransitionMixin, FSMField, transition

from articurated.history import HistoricalRecords


class OrderStatus(models.TextChoices):
    PENDING_PAYMENT = "PENDING_PAYMENT", "Pending payment"
    PAID = "PAID", "Paid"
    PROCESSING_IN_WAREHOUSE = "PROCESSING_IN_WAREHOUSE", "Processing in warehouse"
    SHIPPED = "SHIPPED", "Shipped"
    DELIVERED = "DELIVERED", "Delivered"
    CANCELLED = "CANCELLED", "Cancelled"


S = OrderStatus
MONEY = {"max_digits": 16, "decimal_places": 2}
ADDRESS_PARTS = ("name", "line1", "line2", "city", "region", "postal_code", "country", "phone")
_ADDRESS_LENGTHS = {"country": 2, "postal_code": 20, "phone": 40, "region": 100}


def _address_field(kind: str, part: str) -> models.CharField:
    return models.CharField(
        f"{kind} {part.replace('_', ' ')}",
        max_length=_ADDRESS_LENGTHS.get(part, 200),
        blank=True,
        default="",
    )


class Order(ConcurrentTransitionMixin, models.Model):
    """A customer's order. `status` changes only through the @transition methods below, called
    by the services in orders/services.py (which lock, audit and save)."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    number = models.CharField(max_length=20, unique=True, editable=False)
    status = FSMField(
        max_length=32, choices=OrderStatus.choices, default=S.PENDING_PAYMENT, protected=True
    )
    customer_email = models.EmailField(db_index=True)
    customer_name = models.CharField(max_length=200)
    currency = models.CharField(max_length=3, default="USD")
    subtotal = models.DecimalField(**MONEY)
    shipping_amount = models.DecimalField(**MONEY, default=Decimal("0.00"))
    tax_amount = models.DecimalField(**MONEY, default=Decimal("0.00"))
    total_amount = models.DecimalField(**MONEY)
    notes = models.TextField(blank=True, default="")

    shipping_name = _address_field("shipping", "name")
    shipping_line1 = _address_field("shipping", "line1")
    shipping_line2 = _address_field("shipping", "line2")
    shipping_city = _address_field("shipping", "city")
    shipping_region = _address_field("shipping", "region")
    shipping_postal_code = _address_field("shipping", "postal_code")
    shipping_country = _address_field("shipping", "country")
    shipping_phone = _address_field("shipping", "phone")
    billing_name = _address_field("billing", "name")
    billing_line1 = _address_field("billing", "line1")
    billing_line2 = _address_field("billing", "line2")
    billing_city = _address_field("billing", "city")
    billing_region = _address_field("billing", "region")
    billing_postal_code = _address_field("billing", "postal_code")
    billing_country = _address_field("billing", "country")
    billing_phone = _address_field("billing", "phone")

    payment_method = models.CharField(max_length=40, null=True, blank=True)
    payment_reference = models.CharField(max_length=120, null=True, blank=True)
    carrier = models.CharField(max_length=60, null=True, blank=True)
    tracking_number = models.CharField(max_length=120, null=True, blank=True, db_index=True)
    cancellation_reason = models.TextField(null=True, blank=True)

    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now, db_index=True, editable=False)
    updated_at = models.DateTimeField(auto_now=True)
    paid_at = models.DateTimeField(null=True, blank=True, editable=False)
    processing_started_at = models.DateTimeField(null=True, blank=True, editable=False)
    shipped_at = models.DateTimeField(null=True, blank=True, editable=False)
    delivered_at = models.DateTimeField(null=True, blank=True, editable=False)
    cancelled_at = models.DateTimeField(null=True, blank=True, editable=False)

    history = HistoricalRecords(excluded_fields=["updated_at"])

    class Meta:
        ordering = ["-created_at"]
        # Lists read a page by walking one of these in order from a cursor (API.md "Lists"):
        # the ordering's fields and the id that breaks ties, after the equality filter.
        indexes = [
            models.Index(fields=["status", "created_at", "id"], name="order_status_created_id"),
            models.Index(fields=["created_at", "id"], name="order_created_id"),
            models.Index(fields=["total_amount", "id"], name="order_total_id"),
            models.Index(fields=["status", "total_amount", "id"], name="order_status_total_id"),
        ]
        permissions = [
            ("pay_order", "Can record payment of an order"),
            ("start_processing_order", "Can start warehouse processing of an order"),
            ("ship_order", "Can ship an order"),
            ("deliver_order", "Can mark an order delivered"),
            ("cancel_order", "Can cancel an order"),
        ]

    def __str__(self) -> str:
        return self.number

    # Transitions: pure, touching only this row's fields (STYLE.md rule 2).
    @transition(
        field=status, source=S.PENDING_PAYMENT, target=S.PAID, permission="orders.pay_order"
    )
    def pay(self, *, payment_reference: str, payment_method: str | None = None) -> None:
        self.payment_reference = payment_reference
        self.payment_method = payment_method or None
        self.paid_at = timezone.now()

    @transition(
        field=status,
        source=S.PAID,
        target=S.PROCESSING_IN_WAREHOUSE,
        permission="orders.start_processing_order",
    )
    def start_processing(self) -> None:
        self.processing_started_at = timezone.now()

    @transition(
        field=status,
        source=S.PROCESSING_IN_WAREHOUSE,
        target=S.SHIPPED,
        permission="orders.ship_order",
    )
    def ship(self, *, carrier: str, tracking_number: str) -> None:
        self.carrier = carrier
        self.tracking_number = tracking_number
        self.shipped_at = timezone.now()

    @transition(
        field=status, source=S.SHIPPED, target=S.DELIVERED, permission="orders.deliver_order"
    )
    def deliver(self) -> None:
        self.delivered_at = timezone.now()

    @transition(
        field=status,
        source=[S.PENDING_PAYMENT, S.PAID],
        target=S.CANCELLED,
        permission="orders.cancel_order",
    )
    def cancel(self, *, reason: str) -> None:
        self.cancellation_reason = reason
        self.cancelled_at = timezone.now()

    @property
    def billing_same_as_shipping(self) -> bool:
        return self.address("billing") == self.address("shipping")

    def address(self, kind: str) -> dict[str, str]:
        return {part: getattr(self, f"{kind}_{part}") for part in ADDRESS_PARTS}


class LineItem(models.Model):
    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    order = models.ForeignKey(Order, on_delete=models.CASCADE, related_name="items")
    position = models.PositiveSmallIntegerField()
    sku = models.CharField(max_length=64)
    # The catalogue SKU the line sells (null only for lines older than the catalogue whose code
    # matched none). `stock_tracked`: this line holds stock (allocated at creation), so cancel
    # releases it and ship consumes it, whatever the SKU's tracking says later.
    catalogue_sku = models.ForeignKey(
        "catalogue.Sku",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        db_column="sku_id",
    )
    stock_tracked = models.BooleanField(default=False)
    name = models.CharField(max_length=200)
    quantity = models.PositiveIntegerField()
    unit_price = models.DecimalField(**MONEY)
    line_total = models.DecimalField(**MONEY)
    # Units in returns that are not REJECTED; kept by the returns services under the order lock.
    returned_quantity = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["order", "position"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(returned_quantity__lte=models.F("quantity")),
                name="line_returned_within_quantity",
            ),
            models.CheckConstraint(
                condition=models.Q(quantity__gte=1), name="line_quantity_positive"
            ),
            models.CheckConstraint(
                condition=models.Q(unit_price__gte=0), name="line_price_not_negative"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.quantity} × {self.sku}"
