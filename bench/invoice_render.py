"""Invoice render against its ceiling, interleaved: the product (`invoice_render_pdf`: context
from the database, template, WeasyPrint) and WeasyPrint alone on the same HTML, for a 20-line
order. Runs inside the product's settings on the bench database; writes nothing (the order it
renders is created in a transaction that is rolled back).

    python bench/invoice_render.py --rounds 3 --renders 8  → one JSON line on stdout
"""

import argparse
import json
import os
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "articurated.settings")

import django

django.setup()

from django.db import transaction  # noqa: E402
from django.utils import timezone  # noqa: E402
from weasyprint import HTML  # noqa: E402

from articurated.context import CLI  # noqa: E402
from inventory.loading import sku_bulk_load  # noqa: E402
from invoicing.models import Invoice  # noqa: E402
from invoicing.rendering import invoice_render_html, invoice_render_pdf  # noqa: E402
from orders.services import order_create  # noqa: E402

ADDRESS = {
    "name": "Ada Lovelace",
    "line1": "12 St James's Sq",
    "city": "London",
    "postal_code": "SW1Y 4JH",
    "country": "GB",
}


def _ms(function) -> float:
    started = time.perf_counter()
    function()
    return (time.perf_counter() - started) * 1000


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--renders", type=int, default=8)
    args = parser.parse_args()
    rounds = []
    with transaction.atomic():
        # Order lines name catalogue SKUs: these twenty live only in this rolled-back transaction.
        sku_bulk_load(
            rows=[
                {"sku": f"SKU-{n:02d}", "name": f"Piece {n}", "price": f"{10 + n}.50", "on_hand": 9}
                for n in range(20)
            ],
            category_name="Bench invoice",
        )
        order = order_create(
            actor=None,
            context=CLI,
            customer_email="ada@example.com",
            customer_name="Ada Lovelace",
            shipping_address=ADDRESS,
            items=[
                {
                    "sku": f"SKU-{n:02d}",
                    "name": f"Handmade piece {n}",
                    "quantity": 1 + n % 3,
                    "unit_price": f"{10 + n}.50",
                }
                for n in range(20)
            ],
        )
        invoice = Invoice(order=order, number="INV-BENCH-000001", issued_at=timezone.now())
        html = invoice_render_html(invoice=invoice)
        HTML(string=html).write_pdf()  # warm-up: fonts and styles load once per process
        invoice_render_pdf(invoice=invoice)
        for _ in range(args.rounds):
            ceiling, product = [], []
            for _ in range(args.renders):
                ceiling.append(_ms(lambda: HTML(string=html).write_pdf()))
                product.append(_ms(lambda: invoice_render_pdf(invoice=invoice)))
            rounds.append({"ceiling_ms": ceiling, "product_ms": product})
        transaction.set_rollback(True)
    print(json.dumps({"rounds": rounds}))


if __name__ == "__main__":
    main()
