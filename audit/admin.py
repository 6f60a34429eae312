from django.contrib import admin
from unfold.admin import ModelAdmin
from unfold.contrib.filters.admin import ChoicesDropdownFilter, RangeDateFilter

from articurated.admin_site import ReadOnlyAdminMixin
from audit.models import AuditRecord


@admin.register(AuditRecord)
class AuditRecordAdmin(ReadOnlyAdminMixin, ModelAdmin):
    """Read-only for everyone, superusers included: the trail is append-only."""

    list_display = ["created_at", "entity_type", "entity_number", "transition", "previous_state",
                    "new_state", "actor", "actor_type", "source"]  # fmt: skip
    list_filter = [
        ("entity_type", ChoicesDropdownFilter),
        ("actor_type", ChoicesDropdownFilter),
        ("source", ChoicesDropdownFilter),
        "transition",
        ("created_at", RangeDateFilter),
    ]
    list_filter_submit = True
    search_fields = ["=entity_number", "=request_id", "actor__username"]
    date_hierarchy = "created_at"
    list_select_related = ["actor"]
    show_full_result_count = False
    actions = None
