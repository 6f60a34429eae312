from typing import Any

from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import connection
from django.db.models import Prefetch, QuerySet

from articurated.db import select_related_rows
from articurated.errors import NotFound
from catalogue.models import Category, Product, Sku


def sku_by_codes(codes) -> dict[str, Sku]:
    """Live (not deleted) SKUs whose code is one of `codes` in any letter case, keyed by the
    lower-cased code, with their product: sku_rows_by_codes without a column of its own."""
    return {code: sku for code, (sku, _) in sku_rows_by_codes(codes).items()}


def sku_rows_by_codes(codes, *, extra: str = "NULL") -> dict[str, tuple[Sku, Any]]:
    """Live (not deleted) SKUs whose code is one of `codes` in any letter case, keyed by the
    lower-cased code, with their product, each with the value of `extra`: an SQL column over
    the SKU's alias `m` by which an app above the catalogue reads a figure of its own with the
    SKUs (inventory: the stock available), built from model metadata, never from input. One
    query, on every order created: written out (as `Sku.objects.live().select_related(
    "product")` filtered on `Lower("code")` reads it, through the live-code unique index) so
    that no ORM query is compiled per order."""
    wanted = sorted({code.lower() for code in codes})
    if not wanted:
        return {}
    quote = connection.ops.quote_name
    code, deleted_at = (quote(Sku._meta.get_field(name).column) for name in ("code", "deleted_at"))
    rows = select_related_rows(
        Sku,
        "product",
        where=f"m.{deleted_at} IS NULL AND LOWER(m.{code}) IN ({', '.join(['%s'] * len(wanted))})",
        params=wanted,
        extras=[f"LOWER(m.{code})", extra],
        connection=connection,
    )
    return {code_lower: (sku, value) for sku, code_lower, value in rows}


def _stock_related(queryset):
    # `stock` is the one-to-one the inventory app adds; read it with the SKU.
    related = {f.name for f in Sku._meta.related_objects}
    return queryset.select_related("stock") if "stock" in related else queryset


def sku_list(*, deleted: bool = False) -> QuerySet[Sku]:
    rows = Sku.objects.deleted() if deleted else Sku.objects.live()
    return _stock_related(rows.select_related("product"))


def sku_get(*, sku_id, deleted_too: bool = False) -> Sku:
    rows = _stock_related(Sku.objects.select_related("product"))
    try:
        sku = rows.get(pk=sku_id)
    except (Sku.DoesNotExist, DjangoValidationError, ValueError):
        raise NotFound(f"SKU {sku_id} does not exist.") from None
    if sku.is_deleted and not deleted_too:
        raise NotFound(f"SKU {sku_id} does not exist.")
    return sku


def product_list(*, deleted: bool = False) -> QuerySet[Product]:
    """Products with their category and their live SKUs (or, for deleted products, the SKUs
    deleted with them) and stock, in a constant number of queries."""
    rows = Product.objects.deleted() if deleted else Product.objects.live()
    skus = _stock_related(Sku.objects.order_by("code", "id"))
    skus = skus.deleted() if deleted else skus.live()
    return rows.select_related("category").prefetch_related(Prefetch("skus", queryset=skus))


def product_get(*, product_id, deleted_too: bool = False) -> Product:
    rows = Product.objects.select_related("category")
    try:
        product = rows.get(pk=product_id)
    except (Product.DoesNotExist, DjangoValidationError, ValueError):
        raise NotFound(f"Product {product_id} does not exist.") from None
    if product.is_deleted and not deleted_too:
        raise NotFound(f"Product {product_id} does not exist.")
    return product_list(deleted=product.is_deleted).get(pk=product.pk)


def category_list() -> QuerySet[Category]:
    return Category.objects.live().order_by("tree_path")


def category_get(*, category_id) -> Category:
    try:
        return category_list().get(pk=category_id)
    except (Category.DoesNotExist, DjangoValidationError, ValueError):
        raise NotFound(f"Category {category_id} does not exist.") from None


def category_paths(categories) -> dict:
    """{category id: "Ceramics / Vases"} for the given categories, reading every ancestor
    they name in one query."""
    categories = list(categories)
    ids = {ancestor for c in categories for ancestor in c.ancestor_ids()}
    names = dict(Category.objects.filter(pk__in=ids).values_list("pk", "name"))
    return {
        c.pk: " / ".join(names.get(ancestor, "?") for ancestor in c.ancestor_ids())
        for c in categories
    }


def category_subtree_ids(*, category_id) -> QuerySet:
    """The ids of a category and every category under it (live or not)."""
    category = Category.objects.filter(pk=category_id).first()
    if category is None:
        return Category.objects.none().values("pk")
    return Category.objects.filter(tree_path__startswith=category.tree_path).values("pk")
