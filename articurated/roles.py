"""The four roles of PRODUCT.md as Django groups, and the permissions each carries.

Permissions are named as strings (app_label.codename) so this bottom layer imports no domain
app. Groups are brought up to date after every migrate, so production has them without the
demo command; permissions of apps not installed yet are skipped.
"""

import logging

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
]

ROLE_PERMISSIONS: dict[str, list[str]] = {
    WAREHOUSE: _READ
    + [
        "orders.start_processing_order",
        "orders.ship_order",
        "orders.deliver_order",
        "returns.mark_in_transit_return",
        "returns.receive_return",
        "returns.complete_return",
    ],
    SUPPORT: _READ
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
    MANAGER: _READ
    + [
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
    ],
    INTEGRATOR: _READ
    + [
        "orders.add_order",
        "orders.pay_order",
        "orders.deliver_order",
        "orders.cancel_order",
        "returns.add_return",
        "returns.mark_in_transit_return",
    ],
}


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
