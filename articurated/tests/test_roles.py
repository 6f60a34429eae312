"""Permission checks answer from the fixed role map, without a query, and agree with the
permission rows of the groups (which roles_sync keeps equal to the map)."""

import pytest
from django.contrib.auth.backends import ModelBackend
from django.contrib.auth.models import Permission

from articurated.roles import ROLE_PERMISSIONS, RoleBackend


def _all_permission_names() -> list[str]:
    return [
        f"{app}.{codename}"
        for app, codename in Permission.objects.values_list("content_type__app_label", "codename")
    ]


@pytest.mark.parametrize("role", list(ROLE_PERMISSIONS))
def test_the_role_map_and_the_group_rows_agree_on_every_permission(make_user, role):
    # given a user of the role, loaded as a request would load it
    user = make_user(role)
    names = _all_permission_names()

    # then the map answers as the database rows do, for every permission there is
    by_rows = {name: ModelBackend().has_perm(user, name) for name in names}
    by_map = {name: RoleBackend().has_perm(user, name) for name in names}
    assert by_map == by_rows
    assert sum(by_map.values()) == len(ROLE_PERMISSIONS[role])


def test_a_role_check_runs_no_query_once_roles_are_known(make_user, django_assert_num_queries):
    user = make_user("Warehouse")
    user._role_names = ["Warehouse"]  # what token authentication attaches

    with django_assert_num_queries(0):
        assert user.has_perm("orders.ship_order")
        assert user.has_perm("orders.view_order")


def test_a_permission_given_one_by_one_in_the_admin_still_counts(make_user):
    user = make_user("Warehouse")
    user.user_permissions.add(Permission.objects.get(codename="cancel_order"))
    user = type(user).objects.get(pk=user.pk)

    assert user.has_perm("orders.cancel_order")
    assert not user.has_perm("orders.pay_order")


def test_inactive_users_have_no_permission(make_user):
    user = make_user("Manager")
    user.is_active = False
    assert not user.has_perm("orders.ship_order")
