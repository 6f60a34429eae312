import django_filters
from django_filters.rest_framework import DjangoFilterBackend
from rest_framework import filters, serializers


class StrictOrderingFilter(filters.OrderingFilter):
    """`?ordering=` takes exactly one of the view's `ordering_fields` (optionally with "-");
    anything else (unknown, empty, several terms) is a 400 rather than silently ignored, and the
    schema lists the choices."""

    def _choices(self, view) -> list[str]:
        fields = getattr(view, "ordering_fields", None) or []
        return [prefix + field for field in fields for prefix in ("", "-")]

    def get_ordering(self, request, queryset, view):
        if self.ordering_param not in request.query_params:
            return self.get_default_ordering(view)
        values = request.query_params.getlist(self.ordering_param)
        choices = self._choices(view)
        if len(values) != 1 or values[0] not in choices:
            shown = ", ".join(repr(value) for value in values)
            raise serializers.ValidationError(
                {self.ordering_param: [f"One of {', '.join(choices)} is required, not {shown}."]}
            )
        return values

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
        if raw and not wanted:  # "?status=," names no status
            raise serializers.ValidationError({self.field_name: ["May not be empty."]})
        unknown = sorted(wanted - set(self.allowed))
        if unknown:
            raise serializers.ValidationError(
                {self.field_name: [f"Unknown {self.field_name}: {', '.join(unknown)}."]}
            )
        return queryset.filter(**{f"{self.field_name}__in": wanted}) if wanted else queryset


class StrictFilterBackend(DjangoFilterBackend):
    """django-filter ignores an empty value (`?created_after=`); API.md wants a 400 naming the
    parameter, so a client never mistakes an unfiltered list for a filtered one."""

    def filter_queryset(self, request, queryset, view):
        filterset_class = self.get_filterset_class(view, queryset)
        if filterset_class is not None:
            empty = {
                name: ["May not be empty."]
                for name in filterset_class.base_filters
                if name in request.query_params
                and any(not value.strip() for value in request.query_params.getlist(name))
            }
            if empty:
                raise serializers.ValidationError(empty)
        return super().filter_queryset(request, queryset, view)
