"""The imports back-office: an upload page (a progress bar while the file is sent, then the
import's live progress from the SSE stream, polling as fallback, without reloading), the list
of imports, cancel and retry; and on the product list, bulk delete (the selection, everything
matching the filter via "select all", or all) after a confirmation that needs the count typed,
and restore.

Admin classes use django-unfold's ModelAdmin when unfold is installed (the back-office's
theme) and Django's otherwise, so this module works before and after the theme lands.
"""

from django.apps import apps as django_apps
from django.contrib import admin, messages
from django.http import HttpResponseRedirect, JsonResponse
from django.shortcuts import get_object_or_404
from django.template.response import TemplateResponse
from django.urls import path, reverse

from articurated.api.parsers import RequestTooLarge
from articurated.context import ActionContext, Source
from articurated.errors import DomainError
from catalogue.admin import bulk_selection
from catalogue.models import Product
from catalogue.services import product_bulk_delete, product_restore
from imports.api import upload_check
from imports.models import Import, ImportStatus
from imports.services import import_cancel, import_create, import_retry

if django_apps.is_installed("unfold"):
    from unfold.admin import ModelAdmin as BaseModelAdmin
else:  # pragma: no cover - the theme is not installed yet
    BaseModelAdmin = admin.ModelAdmin


def _context(request) -> ActionContext:
    return ActionContext.from_request(request, source=Source.ADMIN)


@admin.register(Import)
class ImportAdmin(BaseModelAdmin):
    list_display = ["filename", "status", "progress", "created", "updated", "unchanged",
                    "invalid", "created_by", "created_at"]  # fmt: skip
    list_filter = ["status"]
    ordering = ["-created_at"]
    readonly_fields = [f.name for f in Import._meta.fields if f.name != "file"] + ["file"]
    change_form_template = "admin/imports/import/progress.html"

    @admin.display(description="progress")
    def progress(self, obj: Import) -> str:
        return f"{obj.percent:.0f} %"

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False

    def get_urls(self):
        own = [
            path("upload/", self.admin_site.admin_view(self.upload_view), name="imports_upload"),
            path("<uuid:pk>/cancel/", self.admin_site.admin_view(self.cancel_view),
                 name="imports_cancel"),
            path("<uuid:pk>/retry/", self.admin_site.admin_view(self.retry_view),
                 name="imports_retry"),
        ]  # fmt: skip
        return own + super().get_urls()

    def add_view(self, request, form_url="", extra_context=None):
        return HttpResponseRedirect(reverse("admin:imports_upload"))

    def upload_view(self, request):
        """GET: the page. POST (from its script, multipart): 202 JSON with the import, or the
        API's error body."""
        if not request.user.has_perm("imports.add_import"):
            return JsonResponse({"error": {"code": "PERMISSION_DENIED"}}, status=403)
        if request.method == "POST":
            try:
                upload = request.FILES.get("file")
                upload_check(request.META, upload)
                imp = import_create(file=upload, actor=request.user, context=_context(request))
            except RequestTooLarge as exc:
                body = {"error": {"code": "REQUEST_TOO_LARGE", "message": str(exc.detail)}}
                return JsonResponse(body, status=413)
            except DomainError as exc:
                body = {"error": {"code": exc.code, "message": exc.message}}
                return JsonResponse(body, status=exc.status_code)
            return JsonResponse(self._links(imp), status=202)
        context = {
            **self.admin_site.each_context(request),
            "title": "Import products from CSV",
            "opts": self.model._meta,
            "max_bytes": _max_bytes(),
        }
        return TemplateResponse(request, "admin/imports/import/upload.html", context)

    def _links(self, imp: Import) -> dict:
        return {
            "id": str(imp.pk),
            "api_url": reverse("api:import-detail", kwargs={"pk": imp.pk}),
            "events_url": reverse("api:import-events", kwargs={"pk": imp.pk}),
            "page_url": reverse("admin:imports_import_change", args=[imp.pk]),
        }

    def change_view(self, request, object_id, form_url="", extra_context=None):
        imp = get_object_or_404(Import, pk=object_id)
        extra = {
            **(extra_context or {}),
            "import_links": self._links(imp),
            "import_run": imp,
            "finished": imp.is_finished,
            "failed": imp.status == ImportStatus.FAILED,
        }
        return super().change_view(request, object_id, form_url, extra_context=extra)

    def _act(self, request, pk, service, done: str):
        if request.method != "POST":
            return HttpResponseRedirect(reverse("admin:imports_import_change", args=[pk]))
        try:
            service(import_id=pk, actor=request.user, context=_context(request))
            self.message_user(request, done, messages.SUCCESS)
        except DomainError as exc:
            self.message_user(request, exc.message, messages.ERROR)
        return HttpResponseRedirect(reverse("admin:imports_import_change", args=[pk]))

    def cancel_view(self, request, pk):
        return self._act(request, pk, import_cancel, "Cancelled: it stops at its next batch.")

    def retry_view(self, request, pk):
        return self._act(request, pk, import_retry, "Queued again: it resumes where it stopped.")


def _max_bytes() -> int:
    from django.conf import settings

    return settings.IMPORT_MAX_BYTES


# --- products: bulk delete and restore -------------------------------------------------------


@admin.action(description="Delete in bulk (the selection, or all matching)…",
              permissions=["bulk_delete"])  # fmt: skip
def products_bulk_delete(modeladmin, request, queryset):
    """Confirmation first: the page shows how many products and needs the number typed. Then
    one set-based soft delete (catalogue's product_bulk_delete) whatever the count."""
    live = queryset.filter(deleted_at__isnull=True)
    count = live.count()
    if request.POST.get("confirm_count") is not None:
        if request.POST.get("confirm_count", "").strip() == str(count):
            deleted = product_bulk_delete(actor=request.user, context=_context(request),
                                          products=live,
                                          selection=bulk_selection(request))  # fmt: skip
            modeladmin.message_user(request, f"Deleted {deleted} products.", messages.SUCCESS)
            return None
        modeladmin.message_user(
            request, f"Nothing deleted: type {count} to confirm.", messages.ERROR
        )
    context = {
        **modeladmin.admin_site.each_context(request),
        "title": "Delete products in bulk",
        "opts": modeladmin.model._meta,
        "count": count,
        "select_across": request.POST.get("select_across") == "1",
        "selected": request.POST.getlist(admin.helpers.ACTION_CHECKBOX_NAME),
        "action": "products_bulk_delete",
        "query": request.GET.urlencode(),
    }
    return TemplateResponse(request, "admin/imports/bulk_delete_confirm.html", context)


@admin.action(description="Restore the selected deleted products", permissions=["bulk_delete"])
def products_restore(modeladmin, request, queryset):
    restored, refused = 0, []
    for product in queryset.filter(deleted_at__isnull=False).order_by("pk"):
        try:
            product_restore(product_id=product.pk, actor=request.user, context=_context(request))
            restored += 1
        except DomainError as exc:
            refused.append(f"{product.name}: {exc.message}")
    modeladmin.message_user(request, f"Restored {restored} products.", messages.SUCCESS)
    for line in refused:
        modeladmin.message_user(request, line, messages.ERROR)


class DeletedFilter(admin.SimpleListFilter):
    title = "deleted"
    parameter_name = "deleted"

    def lookups(self, request, model_admin):
        return [("no", "Live"), ("yes", "Deleted")]

    def queryset(self, request, queryset):
        if self.value() == "yes":
            return queryset.filter(deleted_at__isnull=False)
        if self.value() == "no":
            return queryset.filter(deleted_at__isnull=True)
        return queryset


def _may_bulk_delete(request) -> bool:
    # Soft deletes: the catalogue's admins refuse Django's hard delete permission, so the
    # bulk actions ask for the product delete permission themselves.
    return request.user.has_perm("catalogue.delete_product")


class ProductBulkAdmin(BaseModelAdmin):
    """Used only while the catalogue registers no product admin of its own; otherwise the two
    actions are added to the catalogue's (below)."""

    list_display = ["name", "category", "active", "deleted"]
    list_filter = [DeletedFilter, "active", "category"]
    search_fields = ["name", "description", "skus__code"]
    actions = [products_bulk_delete, products_restore]
    list_select_related = ["category"]

    @admin.display(boolean=True)
    def deleted(self, obj) -> bool:
        return obj.deleted_at is not None

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_bulk_delete_permission(self, request) -> bool:
        return _may_bulk_delete(request)


def products_admin_extend(site) -> None:
    existing = site._registry.get(Product)
    if existing is None:
        site.register(Product, ProductBulkAdmin)
        return
    # The catalogue's product admin has its own restore action; it gains the bulk delete.
    actions = list(existing.actions or [])
    if products_bulk_delete not in actions:
        actions.append(products_bulk_delete)
    existing.actions = actions
    existing.has_bulk_delete_permission = _may_bulk_delete


products_admin_extend(admin.site)
