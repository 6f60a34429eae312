import django_filters
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


class ChoiceListFilter(django_filters.CharFilter):
    """A filter on one of several values, given repeated (?status=A&status=B) or as a comma
    list (?status=A,B). A value outside `choices` is a 400 naming the parameter."""

    def __init__(self, *args, choices, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.allowed = [str(choice) for choice in choices]

    def filter(self, queryset, value):
        data = self.parent.data
        raw = data.getlist(self.field_name) if hasattr(data, "getlist") else [value or ""]
        wanted = {part.strip() for item in raw for part in item.split(",") if part.strip()}
        unknown = sorted(wanted - set(self.allowed))
        if unknown:
            raise serializers.ValidationError(
                {self.field_name: [f"Unknown {self.field_name}: {', '.join(unknown)}."]}
            )
        return queryset.filter(**{f"{self.field_name}__in": wanted}) if wanted else queryset
