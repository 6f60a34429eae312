from rest_framework.permissions import BasePermission


class ActionPermission(BasePermission):
    """Checks the Django permission a view names for the current action:
    `required_permissions = {"list": "orders.view_order", …}`. Actions not named need only
    authentication; services check transition permissions themselves."""

    def has_permission(self, request, view) -> bool:
        action = getattr(view, "action", None) or request.method.lower()
        permission = getattr(view, "required_permissions", {}).get(action)
        return permission is None or request.user.has_perm(permission)
