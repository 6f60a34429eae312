from django.contrib import admin

from articurated.admin_site import ReadOnlyAdminMixin
from audit.models import AuditRecord


@admin.register(AuditRecord)
class AuditRecordAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    """Read-only for everyone, superusers included: the trail is append-only."""

    list_display = ["created_at", "entity_type", "entity_number", "transition", "previous_state",
                    "new_state", "actor", "actor_type", "source"]  # fmt: skip
    list_filter = ["entity_type", "actor_type", "source", "transition", "created_at"]
    search_fields = ["=entity_number", "=request_id", "actor__username"]
    date_hierarchy = "created_at"
    list_select_related = ["actor"]
    show_full_result_count = False
    actions = None
