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
