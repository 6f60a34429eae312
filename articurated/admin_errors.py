"""403 and 404 pages in the back-office's style (sidebar, theme, dark mode) instead of
Django's bare ones. Paths under /api/ keep their own handling (JSON error bodies)."""

from django.template.response import TemplateResponse
from django.views import defaults

_PUBLIC_MESSAGES = {
    403: "This page is not open to you.",
    404: "There is no page at this address.",
}


def _admin_page(request, *, template: str, status: int, title: str):
    from django.contrib import admin

    user = getattr(request, "user", None)
    if not (user and user.is_authenticated and user.is_staff):
        # No sidebar or account menu for visitors who are not logged-in staff.
        template = "admin/error_public.html"
        context = {"title": title, "status": status, "message": _PUBLIC_MESSAGES[status]}
    else:
        context = {**admin.site.each_context(request), "title": title}
    response = TemplateResponse(request, template, context, status=status)
    return response.render()


def permission_denied(request, exception=None):
    if request.path.startswith("/api/"):
        return defaults.permission_denied(request, exception)
    return _admin_page(request, template="admin/403.html", status=403, title="Not allowed")


def page_not_found(request, exception=None):
    if request.path.startswith("/api/"):
        return defaults.page_not_found(request, exception)
    return _admin_page(request, template="admin/404.html", status=404, title="Not found")
