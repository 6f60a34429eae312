"""REST endpoints of the catalogue (API.md "Catalogue"). Thin: parse, call one service,
serialize what it returned. Changes need If-Match (optimistic locking); reads and writes of
one object answer with its ETag."""

import django_filters
from django.db.models import Exists, F, OuterRef, Q
from django.db.models.functions import Lower
from django_filters.rest_framework import DjangoFilterBackend
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import (
    OpenApiParameter,
    OpenApiResponse,
    extend_schema,
    extend_schema_field,
)
from rest_framework import filters, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.permissions import IsAuthenticated
from rest_framework.response import Response

from articurated.api.lookups import UUID_LOOKUP
from articurated.api.permissions import ActionPermission
from articurated.api.preconditions import ETAG, IF_MATCH, if_match_version, with_etag
from articurated.api.serializers import ErrorSerializer
from articurated.context import ActionContext, Source
from articurated.errors import PermissionDenied
from catalogue.models import Category, Product, Sku
from catalogue.selectors import (
    category_get,
    category_list,
    category_paths,
    category_subtree_ids,
    product_get,
    product_list,
    sku_get,
    sku_list,
)
from catalogue.serializers import (
    CategoryCreateInputSerializer,
    CategorySerializer,
    CategoryUpdateInputSerializer,
    ProductBulkDeleteInputSerializer,
    ProductBulkDeleteResultSerializer,
    ProductCreateInputSerializer,
    ProductSerializer,
    ProductUpdateInputSerializer,
    SkuCreateInputSerializer,
    SkuSerializer,
    SkuUpdateInputSerializer,
)
from catalogue.services import (
    category_create,
    category_delete,
    category_update,
    product_bulk_delete,
    product_create,
    product_delete,
    product_restore,
    product_update,
    sku_create,
    sku_delete,
    sku_restore,
    sku_update,
)

LOOKUP = UUID_LOOKUP
PRECONDITION_ERRORS = {
    412: OpenApiResponse(ErrorSerializer, description="PRECONDITION_FAILED"),
    428: OpenApiResponse(ErrorSerializer, description="PRECONDITION_REQUIRED"),
}
TRUE_FALSE = [("true", "true"), ("false", "false")]


def _context(request) -> ActionContext:
    return ActionContext.from_request(request, source=Source.API)


# --- filters ---------------------------------------------------------------------------------


class StrictFilterSet(django_filters.FilterSet):
    """A filter given with an empty value (`?name=`) is a 400, never ignored."""

    def is_valid(self) -> bool:
        valid = super().is_valid()
        getlist = getattr(self.data, "getlist", lambda key: [self.data[key]])
        for name in self.filters:
            if name in self.data and not all(str(v).strip() for v in getlist(name)):
                if name in self.form.fields:
                    self.form.add_error(name, "An empty value is not allowed.")
                valid = False
        return valid


# The words, not a boolean: spectacular took the model field's type and documented
# {"type": "boolean", "enum": ["false", "true"]}, which admits neither word.
@extend_schema_field({"type": "string", "enum": [value for value, _ in TRUE_FALSE]})
class TrueFalseFilter(django_filters.ChoiceFilter):
    """`true` or `false`, nothing else (a typo is a 400, not a silently ignored filter)."""

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, choices=TRUE_FALSE, **kwargs)

    def filter(self, queryset, value):
        if value in ("", None):
            return queryset
        return queryset.filter(**{self.field_name: value == "true"})


def _live_sku_with_code(code: str):
    return Exists(
        Sku.objects.live()
        .annotate(code_lower=Lower("code"))
        .filter(product=OuterRef("pk"), code_lower=code.lower())
    )


class CategoryFilter(StrictFilterSet):
    parent_id = django_filters.UUIDFilter(field_name="parent_id")

    class Meta:
        model = Category
        fields = ["parent_id"]


class ProductFilter(StrictFilterSet):
    sku = django_filters.CharFilter(method="filter_sku", max_length=64)
    name = django_filters.CharFilter(field_name="name", lookup_expr="icontains", max_length=200)
    description = django_filters.CharFilter(
        field_name="description", lookup_expr="icontains", max_length=200
    )
    active = TrueFalseFilter(field_name="active")
    category = django_filters.UUIDFilter(method="filter_category")
    deleted = django_filters.ChoiceFilter(
        choices=[("true", "true")], method="filter_deleted", label="deleted"
    )

    class Meta:
        model = Product
        fields = ["sku", "name", "description", "active", "category", "deleted"]

    def filter_sku(self, queryset, name, value):
        return queryset.filter(_live_sku_with_code(value))

    def filter_category(self, queryset, name, value):
        return queryset.filter(category_id__in=category_subtree_ids(category_id=value))

    def filter_deleted(self, queryset, name, value):
        return queryset  # chosen in get_queryset (it changes which SKUs are shown)


class SkuFilter(StrictFilterSet):
    sku = django_filters.CharFilter(field_name="code", lookup_expr="iexact", max_length=64)
    product_id = django_filters.UUIDFilter(field_name="product_id")
    active = TrueFalseFilter(field_name="active")
    low_stock = django_filters.ChoiceFilter(choices=[("true", "true")], method="filter_low")

    class Meta:
        model = Sku
        fields = ["sku", "product_id", "active", "low_stock"]

    def filter_low(self, queryset, name, value):
        return queryset.filter(
            track_inventory=True,
            stock__on_hand__lte=F("stock__allocated") + F("low_stock_threshold"),
        )


# --- categories ------------------------------------------------------------------------------


class CategoryViewSet(viewsets.GenericViewSet):
    serializer_class = CategorySerializer
    permission_classes = [IsAuthenticated, ActionPermission]
    required_permissions = {
        "list": "catalogue.view_category",
        "retrieve": "catalogue.view_category",
        "create": "catalogue.add_category",
        "partial_update": "catalogue.change_category",
        "destroy": "catalogue.delete_category",
    }
    filterset_class = CategoryFilter
    filter_backends = [DjangoFilterBackend, filters.SearchFilter]
    search_fields = ["name"]
    lookup_value_regex = LOOKUP

    def get_queryset(self):
        return category_list()

    def _body(self, category: Category) -> dict:
        return CategorySerializer(category, context={"paths": category_paths([category])}).data

    @extend_schema(summary="List categories (tree order)")
    def list(self, request):
        page = self.paginate_queryset(self.filter_queryset(self.get_queryset()))
        body = CategorySerializer(page, many=True, context={"paths": category_paths(page)}).data
        return self.get_paginated_response(body)

    @extend_schema(
        request=CategoryCreateInputSerializer,
        responses={201: CategorySerializer},
        parameters=[ETAG],
        summary="Create a category",
    )
    def create(self, request):
        data = CategoryCreateInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        category = category_create(
            actor=request.user, context=_context(request), **data.validated_data
        )
        response = Response(self._body(category), status=status.HTTP_201_CREATED)
        return with_etag(response, category.version)

    @extend_schema(parameters=[ETAG], summary="Retrieve a category")
    def retrieve(self, request, pk=None):
        category = category_get(category_id=pk)
        return with_etag(Response(self._body(category)), category.version)

    @extend_schema(
        request=CategoryUpdateInputSerializer,
        responses={200: CategorySerializer, **PRECONDITION_ERRORS},
        parameters=[IF_MATCH, ETAG],
        summary="Rename or move a category",
    )
    def partial_update(self, request, pk=None):
        data = CategoryUpdateInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        category = category_update(
            category_id=pk,
            actor=request.user,
            context=_context(request),
            expected_version=if_match_version(request),
            **data.validated_data,
        )
        return with_etag(Response(self._body(category)), category.version)

    @extend_schema(
        responses={204: None, **PRECONDITION_ERRORS},
        parameters=[IF_MATCH],
        summary="Delete a category (soft; refused while it has live products or subcategories)",
    )
    def destroy(self, request, pk=None):
        category_delete(
            category_id=pk,
            actor=request.user,
            context=_context(request),
            expected_version=if_match_version(request),
        )
        return Response(status=status.HTTP_204_NO_CONTENT)


# --- products --------------------------------------------------------------------------------


class ProductViewSet(viewsets.GenericViewSet):
    serializer_class = ProductSerializer
    permission_classes = [IsAuthenticated, ActionPermission]
    required_permissions = {
        "list": "catalogue.view_product",
        "retrieve": "catalogue.view_product",
        "create": "catalogue.add_product",
        "partial_update": "catalogue.change_product",
        "destroy": "catalogue.delete_product",
        "restore": "catalogue.delete_product",
        "bulk_delete": "catalogue.delete_product",
    }
    filterset_class = ProductFilter
    search_fields = ["name", "description", "skus__code"]
    ordering_fields = ["name", "created_at"]
    ordering = ["name", "id"]
    lookup_value_regex = LOOKUP

    def _deleted_wanted(self) -> bool:
        wanted = self.request.query_params.get("deleted") == "true"
        if wanted and not self.request.user.has_perm("catalogue.delete_product"):
            raise PermissionDenied("Only managers may list deleted products.")
        return wanted

    def get_queryset(self):
        if self.action == "list":
            return product_list(deleted=self._deleted_wanted())
        return product_list()

    def _body(self, products, *, many=False):
        rows = list(products) if many else [products]
        paths = category_paths({p.category.pk: p.category for p in rows}.values())
        return ProductSerializer(products, many=many, context={"paths": paths}).data

    def _respond(self, product_id, *, status_code=status.HTTP_200_OK, deleted_too=False):
        product = product_get(product_id=product_id, deleted_too=deleted_too)
        return with_etag(Response(self._body(product), status=status_code), product.version)

    @extend_schema(
        parameters=[
            OpenApiParameter(
                "search", OpenApiTypes.STR, description="Name, description or SKU code contains."
            ),
        ],
        summary="List products",
    )
    def list(self, request):
        page = self.paginate_queryset(self.filter_queryset(self.get_queryset()))
        return self.get_paginated_response(self._body(page, many=True))

    @extend_schema(
        request=ProductCreateInputSerializer,
        responses={201: ProductSerializer},
        parameters=[ETAG],
        summary="Create a product with its SKUs",
    )
    def create(self, request):
        data = ProductCreateInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        product = product_create(
            actor=request.user, context=_context(request), **data.validated_data
        )
        return self._respond(product.pk, status_code=status.HTTP_201_CREATED)

    @extend_schema(parameters=[ETAG], summary="Retrieve a product")
    def retrieve(self, request, pk=None):
        return self._respond(pk)

    @extend_schema(
        request=ProductUpdateInputSerializer,
        responses={200: ProductSerializer, **PRECONDITION_ERRORS},
        parameters=[IF_MATCH, ETAG],
        summary="Change a product's own fields",
    )
    def partial_update(self, request, pk=None):
        data = ProductUpdateInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        product = product_update(
            product_id=pk,
            actor=request.user,
            context=_context(request),
            expected_version=if_match_version(request),
            **data.validated_data,
        )
        return self._respond(product.pk)

    @extend_schema(
        responses={204: None, **PRECONDITION_ERRORS},
        parameters=[IF_MATCH],
        summary="Delete a product and its SKUs (soft)",
    )
    def destroy(self, request, pk=None):
        product_delete(
            product_id=pk,
            actor=request.user,
            context=_context(request),
            expected_version=if_match_version(request),
        )
        return Response(status=status.HTTP_204_NO_CONTENT)

    @extend_schema(
        request=None,
        responses={200: ProductSerializer},
        parameters=[ETAG],
        summary="Restore a deleted product with its SKUs",
    )
    @action(detail=True, methods=["post"], filter_backends=[])
    def restore(self, request, pk=None):
        product = product_restore(product_id=pk, actor=request.user, context=_context(request))
        return self._respond(product.pk)

    @extend_schema(
        request=ProductBulkDeleteInputSerializer,
        responses={200: ProductBulkDeleteResultSerializer},
        summary="Delete products in bulk (soft, one statement): ids, a filter, or all",
    )
    @action(detail=False, methods=["post"], url_path="bulk-delete", filter_backends=[])
    def bulk_delete(self, request):
        data = ProductBulkDeleteInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        values = data.validated_data
        products = Product.objects.live()
        selection = {"all": True}
        if "ids" in values:
            products = products.filter(pk__in=values["ids"])
            selection = {"ids": values["ids"]}
        elif "filter" in values:
            products = self._filtered(products, request.data.get("filter") or {})
            selection = {"filter": request.data.get("filter") or {}}
        deleted = product_bulk_delete(
            actor=request.user, context=_context(request), products=products, selection=selection
        )
        return Response({"deleted": deleted})

    def _filtered(self, products, raw: dict):
        search = raw.get("search")
        query = {key: _as_query(value) for key, value in raw.items() if key != "search"}
        filterset = ProductFilter(data=query, queryset=products, request=self.request)
        if not filterset.is_valid():
            raise serializers.ValidationError(
                {f"filter.{name}": errors for name, errors in filterset.errors.items()}
            )
        products = filterset.qs
        if search:
            products = products.filter(
                Q(name__icontains=search)
                | Q(description__icontains=search)
                | Q(skus__code__icontains=search)
            ).distinct()
        return products


def _as_query(value) -> str:
    return ("true" if value else "false") if isinstance(value, bool) else str(value)


# --- SKUs ------------------------------------------------------------------------------------


class SkuViewSet(viewsets.GenericViewSet):
    serializer_class = SkuSerializer
    permission_classes = [IsAuthenticated, ActionPermission]
    required_permissions = {
        "list": "catalogue.view_sku",
        "retrieve": "catalogue.view_sku",
        "create": "catalogue.add_sku",
        "partial_update": "catalogue.change_sku",
        "destroy": "catalogue.delete_sku",
        "restore": "catalogue.delete_sku",
    }
    filterset_class = SkuFilter
    filter_backends = [DjangoFilterBackend]
    lookup_value_regex = LOOKUP

    def get_queryset(self):
        return sku_list()

    def _respond(self, sku_id, *, status_code=status.HTTP_200_OK):
        sku = sku_get(sku_id=sku_id)
        response = Response(SkuSerializer(sku).data, status=status_code)
        return with_etag(response, sku.version)

    @extend_schema(summary="List SKUs")
    def list(self, request):
        page = self.paginate_queryset(self.filter_queryset(self.get_queryset()))
        return self.get_paginated_response(SkuSerializer(page, many=True).data)

    @extend_schema(
        request=SkuCreateInputSerializer,
        responses={201: SkuSerializer},
        parameters=[ETAG],
        summary="Create a SKU of a product",
    )
    def create(self, request):
        data = SkuCreateInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        sku = sku_create(actor=request.user, context=_context(request), **data.validated_data)
        return self._respond(sku.pk, status_code=status.HTTP_201_CREATED)

    @extend_schema(parameters=[ETAG], summary="Retrieve a SKU")
    def retrieve(self, request, pk=None):
        return self._respond(pk)

    @extend_schema(
        request=SkuUpdateInputSerializer,
        responses={200: SkuSerializer, **PRECONDITION_ERRORS},
        parameters=[IF_MATCH, ETAG],
        summary="Change a SKU",
    )
    def partial_update(self, request, pk=None):
        data = SkuUpdateInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        sku = sku_update(
            sku_id=pk,
            actor=request.user,
            context=_context(request),
            expected_version=if_match_version(request),
            **data.validated_data,
        )
        return self._respond(sku.pk)

    @extend_schema(
        responses={204: None, **PRECONDITION_ERRORS},
        parameters=[IF_MATCH],
        summary="Delete a SKU (soft)",
    )
    def destroy(self, request, pk=None):
        sku_delete(
            sku_id=pk,
            actor=request.user,
            context=_context(request),
            expected_version=if_match_version(request),
        )
        return Response(status=status.HTTP_204_NO_CONTENT)

    @extend_schema(
        request=None,
        responses={200: SkuSerializer},
        parameters=[ETAG],
        summary="Restore a deleted SKU",
    )
    @action(detail=True, methods=["post"], filter_backends=[])
    def restore(self, request, pk=None):
        sku = sku_restore(sku_id=pk, actor=request.user, context=_context(request))
        return self._respond(sku.pk)
