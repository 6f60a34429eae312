from django.contrib import admin
from django.urls import include, path, re_path
from django.views.generic import RedirectView

from articurated.api.views import DocsApi, HealthApi, NotFoundApi, SchemaApi, TokenApi

api_v1 = [
    re_path(r"^health/?$", HealthApi.as_view(), name="health"),
    re_path(r"^auth/token/?$", TokenApi.as_view(), name="token"),
    re_path(r"^schema/?$", SchemaApi.as_view(), name="schema"),
    re_path(r"^docs/?$", DocsApi.as_view(url_name="api:schema"), name="docs"),
    path("", include("catalogue.urls")),
    path("", include("inventory.urls")),
    path("", include("orders.urls")),
    path("", include("returns.urls")),
    path("", include("invoicing.urls")),
    path("", include("payments.urls")),
    path("", include("imports.urls")),
    path("", include("audit.urls")),
    path("", include("webhooks.urls")),
]

urlpatterns = [
    path("admin/", admin.site.urls),
    path("api/v1/", include((api_v1, "api"))),
    re_path(r"^api/", NotFoundApi.as_view()),
    path("", RedirectView.as_view(url="/admin/", permanent=False)),
]

handler403 = "articurated.admin_errors.permission_denied"
handler404 = "articurated.admin_errors.page_not_found"
