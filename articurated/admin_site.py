from django.contrib.admin.apps import AdminConfig
from django.template.loader import render_to_string
from django.utils import timezone
from django.utils.safestring import mark_safe
from unfold.sites import UnfoldAdminSite

from articurated.dashboard import dashboard_panels

# One colour per kind of state, the same on every list, page, timeline and dashboard
# (unfold's label variants): waiting for someone, accepted, on the move, done, closed without
# being done, failed.
WAITING, ACCEPTED, MOVING, DONE, CLOSED, FAILED = (
    "warning",
    "info",
    "primary",
    "success",
    "default",
    "danger",
)
STATE_VARIANTS = {
    # orders
    "PENDING_PAYMENT": WAITING,
    "PAID": ACCEPTED,
    "PROCESSING_IN_WAREHOUSE": MOVING,
    "SHIPPED": MOVING,
    "DELIVERED": DONE,
    "CANCELLED": CLOSED,
    # returns
    "REQUESTED": WAITING,
    "APPROVED": ACCEPTED,
    "IN_TRANSIT": MOVING,
    "RECEIVED": MOVING,
    "COMPLETED": DONE,
    "REJECTED": CLOSED,
    # invoices and refunds
    "PENDING": WAITING,
    "GENERATED": DONE,
    "SUCCEEDED": DONE,
    "FAILED": FAILED,
}


def state_variant(state: str) -> str:
    return STATE_VARIANTS.get(state, CLOSED)


def state_words(state: str) -> str:
    """PROCESSING_IN_WAREHOUSE → "processing in warehouse": a state for a sentence."""
    return str(state).replace("_", " ").lower()


def state_label(state: str, text: str | None = None) -> str:
    """A state as unfold's coloured label, the same everywhere."""
    return mark_safe(  # noqa: S308 - rendered by a template that escapes `text`
        render_to_string(
            "unfold/helpers/label.html",
            {"type": state_variant(state), "text": text or state_words(state).capitalize()},
        )
    )


def error_in_words(error, *, labels: dict[str, str] | None = None) -> str:
    """A domain error as staff read it: an invalid transition says what state the thing is
    in now and what may follow (in words, not codes); field errors name the field."""
    from articurated.errors import InvalidTransition, ValidationFailed

    labels = labels or {}

    def word(state: str) -> str:
        return labels.get(state, state_words(state))

    if isinstance(error, InvalidTransition):
        current = error.details.get("current_state", "")
        allowed = error.details.get("allowed_transitions") or []
        subject = error.message.split(" from ")[0].removeprefix("Cannot move ")
        follow = (
            "next it can be " + " or ".join(word(state) for state in allowed)
            if allowed
            else "nothing can follow"
        )
        return f"{subject[:1].upper()}{subject[1:]} is {word(current)} now; {follow}."
    if isinstance(error, ValidationFailed) and error.details:
        parts = []
        for field, messages in error.details.items():
            text = " ".join(str(m) for m in messages) if isinstance(messages, list) else messages
            parts.append(f"{str(field).replace('_', ' ').capitalize()}: {text}")
        return f"{error.message} " + " ".join(parts)
    return error.message


class OmsAdminSite(UnfoldAdminSite):
    site_header = "ArtiCurated back-office"
    site_title = "ArtiCurated OMS"
    index_title = "Today"
    index_template = "admin/oms_index.html"

    def each_context(self, request):
        context = super().each_context(request)
        # Shown next to every time on the back-office pages, which are in this zone.
        context["time_zone_name"] = timezone.get_current_timezone_name()
        return context

    def index(self, request, extra_context=None):
        extra = {"dashboard_panels": dashboard_panels(request), **(extra_context or {})}
        return super().index(request, extra_context=extra)


class OmsAdminConfig(AdminConfig):
    """django.contrib.admin with our site: unfold-themed, with a dashboard per role."""

    default_site = "articurated.admin_site.OmsAdminSite"


class ReadOnlyAdminMixin:
    """A model nobody edits in the admin (the audit trail, job rows): it can be listed and
    viewed; changes happen only through services (and admin actions that call them)."""

    def has_add_permission(self, request, obj=None) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False
