"""The ceilings of QUALITY.md: the least a DRF view can do for a read and a locked write, served
by the same gunicorn settings on the same database as the product."""

import os

import dj_database_url

SECRET_KEY = "bench-ceiling-only"  # noqa: S105 - never deployed
DEBUG = False
ALLOWED_HOSTS = ["127.0.0.1", "localhost"]
INSTALLED_APPS = ["rest_framework", "bare_project"]
MIDDLEWARE: list[str] = []
ROOT_URLCONF = "bare_project.urls"
USE_TZ = True
DATABASES = {
    "default": dj_database_url.parse(
        os.environ["DATABASE_URL"], conn_max_age=60, conn_health_checks=True
    )
}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [],
    "DEFAULT_PERMISSION_CLASSES": [],
    "DEFAULT_THROTTLE_CLASSES": [],
    "UNAUTHENTICATED_USER": None,
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    "DEFAULT_PARSER_CLASSES": ["rest_framework.parsers.JSONParser"],
}
