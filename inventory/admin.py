"""Back-office pages of SKUs with their stock, and the read-only stock movements (Unfold)."""

from django import forms
from django.contrib import admin, messages
from django.db.models import F
from django.template.response import TemplateResponse
from unfold.admin import ModelAdmin

from articurated.admin_site import ReadOnlyAdminMixin
from articurated.errors import DomainError
from catalogue.admin import LifeFilter, VersionedAdmin, VersionedForm, admin_context
from catalogue.models import Product, Sku
from catalogue.services import sku_create, sku_delete, sku_restore, sku_update
from inventory.models import StockMovement
from inventory.services import stock_adjust


class SkuForm(VersionedForm):
    on_hand = forms.IntegerField(required=False, min_value=0, initial=0,
                                 help_text="Opening stock (new SKUs only).")  # fmt: skip

    class Meta:
        model = Sku
        fields = ["product", "code", "attributes", "price", "currency", "track_inventory",
                  "low_stock_threshold", "active"]  # fmt: skip


class StockAdjustForm(forms.Form):
    delta = forms.IntegerField(help_text="Units to add (negative to take away).")
    reason = forms.CharField(max_length=500, help_text="Goods received, breakage, stock take…")


class LowStockFilter(admin.SimpleListFilter):
    title = "stock"
    parameter_name = "stock"

    def lookups(self, request, model_admin):
        return [("low", "At or below threshold")]

    def queryset(self, request, queryset):
        if self.value() == "low":
            return queryset.filter(
                track_inventory=True,
                stock__on_hand__lte=F("stock__allocated") + F("low_stock_threshold"),
            )
        return queryset


@admin.register(Sku)
class SkuAdmin(VersionedAdmin):
    form = SkuForm
    list_display = ["code", "product", "price", "currency", "track_inventory", "on_hand",
                    "allocated", "available", "damaged", "low_stock_threshold", "active",
                    "status"]  # fmt: skip
    list_filter = [LowStockFilter, "active", "track_inventory", "currency", LifeFilter]
    search_fields = ["code", "product__name"]
    list_select_related = ["product", "stock"]
    actions = ["adjust_stock", "delete_soft", "restore"]

    def get_fields(self, request, obj=None):
        fields = ["product", "code", "attributes", "price", "currency", "track_inventory",
                  "low_stock_threshold", "active", "expected_version"]  # fmt: skip
        return fields if obj is not None else [*fields, "on_hand"]

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        if db_field.name == "product":
            kwargs["queryset"] = Product.objects.live()
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

    def _level(self, sku, name):
        level = getattr(sku, "stock", None)
        if level is None:
            return 0
        return level.on_hand - level.allocated if name == "available" else getattr(level, name)

    @admin.display(description="on hand", ordering="stock__on_hand")
    def on_hand(self, sku):
        return self._level(sku, "on_hand")

    @admin.display(description="allocated", ordering="stock__allocated")
    def allocated(self, sku):
        return self._level(sku, "allocated")

    @admin.display(description="available")
    def available(self, sku):
        return self._level(sku, "available")

    @admin.display(description="damaged")
    def damaged(self, sku):
        return self._level(sku, "damaged")

    @admin.display(description="")
    def status(self, sku):
        return "deleted" if sku.deleted_at else ""

    def service_save(self, request, obj, form, change):
        data = form.cleaned_data
        context = admin_context(request)
        names = ["code", "attributes", "price", "currency", "track_inventory",
                 "low_stock_threshold", "active"]  # fmt: skip
        if not change:
            values = {name: data.get(name) for name in names if name != "code"}
            created = sku_create(
                actor=request.user,
                context=context,
                product_id=data["product"].pk,
                sku=data["code"],
                on_hand=data.get("on_hand") or 0,
                **values,
            )
            obj.pk = created.pk
            return
        changes = self.changes(form, names)
        if "code" in changes:
            changes["sku"] = changes.pop("code")
        sku_update(
            sku_id=obj.pk,
            actor=request.user,
            context=context,
            expected_version=data.get("expected_version"),
            **changes,
        )

    def has_adjust_stock_permission(self, request) -> bool:
        return request.user.has_perm("inventory.adjust_stock")

    @admin.action(description="Adjust stock of selected SKUs…", permissions=["adjust_stock"])
    def adjust_stock(self, request, queryset):
        form = StockAdjustForm(request.POST if "apply" in request.POST else None)
        if "apply" in request.POST and form.is_valid():
            for sku in queryset:
                try:
                    level = stock_adjust(
                        sku_id=sku.pk,
                        delta=form.cleaned_data["delta"],
                        reason=form.cleaned_data["reason"],
                        actor=request.user,
                        context=admin_context(request),
                    )
                    self.message_user(
                        request, f"{sku.code}: {level.on_hand} on hand.", messages.SUCCESS
                    )
                except DomainError as error:
                    self.message_user(request, f"{sku.code}: {error.message}", messages.ERROR)
            return None
        context = {
            **self.admin_site.each_context(request),
            "title": "Adjust stock",
            "form": form,
            "skus": queryset,
            "opts": self.model._meta,
            "action": "adjust_stock",
            "action_checkbox_name": admin.helpers.ACTION_CHECKBOX_NAME,
        }
        return TemplateResponse(request, "admin/inventory/adjust_stock.html", context)

    @admin.action(description="Delete selected SKUs (soft)", permissions=["change"])
    def delete_soft(self, request, queryset):
        for sku in queryset.filter(deleted_at__isnull=True):
            sku_delete(sku_id=sku.pk, actor=request.user, context=admin_context(request),
                       expected_version=None)  # fmt: skip
        self.message_user(request, "Deleted.", messages.SUCCESS)

    @admin.action(description="Restore selected SKUs", permissions=["change"])
    def restore(self, request, queryset):
        for sku in queryset.filter(deleted_at__isnull=False):
            try:
                sku_restore(sku_id=sku.pk, actor=request.user, context=admin_context(request))
                self.message_user(request, f"{sku.code}: restored.", messages.SUCCESS)
            except DomainError as error:
                self.message_user(request, f"{sku.code}: {error.message}", messages.ERROR)


@admin.register(StockMovement)
class StockMovementAdmin(ReadOnlyAdminMixin, ModelAdmin):
    list_display = ["created_at", "sku", "reason", "delta_on_hand", "delta_allocated",
                    "delta_damaged", "on_hand", "allocated", "order_id", "return_id", "actor",
                    "note"]  # fmt: skip
    list_filter = ["reason", "created_at", "sku__track_inventory"]
    search_fields = ["sku__code", "=order_id", "=return_id", "note"]
    list_select_related = ["sku", "actor"]
    date_hierarchy = "created_at"
