import django_filters
from django.contrib.auth import get_user_model
from django.db.models import Q
from drf_spectacular.utils import extend_schema
from rest_framework import mixins, viewsets
from rest_framework.permissions import IsAuthenticated

from articurated.api.permissions import ActionPermission
from articurated.context import Source
from audit.models import AuditRecord, EntityType
from audit.selectors import audit_record_list
from audit.serializers import AuditRecordSerializer


class AuditRecordFilter(django_filters.FilterSet):
    entity_type = django_filters.ChoiceFilter(choices=EntityType.choices)
    entity_id = django_filters.UUIDFilter()
    actor = django_filters.CharFilter(method="filter_actor", help_text="User id or username.")
    source = django_filters.ChoiceFilter(choices=[(s.value, s.value) for s in Source])
    created_after = django_filters.IsoDateTimeFilter(field_name="created_at", lookup_expr="gte")
    created_before = django_filters.IsoDateTimeFilter(field_name="created_at", lookup_expr="lte")

    class Meta:
        model = AuditRecord
        fields = ["entity_type", "entity_id", "actor", "source", "created_after", "created_before"]

    def filter_actor(self, queryset, name, value):
        users = get_user_model().objects.filter(username=value)
        if value.isdigit():
            users = get_user_model().objects.filter(Q(pk=int(value)) | Q(username=value))
        return queryset.filter(actor__in=users)


class AuditRecordViewSet(mixins.ListModelMixin, viewsets.GenericViewSet):
    """GET /api/v1/audit: every audit record, for support and managers."""

    serializer_class = AuditRecordSerializer
    permission_classes = [IsAuthenticated, ActionPermission]
    required_permissions = {"list": "audit.view_auditrecord"}
    filterset_class = AuditRecordFilter
    search_fields: list = []
    ordering_fields = ["created_at"]

    def get_queryset(self):
        return audit_record_list()

    @extend_schema(summary="List audit records")
    def list(self, request, *args, **kwargs):
        return super().list(request, *args, **kwargs)
