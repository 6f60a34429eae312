"""The webhook lines of an order's timeline (registered with orders/timeline.py in
WebhooksConfig.ready): one per event of the order that went to at least one endpoint, with
how its deliveries went."""

from collections import Counter

from orders.models import Order
from orders.timeline import TimelineEntry
from webhooks.models import Delivery, Event


def order_entries(order: Order) -> list[TimelineEntry]:
    events = list(Event.objects.filter(order_id=order.pk).order_by("created_at"))
    counts: dict[str, Counter] = {event.pk: Counter() for event in events}
    deliveries = Delivery.objects.filter(event_id__in=counts).values_list("event_id", "status")
    for event_id, status in deliveries:
        counts[event_id][status] += 1
    entries = []
    for event in events:
        tally = counts[event.pk]
        if not tally:
            continue  # no endpoint was subscribed: nothing left the shop
        detail = ", ".join(f"{n} {status.lower()}" for status, n in sorted(tally.items()))
        entries.append(
            TimelineEntry(
                event.created_at, "system · webhooks", f"Webhook {event.type} sent", detail
            )
        )
    return entries
