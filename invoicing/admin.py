"""Back-office for invoices: the job's state, attempts and last error, the PDF, and the staff
actions (retry, regenerate), which go through invoicing.services like every other write."""

from django.contrib import admin, messages
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone
from django.utils.html import format_html
from django.utils.text import Truncator
from django_dramatiq.models import Task as DramatiqTask
from unfold.admin import ModelAdmin
from unfold.contrib.filters.admin import ChoicesDropdownFilter, RangeDateFilter

from articurated.admin_site import ReadOnlyAdminMixin, error_in_words, state_label
from articurated.context import ActionContext, Source
from articurated.errors import DomainError
from audit.models import AuditRecord, EntityType
from invoicing import services
from invoicing.models import Invoice, InvoiceStatus
from invoicing.timeline import invoice_describe

# An invoice that cannot be retried says what may be done with it instead.
STATE_WORDS = {
    InvoiceStatus.PENDING: "queued again with “Regenerate the PDF”",
    InvoiceStatus.GENERATED: "generated",
    InvoiceStatus.FAILED: "failed",
}


def _run(modeladmin, request, queryset, service, done: str) -> None:
    """Calls the service per invoice and reports each one: done, or refused and why."""
    context = ActionContext.from_request(request, source=Source.ADMIN)
    for invoice in queryset.select_related("order"):
        label = invoice.number or f"Invoice of {invoice.order.number}"
        try:
            service(invoice_id=invoice.pk, actor=request.user, context=context)
        except DomainError as error:
            words = error_in_words(error, labels=STATE_WORDS)
            modeladmin.message_user(request, f"{label}: {words}", messages.ERROR)
        else:
            modeladmin.message_user(request, f"{label}: {done}.")


@admin.register(Invoice)
class InvoiceAdmin(ReadOnlyAdminMixin, ModelAdmin):
    list_display = [
        "invoice_number",
        "order_link",
        "status_badge",
        "attempts",
        "short_error",
        "next_attempt",
        "issued_at",
        "download",
    ]
    list_filter = [("status", ChoicesDropdownFilter), ("issued_at", RangeDateFilter)]
    list_filter_submit = True
    search_fields = ["=number", "=order__number", "order__customer_email"]
    list_select_related = ["order"]
    date_hierarchy = "created_at"
    ordering = ["-created_at"]
    actions = ["retry", "regenerate"]
    readonly_fields = [
        "order_link",
        "number",
        "status_badge",
        "attempts",
        "last_error",
        "next_attempt",
        "attempts_log",
        "download",
        "issued_at",
        "generated_at",
        "emailed_at",
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
        return format_html(
            '<a class="whitespace-nowrap text-primary-600" href="{}">{}</a>',
            url,
            invoice.order.number,
        )

    @admin.display(description="Status", ordering="status")
    def status_badge(self, invoice: Invoice) -> str:
        overdue = invoice.status == InvoiceStatus.PENDING and invoice.next_attempt_at < (
            timezone.now()
        )
        text = invoice.get_status_display() + (" (overdue)" if overdue else "")
        return state_label(invoice.status, text)

    @admin.display(description="Next attempt", ordering="next_attempt_at")
    def next_attempt(self, invoice: Invoice) -> str:
        # Only a PENDING invoice will be tried again; the others are done or need a person.
        if invoice.status != InvoiceStatus.PENDING:
            return "—"
        return format_html(
            '<span class="whitespace-nowrap">{}</span>',
            timezone.localtime(invoice.next_attempt_at).strftime("%d %b %H:%M"),
        )

    @admin.display(description="Attempts log")
    def attempts_log(self, invoice: Invoice) -> str:
        """Every failure, retry and success so far (from the audit trail), so a retried
        invoice keeps its earlier attempts and errors."""
        records = AuditRecord.objects.filter(
            entity_type=EntityType.INVOICE, entity_id__in=[invoice.pk, invoice.order_id]
        ).select_related("actor")
        entries = [invoice_describe(record) for record in records.order_by("created_at", "id")]
        return render_to_string(
            "admin/includes/attempts_log.html", {"entries": entries, "current": invoice}
        )

    @admin.display(description="Last error")
    def short_error(self, invoice: Invoice) -> str:
        return Truncator(invoice.last_error).chars(50)

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
