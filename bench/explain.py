"""EXPLAIN (ANALYZE, BUFFERS) of the SQL the list endpoints really run, on the bench database.

Requests go through Django's test client (in this process, the product's settings), the SELECTs
they make are captured and explained one by one. With --profile OP, it instead profiles OP's
requests with pyinstrument and prints the top of the profile.

    python bench/explain.py --token KEY            → Markdown on stdout
    python bench/explain.py --token KEY --profile "GET /orders/{id}" --requests 200
"""

import argparse
import os
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "articurated.settings")

import django

django.setup()

from django.db import connection  # noqa: E402
from django.test import Client  # noqa: E402
from django.test.utils import CaptureQueriesContext  # noqa: E402

from orders.models import Order  # noqa: E402


def _client(token: str) -> Client:
    return Client(HTTP_AUTHORIZATION=f"Token {token}", HTTP_HOST="127.0.0.1")


def _requests() -> dict[str, tuple[str, str, str | None]]:
    order = Order.objects.filter(status="DELIVERED").order_by("created_at").first()
    pending = Order.objects.filter(status="PENDING_PAYMENT").order_by("-created_at").first()
    return {
        "GET /orders?status=PAID&page=1": ("get", "/api/v1/orders?status=PAID&page=1", None),
        "GET /orders (no filter), page 1": ("get", "/api/v1/orders", None),
        "GET /orders?status=PAID, a cursor page": ("get", "next-of-paid", None),
        "GET /orders/{id}/history": ("get", f"/api/v1/orders/{order.pk}/history", None),
        "GET /orders/{id}": ("get", f"/api/v1/orders/{order.pk}", None),
        "PATCH state": (
            "patch",
            f"/api/v1/orders/{pending.pk}/state",
            '{"new_state": "CANCELLED", "reason": "bench profile"}',
        ),
    }


def explain(token: str) -> str:
    client = _client(token)
    out = []
    for label, (_, path, _) in _requests().items():
        if label.startswith(("PATCH", "GET /orders/{id}")) and "history" not in label:
            continue
        if path == "next-of-paid":
            path = client.get("/api/v1/orders?status=PAID&page=1").json()["next"]
        with CaptureQueriesContext(connection) as captured:
            response = client.get(path)
        out.append(
            f"### {label}\n\n`{path.split('127.0.0.1')[-1]}` → {response.status_code}, "
            f"{len(captured.captured_queries)} statements\n"
        )
        for query in captured.captured_queries:
            sql = query["sql"]
            if not sql.lstrip().upper().startswith("SELECT") or "authtoken_token" in sql:
                continue
            with connection.cursor() as cursor:
                cursor.execute(f"EXPLAIN (ANALYZE, BUFFERS) {sql}")
                plan = "\n".join(row[0] for row in cursor.fetchall())
            shown = sql[:600] + (" …" if len(sql) > 600 else "")
            out.append(f"```sql\n{shown}\n```\n```\n{plan}\n```\n")
    return "\n".join(out)


PROFILE_BODY_PAY = '{"new_state": "PAID", "payment_reference": "pay_profile"}'
# The body bench/lua/order_create.lua sends (bench_seed's stock-tracked SKUs), so the profile
# is of a 201 that allocates stock, not of a 400 for unknown SKUs.
PROFILE_BODY_CREATE = (
    '{"customer": {"email": "load@example.com", "name": "Load Test"}, "currency": "USD", '
    '"shipping_address": {"name": "Load Test", "line1": "1 Bench St", "line2": "", '
    '"city": "Bristol", "region": "", "postal_code": "BS1 4DJ", "country": "GB", "phone": ""}, '
    '"items": ['
    '{"sku": "VASE-01", "name": "Hand-thrown vase", "quantity": 2, "unit_price": "49.50"}, '
    '{"sku": "BOWL-07", "name": "Raku tea bowl", "quantity": 1, "unit_price": "32.00"}, '
    '{"sku": "CUP-12", "name": "Stoneware mug", "quantity": 4, "unit_price": "18.00"}], '
    '"shipping_amount": "5.00", "tax_amount": "0.00", "notes": ""}'
)


def profile(token: str, label: str, count: int, seconds: float) -> str:
    """pyinstrument over `count` requests of one operation (writes rolled back)."""
    from django.db import transaction
    from pyinstrument import Profiler

    client = _client(token)
    requests = _requests()
    pending = list(
        Order.objects.filter(status="PENDING_PAYMENT").values_list("pk", flat=True)[:count]
    )
    calls = {
        "PATCH state": [
            ("patch", f"/api/v1/orders/{pk}/state", PROFILE_BODY_PAY) for pk in pending
        ],
        "POST /orders (3 items)": [("post", "/api/v1/orders", PROFILE_BODY_CREATE)] * count,
    }.get(label) or [requests[label]] * count
    profiler = Profiler(interval=0.0005)
    deadline = time.monotonic() + seconds
    with transaction.atomic():  # profiled writes are rolled back
        with profiler:
            for method, path, body in calls[:1000]:
                getattr(client, method)(path, body, content_type="application/json")
                if time.monotonic() > deadline:
                    break
        transaction.set_rollback(True)
    text = profiler.output_text(unicode=False, color=False, show_all=False)
    return "\n".join(text.splitlines()[:70])


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--token", required=True)
    parser.add_argument("--profile")
    parser.add_argument("--requests", type=int, default=200)
    parser.add_argument("--seconds", type=float, default=60)
    args = parser.parse_args()
    if args.profile:
        print(profile(args.token, args.profile, args.requests, args.seconds))
    else:
        print(explain(args.token))


if __name__ == "__main__":
    main()
