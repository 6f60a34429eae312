"""Back-office pages of the catalogue (Unfold). Every save goes through catalogue/services.py;
change forms carry the version the editor opened and refuse a save over a newer change,
naming who made it and when. Deletes are soft (an action), restores too."""

from django import forms
from django.contrib import admin, messages
from django.db.models import Count, Q
from django.http import HttpResponseRedirect
from django.utils import timezone
from django.utils.html import format_html
from unfold.admin import ModelAdmin, TabularInline
from unfold.contrib.filters.admin import TextFilter

from articurated.context import ActionContext, Source
from articurated.errors import DomainError, PreconditionFailed
from catalogue.models import Category, Product, Sku
from catalogue.services import (
    category_create,
    category_delete,
    category_restore,
    category_update,
    product_bulk_delete,
    product_create,
    product_restore,
    product_update,
)


def admin_context(request) -> ActionContext:
    return ActionContext.from_request(request, source=Source.ADMIN)


def bulk_selection(request) -> dict:
    """What an admin bulk action was asked for, as the bulk delete records it: the ticked
    products, or (every product matching the list) the list's filter, or all."""
    if request.POST.get("select_across") == "1":
        query = {key: value for key, value in request.GET.items() if key not in ("p", "o")}
        return {"filter": query} if query else {"all": True}
    return {"ids": request.POST.getlist(admin.helpers.ACTION_CHECKBOX_NAME)}


def stale_message(error: PreconditionFailed) -> str:
    """Who changed the object and when, for the editor whose save was refused."""
    who = error.changed_by or "the system"
    when = (
        timezone.localtime(error.changed_at).strftime("%Y-%m-%d %H:%M:%S")
        if (error.changed_at)
        else "meanwhile"
    )
    return (
        f"Not saved: {who} changed this at {when} (now version {error.current_version}) after "
        "you opened it. Reload the page to see their change, then apply yours again."
    )


def _changed_fields(current, expected_version: int) -> str:
    """ " They changed: name, description." — the fields that differ between the version the
    editor opened and the current one (from the history)."""
    history = current.history.order_by("-history_date", "-history_id")
    latest = history.first()
    opened = history.filter(version=expected_version).first()
    if latest is None or opened is None:
        return ""
    delta = latest.diff_against(opened, excluded_fields=["version", "updated_at"])
    names = [change.field.replace("_", " ") for change in delta.changes]
    return f" They changed: {', '.join(names)}." if names else ""


class StaleSave(Exception):
    pass


class VersionedForm(forms.ModelForm):
    """Carries the version the editor opened (a hidden field) and refuses, on validation, a
    save over a newer version."""

    expected_version = forms.IntegerField(widget=forms.HiddenInput, required=False)

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        if self.instance.pk and not self.is_bound:
            self.fields["expected_version"].initial = self.instance.version

    def clean_attributes(self):
        """A JSON object, as the API requires (a string or a list would break the product body
        every GET and webhook reads)."""
        value = self.cleaned_data.get("attributes")
        if value in (None, ""):
            return {}
        if not isinstance(value, dict):
            raise forms.ValidationError('A JSON object, e.g. {"maker": "Studio Oka"}.')
        return value

    def clean(self):
        cleaned = super().clean()
        expected = cleaned.get("expected_version")
        if self.instance.pk and expected is not None:
            current = type(self.instance).objects.filter(pk=self.instance.pk).first()
            if current is not None and current.version != expected:
                last = current.history.order_by("-history_date", "-history_id").first()
                error = PreconditionFailed(
                    label=str(current),
                    current_version=current.version,
                    changed_by=getattr(last.history_user, "username", None) if last else None,
                    changed_at=last.history_date if last else None,
                )
                raise forms.ValidationError(
                    stale_message(error) + _changed_fields(current, expected)
                )
        return cleaned


class VersionedAdmin(ModelAdmin):
    """Saves through a service with the form's expected version. A change that slips in
    between the form's check and the service's lock is refused by the service: the editor
    gets the same message and nothing is saved."""

    def changeform_view(self, request, object_id=None, form_url="", extra_context=None):
        try:
            return super().changeform_view(request, object_id, form_url, extra_context)
        except StaleSave as error:
            self.message_user(request, str(error), messages.ERROR)
            return HttpResponseRedirect(request.get_full_path())

    def save_model(self, request, obj, form, change):
        try:
            self.service_save(request, obj, form, change)
        except PreconditionFailed as error:
            raise StaleSave(stale_message(error)) from None
        except DomainError as error:
            raise StaleSave(f"Not saved: {error.message}") from None

    def service_save(self, request, obj, form, change):  # pragma: no cover - abstract
        raise NotImplementedError

    def has_delete_permission(self, request, obj=None) -> bool:
        return False  # deletes are soft: the "Delete" and "Restore" actions

    @staticmethod
    def changes(form, names) -> dict:
        return {name: form.cleaned_data[name] for name in names if name in form.changed_data}


class LifeFilter(admin.SimpleListFilter):
    """Live rows by default; deleted ones under their own choice."""

    title = "status"
    parameter_name = "life"

    def lookups(self, request, model_admin):
        return [("deleted", "Deleted"), ("all", "All")]

    def queryset(self, request, queryset):
        if self.value() == "deleted":
            return queryset.filter(deleted_at__isnull=False)
        if self.value() == "all":
            return queryset
        return queryset.filter(deleted_at__isnull=True)

    def choices(self, changelist):
        yield {
            "selected": self.value() is None,
            "query_string": changelist.get_query_string(remove=[self.parameter_name]),
            "display": "Live",
        }
        for lookup, title in self.lookup_choices:
            yield {
                "selected": self.value() == lookup,
                "query_string": changelist.get_query_string({self.parameter_name: lookup}),
                "display": title,
            }


def deleted_badge(obj) -> str:
    return "deleted" if obj.deleted_at else ""


# --- categories ------------------------------------------------------------------------------


class CategoryForm(VersionedForm):
    class Meta:
        model = Category
        fields = ["name", "description", "parent"]


@admin.register(Category)
class CategoryAdmin(VersionedAdmin):
    form = CategoryForm
    list_display = ["tree_name", "path_display", "product_count", "subcategory_count", "status"]
    list_filter = [LifeFilter]
    search_fields = ["name"]
    ordering = ["tree_path"]
    actions = ["delete_soft", "restore"]
    list_per_page = 100

    def get_queryset(self, request):
        return (
            super()
            .get_queryset(request)
            .annotate(
                live_products=Count(
                    "products", filter=Q(products__deleted_at__isnull=True), distinct=True
                ),
                live_children=Count(
                    "children", filter=Q(children__deleted_at__isnull=True), distinct=True
                ),
            )
        )

    @admin.display(description="category", ordering="tree_path")
    def tree_name(self, category: Category) -> str:
        # Indented by depth, so the list reads as the tree.
        return format_html(
            '<span style="padding-left:{}rem">{}{}</span>',
            category.depth * 1.5,
            "└ " if category.depth else "",
            category.name,
        )

    @admin.display(description="path")
    def path_display(self, category: Category) -> str:
        ids = category.ancestor_ids()
        names = dict(Category.objects.filter(pk__in=ids).values_list("pk", "name"))
        return " / ".join(names.get(pk, "?") for pk in ids)

    @admin.display(description="products", ordering="live_products")
    def product_count(self, category: Category) -> int:
        return category.live_products

    @admin.display(description="subcategories", ordering="live_children")
    def subcategory_count(self, category: Category) -> int:
        return category.live_children

    @admin.display(description="")
    def status(self, category: Category) -> str:
        return deleted_badge(category)

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        if db_field.name == "parent":
            kwargs["queryset"] = Category.objects.live().order_by("tree_path")
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

    def service_save(self, request, obj, form, change):
        context = admin_context(request)
        data = form.cleaned_data
        if not change:
            created = category_create(
                actor=request.user,
                context=context,
                name=data["name"],
                description=data.get("description") or "",
                parent_id=data["parent"].pk if data.get("parent") else None,
            )
            obj.pk = created.pk
            return
        changes = self.changes(form, ["name", "description"])
        if "parent" in form.changed_data:
            changes["parent_id"] = data["parent"].pk if data.get("parent") else None
        category_update(
            category_id=obj.pk,
            actor=request.user,
            context=context,
            expected_version=data.get("expected_version"),
            **changes,
        )

    @admin.action(description="Delete selected categories (soft)", permissions=["change"])
    def delete_soft(self, request, queryset):
        for category in queryset:
            try:
                category_delete(category_id=category.pk, actor=request.user,
                                context=admin_context(request), expected_version=None)  # fmt: skip
                self.message_user(request, f"{category.name}: deleted.", messages.SUCCESS)
            except DomainError as error:
                self.message_user(request, f"{category.name}: {error.message}", messages.ERROR)

    @admin.action(description="Restore selected categories", permissions=["change"])
    def restore(self, request, queryset):
        for category in queryset.filter(deleted_at__isnull=False):
            try:
                category_restore(
                    category_id=category.pk, actor=request.user, context=admin_context(request)
                )
                self.message_user(request, f"{category.name}: restored.", messages.SUCCESS)
            except DomainError as error:
                self.message_user(request, f"{category.name}: {error.message}", messages.ERROR)


# --- products --------------------------------------------------------------------------------


class SkuCodeFilter(TextFilter):
    title = "SKU"
    parameter_name = "sku"

    def queryset(self, request, queryset):
        value = (self.value() or "").strip()
        return queryset.filter(skus__code__iexact=value).distinct() if value else queryset


class NameFilter(TextFilter):
    title = "name"
    parameter_name = "name"

    def queryset(self, request, queryset):
        value = (self.value() or "").strip()
        return queryset.filter(name__icontains=value) if value else queryset


class DescriptionFilter(TextFilter):
    title = "description"
    parameter_name = "description"

    def queryset(self, request, queryset):
        value = (self.value() or "").strip()
        return queryset.filter(description__icontains=value) if value else queryset


class CategoryTreeFilter(admin.SimpleListFilter):
    """A category and everything under it."""

    title = "category"
    parameter_name = "category"

    def lookups(self, request, model_admin):
        return [
            (str(c.pk), f"{'— ' * c.depth}{c.name}")
            for c in Category.objects.live().order_by("tree_path")
        ]

    def queryset(self, request, queryset):
        category = Category.objects.filter(pk=self.value()).first() if self.value() else None
        if category is None:
            return queryset
        return queryset.filter(category__tree_path__startswith=category.tree_path)


class SkuInline(TabularInline):
    """The product's SKUs with their stock; edited on the SKU's own page (through services)."""

    model = Sku
    extra = 0
    can_delete = False
    show_change_link = True
    fields = ["code", "price", "currency", "active", "track_inventory", "low_stock_threshold",
              "on_hand", "allocated", "available", "damaged", "deleted_at"]  # fmt: skip
    readonly_fields = fields

    def has_add_permission(self, request, obj=None) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def _stock(self, sku, name):
        level = getattr(sku, "stock", None)
        if level is None:
            return 0
        return level.on_hand - level.allocated if name == "available" else getattr(level, name)

    @admin.display(description="on hand")
    def on_hand(self, sku):
        return self._stock(sku, "on_hand")

    @admin.display(description="allocated")
    def allocated(self, sku):
        return self._stock(sku, "allocated")

    @admin.display(description="available")
    def available(self, sku):
        return self._stock(sku, "available")

    @admin.display(description="damaged")
    def damaged(self, sku):
        return self._stock(sku, "damaged")


class ProductForm(VersionedForm):
    first_sku = forms.RegexField(r"^[A-Za-z0-9._-]{1,64}$", required=False, label="SKU code",
                                 help_text="The first SKU (new products only).")  # fmt: skip
    first_price = forms.DecimalField(required=False, min_value=0, decimal_places=2, label="Price")
    first_currency = forms.CharField(required=False, initial="USD", max_length=3, label="Currency")
    first_on_hand = forms.IntegerField(required=False, min_value=0, initial=0, label="On hand")

    class Meta:
        model = Product
        fields = ["name", "description", "category", "attributes", "active"]

    def clean(self):
        cleaned = super().clean()
        if not self.instance.pk:
            for name in ("first_sku", "first_price"):
                if cleaned.get(name) in (None, ""):
                    self.add_error(name, "A new product needs its first SKU and price.")
        return cleaned


@admin.register(Product)
class ProductAdmin(VersionedAdmin):
    form = ProductForm
    inlines = [SkuInline]
    list_display = ["name", "category", "sku_codes", "active", "version", "status"]
    list_filter = [SkuCodeFilter, NameFilter, DescriptionFilter, "active", CategoryTreeFilter,
                   LifeFilter]  # fmt: skip
    list_filter_submit = True
    search_fields = ["name", "description", "skus__code"]
    search_help_text = "Name, description or SKU code"
    list_select_related = ["category"]
    actions = ["delete_soft", "restore"]

    def get_queryset(self, request):
        return super().get_queryset(request).prefetch_related("skus")

    def get_fieldsets(self, request, obj=None):
        main = (None, {"fields": ["name", "description", "category", "attributes", "active",
                                  "expected_version"]})  # fmt: skip
        if obj is not None:
            return [main]
        first = ("First SKU", {"fields": ["first_sku", "first_price", "first_currency",
                                          "first_on_hand"]})  # fmt: skip
        return [main, first]

    def get_inline_instances(self, request, obj=None):
        return super().get_inline_instances(request, obj) if obj is not None else []

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        if db_field.name == "category":
            kwargs["queryset"] = Category.objects.live().order_by("tree_path")
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

    @admin.display(description="SKUs")
    def sku_codes(self, product: Product) -> str:
        return ", ".join(s.code for s in product.skus.all() if s.deleted_at is None)

    @admin.display(description="")
    def status(self, product: Product) -> str:
        return deleted_badge(product)

    def service_save(self, request, obj, form, change):
        data = form.cleaned_data
        context = admin_context(request)
        if not change:
            created = product_create(
                actor=request.user,
                context=context,
                name=data["name"],
                description=data.get("description") or "",
                category_id=data["category"].pk,
                attributes=data.get("attributes") or {},
                active=data.get("active", True),
                skus=[{"sku": data["first_sku"], "price": data["first_price"],
                       "currency": (data.get("first_currency") or "USD").upper(),
                       "on_hand": data.get("first_on_hand") or 0}],
            )  # fmt: skip
            obj.pk = created.pk
            return
        changes = self.changes(form, ["name", "description", "attributes", "active"])
        if "category" in form.changed_data:
            changes["category_id"] = data["category"].pk
        product_update(
            product_id=obj.pk,
            actor=request.user,
            context=context,
            expected_version=data.get("expected_version"),
            **changes,
        )

    @admin.action(description="Delete selected products and their SKUs (soft)",
                  permissions=["change"])  # fmt: skip
    def delete_soft(self, request, queryset):
        count = product_bulk_delete(
            actor=request.user,
            context=admin_context(request),
            products=queryset,
            selection=bulk_selection(request),
        )
        self.message_user(request, f"{count} products deleted.", messages.SUCCESS)

    @admin.action(description="Restore selected products", permissions=["change"])
    def restore(self, request, queryset):
        for product in queryset.filter(deleted_at__isnull=False):
            try:
                product_restore(
                    product_id=product.pk, actor=request.user, context=admin_context(request)
                )
                self.message_user(request, f"{product.name}: restored.", messages.SUCCESS)
            except DomainError as error:
                self.message_user(request, f"{product.name}: {error.message}", messages.ERROR)
