from rest_framework import serializers
from rest_framework.negotiation import DefaultContentNegotiation


class StrictContentNegotiation(DefaultContentNegotiation):
    """`?format=` with no value is a 400 (API.md: empty values are never ignored); DRF would
    fall back to the default renderer. An unknown format stays DRF's 404."""

    def select_renderer(self, request, renderers, format_suffix=None):
        param = self.settings.URL_FORMAT_OVERRIDE
        if param and format_suffix is None and param in request.query_params:
            if not request.query_params[param].strip():
                raise serializers.ValidationError({param: ["May not be empty."]})
        return super().select_renderer(request, renderers, format_suffix)
