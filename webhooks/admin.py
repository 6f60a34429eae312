"""Back-office for webhooks: endpoints with their last status and failure streak, a "send test"
button that reports the status code and response time, and the delivery log with filters and
resend actions. Every change goes through webhooks.services."""

from django.contrib import admin, messages
from django.shortcuts import redirect
from django.urls import reverse
from django.utils.text import Truncator
from unfold.admin import ModelAdmin, TabularInline
from unfold.decorators import action

from articurated.admin_site import ReadOnlyAdminMixin
from articurated.errors import DomainError
from webhooks import services
from webhooks.models import Delivery, DeliveryAttempt, Endpoint


def _test_report(modeladmin, request, endpoint: Endpoint) -> None:
    try:
        answer = services.endpoint_test(endpoint_id=endpoint.pk, actor=request.user)
    except DomainError as error:
        modeladmin.message_user(request, f"{endpoint.url}: {error.message}", messages.ERROR)
        return
    ok = answer.status_code is not None and 200 <= answer.status_code < 300
    outcome = f"HTTP {answer.status_code}" if answer.status_code else answer.error
    modeladmin.message_user(
        request,
        f"Test to {endpoint.url}: {outcome} in {answer.duration_ms} ms.",
        messages.SUCCESS if ok else messages.ERROR,
    )


@admin.register(Endpoint)
class EndpointAdmin(ReadOnlyAdminMixin, ModelAdmin):
    list_display = [
        "url",
        "owner",
        "active",
        "last_status",
        "last_status_code",
        "last_delivery_at",
        "failure_streak",
        "failing_since",
        "disabled_reason",
    ]
    list_filter = ["active", "last_status"]
    search_fields = ["url", "description", "owner__username"]
    list_select_related = ["owner"]
    ordering = ["-created_at"]
    actions = ["send_test_selected", "turn_on", "turn_off"]
    actions_detail = ["send_test"]
    readonly_fields = [
        "url",
        "owner",
        "events",
        "description",
        "active",
        "disabled_reason",
        "last_status",
        "last_status_code",
        "last_delivery_at",
        "failure_streak",
        "failing_since",
        "previous_secret_expires_at",
        "created_at",
        "updated_at",
        "deliveries_link",
    ]
    fields = readonly_fields

    def has_manage_permission(self, request, obj=None) -> bool:
        return services.endpoint_may_manage(request.user)

    @admin.display(description="Deliveries")
    def deliveries_link(self, endpoint: Endpoint) -> str:
        from django.utils.html import format_html

        url = reverse("admin:webhooks_delivery_changelist") + f"?endpoint__id__exact={endpoint.pk}"
        return format_html('<a href="{}">Delivery log</a>', url)

    @action(description="Send test", permissions=["manage"])
    def send_test(self, request, object_id):
        _test_report(self, request, Endpoint.objects.get(pk=object_id))
        return redirect(reverse("admin:webhooks_endpoint_change", args=[object_id]))

    @admin.action(description="Send a test event to the selected endpoints", permissions=["manage"])
    def send_test_selected(self, request, queryset):
        for endpoint in queryset:
            _test_report(self, request, endpoint)

    def _set_active(self, request, queryset, active: bool) -> None:
        for endpoint in queryset:
            try:
                services.endpoint_update(endpoint_id=endpoint.pk, actor=request.user, active=active)
            except DomainError as error:
                self.message_user(request, f"{endpoint.url}: {error.message}", messages.ERROR)
            else:
                self.message_user(request, f"{endpoint.url}: {'on' if active else 'off'}.")

    @admin.action(description="Turn on (clears the failure streak)", permissions=["manage"])
    def turn_on(self, request, queryset):
        self._set_active(request, queryset, True)

    @admin.action(description="Turn off", permissions=["manage"])
    def turn_off(self, request, queryset):
        self._set_active(request, queryset, False)


class AttemptInline(ReadOnlyAdminMixin, TabularInline):
    model = DeliveryAttempt
    fields = ["attempted_at", "status_code", "duration_ms", "error", "response_body"]
    readonly_fields = fields
    extra = 0
    ordering = ["-attempted_at"]


@admin.register(Delivery)
class DeliveryAdmin(ReadOnlyAdminMixin, ModelAdmin):
    list_display = [
        "created_at",
        "event_type",
        "event_id",
        "endpoint",
        "status",
        "attempts",
        "last_status_code",
        "short_error",
        "next_attempt_at",
    ]
    list_filter = ["status", "event__type", "endpoint", "created_at"]
    search_fields = ["=event__id", "endpoint__url"]
    list_select_related = ["event", "endpoint"]
    ordering = ["-created_at"]
    date_hierarchy = "created_at"
    actions = ["resend"]
    inlines = [AttemptInline]
    readonly_fields = [
        "event_id",
        "event_type",
        "endpoint",
        "status",
        "attempts",
        "next_attempt_at",
        "last_status_code",
        "last_error",
        "last_attempt_at",
        "created_at",
        "updated_at",
    ]
    fields = readonly_fields

    def has_resend_permission(self, request) -> bool:
        return request.user.has_perm("webhooks.resend_delivery") and services.endpoint_may_manage(
            request.user
        )

    @admin.display(description="Event", ordering="event__type")
    def event_type(self, delivery: Delivery) -> str:
        return delivery.event.type

    @admin.display(description="Error")
    def short_error(self, delivery: Delivery) -> str:
        return Truncator(delivery.last_error).chars(60)

    @admin.action(description="Resend the selected deliveries", permissions=["resend"])
    def resend(self, request, queryset):
        sent = 0
        for delivery in queryset:
            try:
                services.delivery_resend(
                    endpoint_id=delivery.endpoint_id, delivery_id=delivery.pk, actor=request.user
                )
            except DomainError as error:
                self.message_user(request, f"{delivery}: {error.message}", messages.ERROR)
            else:
                sent += 1
        self.message_user(request, f"{sent} deliveries queued again (same event ids).")
