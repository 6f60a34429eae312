import threading

from drf_spectacular.utils import PolymorphicProxySerializer
from rest_framework import serializers

from articurated.api.fields import StrictChoiceField


class StrictSerializer(serializers.Serializer):
    # An input serializer that refuses fields it does not know, so a typo in an integrator's
    # payload is an error instead of silently ignored data. (A comment, not a docstring: the
    # schema would show it on every request body.)

    def to_internal_value(self, data):
        if isinstance(data, dict):
            unknown = sorted(set(data) - set(self.fields))
            if unknown:
                raise serializers.ValidationError({name: ["Unknown field."] for name in unknown})
        return super().to_internal_value(data)


_input_serializers = threading.local()


def input_validated(serializer_class: type[serializers.Serializer], data) -> dict:
    """`serializer_class(data=data).is_valid(raise_exception=True)`, then its validated_data:
    the same checks and the same errors, from one instance per class and thread that is reset
    for each call. DRF builds a serializer's fields by deep-copying the declared ones, nested
    serializers included, on every instance: for an order's body that was a tenth of the
    request. For input serializers only (no instance, no context), whose fields keep no state
    between validations."""
    cache = getattr(_input_serializers, "by_class", None)
    if cache is None:
        cache = _input_serializers.by_class = {}
    serializer = cache.get(serializer_class)
    if serializer is None:
        serializer = cache[serializer_class] = serializer_class(data=None)
    serializer.initial_data = data
    try:
        serializer.is_valid(raise_exception=True)
        return serializer.validated_data
    finally:
        serializer.initial_data = None
        for name in ("_validated_data", "_errors", "_data"):
            serializer.__dict__.pop(name, None)


class ErrorDetailSerializer(serializers.Serializer):
    code = serializers.CharField()
    message = serializers.CharField()
    details = serializers.DictField()


class ErrorSerializer(serializers.Serializer):
    """The error body of every refused request under /api/."""

    error = ErrorDetailSerializer()


class TransitionErrorDetailsSerializer(serializers.Serializer):
    current_state = serializers.CharField()
    requested_state = serializers.CharField()
    allowed_transitions = serializers.ListField(child=serializers.CharField())


def state_input_variants(
    base: type[serializers.Serializer],
    *,
    name: str,
    states: list[str],
    required: dict[str, list[str]],
) -> PolymorphicProxySerializer:
    """The OpenAPI request body of a state change: one variant per target state that needs
    inputs (`required`: state → fields that must be present, non-null and non-blank) and one
    for the other states, as a oneOf. The server validates with `base` and the service's own
    checks; this only makes the document say what each target requires. (Schema only.)"""

    def variant(suffix: str, targets: list[str], fields: list[str]):
        declared = {"new_state": StrictChoiceField(choices=targets)}
        for field_name in fields:
            # A new field from the declared one's arguments (DRF fields deep-copy themselves
            # from those, so changing attributes of a copy would not last).
            field = base._declared_fields[field_name]
            kwargs = {**field._kwargs, "required": True, "allow_null": False, "allow_blank": False}
            kwargs.pop("default", None)
            declared[field_name] = type(field)(*field._args, **kwargs)
        return type(f"{name}{suffix}", (base,), declared)

    variants = [
        variant(state.title().replace("_", ""), [state], f) for state, f in required.items()
    ]
    others = [state for state in states if state not in required]
    if others:
        variants.append(variant("Other", others, []))
    return PolymorphicProxySerializer(
        component_name=name, serializers=variants, resource_type_field_name=None
    )
