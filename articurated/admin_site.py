from django.contrib import admin
from django.contrib.admin.apps import AdminConfig

from articurated.dashboard import dashboard_panels


class OmsAdminSite(admin.AdminSite):
    site_header = "ArtiCurated back-office"
    site_title = "ArtiCurated OMS"
    index_title = "Work queues"
    index_template = "admin/oms_index.html"

    def index(self, request, extra_context=None):
        extra = {"dashboard_panels": dashboard_panels(request), **(extra_context or {})}
        return super().index(request, extra_context=extra)


class OmsAdminConfig(AdminConfig):
    """django.contrib.admin with our site: branded, with work queues on the index."""

    default_site = "articurated.admin_site.OmsAdminSite"


class ReadOnlyAdminMixin:
    """A model nobody edits in the admin (the audit trail, job rows): it can be listed and
    viewed; changes happen only through services (and admin actions that call them)."""

    def has_add_permission(self, request, obj=None) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False
