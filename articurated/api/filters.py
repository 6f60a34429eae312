from rest_framework import filters, serializers


class StrictOrderingFilter(filters.OrderingFilter):
    """`?ordering=` accepts exactly the view's `ordering_fields` (optionally with "-"); anything
    else is a 400 rather than silently ignored, and the schema lists the choices."""

    def _choices(self, view) -> list[str]:
        fields = getattr(view, "ordering_fields", None) or []
        return [prefix + field for field in fields for prefix in ("", "-")]

    def get_ordering(self, request, queryset, view):
        raw = request.query_params.get(self.ordering_param)
        if raw:
            terms = [term.strip() for term in raw.split(",")]
            unknown = [term for term in terms if term not in self._choices(view)]
            if unknown:
                raise serializers.ValidationError(
                    {self.ordering_param: [f"Unknown ordering: {', '.join(unknown)}."]}
                )
            return terms
        return self.get_default_ordering(view)

    def get_schema_operation_parameters(self, view):
        parameters = super().get_schema_operation_parameters(view)
        for parameter in parameters:
            parameter["schema"]["enum"] = self._choices(view)
        return parameters
