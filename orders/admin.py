"""Back-office for orders. Every state change goes through orders.services, exactly like the
API, so permissions, validation and audit are the same whichever door staff use."""

from collections.abc import Callable
from typing import NamedTuple

from django import forms
from django.contrib import admin, messages
from django.http import Http404, HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.html import format_html
from simple_history.admin import SimpleHistoryAdmin

from articurated.context import ActionContext, Source
from articurated.errors import DomainError
from orders import services
from orders.models import LineItem, Order, OrderStatus
from orders.timeline import order_timeline

STATUS_COLOURS = {
    OrderStatus.PENDING_PAYMENT: "#8a6d3b",
    OrderStatus.PAID: "#31708f",
    OrderStatus.PROCESSING_IN_WAREHOUSE: "#6f42c1",
    OrderStatus.SHIPPED: "#0d6efd",
    OrderStatus.DELIVERED: "#198754",
    OrderStatus.CANCELLED: "#6c757d",
}


def status_badge(status: str, label: str) -> str:
    return format_html(
        '<span style="background:{};color:#fff;padding:2px 8px;border-radius:10px;'
        'font-size:11px;white-space:nowrap">{}</span>',
        STATUS_COLOURS.get(status, "#555"),
        label,
    )


class PayForm(forms.Form):
    payment_reference = forms.CharField(max_length=120)
    payment_method = forms.CharField(max_length=40, required=False)


class ShipForm(forms.Form):
    carrier = forms.CharField(max_length=60)
    tracking_number = forms.CharField(max_length=120)


class ReasonForm(forms.Form):
    reason = forms.CharField(widget=forms.Textarea(attrs={"rows": 3}), max_length=2000)


class OptionalNoteForm(forms.Form):
    reason = forms.CharField(
        label="Note (optional)", widget=forms.Textarea(attrs={"rows": 2}), required=False
    )


class AdminTransition(NamedTuple):
    label: str  # the button
    form: type[forms.Form]  # asks for what the transition needs
    service: Callable
    done: str  # the message after it succeeded


TRANSITIONS = {
    "pay": AdminTransition("Record payment", PayForm, services.order_pay, "payment recorded"),
    "start_processing": AdminTransition(
        "Start processing", OptionalNoteForm, services.order_start_processing, "processing started"
    ),
    "ship": AdminTransition("Ship", ShipForm, services.order_ship, "shipped"),
    "deliver": AdminTransition(
        "Mark delivered", OptionalNoteForm, services.order_deliver, "delivered"
    ),
    "cancel": AdminTransition("Cancel order", ReasonForm, services.order_cancel, "cancelled"),
}


class LineItemInline(admin.TabularInline):
    model = LineItem
    fields = ["sku", "name", "quantity", "unit_price", "line_total", "returned_quantity"]
    readonly_fields = fields
    extra = 0
    can_delete = False

    def has_view_permission(self, request, obj=None) -> bool:
        # Lines are part of the order: whoever may see the order sees its lines.
        return request.user.has_perm("orders.view_order")

    def has_add_permission(self, request, obj=None) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False


def _address_fieldset(kind: str):
    parts = ["name", "line1", "line2", "city", "region", "postal_code", "country", "phone"]
    return (
        f"{kind.title()} address",
        {"fields": [f"{kind}_{part}" for part in parts], "classes": ["collapse"]},
    )


@admin.register(Order)
class OrderAdmin(SimpleHistoryAdmin):
    list_display = [
        "number",
        "status_display",
        "customer_name",
        "customer_email",
        "total",
        "created_at",
    ]
    list_filter = ["status", "created_at", "shipped_at", "delivered_at"]
    search_fields = ["=number", "customer_email", "=tracking_number"]
    date_hierarchy = "created_at"
    list_per_page = 50
    show_full_result_count = False
    inlines = [LineItemInline]
    actions = ["start_processing_selected", "deliver_selected", "cancel_selected"]
    change_form_template = "admin/orders/order/change_form.html"
    readonly_fields = [
        "number",
        "status_display",
        "currency",
        "subtotal",
        "shipping_amount",
        "tax_amount",
        "total_amount",
        "payment_method",
        "payment_reference",
        "carrier",
        "tracking_number",
        "cancellation_reason",
        "created_at",
        "paid_at",
        "shipped_at",
        "delivered_at",
        "cancelled_at",
    ]
    fieldsets = [
        (
            None,
            {"fields": ["number", "status_display", "customer_name", "customer_email", "notes"]},
        ),
        (
            "Money",
            {"fields": ["currency", "subtotal", "shipping_amount", "tax_amount", "total_amount"]},
        ),
        (
            "Payment and shipping",
            {
                "fields": [
                    "payment_method",
                    "payment_reference",
                    "carrier",
                    "tracking_number",
                    "cancellation_reason",
                ]
            },
        ),
        _address_fieldset("shipping"),
        _address_fieldset("billing"),
        (
            "Milestones",
            {"fields": ["created_at", "paid_at", "shipped_at", "delivered_at", "cancelled_at"]},
        ),
    ]

    @admin.display(description="Status", ordering="status")
    def status_display(self, order: Order) -> str:
        return status_badge(order.status, order.get_status_display())

    @admin.display(description="Total", ordering="total_amount")
    def total(self, order: Order) -> str:
        return f"{order.total_amount} {order.currency}"

    def has_add_permission(self, request) -> bool:
        # Orders come from the storefront (POST /api/v1/orders), never typed in by staff.
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False

    # --- per-order transitions ------------------------------------------------------------
    def get_urls(self):
        custom = [
            path(
                "<path:object_id>/transition/<str:name>/",
                self.admin_site.admin_view(self.transition_view),
                name="orders_order_transition",
            )
        ]
        return custom + super().get_urls()

    def change_view(self, request, object_id, form_url="", extra_context=None):
        order = self.get_object(request, object_id)
        extra = extra_context or {}
        if order is not None:
            allowed = {t.name for t in order.get_available_user_status_transitions(request.user)}
            extra["available_transitions"] = [
                {"name": name, "label": transition.label}
                for name, transition in TRANSITIONS.items()
                if name in allowed
            ]
            extra["timeline"] = order_timeline(order=order)
            extra["order_returns"] = list(getattr(order, "returns", Order.objects.none()).all())
            extra["order_invoice"] = getattr(order, "invoice", None)
        return super().change_view(request, object_id, form_url, extra_context=extra)

    def transition_view(self, request, object_id, name):
        order = self.get_object(request, object_id)
        if order is None or name not in TRANSITIONS:
            raise Http404
        transition = TRANSITIONS[name]
        change_url = reverse("admin:orders_order_change", args=[order.pk])
        form = transition.form(request.POST or None)
        if request.method == "POST" and form.is_valid():
            try:
                transition.service(
                    order_id=order.pk,
                    actor=request.user,
                    context=ActionContext.from_request(request, source=Source.ADMIN),
                    **form.cleaned_data,
                )
            except DomainError as error:
                self.message_user(request, f"{order.number}: {error.message}", messages.ERROR)
            else:
                self.message_user(request, f"{order.number}: {transition.done}.")
            return HttpResponseRedirect(change_url)
        context = {
            **self.admin_site.each_context(request),
            "opts": self.model._meta,
            "original": order,
            "title": f"{transition.label}: {order.number}",
            "form": form,
            "change_url": change_url,
            "submit_label": transition.label,
        }
        return TemplateResponse(request, "admin/orders/order/transition.html", context)

    # --- bulk actions -----------------------------------------------------------------------
    def _bulk(self, request, queryset, transition: AdminTransition, **inputs) -> None:
        context = ActionContext.from_request(request, source=Source.ADMIN)
        for order in queryset.order_by("created_at"):
            try:
                transition.service(order_id=order.pk, actor=request.user, context=context, **inputs)
            except DomainError as error:
                self.message_user(
                    request, f"{order.number}: refused — {error.message}", messages.WARNING
                )
            else:
                self.message_user(request, f"{order.number}: {transition.done}.", messages.SUCCESS)

    @admin.action(description="Start processing selected orders")
    def start_processing_selected(self, request, queryset):
        self._bulk(request, queryset, TRANSITIONS["start_processing"])

    @admin.action(description="Mark selected orders delivered")
    def deliver_selected(self, request, queryset):
        self._bulk(request, queryset, TRANSITIONS["deliver"])

    @admin.action(description="Cancel selected orders (asks for a reason)")
    def cancel_selected(self, request, queryset):
        form = ReasonForm(request.POST if "reason" in request.POST else None)
        if form.is_valid():
            self._bulk(request, queryset, TRANSITIONS["cancel"], **form.cleaned_data)
            return None
        context = {
            **self.admin_site.each_context(request),
            "opts": self.model._meta,
            "title": "Cancel orders",
            "form": form,
            "orders": queryset,
            "action": "cancel_selected",
            "action_checkbox_name": admin.helpers.ACTION_CHECKBOX_NAME,
        }
        return TemplateResponse(request, "admin/orders/order/bulk_reason.html", context)
