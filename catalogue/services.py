"""Every write to the catalogue goes through these functions (STYLE.md rule 1).

Each change opens a transaction, locks the row (SELECT … FOR UPDATE; on SQLite the IMMEDIATE
transaction holds the write lock), checks the version the editor read (`expected_version`:
None only for the system, e.g. imports), saves with `update_fields`, raises `version` by one,
and writes one audit record and one history row in the same transaction. Deletes are soft.
Callers: the REST API (catalogue/api.py), the admin, imports and the demo command.
"""

import uuid
from collections.abc import Mapping
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import F, Q, QuerySet, Value
from django.db.models.functions import Concat, Lower, Substr
from django.utils import timezone

from articurated.context import ActionContext
from articurated.db import statement_timeout_set_rollback_unsafe
from articurated.errors import NotFound, PermissionDenied, PreconditionFailed, ValidationFailed
from articurated.fsm import row_lock_rollback_unsafe
from audit.models import EntityType
from audit.services import audit_record_create_rollback_unsafe
from catalogue.errors import CategoryNotEmpty, SkuCodeTaken
from catalogue.models import Category, Product, Sku
from catalogue.signals import skus_created

CENT = Decimal("0.01")
LIVE, DELETED = "LIVE", "DELETED"
UNSET: Any = object()

CATEGORY_FIELDS = ("name", "description", "parent_id")
PRODUCT_FIELDS = ("name", "description", "category_id", "attributes", "active")
SKU_FIELDS = (
    "code", "attributes", "price", "currency", "track_inventory", "low_stock_threshold", "active",
)  # fmt: skip


# --- shared --------------------------------------------------------------------------------


def _ensure_may(actor, permission: str, verb: str) -> None:
    if actor is not None and not actor.has_perm(permission):
        raise PermissionDenied(f"Your role may not {verb}.")


def _user(actor):
    return actor if actor is not None and actor.is_authenticated else None


def _version_check(obj, expected_version: int | None, label: str) -> None:
    """PreconditionFailed naming who made the current version and when, unless the editor
    read exactly it. None skips the check (the system's own writes)."""
    if expected_version is None or expected_version == obj.version:
        return
    last = obj.history.order_by("-history_date", "-history_id").first()
    raise PreconditionFailed(
        label=label,
        current_version=obj.version,
        changed_by=getattr(last.history_user, "username", None) if last else None,
        changed_at=last.history_date if last else None,
    )


def _entity_number(text: str) -> str:
    return text if len(text) <= 64 else text[:63] + "…"


def _audit(entity_type, obj, *, transition, previous, new, actor, context, metadata=None):
    audit_record_create_rollback_unsafe(
        entity_type=entity_type,
        entity_id=obj.pk,
        entity_number=_entity_number(str(obj)),
        transition=transition,
        previous_state=previous,
        new_state=new,
        actor=actor,
        context=context,
        metadata=metadata,
    )


def _jsonable(value):
    return str(value) if isinstance(value, Decimal) or hasattr(value, "hex") else value


def _apply(obj, changes: Mapping[str, Any]) -> dict[str, list]:
    """Sets the changed fields; returns {field: [old, new]} for the audit record."""
    diff = {}
    for name, value in changes.items():
        if value is UNSET:
            continue
        old = getattr(obj, name)
        if old != value:
            diff[name] = [_jsonable(old), _jsonable(value)]
            setattr(obj, name, value)
    return diff


def _save(obj, actor, fields) -> None:
    obj.version += 1
    obj._history_user = _user(actor)
    obj.save(update_fields=[*fields, "version", "updated_at"])


def _money(value) -> Decimal:
    return Decimal(value).quantize(CENT, rounding=ROUND_HALF_UP)


# --- categories ----------------------------------------------------------------------------


def _category_live(category_id, *, field: str) -> Category:
    category = Category.objects.live().filter(pk=category_id).first()
    if category is None:
        raise ValidationFailed(
            "No such category.", details={field: [f"No live category {category_id}."]}
        )
    return category


@transaction.atomic
def category_create(
    *, actor, context: ActionContext, name: str, parent_id=None, description: str = ""
) -> Category:
    """A category at the root or under a live parent. Managers (and the system)."""
    _ensure_may(actor, "catalogue.add_category", "create categories")
    parent = _category_live(parent_id, field="parent_id") if parent_id else None
    category = Category(name=name, description=description or "", parent=parent)
    category.tree_path = f"{parent.tree_path if parent else '/'}{category.pk.hex}/"
    category.depth = parent.depth + 1 if parent else 0
    category._history_user = _user(actor)
    category.save()
    _audit(EntityType.CATEGORY, category, transition="create", previous=None, new=LIVE,
           actor=actor, context=context, metadata={"parent_id": _jsonable(parent_id)})  # fmt: skip
    return category


@transaction.atomic
def category_update(
    *,
    category_id,
    actor,
    context: ActionContext,
    expected_version: int | None,
    name: str = UNSET,
    description: str = UNSET,
    parent_id=UNSET,
) -> Category:
    """Renames or moves a category (with its subtree). Managers. Locks the category and, for a
    move, the new parent and its ancestors (in primary-key order), so two moves that would
    put each other's subtrees inside one another run one after the other and the second is
    refused: the tree never gets a cycle. A move rewrites the subtree's paths in one UPDATE."""
    _ensure_may(actor, "catalogue.change_category", "change categories")
    moving = parent_id is not UNSET
    category_id = _as_uuid(category_id)
    if category_id is None:
        raise NotFound("Category does not exist.")
    lock_ids = {category_id}
    new_parent = None
    if moving and parent_id is not None:
        new_parent = _category_live(parent_id, field="parent_id")
        lock_ids |= {new_parent.pk, *new_parent.ancestor_ids()}
    locked = {
        c.pk: c for c in Category.objects.select_for_update().filter(pk__in=lock_ids).order_by("pk")
    }
    category = locked.get(category_id) or row_lock_rollback_unsafe(
        Category, category_id, label="Category"
    )
    if category.is_deleted:
        raise _gone("Category", category)
    _version_check(category, expected_version, f"Category {category.name}")
    if new_parent is not None:
        new_parent = locked[new_parent.pk]
        if new_parent.deleted_at is not None:
            raise ValidationFailed("No such category.", details={"parent_id": ["Deleted."]})
        if new_parent.tree_path.startswith(category.tree_path):
            raise ValidationFailed(
                "A category cannot move under itself or its own subcategories.",
                details={"parent_id": ["Under the category's own subtree."]},
            )
    diff = _apply(category, {"name": name, "description": description})
    fields = list(diff)
    if moving and category.parent_id != (new_parent.pk if new_parent else None):
        old_path, old_depth = category.tree_path, category.depth
        new_path = f"{new_parent.tree_path if new_parent else '/'}{category.pk.hex}/"
        new_depth = new_parent.depth + 1 if new_parent else 0
        diff["parent_id"] = [_jsonable(category.parent_id), _jsonable(parent_id)]
        Category.objects.filter(tree_path__startswith=old_path).exclude(pk=category.pk).update(
            tree_path=Concat(Value(new_path), Substr("tree_path", len(old_path) + 1)),
            depth=F("depth") + (new_depth - old_depth),
        )
        category.parent = new_parent
        category.tree_path, category.depth = new_path, new_depth
        fields += ["parent", "tree_path", "depth"]
    if not diff:
        return category
    _save(category, actor, [f for f in fields if f != "parent_id"])
    _audit(EntityType.CATEGORY, category, transition="update", previous=LIVE, new=LIVE,
           actor=actor, context=context, metadata={"changes": diff})  # fmt: skip
    return category


def _as_uuid(value):
    try:
        return value if isinstance(value, uuid.UUID) else uuid.UUID(str(value))
    except ValueError:
        return None


def _gone(label: str, obj) -> NotFound:
    """A deleted object is changed only by its restore; anything else answers as for an
    unknown id."""
    return NotFound(f"{label} {obj.pk} is deleted.")


@transaction.atomic
def category_delete(
    *, category_id, actor, context: ActionContext, expected_version: int | None
) -> Category:
    """Soft-deletes an empty category. Managers. Locks it; refused (CATEGORY_NOT_EMPTY) while
    it has live products or live subcategories."""
    _ensure_may(actor, "catalogue.delete_category", "delete categories")
    category = row_lock_rollback_unsafe(Category, category_id, label="Category")
    if category.is_deleted:
        raise _gone("Category", category)
    _version_check(category, expected_version, f"Category {category.name}")
    children = Category.objects.live().filter(parent=category).count()
    products = Product.objects.live().filter(category=category).count()
    if children or products:
        raise CategoryNotEmpty(
            f"Category {category.name} has {products} live products and {children} live "
            "subcategories.",
            details={"products": products, "subcategories": children},
        )
    category.deleted_at = timezone.now()
    _save(category, actor, ["deleted_at"])
    _audit(EntityType.CATEGORY, category, transition="delete", previous=LIVE, new=DELETED,
           actor=actor, context=context)  # fmt: skip
    return category


@transaction.atomic
def category_restore(*, category_id, actor, context: ActionContext) -> Category:
    """Undoes a category's delete; its parent must be live. Managers."""
    _ensure_may(actor, "catalogue.delete_category", "restore categories")
    category = row_lock_rollback_unsafe(Category, category_id, label="Category")
    if not category.is_deleted:
        return category
    if category.parent_id and category.parent.is_deleted:
        raise ValidationFailed(
            "Restore the parent category first.", details={"parent_id": ["Deleted."]}
        )
    category.deleted_at = None
    _save(category, actor, ["deleted_at"])
    _audit(EntityType.CATEGORY, category, transition="restore", previous=DELETED, new=LIVE,
           actor=actor, context=context)  # fmt: skip
    return category


# --- SKUs ------------------------------------------------------------------------------------


def _code_taken(code: str, *, exclude_id=None) -> bool:
    rows = Sku.objects.live().annotate(code_lower=Lower("code")).filter(code_lower=code.lower())
    if exclude_id is not None:
        rows = rows.exclude(pk=exclude_id)
    return rows.exists()


def _saved_unique(obj, field: str, **save_kwargs) -> None:
    """Saves under a savepoint; the database's unique index on lower(code) settles a race two
    creates of one code both passed the check for."""
    try:
        with transaction.atomic():
            obj.save(**save_kwargs)
    except IntegrityError:
        raise ValidationFailed(
            f"SKU code {obj.code} is taken.", details={field: [f"SKU code {obj.code} is taken."]}
        ) from None


def _sku_build(product: Product, values: Mapping[str, Any]) -> Sku:
    return Sku(
        product=product,
        code=values["sku"],
        attributes=values.get("attributes") or {},
        price=_money(values["price"]),
        currency=values.get("currency") or "USD",
        track_inventory=values.get("track_inventory", True),
        low_stock_threshold=values.get("low_stock_threshold", 0),
        active=values.get("active", True),
    )


@transaction.atomic
def product_create(
    *,
    actor,
    context: ActionContext,
    name: str,
    category_id,
    skus: list[Mapping[str, Any]],
    description: str = "",
    attributes: dict | None = None,
    active: bool = True,
) -> Product:
    """A product with its SKUs (at least one) and their opening stock (`on_hand` per SKU).
    Managers (and the system). Sends `skus_created` inside the transaction: inventory writes
    each SKU's stock level and opening movement with it."""
    _ensure_may(actor, "catalogue.add_product", "create products")
    if not skus:
        raise ValidationFailed("A product needs a SKU.", details={"skus": ["At least one SKU."]})
    category = _category_live(category_id, field="category_id")
    errors: dict[str, list[str]] = {}
    seen: set[str] = set()
    for index, values in enumerate(skus):
        code = values["sku"].lower()
        if code in seen or _code_taken(values["sku"]):
            errors[f"skus.{index}.sku"] = [f"SKU code {values['sku']} is taken."]
        seen.add(code)
    if errors:
        raise ValidationFailed("SKU codes must be unique among live SKUs.", details=errors)
    product = Product(
        name=name,
        description=description or "",
        category=category,
        attributes=attributes or {},
        active=active,
    )
    product._history_user = _user(actor)
    product.save()
    created = []
    for index, values in enumerate(skus):
        sku = _sku_build(product, values)
        sku._history_user = _user(actor)
        _saved_unique(sku, f"skus.{index}.sku")
        created.append((sku, values.get("on_hand", 0)))
        # `with_product`: part of the product's creation (its webhook event is the product's).
        _audit(EntityType.SKU, sku, transition="create", previous=None, new=LIVE, actor=actor,
               context=context, metadata={"product_id": str(product.pk),
                                          "with_product": True})  # fmt: skip
    skus_created.send(sender=Sku, skus=created, actor=actor, context=context)
    # Last, so what the record's subscribers read (the `product.created` event) is the whole
    # product: its SKUs and their opening stock.
    _audit(EntityType.PRODUCT, product, transition="create", previous=None, new=LIVE,
           actor=actor, context=context, metadata={"category_id": str(category.pk)})  # fmt: skip
    return product


@transaction.atomic
def product_update(
    *,
    product_id,
    actor,
    context: ActionContext,
    expected_version: int | None,
    **changes: Any,
) -> Product:
    """Changes a product's own fields (name, description, category_id, attributes, active).
    Managers. Locks the product."""
    _ensure_may(actor, "catalogue.change_product", "change products")
    product = row_lock_rollback_unsafe(Product, product_id, label="Product")
    if product.is_deleted:
        raise _gone("Product", product)
    _version_check(product, expected_version, f"Product {product.name}")
    wanted = {name: changes.get(name, UNSET) for name in PRODUCT_FIELDS}
    if wanted["category_id"] is not UNSET:
        wanted["category_id"] = _category_live(wanted["category_id"], field="category_id").pk
    if wanted["description"] is None:
        wanted["description"] = ""
    diff = _apply(product, wanted)
    if not diff:
        return product
    _save(product, actor, list(diff))
    _audit(EntityType.PRODUCT, product, transition="update", previous=LIVE, new=LIVE,
           actor=actor, context=context, metadata={"changes": diff})  # fmt: skip
    return product


@transaction.atomic
def product_delete(
    *, product_id, actor, context: ActionContext, expected_version: int | None
) -> Product:
    """Soft-deletes a product and its live SKUs (same `deleted_at`, so a restore knows which
    SKUs went with it). Managers. Locks the product, then its SKUs."""
    _ensure_may(actor, "catalogue.delete_product", "delete products")
    product = row_lock_rollback_unsafe(Product, product_id, label="Product")
    if product.is_deleted:
        raise _gone("Product", product)
    _version_check(product, expected_version, f"Product {product.name}")
    now = timezone.now()
    skus = list(Sku.objects.select_for_update().live().filter(product=product).order_by("pk"))
    product.deleted_at = now
    _save(product, actor, ["deleted_at"])
    for sku in skus:
        sku.deleted_at = now
        _save(sku, actor, ["deleted_at"])
    _audit(EntityType.PRODUCT, product, transition="delete", previous=LIVE, new=DELETED,
           actor=actor, context=context, metadata={"skus": [s.code for s in skus]})  # fmt: skip
    return product


@transaction.atomic
def product_restore(*, product_id, actor, context: ActionContext) -> Product:
    """Undoes a product's delete with the SKUs deleted with it. Managers. Refused with
    SKU_CODE_TAKEN (nothing restored) when a live SKU took one of their codes meanwhile."""
    _ensure_may(actor, "catalogue.delete_product", "restore products")
    product = row_lock_rollback_unsafe(Product, product_id, label="Product")
    if not product.is_deleted:
        return product
    if product.category.is_deleted:
        raise ValidationFailed(
            "Restore the product's category first.", details={"category_id": ["Deleted."]}
        )
    skus = list(
        Sku.objects.select_for_update()
        .filter(product=product, deleted_at=product.deleted_at)
        .order_by("pk")
    )
    for sku in skus:
        if _code_taken(sku.code):
            raise SkuCodeTaken(sku.code)
    product.deleted_at = None
    _save(product, actor, ["deleted_at"])
    for sku in skus:
        sku.deleted_at = None
        sku._history_user = _user(actor)
        sku.version += 1
        _saved_unique(sku, "sku", update_fields=["deleted_at", "version", "updated_at"])
    _audit(EntityType.PRODUCT, product, transition="restore", previous=DELETED, new=LIVE,
           actor=actor, context=context, metadata={"skus": [s.code for s in skus]})  # fmt: skip
    return product


@transaction.atomic
def product_bulk_delete(
    *,
    actor,
    context: ActionContext,
    products: QuerySet[Product],
    selection: dict | None = None,
) -> int:
    """Soft-deletes every live product of `products` and their live SKUs: two set-based
    UPDATEs whatever the count (no per-row history; one audit record names the operation, how
    many, and the caller's `selection`: `{"ids": [...]}`, `{"filter": {...}}` or
    `{"all": true}`; it becomes the one `products.bulk_deleted` webhook event). Managers.
    Returns how many products were deleted."""
    _ensure_may(actor, "catalogue.delete_product", "delete products")
    statement_timeout_set_rollback_unsafe(settings.DATABASE_BULK_STATEMENT_TIMEOUT)
    now = timezone.now()
    chosen = products.live().order_by().values("pk")
    # The SKUs first, chosen by the same selection (a hash join over both tables): chosen by
    # their products' new deleted_at, PostgreSQL expects one product and probes the SKU index
    # once per product, 500,000 times.
    Sku.objects.live().filter(product_id__in=chosen).update(
        deleted_at=now, version=F("version") + 1, updated_at=now
    )
    count = Product.objects.filter(pk__in=chosen).update(
        deleted_at=now, version=F("version") + 1, updated_at=now
    )
    if count:
        audit_record_create_rollback_unsafe(
            entity_type=EntityType.PRODUCT,
            entity_id=_bulk_id(now),
            entity_number="bulk-delete",
            transition="bulk_delete",
            previous_state=LIVE,
            new_state=DELETED,
            actor=actor,
            context=context,
            metadata={
                "deleted": count,
                "deleted_at": now.isoformat(),
                "selection": _jsonable_selection(selection),
            },
        )
    return count


def _jsonable_selection(selection: dict | None):
    if selection is None:
        return None
    if "ids" in selection:
        return {"ids": sorted(str(pk) for pk in selection["ids"])}
    return {key: _jsonable(value) for key, value in selection.items()}


def _bulk_id(now):
    return uuid.uuid5(uuid.NAMESPACE_URL, f"articurated:bulk-delete:{now.isoformat()}")


@transaction.atomic
def sku_create(*, actor, context: ActionContext, product_id, on_hand: int = 0, **values) -> Sku:
    """A SKU of a live product, with opening stock. Managers. Sends `skus_created`."""
    _ensure_may(actor, "catalogue.add_sku", "create SKUs")
    product = Product.objects.live().filter(pk=product_id).first()
    if product is None:
        raise ValidationFailed(
            "No such product.", details={"product_id": [f"No live product {product_id}."]}
        )
    if _code_taken(values["sku"]):
        raise ValidationFailed(
            f"SKU code {values['sku']} is taken.",
            details={"sku": [f"SKU code {values['sku']} is taken."]},
        )
    sku = _sku_build(product, values)
    sku._history_user = _user(actor)
    _saved_unique(sku, "sku")
    skus_created.send(sender=Sku, skus=[(sku, on_hand)], actor=actor, context=context)
    # After the stock row exists, so the record's `product.updated` event shows the new SKU's
    # stock.
    _audit(EntityType.SKU, sku, transition="create", previous=None, new=LIVE, actor=actor,
           context=context, metadata={"product_id": str(product.pk)})  # fmt: skip
    return sku


@transaction.atomic
def sku_update(
    *, sku_id, actor, context: ActionContext, expected_version: int | None, **changes: Any
) -> Sku:
    """Changes a SKU's fields (code, price, currency, attributes, tracking, threshold,
    active). Managers. Locks the SKU (not its stock: stock moves under its own lock)."""
    _ensure_may(actor, "catalogue.change_sku", "change SKUs")
    sku = row_lock_rollback_unsafe(Sku, sku_id, label="SKU", select_related=["product"])
    if sku.is_deleted:
        raise _gone("SKU", sku)
    _version_check(sku, expected_version, f"SKU {sku.code}")
    wanted = {name: changes.get(name, UNSET) for name in SKU_FIELDS}
    if "sku" in changes:
        wanted["code"] = changes["sku"]
    if wanted["price"] is not UNSET:
        wanted["price"] = _money(wanted["price"])
    if wanted["attributes"] is None:
        wanted["attributes"] = {}
    if wanted["code"] is not UNSET and _code_taken(wanted["code"], exclude_id=sku.pk):
        raise ValidationFailed(
            f"SKU code {wanted['code']} is taken.",
            details={"sku": [f"SKU code {wanted['code']} is taken."]},
        )
    diff = _apply(sku, wanted)
    if not diff:
        return sku
    sku.version += 1
    sku._history_user = _user(actor)
    _saved_unique(sku, "sku", update_fields=[*diff, "version", "updated_at"])
    _audit(EntityType.SKU, sku, transition="update", previous=LIVE, new=LIVE, actor=actor,
           context=context, metadata={"changes": diff})  # fmt: skip
    return sku


@transaction.atomic
def sku_delete(*, sku_id, actor, context: ActionContext, expected_version: int | None) -> Sku:
    """Soft-deletes a SKU: it leaves lists and can no longer be ordered; orders that hold its
    stock keep it. Managers. Locks the SKU."""
    _ensure_may(actor, "catalogue.delete_sku", "delete SKUs")
    sku = row_lock_rollback_unsafe(Sku, sku_id, label="SKU", select_related=["product"])
    if sku.is_deleted:
        raise _gone("SKU", sku)
    _version_check(sku, expected_version, f"SKU {sku.code}")
    sku.deleted_at = timezone.now()
    _save(sku, actor, ["deleted_at"])
    _audit(EntityType.SKU, sku, transition="delete", previous=LIVE, new=DELETED, actor=actor,
           context=context)  # fmt: skip
    return sku


@transaction.atomic
def sku_restore(*, sku_id, actor, context: ActionContext) -> Sku:
    """Undoes a SKU's delete. Managers. Locks the SKU; SKU_CODE_TAKEN when a live SKU has its
    code now (any case)."""
    _ensure_may(actor, "catalogue.delete_sku", "restore SKUs")
    sku = row_lock_rollback_unsafe(Sku, sku_id, label="SKU", select_related=["product"])
    if not sku.is_deleted:
        return sku
    if _code_taken(sku.code):
        raise SkuCodeTaken(sku.code)
    sku.deleted_at = None
    sku.version += 1
    sku._history_user = _user(actor)
    try:
        with transaction.atomic():
            sku.save(update_fields=["deleted_at", "version", "updated_at"])
    except IntegrityError:
        raise SkuCodeTaken(sku.code) from None
    _audit(EntityType.SKU, sku, transition="restore", previous=DELETED, new=LIVE, actor=actor,
           context=context)  # fmt: skip
    return sku


def live_sku_filter(prefix: str = "") -> Q:
    """Orderable: the SKU and its product are live and active."""
    return Q(
        **{
            f"{prefix}deleted_at__isnull": True,
            f"{prefix}active": True,
            f"{prefix}product__deleted_at__isnull": True,
            f"{prefix}product__active": True,
        }
    )
