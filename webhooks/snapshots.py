"""The `data` of an event: the object as GET on it returned at the moment of the event, read
inside the transaction that changed it (API.md "Webhooks")."""

from django.core.exceptions import ObjectDoesNotExist

from articurated.errors import NotFound
from audit.models import AuditRecord, EntityType
from catalogue.models import Category, Sku
from catalogue.selectors import category_paths, product_get, sku_get
from catalogue.serializers import CategorySerializer, ProductSerializer, SkuSerializer
from imports.models import Import
from imports.serializers import ImportSerializer
from invoicing.models import Invoice
from orders.models import Order
from orders.selectors import order_body_complete, order_get
from orders.serializers import order_body
from payments.models import Refund
from returns.selectors import return_get
from returns.serializers import ReturnSerializer


def _invoice_summary(invoice: Invoice) -> dict:
    return {
        "id": str(invoice.pk),
        "order_id": str(invoice.order_id),
        "order_number": invoice.order.number,
        "number": invoice.number,
        "status": invoice.status,
        "attempts": invoice.attempts,
        "last_error": invoice.last_error or None,
        "issued_at": invoice.issued_at,
        "generated_at": invoice.generated_at,
        "created_at": invoice.created_at,
    }


def _refund_summary(refund: Refund) -> dict:
    return {
        "id": str(refund.pk),
        "order_id": str(refund.order_id),
        "order_number": refund.order.number,
        "return_id": str(refund.return_request_id) if refund.return_request_id else None,
        "reason": refund.reason,
        "amount": str(refund.amount),
        "currency": refund.currency,
        "status": refund.status,
        "reference": refund.reference,
        "attempts": refund.attempts,
        "last_error": refund.last_error or None,
        "created_at": refund.created_at,
        "succeeded_at": refund.succeeded_at,
        "failed_at": refund.failed_at,
    }


def snapshot_of(record: AuditRecord, *, subject=None) -> tuple[dict, object]:
    """The event data for an audit record, and the id of the order it belongs to. `subject`,
    the changed object as its service holds it, is used instead of reading it again. An object
    that cannot be read (a record written without one) gets its ids only, never an error that
    would undo the change."""
    try:
        return _snapshot(record, subject)
    except (NotFound, ObjectDoesNotExist, KeyError):
        return {"entity_id": str(record.entity_id), "number": record.entity_number}, None


def _snapshot(record: AuditRecord, subject) -> tuple[dict, object]:
    if record.entity_type == EntityType.ORDER:
        if isinstance(subject, Order) and subject.pk == record.entity_id:
            # The row the service locked and saved; its lines and returns read once, here,
            # and the API's answer to the same request reuses them.
            order = order_body_complete(subject)
        else:
            order = order_get(order_id=record.entity_id)
        return order_body(order), order.pk
    if record.entity_type == EntityType.RETURN:
        return_obj = return_get(return_id=record.entity_id)
        return dict(ReturnSerializer(return_obj).data), return_obj.order_id
    # Job records name their invoice or refund (entity_id) and carry the order (order_id);
    # records written before that were keyed by the order (the refund's id in metadata).
    if record.entity_type == EntityType.INVOICE:
        invoices = Invoice.objects.select_related("order")
        if record.order_id:
            invoice = invoices.get(pk=record.entity_id)
        else:
            invoice = invoices.get(order_id=record.entity_id)
        return _invoice_summary(invoice), invoice.order_id
    if record.entity_type == EntityType.REFUND:
        refund_id = record.entity_id if record.order_id else record.metadata["refund_id"]
        refund = Refund.objects.select_related("order").get(pk=refund_id)
        return _refund_summary(refund), refund.order_id
    if record.entity_type == EntityType.CATEGORY:
        return category_body(Category.objects.get(pk=record.entity_id)), None
    if record.entity_type == EntityType.PRODUCT and record.transition == "bulk_delete":
        return bulk_delete_summary(record), None
    if record.entity_type == EntityType.PRODUCT and record.transition.startswith("import_"):
        return import_body(Import.objects.get(pk=record.entity_id)), None
    if record.entity_type == EntityType.PRODUCT:
        return product_body(record.entity_id), None
    if record.entity_type == EntityType.SKU:
        return product_body(Sku.objects.values_list("product_id", flat=True).get(
            pk=record.entity_id)), None  # fmt: skip
    return {"entity_id": str(record.entity_id), "number": record.entity_number}, None


# --- the catalogue, stock and imports (API.md "Catalogue", "Imports (CSV)") -----------------


def category_body(category: Category) -> dict:
    """GET /categories/{id}: with its path (a deleted one too, as it was deleted)."""
    paths = category_paths([category])
    return dict(CategorySerializer(category, context={"paths": paths}).data)


def product_body(product_id) -> dict:
    """GET /products/{id}: with its live SKUs and their stock (a deleted product with the SKUs
    deleted with it, as managers read it)."""
    product = product_get(product_id=product_id, deleted_too=True)
    paths = category_paths([product.category])
    return dict(ProductSerializer(product, context={"paths": paths}).data)


def sku_body(sku_id) -> dict:
    """GET /skus/{id}: the SKU with its stock as just changed."""
    return dict(SkuSerializer(sku_get(sku_id=sku_id, deleted_too=True)).data)


def import_body(import_run: Import) -> dict:
    """GET /imports/{id} (`errors_url` as a path: there is no request to make it absolute)."""
    return dict(ImportSerializer(import_run).data)


def bulk_delete_summary(record: AuditRecord) -> dict:
    """`products.bulk_deleted`: how many, when (every product and SKU of the operation has
    this `deleted_at`) and what was asked for (`{"ids": [...]}`, `{"filter": {...}}` or
    `{"all": true}`), never the products one by one."""
    return {
        "deleted": record.metadata["deleted"],
        "deleted_at": record.metadata["deleted_at"],
        "selection": record.metadata.get("selection"),
    }
