"""REST endpoints of stock (API.md "Catalogue"): set or adjust a SKU's on hand, and the
movements. Stock changes need no If-Match: they are deltas applied under a row lock."""

import django_filters
from drf_spectacular.utils import extend_schema
from rest_framework import viewsets
from rest_framework.decorators import action
from rest_framework.permissions import IsAuthenticated
from rest_framework.response import Response

from articurated.api.lookups import UUID_LOOKUP
from articurated.api.permissions import ActionPermission
from articurated.api.preconditions import ETAG, with_etag
from articurated.context import ActionContext, Source
from catalogue.api import StrictFilterSet
from catalogue.selectors import sku_get
from catalogue.serializers import SkuSerializer
from inventory.models import MovementReason, StockMovement
from inventory.selectors import stock_movement_list
from inventory.serializers import StockInputSerializer, StockMovementSerializer
from inventory.services import stock_adjust, stock_set


class StockMovementFilter(StrictFilterSet):
    sku_id = django_filters.UUIDFilter(field_name="sku_id")
    reason = django_filters.ChoiceFilter(choices=MovementReason.choices)
    order_id = django_filters.UUIDFilter(field_name="order_id")
    return_id = django_filters.UUIDFilter(field_name="return_id")
    created_after = django_filters.IsoDateTimeFilter(field_name="created_at", lookup_expr="gte")
    created_before = django_filters.IsoDateTimeFilter(field_name="created_at", lookup_expr="lte")

    class Meta:
        model = StockMovement
        fields = ["sku_id", "reason", "order_id", "return_id", "created_after", "created_before"]


class StockMovementViewSet(viewsets.GenericViewSet):
    serializer_class = StockMovementSerializer
    permission_classes = [IsAuthenticated, ActionPermission]
    required_permissions = {"list": "inventory.view_stockmovement"}
    filterset_class = StockMovementFilter
    filter_backends = [django_filters.rest_framework.DjangoFilterBackend]

    def get_queryset(self):
        return stock_movement_list()

    @extend_schema(summary="List stock movements, newest first")
    def list(self, request):
        page = self.paginate_queryset(self.filter_queryset(self.get_queryset()))
        return self.get_paginated_response(StockMovementSerializer(page, many=True).data)


class SkuStockViewSet(viewsets.GenericViewSet):
    serializer_class = SkuSerializer
    permission_classes = [IsAuthenticated, ActionPermission]
    required_permissions = {"stock": "inventory.adjust_stock"}
    lookup_value_regex = UUID_LOOKUP
    filter_backends: list = []

    @extend_schema(
        request=StockInputSerializer,
        responses={200: SkuSerializer},
        parameters=[ETAG],
        summary="Set (on_hand) or adjust (delta) a SKU's stock on hand, with a reason",
    )
    @action(detail=True, methods=["post"])
    def stock(self, request, pk=None):
        data = StockInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        values = data.validated_data
        common = {
            "sku_id": sku_get(sku_id=pk).pk,
            "reason": values["reason"],
            "actor": request.user,
            "context": ActionContext.from_request(request, source=Source.API),
        }
        if "on_hand" in values:
            stock_set(on_hand=values["on_hand"], **common)
        else:
            stock_adjust(delta=values["delta"], **common)
        sku = sku_get(sku_id=pk)
        return with_etag(Response(SkuSerializer(sku).data), sku.version)
