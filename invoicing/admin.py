"""Back-office for invoices: the job's state, attempts and last error, the PDF, and the staff
actions (retry, regenerate), which go through invoicing.services like every other write."""

from django.contrib import admin, messages
from django.urls import reverse
from django.utils import timezone
from django.utils.html import format_html
from django.utils.text import Truncator
from django_dramatiq.models import Task as DramatiqTask

from articurated.admin_site import ReadOnlyAdminMixin
from articurated.context import ActionContext, Source
from articurated.errors import DomainError
from invoicing import services
from invoicing.models import Invoice, InvoiceStatus

STATUS_COLOURS = {
    InvoiceStatus.PENDING: "#8a6d3b",
    InvoiceStatus.GENERATED: "#198754",
    InvoiceStatus.FAILED: "#dc3545",
}


def _run(modeladmin, request, queryset, service, done: str) -> None:
    """Calls the service per invoice and reports each one: done, or refused and why."""
    context = ActionContext.from_request(request, source=Source.ADMIN)
    for invoice in queryset.select_related("order"):
        label = invoice.number or f"Invoice of {invoice.order.number}"
        try:
            service(invoice_id=invoice.pk, actor=request.user, context=context)
        except DomainError as error:
            modeladmin.message_user(request, f"{label}: {error.message}", messages.ERROR)
        else:
            modeladmin.message_user(request, f"{label}: {done}.")


@admin.register(Invoice)
class InvoiceAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = [
        "invoice_number",
        "order_link",
        "status_badge",
        "attempts",
        "short_error",
        "next_attempt_at",
        "issued_at",
        "emailed_at",
        "download",
    ]
    list_filter = ["status", "issued_at"]
    search_fields = ["=number", "=order__number", "order__customer_email"]
    list_select_related = ["order"]
    date_hierarchy = "created_at"
    ordering = ["-created_at"]
    actions = ["retry", "regenerate"]
    readonly_fields = [
        "order_link",
        "number",
        "status",
        "attempts",
        "last_error",
        "download",
        "issued_at",
        "generated_at",
        "emailed_at",
        "next_attempt_at",
        "created_at",
        "updated_at",
    ]
    fields = readonly_fields

    def has_retry_permission(self, request) -> bool:
        return request.user.has_perm("invoicing.retry_invoice")

    @admin.display(description="Number", ordering="number")
    def invoice_number(self, invoice: Invoice) -> str:
        return invoice.number or "(not numbered yet)"

    @admin.display(description="Order", ordering="order__number")
    def order_link(self, invoice: Invoice) -> str:
        url = reverse("admin:orders_order_change", args=[invoice.order_id])
        return format_html('<a href="{}">{}</a>', url, invoice.order.number)

    @admin.display(description="Status", ordering="status")
    def status_badge(self, invoice: Invoice) -> str:
        overdue = invoice.status == InvoiceStatus.PENDING and invoice.next_attempt_at < (
            timezone.now()
        )
        return format_html(
            '<span style="background:{};color:#fff;padding:2px 8px;border-radius:10px;'
            'font-size:11px">{}{}</span>',
            STATUS_COLOURS.get(invoice.status, "#555"),
            invoice.get_status_display(),
            " (overdue)" if overdue else "",
        )

    @admin.display(description="Last error")
    def short_error(self, invoice: Invoice) -> str:
        return Truncator(invoice.last_error).chars(80)

    @admin.display(description="PDF")
    def download(self, invoice: Invoice) -> str:
        if invoice.status != InvoiceStatus.GENERATED:
            return "—"
        url = reverse("api:order-invoice", kwargs={"pk": invoice.order_id})
        return format_html('<a href="{}">Download {}.pdf</a>', url, invoice.number)

    @admin.action(description="Retry the selected failed or stuck invoices", permissions=["retry"])
    def retry(self, request, queryset) -> None:
        _run(self, request, queryset, services.invoice_retry, "queued again")

    @admin.action(description="Regenerate the PDF of the selected invoices", permissions=["retry"])
    def regenerate(self, request, queryset) -> None:
        _run(self, request, queryset, services.invoice_regenerate, "queued for regeneration")


# django_dramatiq's "Tasks" list is filled only by its AdminMiddleware, which we do not install
# (it writes a row per message); the job state staff need is on Invoice and Refund.
if admin.site.is_registered(DramatiqTask):
    admin.site.unregister(DramatiqTask)
