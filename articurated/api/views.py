"""Endpoints that belong to no domain app: health, token, and the 404 for unknown API paths."""

import logging
import threading

from django.conf import settings
from django.contrib.auth import authenticate
from django.db import connection
from drf_spectacular.utils import OpenApiResponse, extend_schema, inline_serializer
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView
from rest_framework import exceptions, serializers
from rest_framework.authtoken.models import Token
from rest_framework.permissions import AllowAny
from rest_framework.renderers import JSONRenderer
from rest_framework.response import Response
from rest_framework.views import APIView

from articurated.api.fields import StrictCharField
from articurated.api.serializers import ErrorSerializer, StrictSerializer
from articurated.api.throttling import ScopedRateThrottle
from articurated.health import broker_check

logger = logging.getLogger(__name__)


def database_check() -> str:
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
        return "ok"
    except Exception:
        logger.exception("Health check: database unreachable")
        return "unreachable"


class HealthApi(APIView):
    authentication_classes: list = []
    permission_classes = [AllowAny]
    throttle_classes: list = []

    @extend_schema(
        responses={
            (200, "application/json"): inline_serializer(
                "Health",
                {
                    "status": serializers.ChoiceField(choices=["ok", "degraded"]),
                    "checks": serializers.DictField(child=serializers.CharField()),
                },
            ),
            (503, "application/json"): inline_serializer(
                "HealthDegraded",
                {
                    "status": serializers.ChoiceField(choices=["ok", "degraded"]),
                    "checks": serializers.DictField(child=serializers.CharField()),
                },
            ),
        },
        summary="Liveness and dependency checks",
    )
    def get(self, request):
        checks = {"database": database_check(), "broker": broker_check()}
        healthy = all(value in {"ok", "embedded"} for value in checks.values())
        return Response(
            {"status": "ok" if healthy else "degraded", "checks": checks},
            status=200 if healthy else 503,
        )


class TokenInputSerializer(StrictSerializer):
    username = StrictCharField(max_length=150)
    # Not trimmed: a password is what was typed, spaces included.
    password = StrictCharField(
        max_length=128, trim_whitespace=False, style={"input_type": "password"}
    )


class TokenApi(APIView):
    authentication_classes: list = []
    permission_classes = [AllowAny]
    throttle_classes = [ScopedRateThrottle]
    throttle_scope = "auth"

    def get_authenticate_header(self, request) -> str:
        # Bad credentials are 401 (API.md). With no authentication classes DRF would turn
        # AuthenticationFailed into a 403, having no WWW-Authenticate challenge to send.
        return "Token"

    @extend_schema(
        request=TokenInputSerializer,
        responses={
            200: inline_serializer("Token", {"token": serializers.CharField()}),
            401: OpenApiResponse(ErrorSerializer, description="AUTHENTICATION_FAILED"),
        },
        summary="Exchange username and password for an API token",
    )
    def post(self, request):
        data = TokenInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        user = authenticate(request=request._request, **data.validated_data)
        if user is None or not user.is_active:
            raise exceptions.AuthenticationFailed("Unable to log in with these credentials.")
        token, _ = Token.objects.get_or_create(user=user)
        return Response({"token": token.key})


class JsonErrorsMixin:
    """Errors are the JSON error body (API.md) even from a view that renders YAML or HTML."""

    def handle_exception(self, exc):
        self.request.accepted_renderer = JSONRenderer()
        self.request.accepted_media_type = JSONRenderer.media_type
        return super().handle_exception(exc)


_schema_lock = threading.Lock()


class SchemaApi(JsonErrorsMixin, SpectacularAPIView):
    def _get_schema_response(self, request):
        # drf-spectacular loads its extension classes lazily and not thread-safely: two first
        # requests at once in a threaded server can fail with a 500. One at a time.
        with _schema_lock:
            return super()._get_schema_response(request)


class DocsApi(JsonErrorsMixin, SpectacularSwaggerView):
    pass


class NotFoundApi(APIView):
    """Any path under /api/ that matches nothing: the 404 error body, whatever the method."""

    authentication_classes: list = []
    permission_classes = [AllowAny]
    throttle_classes: list = []
    schema = None

    def initial(self, request, *args, **kwargs):
        raise exceptions.NotFound("No such API path.")

    def http_method_not_allowed(self, request, *args, **kwargs):
        raise exceptions.NotFound("No such API path.")


DEFAULT_RETRY_NOTE = settings.REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"]
