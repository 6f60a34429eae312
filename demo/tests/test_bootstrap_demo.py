import pytest
from django.contrib.auth import get_user_model
from django.core.management import CommandError, call_command

from orders.models import Order, OrderStatus
from returns.models import Return


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
    # and there are orders in every state, and returns for the manager's queue
    assert set(Order.objects.values_list("status", flat=True)) == set(OrderStatus.values)
    statuses = sorted(Return.objects.values_list("status", flat=True))
    assert statuses == ["IN_TRANSIT", "REJECTED", "REQUESTED", "REQUESTED"]
    assert Order.objects.count() == 16


def test_demo_refuses_production_settings(db, settings):
    settings.IS_PRODUCTION = True
    with pytest.raises(CommandError):
        call_command("bootstrap_demo")
    assert not Order.objects.exists()
