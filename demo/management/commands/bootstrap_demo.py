"""Demo users and orders for newcomers. Never part of a production deploy."""

import os

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction
from rest_framework.authtoken.models import Token

from articurated.context import CLI
from articurated.roles import INTEGRATOR, MANAGER, ROLE_PERMISSIONS, STAFF_ROLES, roles_sync
from catalogue.models import Category, Sku
from catalogue.services import category_create, product_create
from demo.payments import demo_order_pay
from orders.models import Order
from orders.services import order_change_state, order_create
from returns.services import return_change_state, return_create

DEMO_CUSTOMERS = [
    ("ada@example.com", "Ada Lovelace", "GB", "London", "12 St James's Sq", "SW1Y 4JH"),
    ("grace@example.com", "Grace Hopper", "US", "Arlington", "1 Navy Way", "22202"),
    ("alan@example.com", "Alan Turing", "GB", "Manchester", "1 Oxford Rd", "M13 9PL"),
    ("hedy@example.com", "Hedy Lamarr", "AT", "Vienna", "Ringstraße 1", "1010"),
    ("katherine@example.com", "Katherine Johnson", "US", "Hampton", "2 Langley Blvd", "23681"),
    ("margaret@example.com", "Margaret Hamilton", "US", "Boston", "77 Mass Ave", "02139"),
    ("radia@example.com", "Radia Perlman", "US", "Portsmouth", "5 Bridge St", "03801"),
]
# Returns opened on the delivered demo orders, one in every state: (reason, comment, the
# states they move through)
_IN_TRANSIT = [
    ("APPROVED", {}),
    ("IN_TRANSIT", {"carrier": "Royal Mail", "tracking_number": "RM-RET-0001"}),
]
DEMO_RETURNS = [
    ("DAMAGED", "Crack on the rim", []),
    ("NOT_AS_DESCRIBED", "Colour is much darker than the photo", []),
    ("NO_LONGER_NEEDED", "Bought two by mistake", _IN_TRANSIT),
    (
        "WRONG_ITEM",
        "Received a bowl instead of a mug",
        [("REJECTED", {"reason": "Photo shows the item ordered"})],
    ),
    ("OTHER", "Gift already owned", [("APPROVED", {"reason": "Within the window"})]),
    (
        "DAMAGED",
        "Handle came off",
        [
            ("APPROVED", {}),
            ("IN_TRANSIT", {"carrier": "DHL", "tracking_number": "RM-RET-0002"}),
            ("RECEIVED", {"inspection_note": "Handle broken in transit"}),
        ],
    ),
    (
        "NOT_AS_DESCRIBED",
        "Smaller than described",
        [
            ("APPROVED", {}),
            ("IN_TRANSIT", {"carrier": "UPS", "tracking_number": "RM-RET-0003"}),
            ("RECEIVED", {"inspection_note": "As new"}),
            ("COMPLETED", {}),
        ],
    ),
]
DEMO_ITEMS = [
    ("VASE-01", "Hand-thrown vase", "49.50"),
    ("BOWL-07", "Raku tea bowl", "32.00"),
    ("RUG-03", "Hand-woven wool rug", "240.00"),
    ("CUP-12", "Stoneware mug", "18.00"),
]
# (target state, the steps that reach it)
DEMO_STATES = [
    ("PENDING_PAYMENT", []),
    ("PAID", [("PAID", {"payment_reference": "pay_demo", "payment_method": "card"})]),
    (
        "PROCESSING_IN_WAREHOUSE",
        [("PAID", {"payment_reference": "pay_demo"}), ("PROCESSING_IN_WAREHOUSE", {})],
    ),
    (
        "SHIPPED",
        [
            ("PAID", {"payment_reference": "pay_demo"}),
            ("PROCESSING_IN_WAREHOUSE", {}),
            ("SHIPPED", {"carrier": "UPS", "tracking_number": "1Z999AA10123456784"}),
        ],
    ),
    (
        "DELIVERED",
        [
            ("PAID", {"payment_reference": "pay_demo"}),
            ("PROCESSING_IN_WAREHOUSE", {}),
            ("SHIPPED", {"carrier": "DHL", "tracking_number": "JD014600006281230704"}),
            ("DELIVERED", {}),
        ],
    ),
    ("CANCELLED", [("CANCELLED", {"reason": "Customer changed their mind"})]),
    (
        "CANCELLED",
        [("PAID", {"payment_reference": "pay_demo2"}), ("CANCELLED", {"reason": "Out of stock"})],
    ),
]


def _tracking(carrier: str, index: int) -> str:
    if carrier == "UPS":
        return f"1Z999AA1{index:010d}"
    return f"JD0146000{index:011d}"


class Command(BaseCommand):
    help = "Creates the role groups, one user per role and demo orders in every state."

    def handle(self, *args, **options):
        if getattr(settings, "IS_PRODUCTION", False):
            raise CommandError("bootstrap_demo is for demos; refusing under production settings.")
        password = os.environ.get("DEMO_PASSWORD", "articurated")
        roles_sync()
        users = {role: self._user(role.lower(), password, role) for role in ROLE_PERMISSIONS}
        self._user("admin", password, None, superuser=True)
        token, _ = Token.objects.get_or_create(user=users[INTEGRATOR])
        self._catalogue()
        if Order.objects.exists():
            self.stdout.write("Demo orders exist already; users and groups are up to date.")
        else:
            self._orders()
            self._catalogue_orders()
        self.stdout.write(
            self.style.SUCCESS(
                f"Users: admin, {', '.join(u.username for u in users.values())} "
                f"(password from DEMO_PASSWORD, default 'articurated'). "
                f"Integrator API token: {token.key}"
            )
        )

    def _user(self, username, password, role, superuser=False):
        user, created = get_user_model().objects.get_or_create(
            username=username, defaults={"email": f"{username}@articurated.example"}
        )
        user.is_staff = superuser or role in STAFF_ROLES
        user.is_superuser = superuser
        if created:
            user.set_password(password)
        user.save()
        if role:
            user.groups.set([Group.objects.get(name=role)])
        return user

    @transaction.atomic
    def _orders(self):
        delivered = []
        delivered_more = [state for state in DEMO_STATES if state[0] == "DELIVERED"] * 5
        for index, (target, steps) in enumerate(DEMO_STATES * 2 + delivered_more):
            email, name, country, city, line1, postal = DEMO_CUSTOMERS[index % len(DEMO_CUSTOMERS)]
            address = {
                "name": name,
                "line1": line1,
                "city": city,
                "postal_code": postal,
                "country": country,
                "phone": "",
            }
            sku, item_name, price = DEMO_ITEMS[index % len(DEMO_ITEMS)]
            sku = _demo_sku(sku, "GBP" if country == "GB" else "USD")
            order = order_create(
                actor=None,
                context=CLI,
                customer_email=email,
                customer_name=name,
                currency="GBP" if country == "GB" else "USD",
                shipping_address=address,
                items=[
                    {"sku": sku, "name": item_name, "quantity": 1 + index % 3, "unit_price": price},
                    {
                        "sku": _demo_sku("CARD-01", "GBP" if country == "GB" else "USD"),
                        "name": "Hand-printed card",
                        "quantity": 1,
                        "unit_price": "4.50",
                    },
                ],
                shipping_amount="5.00",
                tax_amount="0.00",
            )
            for new_state, params in steps:
                if new_state == "SHIPPED":  # every parcel its own tracking number
                    params = {**params, "tracking_number": _tracking(params["carrier"], index)}
                if new_state == "PAID":  # paid through the payment service
                    params = {**params, "payment_reference": demo_order_pay(order)}
                order_change_state(
                    order_id=order.pk, actor=None, context=CLI, new_state=new_state, **params
                )
            self.stdout.write(f"  {order.number}: {target}")
            if target == "DELIVERED":
                delivered.append(order)
        for order, (reason, comment, steps) in zip(delivered, DEMO_RETURNS, strict=False):
            return_request = return_create(
                actor=None, context=CLI, order_id=order.pk, reason=reason, comment=comment
            )
            for new_state, params in steps:
                return_request = return_change_state(
                    return_id=return_request.pk,
                    actor=None,
                    context=CLI,
                    new_state=new_state,
                    **params,
                )
            self.stdout.write(
                f"  {return_request.number} for {order.number}: {return_request.status}"
            )
        manager = get_user_model().objects.get(username=MANAGER.lower())
        self.stdout.write(f"Demo orders created; log in as {manager.username} to approve returns.")

    # --- catalogue (issue 10) ---------------------------------------------------------------

    @transaction.atomic
    def _catalogue(self):
        """The demo catalogue, through the real services (history and audit included). SKUs
        whose code exists already (any case) are left alone, so running twice adds nothing."""
        categories: dict[str, Category] = {}
        for path in DEMO_CATEGORIES:
            parent_path, _, name = path.rpartition(" / ")
            existing = Category.objects.live().filter(name=name, parent=categories.get(parent_path))
            categories[path] = existing.first() or category_create(
                actor=None, context=CLI, name=name, parent_id=_pk(categories.get(parent_path))
            )
        taken = {code.lower() for code in Sku.objects.live().values_list("code", flat=True)}
        for category, name, description, attributes, skus in DEMO_PRODUCTS:
            skus = [sku for sku in skus if sku["sku"].lower() not in taken]
            if skus:
                product_create(
                    actor=None,
                    context=CLI,
                    name=name,
                    description=description,
                    category_id=categories[category].pk,
                    attributes=attributes,
                    skus=skus,
                )
        self.stdout.write(f"Catalogue: {Sku.objects.live().count()} SKUs.")

    def _catalogue_orders(self):
        """Orders for the one-of-a-kind moon jar (its last unit: it shows in the low-stock
        queue) and for a made-to-order commission (not stock-tracked)."""
        address = {"name": "Ada Lovelace", "line1": "12 St James's Sq", "city": "London",
                   "postal_code": "SW1Y 4JH", "country": "GB"}  # fmt: skip
        for items, steps in [
            ([{"sku": "MOON-JAR-1", "quantity": 1}], [("PAID", {})]),
            ([{"sku": "PORTRAIT-MTO", "quantity": 1}, {"sku": "card-01-uk", "quantity": 2}], []),
        ]:
            order = order_create(
                actor=None,
                context=CLI,
                customer_email="ada@example.com",
                customer_name="Ada Lovelace",
                currency="GBP",
                shipping_address=address,
                items=items,
            )
            for new_state, params in steps:
                if new_state == "PAID":  # paid through the payment service, like the others
                    params = {**params, "payment_reference": demo_order_pay(order)}
                order_change_state(
                    order_id=order.pk, actor=None, context=CLI, new_state=new_state, **params
                )
            self.stdout.write(f"  {order.number}: {order.items.count()} catalogue lines")


def _pk(obj):
    return obj.pk if obj is not None else None


def _demo_sku(code: str, currency: str) -> str:
    # Every demo piece is sold in dollars and pounds: a SKU per currency (`-UK` for pounds).
    return f"{code}-UK" if currency == "GBP" else code


DEMO_CATEGORIES = [
    "Ceramics", "Ceramics / Vases", "Ceramics / Bowls and cups", "Textiles",
    "Textiles / Rugs", "Prints",
]  # fmt: skip


def _both(code, price_usd, price_gbp, on_hand, *, attributes=None, threshold=2):
    common = {"attributes": attributes or {}, "low_stock_threshold": threshold}
    return [
        {"sku": code, "price": price_usd, "currency": "USD", "on_hand": on_hand, **common},
        {"sku": f"{code}-UK", "price": price_gbp, "currency": "GBP", "on_hand": on_hand, **common},
    ]


DEMO_PRODUCTS = [
    ("Ceramics / Vases", "Hand-thrown vase", "Stoneware vase thrown on the wheel, 24 cm.",
     {"maker": "Studio Oka"},
     _both("VASE-01", "49.50", "42.00", 12, attributes={"glaze": "celadon"})
     + _both("VASE-02", "49.50", "42.00", 3, attributes={"glaze": "tenmoku"})),
    ("Ceramics / Vases", "Moon jar", "One of a kind: a 40 cm porcelain moon jar, signed.",
     {"maker": "Hana Kim", "one_of_a_kind": True},
     [{"sku": "MOON-JAR-1", "price": "1200.00", "currency": "GBP", "on_hand": 1,
       "low_stock_threshold": 0}]),
    ("Ceramics / Bowls and cups", "Raku tea bowl", "Raku-fired chawan; every crackle differs.",
     {"maker": "Studio Oka"}, _both("BOWL-07", "32.00", "27.00", 12)),
    ("Ceramics / Bowls and cups", "Stoneware mug", "Speckled stoneware, 350 ml.",
     {"maker": "Fenwick Pottery"}, _both("CUP-12", "18.00", "15.00", 40, threshold=5)),
    ("Textiles / Rugs", "Hand-woven wool rug", "Flat-woven undyed wool, 120 × 180 cm.",
     {"maker": "Loom & Field"},
     _both("RUG-03", "240.00", "205.00", 10, attributes={"size": "120×180"})),
    ("Textiles", "Indigo table runner", "Shibori-dyed linen, 40 × 200 cm.",
     {"maker": "Loom & Field"}, _both("RUNNER-05", "65.00", "55.00", 2)),
    ("Prints", "Hand-printed card", "Linocut greetings card, blank inside.",
     {"maker": "Press Gang Prints"}, _both("CARD-01", "4.50", "3.80", 200, threshold=20)),
    ("Prints", "Commissioned portrait print", "Made to order from your photo; ships in 3 weeks.",
     {"maker": "Press Gang Prints", "made_to_order": True},
     [{"sku": "PORTRAIT-MTO", "price": "150.00", "currency": "GBP", "track_inventory": False}]),
]  # fmt: skip
