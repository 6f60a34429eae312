"""Back-office for returns. Every change goes through returns/services.py with an ADMIN context,
so the admin applies the same permissions, rules and audit as the API. Nothing is edited
directly: the change page is read-only, with one button per transition the user may make now."""

from datetime import timedelta

from django.conf import settings
from django.contrib import admin, messages
from django.contrib.admin import helpers
from django.contrib.admin.utils import unquote
from django.core.exceptions import PermissionDenied
from django.db.models import Count, IntegerField, OuterRef, Subquery
from django.db.models.functions import Coalesce
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.urls import NoReverseMatch, path, reverse
from django.utils import timezone
from django.utils.html import format_html
from django.utils.timesince import timesince
from simple_history.admin import SimpleHistoryAdmin
from unfold.admin import ModelAdmin, TabularInline
from unfold.contrib.filters.admin import ChoicesDropdownFilter, RangeDateFilter
from unfold.decorators import display

from articurated.admin_site import error_in_words, state_label
from articurated.context import ActionContext, Source
from articurated.errors import DomainError
from orders.models import OrderStatus
from orders.selectors import order_number_q
from returns.forms import TRANSITION_LABELS, OpenReturnForm, OrderLookupForm, TransitionForm
from returns.models import Return, ReturnLine, ReturnStatus
from returns.selectors import return_order_find
from returns.services import (
    TRANSITION_BY_TARGET,
    return_allowed_transitions,
    return_approve,
    return_complete,
    return_create,
    return_mark_in_transit,
    return_may,
    return_receive,
    return_reject,
)
from returns.timeline import return_timeline

SERVICES = {
    "approve": return_approve,
    "reject": return_reject,
    "mark_in_transit": return_mark_in_transit,
    "receive": return_receive,
    "complete": return_complete,
}
PAST_TENSE = {
    "approve": "approved",
    "reject": "rejected",
    "mark_in_transit": "marked in transit",
    "receive": "received",
    "complete": "completed",
}
AWAITING = "awaiting"
BUTTON_ICONS = {
    "mark_in_transit": "local_shipping",
    "receive": "move_to_inbox",
    "complete": "assignment_turned_in",
}
STATE_LABELS = {status.value: status.label.lower() for status in ReturnStatus}


def _in_words(error: DomainError) -> str:
    return error_in_words(error, labels=STATE_LABELS)


def order_not_returnable_why(order) -> str | None:
    """Why no return can be opened for this order (before any form), or None."""
    if order.status != OrderStatus.DELIVERED:
        return (
            f"{order.number} is {order.get_status_display().lower()}; only a delivered order "
            "can be returned."
        )
    closes = order.delivered_at + timedelta(days=settings.RETURN_WINDOW_DAYS)
    if timezone.now() > closes:
        return f"The return window of {order.number} closed on {closes:%d %b %Y}."
    if all(line.returned_quantity >= line.quantity for line in order.items.all()):
        return f"Every unit of {order.number} is already in a return."
    return None


def _context(request) -> ActionContext:
    return ActionContext.from_request(request, source=Source.ADMIN)


def _may_decide(request) -> bool:
    return request.user.has_perm("returns.approve_return") or request.user.has_perm(
        "returns.reject_return"
    )


class QueueFilter(admin.SimpleListFilter):
    """The managers' work queue: REQUESTED returns, oldest first (ordering: see
    ReturnAdmin.get_ordering)."""

    title = "queue"
    parameter_name = "queue"

    def lookups(self, request, model_admin):
        return [(AWAITING, "Awaiting approval")]

    def queryset(self, request, queryset):
        if self.value() == AWAITING:
            return queryset.filter(status=ReturnStatus.REQUESTED)
        return queryset


class ReturnLineInline(TabularInline):
    model = ReturnLine
    fields = ("sku", "name", "quantity", "unit_price", "refund_amount")
    readonly_fields = fields
    extra = 0
    can_delete = False
    hide_title = True

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("line_item")

    # Lines are part of the return: whoever may see the return sees them, nobody edits them.
    def has_view_permission(self, request, obj=None):
        return request.user.has_perm("returns.view_return")

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    @admin.display(description="SKU")
    def sku(self, line: ReturnLine) -> str:
        return line.line_item.sku

    @admin.display(description="name")
    def name(self, line: ReturnLine) -> str:
        return line.line_item.name


@admin.register(Return)
class ReturnAdmin(SimpleHistoryAdmin, ModelAdmin):
    change_form_template = "admin/returns/return/change_form.html"
    list_display_links = ("number_display",)
    list_select_related = ("order",)
    search_fields = ("order__customer_email", "order__customer_name")
    search_help_text = (
        "Return or order number (with or without prefix), e-mail, customer name, tracking number"
    )
    list_filter_submit = True
    date_hierarchy = "created_at"
    inlines = [ReturnLineInline]
    actions = ["approve_selected", "reject_selected"]
    fieldsets = [
        (
            None,
            {"fields": ("number", "status_badge", "order_link", "customer", "reason", "comment")},
        ),
        ("Money", {"fields": ("refund_amount", "currency", "order_value"), "classes": ["tab"]}),
        (
            "Decision",
            {"fields": ("decision_reason", "decided_by", "decided_at"), "classes": ["tab"]},
        ),
        (
            "Parcel",
            {"fields": ("carrier", "tracking_number", "inspection_note"), "classes": ["tab"]},
        ),
        (
            "Milestones",
            {
                "fields": (
                    "created_at",
                    "in_transit_at",
                    "received_at",
                    "completed_at",
                    "updated_at",
                ),
                "classes": ["tab"],
            },
        ),
        ("Customer history", {"fields": ("earlier_returns",), "classes": ["tab"]}),
    ]

    def get_search_results(self, request, queryset, search_term):
        """RMA or order number with or without prefix, e-mail, name, tracking number."""
        term = search_term.strip()
        if not term:
            return queryset, False
        from django.db.models import Q

        query = (
            Q(order__customer_email__icontains=term)
            | Q(order__customer_name__icontains=term)
            | Q(tracking_number__iexact=term)
            | Q(order__tracking_number__iexact=term)
            | Q(number__iexact=term)
        )
        if (number := order_number_q(term, field="order__number")) is not None:
            query |= number
        if term.isdigit():
            query |= Q(number__endswith=f"-{term.zfill(6)}")
        return queryset.filter(query), False

    # --- lists -------------------------------------------------------------------------------

    def get_queryset(self, request):
        earlier = (
            Return.objects.filter(
                order__customer_email__iexact=OuterRef("order__customer_email"),
                created_at__lt=OuterRef("created_at"),
            )
            .order_by()
            .values("order__customer_email")
            .annotate(count=Count("pk"))
            .values("count")
        )
        return (
            super()
            .get_queryset(request)
            .select_related("order", "decided_by")
            .annotate(earlier_count=Coalesce(Subquery(earlier, output_field=IntegerField()), 0))
        )

    def _in_queue(self, request) -> bool:
        return request.GET.get(QueueFilter.parameter_name) == AWAITING

    def get_list_display(self, request):
        if self._in_queue(request):
            return ("number_display", "order_link", "order_value", "value", "reason",
                    "comment_excerpt", "earlier_returns", "age")  # fmt: skip
        return ("number_display", "status_badge", "order_link", "customer_header", "value",
                "reason", "age")  # fmt: skip

    def get_list_filter(self, request):
        filters = (
            ("status", ChoicesDropdownFilter),
            ("reason", ChoicesDropdownFilter),
            ("created_at", RangeDateFilter),
        )
        return (QueueFilter, *filters) if _may_decide(request) else filters

    def get_ordering(self, request):
        return ["created_at"] if self._in_queue(request) else ["-created_at"]

    @admin.display(description="status", ordering="status")
    def status_badge(self, obj: Return):
        return state_label(obj.status, obj.get_status_display())

    @admin.display(description="number", ordering="number")
    def number_display(self, obj: Return):
        return format_html('<span class="whitespace-nowrap font-medium">{}</span>', obj.number)

    @admin.display(description="order", ordering="order__number")
    def order_link(self, obj: Return):
        try:
            url = reverse("admin:orders_order_change", args=[obj.order_id])
        except NoReverseMatch:  # the orders admin is not registered
            return obj.order.number
        return format_html(
            '<a class="whitespace-nowrap text-primary-600" href="{}">{}</a>', url, obj.order.number
        )

    @admin.display(description="customer")
    def customer(self, obj: Return) -> str:
        return f"{obj.order.customer_name} <{obj.order.customer_email}>"

    @display(description="customer", header=True)
    def customer_header(self, obj: Return):
        return [obj.order.customer_name, obj.order.customer_email]

    @admin.display(description="value", ordering="refund_amount")
    def value(self, obj: Return) -> str:
        return format_html(
            '<span class="whitespace-nowrap">{} {}</span>', obj.refund_amount, obj.currency
        )

    @admin.display(description="order value", ordering="order__total_amount")
    def order_value(self, obj: Return) -> str:
        return format_html(
            '<span class="whitespace-nowrap">{} {}</span>',
            obj.order.total_amount,
            obj.order.currency,
        )

    @admin.display(description="comment")
    def comment_excerpt(self, obj: Return) -> str:
        return obj.comment if len(obj.comment) <= 80 else f"{obj.comment[:77]}…"

    @admin.display(description="earlier returns", ordering="earlier_count")
    def earlier_returns(self, obj: Return) -> int:
        return getattr(obj, "earlier_count", 0)

    @admin.display(description="age", ordering="created_at")
    def age(self, obj: Return) -> str:
        return format_html(
            '<span class="whitespace-nowrap">{}</span>',
            timesince(obj.created_at, timezone.now(), depth=1),
        )

    def changelist_view(self, request, extra_context=None):
        if self._in_queue(request):
            extra_context = {"title": "Awaiting approval, oldest first", **(extra_context or {})}
        return super().changelist_view(request, extra_context)

    # --- permissions: read-only; changes only through the services --------------------------

    def get_readonly_fields(self, request, obj=None):
        return [field for _, options in self.fieldsets for field in options["fields"]]

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    def has_approve_permission(self, request) -> bool:
        return request.user.has_perm("returns.approve_return")

    def has_reject_permission(self, request) -> bool:
        return request.user.has_perm("returns.reject_return")

    def revert_disabled(self, request, obj=None):
        return True

    def history_form_view(self, request, object_id, version_id, extra_context=None):
        # simple_history would save a posted historical version; history here is read-only.
        if request.method != "GET":
            raise PermissionDenied
        return super().history_form_view(request, object_id, version_id, extra_context)

    # --- one return: transition buttons and their forms ------------------------------------

    def get_urls(self):
        view = self.admin_site.admin_view(self.transition_view)
        return [
            path("<path:object_id>/transition/<str:name>/", view, name="returns_return_transition"),
            *super().get_urls(),
        ]

    def transition_buttons(self, request, obj: Return) -> list[dict]:
        """Exactly the transitions this user may make now."""
        names = [TRANSITION_BY_TARGET[state] for state in return_allowed_transitions(obj)]
        return [
            {
                "name": name,
                "label": TRANSITION_LABELS[name],
                "url": reverse("admin:returns_return_transition", args=[obj.pk, name]),
                "action": {
                    "variant": "primary",
                    "icon": BUTTON_ICONS.get(name, ""),
                    "attrs": {"data-transition": name},
                },
            }
            for name in names
            if return_may(request.user, name)
        ]

    def change_view(self, request, object_id, form_url="", extra_context=None):
        obj = self.get_object(request, unquote(object_id))
        extra = {"transition_buttons": []}
        if obj is not None:
            buttons = self.transition_buttons(request, obj)
            deciding = {"approve", "reject"}
            extra = {
                # Managers decide in the box on the page; the other steps are buttons.
                "transition_buttons": [b for b in buttons if b["name"] not in deciding],
                "decision_buttons": [b for b in buttons if b["name"] in deciding],
                "decision_form": TransitionForm("reject"),
                "timeline": return_timeline(return_obj=obj),
                "timeline_title": f"Timeline of {obj.number}",
                "status_label": state_label(obj.status, obj.get_status_display()),
            }
        return super().change_view(request, object_id, form_url, {**extra, **(extra_context or {})})

    def transition_view(self, request, object_id, name):
        obj = self.get_object(request, unquote(object_id))
        if obj is None:
            return self._get_obj_does_not_exist_redirect(request, self.opts, object_id)
        if name not in SERVICES or not self.has_view_permission(request, obj):
            raise PermissionDenied
        if not return_may(request.user, name):
            raise PermissionDenied
        form = TransitionForm(name, request.POST if request.method == "POST" else None)
        if request.method == "POST" and form.is_valid():
            try:
                SERVICES[name](
                    return_id=obj.pk, actor=request.user, context=_context(request),
                    **form.cleaned_data,
                )  # fmt: skip
            except DomainError as exc:
                text = f"{obj.number}: refused: {_in_words(exc)}"
                self.message_user(request, text, messages.ERROR)
            else:
                self.message_user(request, f"{obj.number}: {PAST_TENSE[name]}.", messages.SUCCESS)
            return redirect("admin:returns_return_change", obj.pk)
        context = {
            **self.admin_site.each_context(request),
            "opts": self.opts,
            "original": obj,
            "title": f"{TRANSITION_LABELS[name]} return {obj.number}",
            "form": form,
            "label": TRANSITION_LABELS[name],
        }
        return TemplateResponse(request, "admin/returns/return/transition_form.html", context)

    # --- many returns: approve or reject with one reason -----------------------------------

    @admin.action(description="Approve selected returns", permissions=["approve"])
    def approve_selected(self, request, queryset):
        return self._decide_many(request, queryset, "approve")

    @admin.action(description="Reject selected returns", permissions=["reject"])
    def reject_selected(self, request, queryset):
        return self._decide_many(request, queryset, "reject")

    def _decide_many(self, request, queryset, name: str):
        """First call shows the selected returns and asks for the reason; the confirmation
        calls the service once per return and reports each result. The confirmation re-reads
        the chosen returns by id, so one that left the filtered list since is reported too."""
        form = TransitionForm(name, request.POST if "apply" in request.POST else None)
        if "apply" in request.POST and form.is_valid():
            chosen = request.POST.getlist(helpers.ACTION_CHECKBOX_NAME)
            returns = Return.objects.filter(pk__in=chosen).order_by("created_at")
            for obj in returns:
                try:
                    SERVICES[name](
                        return_id=obj.pk, actor=request.user, context=_context(request),
                        reason=form.cleaned_data["reason"],
                    )  # fmt: skip
                except DomainError as exc:
                    level, text = messages.ERROR, f"{obj.number}: refused: {_in_words(exc)}"
                else:
                    level, text = messages.SUCCESS, f"{obj.number}: {PAST_TENSE[name]}."
                self.message_user(request, text, level)
            return None
        context = {
            **self.admin_site.each_context(request),
            "opts": self.opts,
            "title": f"{TRANSITION_LABELS[name]} {queryset.count()} returns",
            "returns": queryset.select_related("order").order_by("created_at"),
            "form": form,
            "action": f"{name}_selected",
            "label": TRANSITION_LABELS[name],
            "action_checkbox_name": helpers.ACTION_CHECKBOX_NAME,
        }
        return TemplateResponse(request, "admin/returns/return/decide_many.html", context)

    # --- opening a return for a customer ----------------------------------------------------

    def add_view(self, request, form_url="", extra_context=None):
        """Step 1 finds the order (by number or id, or ?order= from the order's page); step 2
        asks for reason, comment and units per line, and calls return_create."""
        if not self.has_add_permission(request):
            raise PermissionDenied
        lookup = OrderLookupForm(request.GET or None)
        order = (
            return_order_find(number_or_id=lookup.cleaned_data["order"])
            if lookup.is_valid()
            else None
        )
        if lookup.is_valid() and order is None:
            lookup.add_error("order", "No order with this number or id.")
        form = None
        refused = order_not_returnable_why(order) if order is not None else None
        if order is not None and not refused:
            lines = list(order.items.order_by("position"))
            form = OpenReturnForm(lines, request.POST if request.method == "POST" else None)
            if request.method == "POST" and form.is_valid():
                try:
                    created = return_create(
                        actor=request.user,
                        context=_context(request),
                        order_id=order.pk,
                        reason=form.cleaned_data["reason"],
                        comment=form.cleaned_data["comment"],
                        items=form.items(),
                    )
                except DomainError as exc:
                    form.add_error(None, _in_words(exc))
                else:
                    self.message_user(
                        request,
                        f"{created.number} opened for order {order.number}.",
                        messages.SUCCESS,
                    )
                    return redirect("admin:returns_return_change", created.pk)
        context = {
            **self.admin_site.each_context(request),
            "opts": self.opts,
            "title": "Open a return",
            "lookup": lookup,
            "order": order,
            "order_status_label": state_label(order.status, order.get_status_display())
            if order
            else "",
            "refused": refused,
            "form": form,
        }
        return TemplateResponse(request, "admin/returns/return/open_return.html", context)
