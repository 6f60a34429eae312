"""Back-office for refunds: the job's state, attempts and last error, the gateway reference, and
the retry action, which goes through payments.services like every other write."""

from django.contrib import admin, messages
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone
from django.utils.html import format_html
from django.utils.text import Truncator
from unfold.admin import ModelAdmin
from unfold.contrib.filters.admin import ChoicesDropdownFilter, RangeDateFilter

from articurated.admin_site import ReadOnlyAdminMixin, error_in_words, state_label
from articurated.context import ActionContext, Source
from articurated.errors import DomainError
from audit.models import AuditRecord, EntityType
from payments import services
from payments.models import GatewayTransaction, Refund, RefundStatus
from payments.timeline import refund_describe


@admin.register(Refund)
class RefundAdmin(ReadOnlyAdminMixin, ModelAdmin):
    list_display = [
        "refund_display",
        "order_link",
        "return_link",
        "status_badge",
        "attempts",
        "short_error",
        "next_attempt",
        "reference",
    ]
    list_filter = [
        ("status", ChoicesDropdownFilter),
        ("reason", ChoicesDropdownFilter),
        ("created_at", RangeDateFilter),
    ]
    list_filter_submit = True
    search_fields = [
        "=order__number",
        "=return_request__number",
        "=reference",
        "order__customer_email",
    ]
    list_select_related = ["order", "return_request"]
    date_hierarchy = "created_at"
    ordering = ["-created_at"]
    actions = ["retry"]
    readonly_fields = [
        "order_link",
        "return_link",
        "reason",
        "amount",
        "currency",
        "status_badge",
        "reference",
        "idempotency_key",
        "attempts",
        "last_error",
        "next_attempt",
        "attempts_log",
        "succeeded_at",
        "failed_at",
        "customer_notified_at",
        "managers_alerted_at",
        "created_at",
        "updated_at",
    ]
    fields = readonly_fields

    def has_retry_permission(self, request) -> bool:
        return request.user.has_perm("payments.retry_refund")

    @admin.display(description="Order", ordering="order__number")
    def order_link(self, refund: Refund) -> str:
        url = reverse("admin:orders_order_change", args=[refund.order_id])
        return format_html(
            '<a class="whitespace-nowrap text-primary-600" href="{}">{}</a>',
            url,
            refund.order.number,
        )

    @admin.display(description="Return")
    def return_link(self, refund: Refund) -> str:
        if refund.return_request is None:
            return "cancellation"
        url = reverse("admin:returns_return_change", args=[refund.return_request_id])
        return format_html(
            '<a class="whitespace-nowrap text-primary-600" href="{}">{}</a>',
            url,
            refund.return_request.number,
        )

    @admin.display(description="Refund", ordering="-created_at")
    def refund_display(self, refund: Refund) -> str:
        return format_html(
            '<span class="whitespace-nowrap font-medium">{} {}</span><br>'
            '<span class="whitespace-nowrap text-base-500">{}</span>',
            refund.amount,
            refund.currency,
            timezone.localtime(refund.created_at).strftime("%d %b %Y %H:%M"),
        )

    @admin.display(description="Status", ordering="status")
    def status_badge(self, refund: Refund) -> str:
        overdue = refund.status == RefundStatus.PENDING and refund.next_attempt_at < (
            timezone.now()
        )
        text = refund.get_status_display() + (" (overdue)" if overdue else "")
        return state_label(refund.status, text)

    @admin.display(description="Next attempt", ordering="next_attempt_at")
    def next_attempt(self, refund: Refund) -> str:
        # Only a PENDING refund will be tried again; the others are done or need a person.
        if refund.status != RefundStatus.PENDING:
            return "—"
        return format_html(
            '<span class="whitespace-nowrap">{}</span>',
            timezone.localtime(refund.next_attempt_at).strftime("%d %b %H:%M"),
        )

    @admin.display(description="Attempts log")
    def attempts_log(self, refund: Refund) -> str:
        """Every failure, retry and success so far (from the audit trail), so a retried
        refund keeps its earlier attempts and errors."""
        records = AuditRecord.objects.filter(
            entity_type=EntityType.REFUND, entity_id__in=[refund.pk, refund.order_id]
        ).select_related("actor")
        entries = [
            refund_describe(record)
            for record in records.order_by("created_at", "id")
            if (record.metadata or {}).get("refund_id") in (None, str(refund.pk))
        ]
        return render_to_string(
            "admin/includes/attempts_log.html", {"entries": entries, "current": refund}
        )

    @admin.display(description="Last error")
    def short_error(self, refund: Refund) -> str:
        return Truncator(refund.last_error).chars(50)

    @admin.action(description="Retry the selected failed or stuck refunds", permissions=["retry"])
    def retry(self, request, queryset) -> None:
        context = ActionContext.from_request(request, source=Source.ADMIN)
        for refund in queryset.select_related("order"):
            label = f"Refund of {refund.currency} {refund.amount} for {refund.order.number}"
            try:
                services.refund_retry(refund_id=refund.pk, actor=request.user, context=context)
            except DomainError as error:
                self.message_user(request, f"{label}: {error_in_words(error)}", messages.ERROR)
            else:
                self.message_user(request, f"{label}: queued again.")


@admin.register(GatewayTransaction)
class GatewayTransactionAdmin(ReadOnlyAdminMixin, ModelAdmin):
    """The simulated gateway's ledger: what it actually paid (superusers only: no role has its
    view permission)."""

    list_display = ["created_at", "reference", "amount", "currency", "idempotency_key"]
    search_fields = ["=reference", "=idempotency_key"]
    ordering = ["-created_at"]
