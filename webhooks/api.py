"""REST endpoints for webhooks and events (API.md "Webhooks"). Thin: parse, call one service,
serialize. Integrators see and manage their own endpoints; managers all of them."""

import django_filters
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.permissions import IsAuthenticated
from rest_framework.response import Response

from articurated.api.filters import ChoiceListFilter
from articurated.api.lookups import UUID_LOOKUP
from articurated.api.permissions import ActionPermission
from webhooks import services
from webhooks.events import EVENT_TYPES
from webhooks.models import Delivery, DeliveryStatus, Event
from webhooks.selectors import (
    delivery_list,
    endpoint_get_for,
    endpoint_list_for,
    event_get,
    event_list,
)
from webhooks.serializers import (
    DeliverySerializer,
    EventSerializer,
    ResendFailedInputSerializer,
    ResendFailedResultSerializer,
    WebhookCreateInputSerializer,
    WebhookSerializer,
    WebhookTestResultSerializer,
    WebhookUpdateInputSerializer,
    WebhookWithSecretSerializer,
)

MANAGE = "webhooks.manage_own_endpoint"  # managers have it too, and see every endpoint
UUID_PATTERN = UUID_LOOKUP


class DeliveryFilter(django_filters.FilterSet):
    status = ChoiceListFilter(choices=DeliveryStatus.values)

    class Meta:
        model = Delivery
        fields = ["status"]


class EventFilter(django_filters.FilterSet):
    type = ChoiceListFilter(choices=EVENT_TYPES)
    created_after = django_filters.IsoDateTimeFilter(field_name="created_at", lookup_expr="gte")

    class Meta:
        model = Event
        fields = ["type", "created_after"]


def _filtered(filterset_class, request, queryset):
    # An empty filter value (`?created_after=`) is a 400 (API.md), not ignored.
    params = request.query_params
    empty = {
        name: ["May not be empty."]
        for name in filterset_class.base_filters
        if name in params and not all(value.strip() for value in params.getlist(name))
    }
    if empty:
        raise serializers.ValidationError(empty)
    filterset = filterset_class(request.query_params, queryset=queryset)
    if not filterset.is_valid():
        raise serializers.ValidationError(filterset.errors)
    return filterset.qs


class WebhookViewSet(viewsets.GenericViewSet):
    serializer_class = WebhookSerializer
    permission_classes = [IsAuthenticated, ActionPermission]
    required_permissions = {
        name: MANAGE
        for name in (
            "list", "create", "retrieve", "partial_update", "destroy", "test", "rotate_secret",
            "deliveries", "resend", "resend_failed",
        )
    }  # fmt: skip
    filter_backends = []
    lookup_value_regex = UUID_PATTERN

    def get_queryset(self):
        return endpoint_list_for(actor=self.request.user).order_by("-created_at", "-id")

    @extend_schema(summary="List webhook endpoints (integrators: their own; managers: all)")
    def list(self, request):
        page = self.paginate_queryset(self.get_queryset())
        return self.get_paginated_response(WebhookSerializer(page, many=True).data)

    @extend_schema(
        request=WebhookCreateInputSerializer,
        responses={201: WebhookWithSecretSerializer},
        summary="Register a webhook endpoint (the secret is shown only here)",
    )
    def create(self, request):
        data = WebhookCreateInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        endpoint = services.endpoint_create(actor=request.user, **data.validated_data)
        return Response(WebhookWithSecretSerializer(endpoint).data, status=status.HTTP_201_CREATED)

    @extend_schema(summary="Retrieve a webhook endpoint")
    def retrieve(self, request, pk=None):
        return Response(
            WebhookSerializer(endpoint_get_for(endpoint_id=pk, actor=request.user)).data
        )

    @extend_schema(
        request=WebhookUpdateInputSerializer,
        responses={200: WebhookSerializer},
        summary="Change a webhook endpoint (url, events, description, active)",
    )
    def partial_update(self, request, pk=None):
        endpoint_get_for(endpoint_id=pk, actor=request.user)
        data = WebhookUpdateInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        endpoint = services.endpoint_update(
            endpoint_id=pk, actor=request.user, **data.validated_data
        )
        return Response(WebhookSerializer(endpoint).data)

    @extend_schema(responses={204: None}, summary="Delete a webhook endpoint")
    def destroy(self, request, pk=None):
        services.endpoint_delete(endpoint_id=pk, actor=request.user)
        return Response(status=status.HTTP_204_NO_CONTENT)

    @extend_schema(
        request=None,
        responses={200: WebhookTestResultSerializer},
        summary="Send a signed webhook.test event now and report the answer",
    )
    @action(detail=True, methods=["post"])
    def test(self, request, pk=None):
        answer = services.endpoint_test(endpoint_id=pk, actor=request.user)
        code = answer.status_code
        return Response(
            {
                "delivered": code is not None and 200 <= code < 300,
                "status_code": code,
                "duration_ms": answer.duration_ms,
                "error": answer.error or (None if code and 200 <= code < 300 else f"HTTP {code}"),
            }
        )

    @extend_schema(
        request=None,
        responses={200: WebhookWithSecretSerializer},
        summary="Rotate the signing secret (the old one also signs for 24 hours)",
    )
    @action(detail=True, methods=["post"], url_path="rotate-secret")
    def rotate_secret(self, request, pk=None):
        endpoint = services.endpoint_secret_rotate(endpoint_id=pk, actor=request.user)
        return Response(WebhookWithSecretSerializer(endpoint).data)

    @extend_schema(
        parameters=[
            OpenApiParameter(
                "status",
                OpenApiTypes.STR,
                many=True,
                enum=DeliveryStatus.values,
                description="Repeat it, or give a comma-separated list.",
            )
        ],
        responses={200: DeliverySerializer(many=True)},
        filters=False,
        summary="An endpoint's deliveries and their attempts, newest first",
    )
    @action(detail=True, methods=["get"])
    def deliveries(self, request, pk=None):
        endpoint = endpoint_get_for(endpoint_id=pk, actor=request.user)
        queryset = _filtered(DeliveryFilter, request, delivery_list(endpoint=endpoint))
        page = self.paginate_queryset(queryset)
        return self.get_paginated_response(DeliverySerializer(page, many=True).data)

    @extend_schema(
        request=None,
        responses={202: OpenApiResponse(description="Queued again with the same event id.")},
        summary="Resend one delivery",
    )
    @action(
        detail=True,
        methods=["post"],
        url_path=rf"deliveries/(?P<delivery_id>{UUID_PATTERN})/resend",
    )
    def resend(self, request, pk=None, delivery_id=None):
        services.delivery_resend(endpoint_id=pk, delivery_id=delivery_id, actor=request.user)
        return Response(status=status.HTTP_202_ACCEPTED)

    @extend_schema(
        request=ResendFailedInputSerializer,
        responses={202: ResendFailedResultSerializer},
        summary="Resend every failed delivery created since a time",
    )
    @action(detail=True, methods=["post"], url_path="deliveries/resend-failed")
    def resend_failed(self, request, pk=None):
        data = ResendFailedInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        count = services.delivery_resend_failed(
            endpoint_id=pk, since=data.validated_data["since"], actor=request.user
        )
        return Response({"resent": count}, status=status.HTTP_202_ACCEPTED)


class EventViewSet(viewsets.GenericViewSet):
    serializer_class = EventSerializer
    permission_classes = [IsAuthenticated, ActionPermission]
    required_permissions = {"list": "webhooks.view_event", "retrieve": "webhooks.view_event"}
    filter_backends = []
    lookup_value_regex = "evt_[0-9a-f]{32}"

    def get_queryset(self):
        return event_list()

    @extend_schema(
        parameters=[
            OpenApiParameter(
                "type",
                OpenApiTypes.STR,
                many=True,
                enum=EVENT_TYPES,
                description="Repeat it, or give a comma-separated list.",
            ),
            OpenApiParameter("created_after", OpenApiTypes.DATETIME),
        ],
        summary="Events of the last 30 days, newest first (for reconciliation)",
    )
    def list(self, request):
        page = self.paginate_queryset(_filtered(EventFilter, request, self.get_queryset()))
        return self.get_paginated_response(EventSerializer(page, many=True).data)

    @extend_schema(summary="Retrieve an event")
    def retrieve(self, request, pk=None):
        return Response(EventSerializer(event_get(event_id=pk)).data)
