"""The four roles of PRODUCT.md as Django groups, and the permissions each carries.

Permissions are named as strings (app_label.codename) so this bottom layer imports no domain
app. Groups are brought up to date after every migrate, so production has them without the
demo command; permissions of apps not installed yet are skipped.
"""

import logging

from django.contrib.auth.backends import ModelBackend
from django.contrib.auth.models import Group, Permission

logger = logging.getLogger(__name__)

WAREHOUSE = "Warehouse"
SUPPORT = "Support"
MANAGER = "Manager"
INTEGRATOR = "Integrator"
STAFF_ROLES = (WAREHOUSE, SUPPORT, MANAGER)

_READ = [
    "orders.view_order",
    "returns.view_return",
    "invoicing.view_invoice",
    "catalogue.view_category",
    "catalogue.view_product",
    "catalogue.view_sku",
]
# Stock movements are for staff only (API.md "Catalogue").
_STAFF_READ = _READ + ["inventory.view_stockmovement"]
_CATALOGUE_WRITE = [
    f"catalogue.{verb}_{model}"
    for model in ("category", "product", "sku")
    for verb in ("add", "change", "delete")
]

ROLE_PERMISSIONS: dict[str, list[str]] = {
    WAREHOUSE: _STAFF_READ
    + [
        "inventory.adjust_stock",
        "orders.start_processing_order",
        "orders.ship_order",
        "orders.deliver_order",
        "returns.mark_in_transit_return",
        "returns.receive_return",
        "returns.complete_return",
    ],
    SUPPORT: _STAFF_READ
    + [
        "orders.add_order",
        "orders.change_order",
        "orders.pay_order",
        "orders.cancel_order",
        "returns.add_return",
        "returns.mark_in_transit_return",
        "audit.view_auditrecord",
        "payments.view_refund",
    ],
    MANAGER: _STAFF_READ
    + _CATALOGUE_WRITE
    + [
        "inventory.adjust_stock",
        "orders.add_order",
        "orders.change_order",
        "orders.pay_order",
        "orders.start_processing_order",
        "orders.ship_order",
        "orders.deliver_order",
        "orders.cancel_order",
        "returns.add_return",
        "returns.approve_return",
        "returns.reject_return",
        "returns.mark_in_transit_return",
        "returns.receive_return",
        "returns.complete_return",
        "audit.view_auditrecord",
        "invoicing.retry_invoice",
        "payments.view_refund",
        "payments.retry_refund",
        "webhooks.manage_own_endpoint",
        "webhooks.manage_all_endpoints",
        "webhooks.view_endpoint",
        "webhooks.change_endpoint",
        "webhooks.view_delivery",
        "webhooks.resend_delivery",
        "webhooks.view_event",
        "imports.add_import",
        "imports.view_import",
        "imports.cancel_import",
    ],
    INTEGRATOR: _READ
    + [
        "orders.add_order",
        "orders.pay_order",
        "orders.deliver_order",
        "orders.cancel_order",
        "returns.add_return",
        "returns.mark_in_transit_return",
        "webhooks.manage_own_endpoint",
        "webhooks.view_event",
    ],
}


ROLE_PERMISSION_SETS: dict[str, frozenset[str]] = {
    role: frozenset(names) for role, names in ROLE_PERMISSIONS.items()
}


def user_role_names(user) -> list[str]:
    """The user's role (group) names: attached by the token authentication's own query, else
    read once and kept on the user object for the rest of the request."""
    names = getattr(user, "_role_names", None)
    if names is None:
        names = list(user.groups.values_list("name", flat=True))
        user._role_names = names
    return names


class RoleBackend(ModelBackend):
    """Django's ModelBackend (log in, sessions, the admin) that answers
    `user.has_perm("orders.ship_order")` from ROLE_PERMISSIONS instead of two queries (user and
    group permissions) on every request. Only a permission no role of the user carries falls
    through to ModelBackend's queries, so permissions given one by one in the admin still
    count. roles_sync() keeps the groups' permission rows equal to this map."""

    def has_perm(self, user_obj, perm: str, obj=None) -> bool:
        if not user_obj.is_active or user_obj.is_anonymous or obj is not None:
            return False
        roles = user_role_names(user_obj)
        if any(perm in ROLE_PERMISSION_SETS.get(role, ()) for role in roles):
            return True
        return super().has_perm(user_obj, perm, obj)


def roles_sync() -> None:
    """Creates the groups and sets exactly the permissions listed above (idempotent)."""
    for role, names in ROLE_PERMISSIONS.items():
        group, _ = Group.objects.get_or_create(name=role)
        wanted = []
        for name in names:
            app_label, codename = name.split(".")
            permission = Permission.objects.filter(
                content_type__app_label=app_label, codename=codename
            ).first()
            if permission is None:
                logger.debug("Permission %s does not exist yet; skipped for %s", name, role)
                continue
            wanted.append(permission)
        group.permissions.set(wanted)


def roles_sync_on_migrate(sender, **kwargs) -> None:
    roles_sync()


def user_roles(user) -> frozenset[str]:
    """The staff roles whose dashboard and work queues the user sees: their groups, or every
    role for a superuser. Read from the role names the permission checks already hold."""
    if not getattr(user, "is_authenticated", False):
        return frozenset()
    if user.is_superuser:
        return frozenset(STAFF_ROLES)
    return frozenset(name for name in user_role_names(user) if name in STAFF_ROLES)
