"""Back-office for refunds: the job's state, attempts and last error, the gateway reference, and
the retry action, which goes through payments.services like every other write."""

from django.contrib import admin, messages
from django.urls import reverse
from django.utils import timezone
from django.utils.html import format_html
from django.utils.text import Truncator

from articurated.admin_site import ReadOnlyAdminMixin
from articurated.context import ActionContext, Source
from articurated.errors import DomainError
from payments import services
from payments.models import GatewayTransaction, Refund, RefundStatus

STATUS_COLOURS = {
    RefundStatus.PENDING: "#8a6d3b",
    RefundStatus.SUCCEEDED: "#198754",
    RefundStatus.FAILED: "#dc3545",
}


@admin.register(Refund)
class RefundAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = [
        "created_at",
        "order_link",
        "return_link",
        "amount",
        "currency",
        "status_badge",
        "attempts",
        "short_error",
        "next_attempt_at",
        "reference",
    ]
    list_filter = ["status", "reason", "created_at"]
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
        "status",
        "reference",
        "idempotency_key",
        "attempts",
        "last_error",
        "next_attempt_at",
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
        return format_html('<a href="{}">{}</a>', url, refund.order.number)

    @admin.display(description="Return")
    def return_link(self, refund: Refund) -> str:
        if refund.return_request is None:
            return "— (cancellation)"
        url = reverse("admin:returns_return_change", args=[refund.return_request_id])
        return format_html('<a href="{}">{}</a>', url, refund.return_request.number)

    @admin.display(description="Status", ordering="status")
    def status_badge(self, refund: Refund) -> str:
        overdue = refund.status == RefundStatus.PENDING and refund.next_attempt_at < (
            timezone.now()
        )
        return format_html(
            '<span style="background:{};color:#fff;padding:2px 8px;border-radius:10px;'
            'font-size:11px">{}{}</span>',
            STATUS_COLOURS.get(refund.status, "#555"),
            refund.get_status_display(),
            " (overdue)" if overdue else "",
        )

    @admin.display(description="Last error")
    def short_error(self, refund: Refund) -> str:
        return Truncator(refund.last_error).chars(80)

    @admin.action(description="Retry the selected failed or stuck refunds", permissions=["retry"])
    def retry(self, request, queryset) -> None:
        context = ActionContext.from_request(request, source=Source.ADMIN)
        for refund in queryset.select_related("order"):
            label = f"Refund of {refund.currency} {refund.amount} for {refund.order.number}"
            try:
                services.refund_retry(refund_id=refund.pk, actor=request.user, context=context)
            except DomainError as error:
                self.message_user(request, f"{label}: {error.message}", messages.ERROR)
            else:
                self.message_user(request, f"{label}: queued again.")


@admin.register(GatewayTransaction)
class GatewayTransactionAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    """The simulated gateway's ledger: what it actually paid (superusers only: no role has its
    view permission)."""

    list_display = ["created_at", "reference", "amount", "currency", "idempotency_key"]
    search_fields = ["=reference", "=idempotency_key"]
    ordering = ["-created_at"]
