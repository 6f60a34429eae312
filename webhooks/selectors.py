"""Reads of webhooks: what each user may see (integrators their own endpoints, managers all)."""

from datetime import timedelta

from django.conf import settings
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db.models import Prefetch, Q, QuerySet
from django.utils import timezone

from articurated.errors import NotFound
from webhooks.models import Delivery, DeliveryAttempt, Endpoint, Event


def endpoint_sees_all(actor) -> bool:
    return actor.has_perm("webhooks.manage_all_endpoints")


def endpoint_list_for(*, actor) -> QuerySet[Endpoint]:
    """The endpoints the actor may see: all for managers, their own for integrators."""
    endpoints = Endpoint.objects.select_related("owner")
    if endpoint_sees_all(actor):
        return endpoints
    if actor.has_perm("webhooks.manage_own_endpoint"):
        return endpoints.filter(owner=actor)
    return endpoints.none()


def endpoint_get_for(*, endpoint_id, actor) -> Endpoint:
    """One endpoint the actor may see, or NotFound (also for another integrator's: its
    existence is not revealed)."""
    try:
        return endpoint_list_for(actor=actor).get(pk=endpoint_id)
    except (Endpoint.DoesNotExist, DjangoValidationError, ValueError):
        raise NotFound(f"Webhook {endpoint_id} does not exist.") from None


def delivery_list(*, endpoint: Endpoint) -> QuerySet[Delivery]:
    """An endpoint's deliveries, newest first, each with its event and attempt log."""
    return (
        Delivery.objects.filter(endpoint=endpoint)
        .select_related("event")
        .prefetch_related(
            Prefetch("attempt_log", queryset=DeliveryAttempt.objects.order_by("-attempted_at"))
        )
        .order_by("-created_at", "-id")
    )


def event_list() -> QuerySet[Event]:
    """Events of the retention period (30 days), newest first."""
    cutoff = timezone.now() - timedelta(days=settings.WEBHOOKS_EVENT_RETENTION_DAYS)
    return Event.objects.filter(created_at__gte=cutoff).order_by("-created_at", "-id")


def event_get(*, event_id) -> Event:
    try:
        return event_list().get(pk=event_id)
    except Event.DoesNotExist:
        raise NotFound(f"Event {event_id} does not exist.") from None


def endpoint_failing_list() -> QuerySet[Endpoint]:
    """The managers' queue: active endpoints failing now (longest first), then endpoints the
    system disabled (410 or failing too long) that nobody has turned on again."""
    return (
        Endpoint.objects.select_related("owner")
        .filter(
            Q(active=True, failure_streak__gt=0)
            | Q(active=False, failing_since__isnull=False)
            | Q(active=False, disabled_reason__startswith="The endpoint answered")
            | Q(active=False, disabled_reason__startswith="No successful delivery")
        )
        .order_by("-active", "failing_since", "-updated_at")
    )
