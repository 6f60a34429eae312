from rest_framework import serializers


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
