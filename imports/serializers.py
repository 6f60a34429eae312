from django.urls import reverse
from rest_framework import serializers

from imports.models import Import, ImportStatus


class ImportSerializer(serializers.ModelSerializer):
    """The import body of API.md "Imports (CSV)"."""

    status = serializers.ChoiceField(choices=ImportStatus.choices)
    percent = serializers.FloatField()
    errors_url = serializers.SerializerMethodField()

    class Meta:
        model = Import
        fields = [
            "id", "status", "filename", "size_bytes", "total_rows", "processed_rows", "percent",
            "created", "updated", "unchanged", "invalid", "rows_per_second", "error",
            "errors_url", "created_at", "started_at", "finished_at",
        ]  # fmt: skip
        read_only_fields = fields

    def get_errors_url(self, obj: Import) -> str:
        path = reverse("api:import-errors", kwargs={"pk": obj.pk})
        request = self.context.get("request")
        return request.build_absolute_uri(path) if request is not None else path


class ImportUploadSerializer(serializers.Serializer):
    file = serializers.FileField(help_text="The CSV (UTF-8, `,` or `;`, a header with `sku`).")
