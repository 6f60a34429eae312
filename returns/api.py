"""REST endpoints for returns (API.md "Returns"). Thin: parse, call one service, serialize."""

import django_filters
from django.db import transaction
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import status, viewsets
from rest_framework.decorators import action
from rest_framework.permissions import IsAuthenticated
from rest_framework.response import Response

from articurated.api.filters import ChoiceListFilter, StrictFilterBackend, StrictOrderingFilter
from articurated.api.lookups import UUID_LOOKUP
from articurated.api.permissions import ActionPermission
from articurated.api.schema import IDEMPOTENCY_KEY_PARAMETER
from articurated.api.serializers import ErrorSerializer
from articurated.context import ActionContext, Source
from articurated.idempotency import idempotent_response
from audit.selectors import audit_record_list
from audit.serializers import AuditRecordSerializer
from returns.models import Return, ReturnStatus
from returns.selectors import (
    return_body_complete,
    return_exists_or_404,
    return_get,
    return_list,
)
from returns.serializers import (
    ReturnCreateInputSerializer,
    ReturnSerializer,
    ReturnStateInputSerializer,
    ReturnStateInputVariants,
)
from returns.services import return_change_state, return_create

_CREATE_CONFLICT = OpenApiResponse(
    ErrorSerializer,
    description="ORDER_NOT_RETURNABLE, RETURN_WINDOW_EXPIRED or IDEMPOTENCY_IN_PROGRESS",
)
_CONFLICT = OpenApiResponse(
    ErrorSerializer, description="INVALID_STATE_TRANSITION (details: current_state, …)"
)


class ReturnFilter(django_filters.FilterSet):
    status = ChoiceListFilter(choices=ReturnStatus.values)
    order_id = django_filters.UUIDFilter(field_name="order_id")
    created_after = django_filters.IsoDateTimeFilter(field_name="created_at", lookup_expr="gte")
    created_before = django_filters.IsoDateTimeFilter(field_name="created_at", lookup_expr="lte")

    class Meta:
        model = Return
        fields = ["status", "order_id", "created_after", "created_before"]


def _context(request) -> ActionContext:
    return ActionContext.from_request(request, source=Source.API)


class ReturnViewSet(viewsets.GenericViewSet):
    serializer_class = ReturnSerializer
    permission_classes = [IsAuthenticated, ActionPermission]
    required_permissions = {
        "list": "returns.view_return",
        "retrieve": "returns.view_return",
        "history": "returns.view_return",
        "create": "returns.add_return",
    }
    # API.md lists filters and no search; `ordering` is offered on created_at only (as on the
    # audit list), so that `?ordering=password` is a 400 instead of silently ignored.
    filter_backends = [StrictFilterBackend, StrictOrderingFilter]
    filterset_class = ReturnFilter
    ordering_fields = ["created_at"]
    ordering = ["-created_at", "-id"]
    lookup_value_regex = UUID_LOOKUP

    def get_queryset(self):
        return return_list()

    @extend_schema(
        parameters=[
            OpenApiParameter(
                "status",
                OpenApiTypes.STR,
                many=True,
                enum=ReturnStatus.values,
                description="Repeat it, or give a comma-separated list.",
            )
        ],
        summary="List returns",
    )
    def list(self, request):
        queryset = self.filter_queryset(self.get_queryset())
        page = self.paginate_queryset(queryset)
        return self.get_paginated_response(self.get_serializer(page, many=True).data)

    @extend_schema(
        request=ReturnCreateInputSerializer,
        responses={201: ReturnSerializer, 409: _CREATE_CONFLICT},
        parameters=[IDEMPOTENCY_KEY_PARAMETER],
        summary="Open a return",
    )
    def create(self, request):
        def perform():
            data = ReturnCreateInputSerializer(data=request.data)
            data.is_valid(raise_exception=True)
            values = data.validated_data
            return_obj = return_create(
                actor=request.user,
                context=_context(request),
                order_id=values["order_id"],
                reason=values["reason"],
                comment=values.get("comment", ""),
                items=values.get("items"),
            )
            body = ReturnSerializer(return_get(return_id=return_obj.pk)).data
            return status.HTTP_201_CREATED, body

        return idempotent_response(request, scope="returns.create", perform=perform)

    @extend_schema(summary="Retrieve a return")
    def retrieve(self, request, pk=None):
        return Response(ReturnSerializer(return_get(return_id=pk)).data)

    @extend_schema(
        request=ReturnStateInputVariants,
        responses={200: ReturnSerializer, 409: _CONFLICT},
        summary="Change a return's state (PATCH or POST)",
    )
    @action(detail=True, methods=["patch", "post"], url_path="state")
    def state(self, request, pk=None):
        data = ReturnStateInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        # The change and the body that reports it commit together (see orders/api.py).
        with transaction.atomic():
            return_obj = return_change_state(
                return_id=pk, actor=request.user, context=_context(request), **data.validated_data
            )
            # Answer from the row the service locked and saved (STYLE.md "Speed habits").
            return Response(ReturnSerializer(return_body_complete(return_obj)).data)

    @extend_schema(
        responses={200: AuditRecordSerializer(many=True)},
        filters=False,
        summary="A return's audit records, oldest first",
    )
    @action(detail=True, methods=["get"], filter_backends=[])
    def history(self, request, pk=None):
        return_exists_or_404(return_id=pk)
        page = self.paginate_queryset(audit_record_list(entity_id=pk))
        return self.get_paginated_response(AuditRecordSerializer(page, many=True).data)
