"""Back-office for orders. Every change goes through orders.services, exactly like the API, so
permissions, validation and audit are the same whichever door staff use: state changes through
the transition services, corrections of customer, addresses and notes through
`order_update_details` (refused once the parcel has left or the order is cancelled)."""

from collections.abc import Callable
from datetime import timedelta
from typing import NamedTuple

from django import forms
from django.conf import settings
from django.contrib import admin, messages
from django.contrib.admin.utils import unquote
from django.core.exceptions import PermissionDenied
from django.core.exceptions import ValidationError as DjangoValidationError
from django.http import Http404, HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import NoReverseMatch, path, reverse
from django.utils import timezone
from django.utils.html import format_html
from django_fsm import can_proceed
from simple_history.admin import SimpleHistoryAdmin
from unfold.admin import ModelAdmin, TabularInline
from unfold.contrib.filters.admin import ChoicesDropdownFilter, RangeDateFilter
from unfold.decorators import display
from unfold.widgets import UnfoldAdminTextareaWidget, UnfoldAdminTextInputWidget

from articurated.admin_site import error_in_words, state_label
from articurated.context import ActionContext, Source
from articurated.dashboard import age_text
from articurated.errors import DomainError
from orders import services
from orders.models import LineItem, Order, OrderStatus
from orders.selectors import order_number_q
from orders.timeline import order_timeline
from orders.validation import EDITABLE_FIELDS, FROZEN_STATES, order_details_clean

OTHER_ORDERS_SHOWN = 10


def _line(max_length: int, **kwargs) -> forms.CharField:
    return forms.CharField(max_length=max_length, widget=UnfoldAdminTextInputWidget, **kwargs)


def _text(**kwargs) -> forms.CharField:
    return forms.CharField(
        max_length=2000, widget=UnfoldAdminTextareaWidget(attrs={"rows": 3}), **kwargs
    )


class PayForm(forms.Form):
    payment_reference = _line(120)
    payment_method = _line(40, required=False)


class ShipForm(forms.Form):
    carrier = _line(60)
    tracking_number = _line(120)


class ReasonForm(forms.Form):
    reason = _text()


class OptionalNoteForm(forms.Form):
    reason = _text(label="Note (optional)", required=False)


class AdminTransition(NamedTuple):
    label: str  # the button
    form: type[forms.Form]  # asks for what the transition needs
    service: Callable
    done: str  # the message after it succeeded
    icon: str
    variant: str  # unfold's action variant


TRANSITIONS = {
    "pay": AdminTransition(
        "Record payment", PayForm, services.order_pay, "payment recorded", "payments", "primary"
    ),
    "start_processing": AdminTransition(
        "Start processing",
        OptionalNoteForm,
        services.order_start_processing,
        "processing started",
        "inventory",
        "primary",
    ),
    "ship": AdminTransition(
        "Ship", ShipForm, services.order_ship, "shipped", "local_shipping", "primary"
    ),
    "deliver": AdminTransition(
        "Mark delivered",
        OptionalNoteForm,
        services.order_deliver,
        "delivered",
        "where_to_vote",
        "success",
    ),
    "cancel": AdminTransition(
        "Cancel order", ReasonForm, services.order_cancel, "cancelled", "cancel", "danger"
    ),
}
STATE_LABELS = {status.value: status.label.lower() for status in OrderStatus}


def _in_words(error: DomainError) -> str:
    return error_in_words(error, labels=STATE_LABELS)


class LineItemInline(TabularInline):
    model = LineItem
    fields = ["sku", "name", "quantity", "unit_price", "line_total", "returned_quantity"]
    readonly_fields = fields
    extra = 0
    can_delete = False
    hide_title = True

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
        {"fields": [f"{kind}_{part}" for part in parts], "classes": ["tab"]},
    )


class OrderDetailsForm(forms.ModelForm):
    """The editable details, checked by the same rules as `order_update_details` so each
    refusal shows on its field. Country inputs have no browser length limit: "Germany" must
    be refused with a message, not silently cut to "Ge" while typing."""

    shipping_country = forms.CharField(
        label="Shipping country", required=False, widget=UnfoldAdminTextInputWidget
    )
    billing_country = forms.CharField(
        label="Billing country", required=False, widget=UnfoldAdminTextInputWidget
    )

    class Meta:
        model = Order
        fields = list(EDITABLE_FIELDS)

    def clean(self):
        cleaned = super().clean()
        changes = {
            name: self.data.get(name, "")
            for name in self.changed_data
            if name in EDITABLE_FIELDS and name in self.fields
        }
        if changes and self.instance.pk:
            try:
                cleaned.update(order_details_clean(order=self.instance, changes=changes))
            except DjangoValidationError as error:
                for name, messages_ in error.message_dict.items():
                    self.add_error(name if name in self.fields else None, messages_)
        return cleaned

    def _post_clean(self):
        # The service saves; the model's own length check would only repeat our messages.
        pass


@admin.register(Order)
class OrderAdmin(SimpleHistoryAdmin, ModelAdmin):
    form = OrderDetailsForm
    list_display = ["number_display", "status_display", "customer", "total", "shipment", "age"]
    list_display_links = ["number_display"]
    list_filter = [
        ("status", ChoicesDropdownFilter),
        ("created_at", RangeDateFilter),
        ("shipped_at", RangeDateFilter),
    ]
    list_filter_submit = True
    search_fields = ["customer_name", "customer_email"]
    search_help_text = (
        "Order number (000012 or ORD-2026-000012), e-mail, customer name or tracking number"
    )
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
            {
                "fields": ["currency", "subtotal", "shipping_amount", "tax_amount", "total_amount"],
                "classes": ["tab"],
            },
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
                ],
                "classes": ["tab"],
            },
        ),
        _address_fieldset("shipping"),
        _address_fieldset("billing"),
        (
            "Milestones",
            {
                "fields": ["created_at", "paid_at", "shipped_at", "delivered_at", "cancelled_at"],
                "classes": ["tab"],
            },
        ),
    ]

    # --- the list ----------------------------------------------------------------------------
    @display(description="Number", ordering="number")
    def number_display(self, order: Order) -> str:
        return format_html('<span class="whitespace-nowrap font-medium">{}</span>', order.number)

    @display(description="Status", ordering="status")
    def status_display(self, order: Order) -> str:
        return state_label(order.status, order.get_status_display())

    @display(description="Customer", ordering="customer_name", header=True)
    def customer(self, order: Order):
        return [order.customer_name, order.customer_email]

    @display(description="Total", ordering="total_amount")
    def total(self, order: Order) -> str:
        return format_html(
            '<span class="whitespace-nowrap">{} {}</span>', order.total_amount, order.currency
        )

    @display(description="Carrier / tracking", header=True)
    def shipment(self, order: Order):
        if not order.tracking_number:
            return ["—", ""]
        return [order.carrier, order.tracking_number]

    @display(description="Age", ordering="created_at")
    def age(self, order: Order) -> str:
        return format_html('<span class="whitespace-nowrap">{}</span>', age_text(order.created_at))

    def get_search_results(self, request, queryset, search_term):
        """Number with or without its prefix, e-mail or name (any part), tracking number."""
        term = search_term.strip()
        if not term:
            return queryset, False
        from django.db.models import Q

        query = (
            Q(customer_email__icontains=term)
            | Q(customer_name__icontains=term)
            | Q(tracking_number__iexact=term)
        )
        if (number := order_number_q(term)) is not None:
            query |= number
        return queryset.filter(query), False

    # --- who may do what ---------------------------------------------------------------------
    def has_add_permission(self, request) -> bool:
        # Orders come from the storefront (POST /api/v1/orders), never typed in by staff.
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False

    def has_start_processing_permission(self, request) -> bool:
        return services.order_may(request.user, "start_processing")

    def has_deliver_permission(self, request) -> bool:
        return services.order_may(request.user, "deliver")

    def has_cancel_permission(self, request) -> bool:
        return services.order_may(request.user, "cancel")

    def revert_disabled(self, request, obj=None) -> bool:
        # History is a record; corrections go through order_update_details.
        return True

    def history_form_view(self, request, object_id, version_id, extra_context=None):
        if request.method != "GET":
            raise PermissionDenied
        return super().history_form_view(request, object_id, version_id, extra_context)

    def get_readonly_fields(self, request, obj=None):
        if obj is not None and obj.status in FROZEN_STATES:
            return [*self.readonly_fields, *EDITABLE_FIELDS]
        return self.readonly_fields

    def save_model(self, request, obj, form, change) -> None:
        changes = {
            name: form.cleaned_data[name] for name in form.changed_data if name in EDITABLE_FIELDS
        }
        try:
            services.order_update_details(
                order_id=obj.pk,
                actor=request.user,
                context=ActionContext.from_request(request, source=Source.ADMIN),
                changes=changes,
            )
        except DomainError as error:
            request._order_update_refused = _in_words(error)

    def response_change(self, request, obj):
        refused = getattr(request, "_order_update_refused", None)
        if refused:
            self.message_user(request, f"{obj.number}: not saved. {refused}", messages.ERROR)
            return HttpResponseRedirect(reverse("admin:orders_order_change", args=[obj.pk]))
        return super().response_change(request, obj)

    # --- one order: the whole story ------------------------------------------------------------
    def get_urls(self):
        custom = [
            path(
                "<path:object_id>/transition/<str:name>/",
                self.admin_site.admin_view(self.transition_view),
                name="orders_order_transition",
            )
        ]
        return custom + super().get_urls()

    def available_transitions(self, request, order: Order) -> list[dict]:
        """Exactly the transitions this user may make now, as detail-action buttons."""
        allowed = {t.name for t in order.get_available_user_status_transitions(request.user)}
        return [
            {
                "name": name,
                "label": transition.label,
                "url": reverse("admin:orders_order_transition", args=[order.pk, name]),
                "action": {
                    "variant": transition.variant,
                    "icon": transition.icon,
                    "attrs": {"data-transition": name},
                },
            }
            for name, transition in TRANSITIONS.items()
            if name in allowed
        ]

    def return_offer(self, request, order: Order) -> dict | None:
        """ "Open a return" for a delivered order, or why it cannot be returned (before any
        form). The returns admin is above this app: reached by URL name only."""
        if order.status != OrderStatus.DELIVERED or not request.user.has_perm("returns.add_return"):
            return None
        try:
            url = reverse("admin:returns_return_add")
        except NoReverseMatch:
            return None
        closes = order.delivered_at + timedelta(days=settings.RETURN_WINDOW_DAYS)
        left = sum(line.quantity - line.returned_quantity for line in order.items.all())
        if closes < timezone.now():
            return {"refused": f"The return window closed on {closes:%d %b %Y}."}
        if left <= 0:
            return {"refused": "Every unit of this order is already in a return."}
        return {"url": f"{url}?order={order.number}", "closes": closes, "left": left}

    def change_view(self, request, object_id, form_url="", extra_context=None):
        order = self.get_object(request, unquote(object_id))
        extra = extra_context or {}
        if order is not None:
            extra["available_transitions"] = self.available_transitions(request, order)
            extra["return_offer"] = self.return_offer(request, order)
            extra["timeline"] = order_timeline(order=order)
            extra["status_label"] = state_label(order.status, order.get_status_display())
            returns = getattr(order, "returns", None)
            extra["order_returns"] = list(returns.order_by("created_at")) if returns else []
            extra["order_invoice"] = getattr(order, "invoice", None)
            extra["other_orders"] = list(
                Order.objects.filter(customer_email__iexact=order.customer_email)
                .exclude(pk=order.pk)
                .order_by("-created_at")[:OTHER_ORDERS_SHOWN]
            )
            extra["frozen"] = order.status in FROZEN_STATES
            if extra["frozen"] or not self.has_change_permission(request, order):
                extra.update(show_save=False, show_save_and_continue=False)
            extra["show_save_and_add_another"] = False
        return super().change_view(request, object_id, form_url, extra_context=extra)

    def transition_view(self, request, object_id, name):
        order = self.get_object(request, unquote(object_id))
        if order is None or name not in TRANSITIONS:
            raise Http404
        if not services.order_may(request.user, name):
            raise PermissionDenied  # bulk actions and buttons are not offered to this role
        transition = TRANSITIONS[name]
        change_url = reverse("admin:orders_order_change", args=[order.pk])
        still_allowed = can_proceed(getattr(order, name))
        form = transition.form(request.POST or None)
        if request.method == "POST" and still_allowed and form.is_valid():
            try:
                transition.service(
                    order_id=order.pk,
                    actor=request.user,
                    context=ActionContext.from_request(request, source=Source.ADMIN),
                    **form.cleaned_data,
                )
            except DomainError as error:
                self.message_user(request, f"{order.number}: {_in_words(error)}", messages.ERROR)
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
            "status_label": state_label(order.status, order.get_status_display()),
            "still_allowed": still_allowed,
            "what_may_follow": self.available_transitions(request, order),
        }
        return TemplateResponse(request, "admin/orders/order/transition.html", context)

    # --- bulk actions (offered only to roles that may take them) ----------------------------
    def _bulk(self, request, queryset, transition: AdminTransition, **inputs) -> None:
        context = ActionContext.from_request(request, source=Source.ADMIN)
        for order in queryset.order_by("created_at"):
            try:
                transition.service(order_id=order.pk, actor=request.user, context=context, **inputs)
            except DomainError as error:
                self.message_user(
                    request, f"{order.number}: refused — {_in_words(error)}", messages.WARNING
                )
            else:
                self.message_user(request, f"{order.number}: {transition.done}.", messages.SUCCESS)

    @admin.action(description="Start processing selected orders", permissions=["start_processing"])
    def start_processing_selected(self, request, queryset):
        self._bulk(request, queryset, TRANSITIONS["start_processing"])

    @admin.action(description="Mark selected orders delivered", permissions=["deliver"])
    def deliver_selected(self, request, queryset):
        self._bulk(request, queryset, TRANSITIONS["deliver"])

    @admin.action(description="Cancel selected orders (asks for a reason)", permissions=["cancel"])
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
