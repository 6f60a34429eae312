"""REST endpoints for orders (API.md "Orders"). Thin: parse, call one service, serialize."""

import django_filters
from django.db import transaction
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import status, viewsets
from rest_framework.decorators import action
from rest_framework.permissions import IsAuthenticated
from rest_framework.response import Response

from articurated.api.filters import ChoiceListFilter
from articurated.api.lookups import UUID_LOOKUP
from articurated.api.permissions import ActionPermission
from articurated.api.schema import IDEMPOTENCY_KEY_PARAMETER
from articurated.api.serializers import ErrorSerializer, input_validated
from articurated.context import ActionContext, Source
from articurated.idempotency import idempotent_response
from audit.selectors import audit_record_list
from audit.serializers import AuditRecordSerializer
from orders.models import Order, OrderStatus
from orders.selectors import order_body_complete, order_exists_or_404, order_get, order_list
from orders.serializers import (
    OrderCreateInputSerializer,
    OrderSerializer,
    OrderStateInputSerializer,
    OrderStateInputVariants,
    order_body,
)
from orders.services import order_change_state, order_create_rollback_unsafe

_CONFLICT = OpenApiResponse(
    ErrorSerializer, description="INVALID_STATE_TRANSITION (details: current_state, …)"
)


class OrderFilter(django_filters.FilterSet):
    status = ChoiceListFilter(choices=OrderStatus.values)
    customer_email = django_filters.CharFilter(field_name="customer_email", lookup_expr="iexact")
    created_after = django_filters.IsoDateTimeFilter(field_name="created_at", lookup_expr="gte")
    created_before = django_filters.IsoDateTimeFilter(field_name="created_at", lookup_expr="lte")

    class Meta:
        model = Order
        fields = ["status", "customer_email", "created_after", "created_before"]


def _context(request) -> ActionContext:
    return ActionContext.from_request(request, source=Source.API)


class OrderViewSet(viewsets.GenericViewSet):
    serializer_class = OrderSerializer
    permission_classes = [IsAuthenticated, ActionPermission]
    required_permissions = {
        "list": "orders.view_order",
        "retrieve": "orders.view_order",
        "history": "orders.view_order",
        "create": "orders.add_order",
    }
    filterset_class = OrderFilter
    search_fields = ["=number", "customer_email", "=tracking_number"]
    ordering_fields = ["created_at", "total_amount"]
    ordering = ["-created_at"]
    lookup_value_regex = UUID_LOOKUP

    def get_queryset(self):
        return order_list()

    @extend_schema(
        parameters=[
            OpenApiParameter(
                "status",
                OpenApiTypes.STR,
                many=True,
                enum=OrderStatus.values,
                description="Repeat it, or give a comma-separated list.",
            )
        ],
        summary="List orders",
    )
    def list(self, request):
        queryset = self.filter_queryset(self.get_queryset())
        page = self.paginate_queryset(queryset)
        return self.get_paginated_response(self.get_serializer(page, many=True).data)

    @extend_schema(
        request=OrderCreateInputSerializer,
        responses={201: OrderSerializer},
        parameters=[IDEMPOTENCY_KEY_PARAMETER],
        summary="Create an order",
    )
    def create(self, request):
        def perform():
            values = dict(input_validated(OrderCreateInputSerializer, request.data))
            customer = values.pop("customer")
            # In the transaction idempotent_response opens (no savepoint of its own).
            order = order_create_rollback_unsafe(
                actor=request.user,
                context=_context(request),
                customer_email=customer["email"],
                customer_name=customer["name"],
                **values,
            )
            # The service returns the order with its lines: answer from it, no second read.
            body = order_body(order, request=request)
            return status.HTTP_201_CREATED, body

        return idempotent_response(request, scope="orders.create", perform=perform)

    @extend_schema(summary="Retrieve an order")
    def retrieve(self, request, pk=None):
        return self._respond(request, pk)

    @extend_schema(
        request=OrderStateInputVariants,
        responses={200: OrderSerializer, 409: _CONFLICT},
        summary="Change an order's state (PATCH or POST)",
    )
    @action(detail=True, methods=["patch", "post"], url_path="state")
    def state(self, request, pk=None):
        values = input_validated(OrderStateInputSerializer, request.data)
        # The change and the body that reports it commit together: a client that gets an error
        # can retry, because nothing moved (and no job was queued).
        with transaction.atomic():
            order = order_change_state(
                order_id=pk,
                actor=request.user,
                context=_context(request),
                **values,
            )
            # Answer from the row the service locked and saved (STYLE.md "Speed habits").
            order_body_complete(order)
            return Response(order_body(order, request=request))

    @extend_schema(
        responses={200: AuditRecordSerializer(many=True)},
        filters=False,
        summary="An order's audit records, oldest first",
    )
    @action(detail=True, methods=["get"], filter_backends=[])
    def history(self, request, pk=None):
        order_exists_or_404(order_id=pk)
        page = self.paginate_queryset(audit_record_list(entity_id=pk))
        return self.get_paginated_response(AuditRecordSerializer(page, many=True).data)

    def _respond(self, request, pk):
        return Response(order_body(order_get(order_id=pk), request=request))
