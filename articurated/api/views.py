"""Endpoints that belong to no domain app: health, token, and the 404 for unknown API paths."""

import logging

from django.conf import settings
from django.contrib.auth import authenticate
from django.db import connection
from drf_spectacular.utils import extend_schema, inline_serializer
from rest_framework import exceptions, serializers
from rest_framework.authtoken.models import Token
from rest_framework.permissions import AllowAny
from rest_framework.response import Response
from rest_framework.throttling import ScopedRateThrottle
from rest_framework.views import APIView

from articurated.api.serializers import StrictSerializer
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
    username = serializers.CharField(max_length=150)
    password = serializers.CharField(max_length=128, style={"input_type": "password"})


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
        responses={200: inline_serializer("Token", {"token": serializers.CharField()})},
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
