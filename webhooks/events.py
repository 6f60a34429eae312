"""The event types integrators subscribe to: one per audit record of orders, returns, invoices
and refunds, named `<object>.<what happened>` in the past tense. Listed in README.md and in the
OpenAPI enum; `webhook.test` is only sent by the test action."""

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
}
TEST_EVENT_TYPE = "webhook.test"
EVENT_TYPES: list[str] = list(EVENT_TYPE_BY_AUDIT.values())
ALL_EVENTS = "*"
EVENT_TYPE_CHOICES = [(name, name) for name in EVENT_TYPES]
SUBSCRIPTION_CHOICES = [(ALL_EVENTS, ALL_EVENTS), *EVENT_TYPE_CHOICES]


def event_type_for(*, entity_type: str, transition: str) -> str:
    """The event type of an audit record. A transition added later without a name here still
    produces an event (`<entity>.<transition>`) rather than none."""
    return EVENT_TYPE_BY_AUDIT.get((entity_type, transition), f"{entity_type.lower()}.{transition}")


def subscribed(events: list[str], event_type: str) -> bool:
    return ALL_EVENTS in events or event_type in events
