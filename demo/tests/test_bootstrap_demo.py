import pytest
from django.contrib.auth import get_user_model
from django.core.management import CommandError, call_command

from catalogue.models import Category, Sku
from inventory.models import StockLevel, StockMovement
from inventory.selectors import sku_low_stock_list
from orders.models import LineItem, Order, OrderStatus
from returns.models import Return


@pytest.mark.empty_catalogue
def test_demo_has_every_role_and_orders_in_every_state(db, settings):
    # when a newcomer bootstraps the demo (twice: it must be safe to run again)
    call_command("bootstrap_demo", stdout=None)
    call_command("bootstrap_demo", stdout=None)
    # then each role has a user who can log in with the demo password
    users = get_user_model().objects
    for username, group in [("warehouse", "Warehouse"), ("support", "Support"),
                            ("manager", "Manager"), ("integrator", "Integrator")]:  # fmt: skip
        user = users.get(username=username)
        assert user.check_password("articurated")
        assert list(user.groups.values_list("name", flat=True)) == [group]
    assert users.get(username="admin").is_superuser
    # and there are orders in every state, and returns in every state (two for the manager's
    # queue)
    assert set(Order.objects.values_list("status", flat=True)) == set(OrderStatus.values)
    statuses = sorted(Return.objects.values_list("status", flat=True))
    assert statuses == ["APPROVED", "COMPLETED", "IN_TRANSIT", "RECEIVED", "REJECTED",
                        "REQUESTED", "REQUESTED"]  # fmt: skip
    assert Order.objects.count() == 21  # 19 + 2 catalogue orders
    # and every shipped parcel has its own tracking number
    tracking = list(Order.objects.exclude(tracking_number=None).values_list("tracking_number"))
    assert len(tracking) == len(set(tracking)) == 9


@pytest.mark.empty_catalogue
def test_demo_catalogue_has_a_tree_a_one_of_a_kind_piece_and_a_made_to_order_one(db):
    # when
    call_command("bootstrap_demo", stdout=None)
    call_command("bootstrap_demo", stdout=None)

    # then the catalogue reads like a shop's, once
    paths = {c.name: c.depth for c in Category.objects.live()}
    assert paths == {"Ceramics": 0, "Vases": 1, "Bowls and cups": 1, "Textiles": 0, "Rugs": 1,
                     "Prints": 0}  # fmt: skip
    assert Sku.objects.filter(code="VASE-01").count() == 1
    # the one-of-a-kind moon jar's single unit is held by a paid order: nothing left to sell
    jar = StockLevel.objects.get(sku__code="MOON-JAR-1")
    assert (jar.on_hand, jar.allocated, jar.available) == (1, 1, 0)
    assert "MOON-JAR-1" in {sku.code for sku in sku_low_stock_list()}
    # the made-to-order portrait is sold without stock
    portrait = LineItem.objects.get(sku="PORTRAIT-MTO")
    assert not portrait.stock_tracked and not portrait.catalogue_sku.track_inventory
    # every demo order line names a catalogue SKU, and stock equals its movements
    assert not LineItem.objects.filter(catalogue_sku=None).exists()
    for level in StockLevel.objects.all():
        moves = StockMovement.objects.filter(sku_id=level.sku_id)
        assert level.on_hand == sum(m.delta_on_hand for m in moves)
        assert level.allocated == sum(m.delta_allocated for m in moves)


def test_demo_refuses_production_settings(db, settings):
    settings.IS_PRODUCTION = True
    with pytest.raises(CommandError):
        call_command("bootstrap_demo")
    assert not Order.objects.exists()
