"""The event types integrators subscribe to, named `<object>.<what happened>` in the past tense.
Listed in README.md and in the OpenAPI enum; `webhook.test` is only sent by the test action.

Most are one per audit record (orders, returns, invoices, refunds, the catalogue, imports).
Three come from their apps' own signals instead: `stock.low` (stock moves write no audit
record), `import.completed` and `import.failed` (their audit records send none, so each ends
in exactly one event)."""

# (audit entity type, audit transition) -> event type
EVENT_TYPE_BY_AUDIT: dict[tuple[str, str], str] = {
    ("ORDER", "create"): "order.created",
    ("ORDER", "pay"): "order.paid",
    ("ORDER", "start_processing"): "order.processing_started",
    ("ORDER", "ship"): "order.shipped",
    ("ORDER", "deliver"): "order.delivered",
    ("ORDER", "cancel"): "order.cancelled",
    ("RETURN", "create"): "return.requested",
    ("RETURN", "approve"): "return.approved",
    ("RETURN", "reject"): "return.rejected",
    ("RETURN", "mark_in_transit"): "return.in_transit",
    ("RETURN", "receive"): "return.received",
    ("RETURN", "complete"): "return.completed",
    ("INVOICE", "generate"): "invoice.generated",
    ("INVOICE", "fail"): "invoice.failed",
    ("INVOICE", "retry"): "invoice.retry_requested",
    ("INVOICE", "regenerate"): "invoice.regeneration_requested",
    ("REFUND", "succeed"): "refund.succeeded",
    ("REFUND", "fail"): "refund.failed",
    ("REFUND", "retry"): "refund.retry_requested",
    ("CATEGORY", "create"): "category.created",
    ("CATEGORY", "update"): "category.updated",
    ("CATEGORY", "delete"): "category.deleted",
    ("CATEGORY", "restore"): "category.restored",
    ("PRODUCT", "create"): "product.created",
    ("PRODUCT", "update"): "product.updated",
    ("PRODUCT", "delete"): "product.deleted",
    ("PRODUCT", "restore"): "product.restored",
    # A SKU is part of its product's body: adding, changing, deleting or restoring one changes
    # the product (its creation with the product is part of `product.created`: no event).
    ("SKU", "create"): "product.updated",
    ("SKU", "update"): "product.updated",
    ("SKU", "delete"): "product.updated",
    ("SKU", "restore"): "product.updated",
    # One summary for a bulk delete, however many products (never one event per product).
    ("PRODUCT", "bulk_delete"): "products.bulk_deleted",
    # Imports write their audit records under PRODUCT; the import body is the data.
    ("PRODUCT", "import_queue"): "import.queued",
    ("PRODUCT", "import_cancel"): "import.cancelled",
    ("PRODUCT", "import_retry"): "import.retry_requested",
}
# Sent by the apps' signals (webhooks/receivers.py), not by audit records.
STOCK_LOW = "stock.low"
IMPORT_COMPLETED = "import.completed"
IMPORT_FAILED = "import.failed"
SIGNAL_EVENT_TYPES = [STOCK_LOW, IMPORT_COMPLETED, IMPORT_FAILED]
# Audit records that send no event: an import's end is told by its signal (with the import as
# it ended), and a SKU created with its product is told by `product.created`.
AUDIT_WITHOUT_EVENT = {("PRODUCT", "import_completed"), ("PRODUCT", "import_failed")}
SKU_WITH_PRODUCT = "with_product"  # the metadata key of a SKU record written by product_create
TEST_EVENT_TYPE = "webhook.test"
EVENT_TYPES: list[str] = list(dict.fromkeys([*EVENT_TYPE_BY_AUDIT.values(), *SIGNAL_EVENT_TYPES]))
ALL_EVENTS = "*"
EVENT_TYPE_CHOICES = [(name, name) for name in EVENT_TYPES]
SUBSCRIPTION_CHOICES = [(ALL_EVENTS, ALL_EVENTS), *EVENT_TYPE_CHOICES]


def event_type_for(*, entity_type: str, transition: str) -> str:
    """The event type of an audit record. A transition added later without a name here still
    produces an event (`<entity>.<transition>`) rather than none."""
    return EVENT_TYPE_BY_AUDIT.get((entity_type, transition), f"{entity_type.lower()}.{transition}")


def audit_sends_event(record) -> bool:
    """False for the audit records whose event comes from elsewhere (AUDIT_WITHOUT_EVENT)."""
    if (record.entity_type, record.transition) in AUDIT_WITHOUT_EVENT:
        return False
    return not (record.entity_type == "SKU" and (record.metadata or {}).get(SKU_WITH_PRODUCT))


def subscribed(events: list[str], event_type: str) -> bool:
    return ALL_EVENTS in events or event_type in events
