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
# Returns opened on the delivered demo orders: (reason, comment, the states they move through)
DEMO_RETURNS = [
    ("DAMAGED", "Crack on the rim", []),
    ("NOT_AS_DESCRIBED", "Colour is much darker than the photo", []),
    (
        "NO_LONGER_NEEDED",
        "Bought two by mistake",
        [("APPROVED", {}), ("IN_TRANSIT", {"carrier": "Royal Mail"})],
    ),
    (
        "WRONG_ITEM",
        "Received a bowl instead of a mug",
        [("REJECTED", {"reason": "Photo shows the item ordered"})],
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
        if Order.objects.exists():
            self.stdout.write("Demo orders exist already; users and groups are up to date.")
        else:
            self._orders()
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
        delivered_twice_more = [state for state in DEMO_STATES if state[0] == "DELIVERED"] * 2
        for index, (target, steps) in enumerate(DEMO_STATES * 2 + delivered_twice_more):
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
                        "sku": "CARD-01",
                        "name": "Hand-printed card",
                        "quantity": 1,
                        "unit_price": "4.50",
                    },
                ],
                shipping_amount="5.00",
                tax_amount="0.00",
            )
            for new_state, params in steps:
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
