"""Input serializers (plain, strict) and the output bodies of API.md "Catalogue"."""

import pycountry
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from articurated.api.fields import StrictCharField, StrictCodeField, StrictUUIDField
from articurated.api.serializers import StrictSerializer
from articurated.api.strict_fields import MoneyField, StrictBooleanField, StrictIntegerField
from catalogue.models import SKU_CODE_PATTERN, Category, Product, Sku

_CURRENCIES = {currency.alpha_3 for currency in pycountry.currencies}
CURRENCY_MESSAGE = "Not an ISO 4217 currency code."
MAX_STOCK = 1_000_000_000


class AttributesField(serializers.DictField):
    """A JSON object of free attributes (at most 50 keys), with no NUL character in any key or
    string at any depth: PostgreSQL's jsonb cannot store one (SQLite can), so it is refused on
    both databases alike."""

    def to_internal_value(self, data):
        value = super().to_internal_value(data)
        if len(value) > 50:
            raise serializers.ValidationError("At most 50 attributes.")
        if _holds_nul(value):
            raise serializers.ValidationError("Attributes may not contain NUL characters.")
        return value


def _holds_nul(value) -> bool:
    if isinstance(value, str):
        return "\x00" in value
    if isinstance(value, dict):
        return any(_holds_nul(key) or _holds_nul(item) for key, item in value.items())
    if isinstance(value, list):
        return any(_holds_nul(item) for item in value)
    return False


class _CodeField(serializers.RegexField):
    """A SKU code as a JSON string: `"sku": 123` is refused, not read as "123"."""

    def to_internal_value(self, data):
        if not isinstance(data, str):
            self.fail("invalid")
        return super().to_internal_value(data)


def _code_field(**kwargs) -> serializers.RegexField:
    return _CodeField(
        SKU_CODE_PATTERN,
        max_length=64,
        error_messages={"invalid": "1-64 characters of A-Z, a-z, 0-9, '.', '_' and '-'."},
        **kwargs,
    )


# --- input ---------------------------------------------------------------------------------


class CategoryCreateInputSerializer(StrictSerializer):
    name = StrictCharField(max_length=200)
    parent_id = StrictUUIDField(required=False, allow_null=True, default=None)
    description = StrictCharField(
        multiline=True, max_length=5000, required=False, allow_blank=True, default=""
    )


class CategoryUpdateInputSerializer(StrictSerializer):
    name = StrictCharField(max_length=200, required=False)
    parent_id = StrictUUIDField(required=False, allow_null=True)
    description = StrictCharField(multiline=True, max_length=5000, required=False, allow_blank=True)


class ProductSkuInputSerializer(StrictSerializer):
    sku = _code_field()
    price = MoneyField()
    currency = StrictCodeField(
        codes=_CURRENCIES, message=CURRENCY_MESSAGE, required=False, default="USD"
    )
    attributes = AttributesField(required=False, default=dict)
    track_inventory = StrictBooleanField(required=False, default=True)
    low_stock_threshold = StrictIntegerField(
        required=False, default=0, min_value=0, max_value=MAX_STOCK
    )
    on_hand = StrictIntegerField(required=False, default=0, min_value=0, max_value=MAX_STOCK)


class ProductCreateInputSerializer(StrictSerializer):
    name = StrictCharField(max_length=200)
    description = StrictCharField(
        multiline=True, max_length=20000, required=False, allow_blank=True, default=""
    )
    category_id = StrictUUIDField()
    attributes = AttributesField(required=False, default=dict)
    active = StrictBooleanField(required=False, default=True)
    skus = ProductSkuInputSerializer(many=True, allow_empty=False, min_length=1, max_length=100)


class ProductUpdateInputSerializer(StrictSerializer):
    name = StrictCharField(max_length=200, required=False)
    description = StrictCharField(
        multiline=True, max_length=20000, required=False, allow_blank=True
    )
    category_id = StrictUUIDField(required=False)
    attributes = AttributesField(required=False)
    active = StrictBooleanField(required=False)


class SkuCreateInputSerializer(StrictSerializer):
    product_id = StrictUUIDField()
    sku = _code_field()
    price = MoneyField()
    currency = StrictCodeField(
        codes=_CURRENCIES, message=CURRENCY_MESSAGE, required=False, default="USD"
    )
    attributes = AttributesField(required=False, default=dict)
    track_inventory = StrictBooleanField(required=False, default=True)
    low_stock_threshold = StrictIntegerField(
        required=False, default=0, min_value=0, max_value=MAX_STOCK
    )
    active = StrictBooleanField(required=False, default=True)


class SkuUpdateInputSerializer(StrictSerializer):
    sku = _code_field(required=False)
    price = MoneyField(required=False)
    currency = StrictCodeField(codes=_CURRENCIES, message=CURRENCY_MESSAGE, required=False)
    attributes = AttributesField(required=False)
    track_inventory = StrictBooleanField(required=False)
    low_stock_threshold = StrictIntegerField(required=False, min_value=0, max_value=MAX_STOCK)
    active = StrictBooleanField(required=False)


class ProductFilterInputSerializer(StrictSerializer):
    search = StrictCharField(max_length=200, required=False)
    sku = StrictCharField(max_length=64, required=False)
    name = StrictCharField(max_length=200, required=False)
    description = StrictCharField(multiline=True, max_length=200, required=False)
    active = StrictBooleanField(required=False)
    category = StrictUUIDField(required=False)


class ProductBulkDeleteInputSerializer(StrictSerializer):
    ids = serializers.ListField(
        child=StrictUUIDField(), required=False, min_length=1, max_length=10_000
    )
    filter = ProductFilterInputSerializer(required=False)
    all = StrictBooleanField(required=False)
    confirm = StrictBooleanField()

    def validate(self, attrs):
        if attrs.get("confirm") is not True:
            raise serializers.ValidationError({"confirm": ["Must be true."]})
        chosen = [key for key in ("ids", "filter", "all") if key in attrs]
        if len(chosen) != 1 or attrs.get("all") is False:
            raise serializers.ValidationError(
                {"non_field_errors": ['Give exactly one of "ids", "filter" or "all": true.']}
            )
        return attrs


class ProductBulkDeleteResultSerializer(serializers.Serializer):
    deleted = serializers.IntegerField()


# --- output ----------------------------------------------------------------------------------


class StockSerializer(serializers.Serializer):
    on_hand = serializers.IntegerField()
    allocated = serializers.IntegerField()
    available = serializers.IntegerField()
    damaged = serializers.IntegerField()


def sku_stock(sku: Sku) -> dict:
    # `stock` is the one-to-one the inventory app adds to every SKU.
    level = getattr(sku, "stock", None)
    if level is None:
        return {"on_hand": 0, "allocated": 0, "available": 0, "damaged": 0}
    return {
        "on_hand": level.on_hand,
        "allocated": level.allocated,
        "available": level.on_hand - level.allocated,
        "damaged": level.damaged,
    }


class SkuSerializer(serializers.ModelSerializer):
    product_id = serializers.UUIDField(read_only=True)
    sku = serializers.CharField(source="code")
    name = serializers.CharField(source="display_name")
    attributes = serializers.DictField()
    stock = serializers.SerializerMethodField()

    class Meta:
        model = Sku
        fields = [
            "id", "product_id", "sku", "name", "attributes", "price", "currency",
            "track_inventory", "low_stock_threshold", "active", "stock", "version",
            "created_at", "updated_at", "deleted_at",
        ]  # fmt: skip
        read_only_fields = fields

    @extend_schema_field(StockSerializer)
    def get_stock(self, sku: Sku) -> dict:
        return sku_stock(sku)


class ProductCategorySerializer(serializers.Serializer):
    id = serializers.UUIDField()
    name = serializers.CharField()
    path = serializers.CharField()


class ProductSerializer(serializers.ModelSerializer):
    """The product body of API.md; `context["paths"]` maps category ids to their paths."""

    category = serializers.SerializerMethodField()
    attributes = serializers.DictField()
    skus = SkuSerializer(many=True, read_only=True)

    class Meta:
        model = Product
        fields = [
            "id", "name", "description", "category", "attributes", "active", "skus",
            "version", "created_at", "updated_at", "deleted_at",
        ]  # fmt: skip
        read_only_fields = fields

    @extend_schema_field(ProductCategorySerializer)
    def get_category(self, product: Product) -> dict:
        paths = self.context.get("paths") or {}
        category = product.category
        return {
            "id": str(category.pk),
            "name": category.name,
            "path": paths.get(category.pk, category.name),
        }


class CategorySerializer(serializers.ModelSerializer):
    parent_id = serializers.UUIDField(read_only=True, allow_null=True)
    path = serializers.SerializerMethodField()

    class Meta:
        model = Category
        fields = [
            "id", "name", "description", "parent_id", "path", "depth", "version",
            "created_at", "updated_at", "deleted_at",
        ]  # fmt: skip
        read_only_fields = fields

    def get_path(self, category: Category) -> str:
        return (self.context.get("paths") or {}).get(category.pk, category.name)
