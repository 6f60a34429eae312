"""The invoice document: HTML from templates/invoicing/invoice.html, PDF by WeasyPrint.
Pure: reads the invoice and its order, writes nothing."""

import logging
from decimal import Decimal

import pycountry
from django.conf import settings
from django.template.loader import render_to_string

from invoicing.models import Invoice

# WeasyPrint logs every layout step at INFO.
logging.getLogger("weasyprint.progress").setLevel(logging.WARNING)


def _money(value: Decimal) -> str:
    return f"{value:,.2f}"


def _address(order, kind: str) -> list[str]:
    parts = order.address(kind)
    country = pycountry.countries.get(alpha_2=parts["country"]) if parts["country"] else None
    locality = " ".join(p for p in (parts["postal_code"], parts["city"]) if p)
    lines = [
        parts["name"],
        parts["line1"],
        parts["line2"],
        ", ".join(p for p in (locality, parts["region"]) if p),
        country.name if country else parts["country"],
    ]
    return [line for line in lines if line]


def invoice_render_context(*, invoice: Invoice) -> dict:
    order = invoice.order
    return {
        "seller": settings.SELLER,
        "invoice": invoice,
        "order": order,
        "currency": order.currency,
        "billing_address": _address(order, "billing"),
        "shipping_address": _address(order, "shipping"),
        "phone": order.shipping_phone,
        "items": [
            {
                "sku": line.sku,
                "name": line.name,
                "quantity": line.quantity,
                "unit_price": _money(line.unit_price),
                "line_total": _money(line.line_total),
            }
            for line in order.items.order_by("position")
        ],
        "subtotal": _money(order.subtotal),
        "shipping": _money(order.shipping_amount),
        "tax": _money(order.tax_amount),
        "total": _money(order.total_amount),
    }


def invoice_render_html(*, invoice: Invoice) -> str:
    return render_to_string("invoicing/invoice.html", invoice_render_context(invoice=invoice))


def invoice_render_pdf(*, invoice: Invoice) -> bytes:
    """The PDF of an invoice that has its number (allocated by the job before rendering)."""
    assert invoice.number, "an invoice is rendered only once it has its number"
    from weasyprint import HTML  # imported on first use: it is slow to import, web needs it not

    return HTML(string=invoice_render_html(invoice=invoice)).write_pdf()
