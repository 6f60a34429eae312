"""ArtiCurated OMS settings. Everything that differs between machines comes from the environment.

`ARTICURATED_ENV=production` turns on the production checks: the process refuses to start with
DEBUG on or without a real SECRET_KEY.
"""

import os
from pathlib import Path

import dj_database_url
from django.core.exceptions import ImproperlyConfigured

BASE_DIR = Path(__file__).resolve().parent.parent


def env_bool(name: str, default: bool) -> bool:
    value = os.environ.get(name)
    if value is None:
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def env_list(name: str, default: str) -> list[str]:
    return [part.strip() for part in os.environ.get(name, default).split(",") if part.strip()]


ENVIRONMENT = os.environ.get("ARTICURATED_ENV", "development")
IS_PRODUCTION = ENVIRONMENT == "production"

DEV_SECRET_KEY = "dev-only-insecure-key-do-not-use-in-production"  # noqa: S105
SECRET_KEY = os.environ.get("SECRET_KEY", DEV_SECRET_KEY)
DEBUG = env_bool("DEBUG", not IS_PRODUCTION)
ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", "127.0.0.1,localhost,testserver")
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS", "")

if IS_PRODUCTION:
    if DEBUG:
        raise ImproperlyConfigured("DEBUG must be off when ARTICURATED_ENV=production.")
    if SECRET_KEY == DEV_SECRET_KEY or len(SECRET_KEY) < 32:
        raise ImproperlyConfigured(
            "Set SECRET_KEY to a random value of 32+ characters when ARTICURATED_ENV=production."
        )
    SESSION_COOKIE_SECURE = env_bool("SESSION_COOKIE_SECURE", True)
    CSRF_COOKIE_SECURE = env_bool("CSRF_COOKIE_SECURE", True)
    SECURE_CONTENT_TYPE_NOSNIFF = True

INSTALLED_APPS = [
    "articurated.admin_site.OmsAdminConfig",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "rest_framework",
    "rest_framework.authtoken",
    "django_filters",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "simple_history",
    "django_dramatiq",
    "articurated",
    "audit",
    "orders",
    "returns",
    "invoicing",
    "payments",
    "demo",
]

MIDDLEWARE = [
    "articurated.middleware.RequestIdMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "simple_history.middleware.HistoryRequestMiddleware",
]

ROOT_URLCONF = "articurated.urls"
WSGI_APPLICATION = "articurated.wsgi.application"
ASGI_APPLICATION = "articurated.asgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
]

# --- database -------------------------------------------------------------------------------
DATABASES = {
    "default": dj_database_url.parse(
        os.environ.get("DATABASE_URL", f"sqlite:///{BASE_DIR / 'db.sqlite3'}"),
        conn_max_age=int(os.environ.get("CONN_MAX_AGE", "0")),
    )
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # IMMEDIATE: every atomic block takes the write lock when it starts, so two writers never
    # read the same row and then both write it (SQLite has no SELECT ... FOR UPDATE).
    DATABASES["default"]["OPTIONS"] = {
        "transaction_mode": "IMMEDIATE",
        "timeout": 30,
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
    }
    # A file, not shared-cache memory, so threaded tests get real locking with busy waits.
    (BASE_DIR / "var").mkdir(exist_ok=True)
    DATABASES["default"]["TEST"] = {
        "NAME": str(BASE_DIR / "var" / f"test_db{os.environ.get('TEST_DB_SUFFIX', '')}.sqlite3")
    }
elif os.environ.get("TEST_DB_SUFFIX"):
    # Lets several test runs share one PostgreSQL server without dropping each other's database.
    DATABASES["default"]["TEST"] = {
        "NAME": f"test_{DATABASES['default']['NAME']}{os.environ['TEST_DB_SUFFIX']}"
    }

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
]

LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = BASE_DIR / "staticfiles"
MEDIA_URL = "media/"
MEDIA_ROOT = Path(os.environ.get("MEDIA_ROOT", BASE_DIR / "media"))

# Bodies above this are refused with 413 before parsing (a real order is a few KB).
DATA_UPLOAD_MAX_MEMORY_SIZE = int(os.environ.get("MAX_REQUEST_BYTES", str(1024 * 1024)))

# --- domain ---------------------------------------------------------------------------------
RETURN_WINDOW_DAYS = int(os.environ.get("RETURN_WINDOW_DAYS", "30"))
IDEMPOTENCY_TTL_HOURS = 24
# How long a duplicate request waits for the first one to finish before answering 409.
IDEMPOTENCY_WAIT_SECONDS = float(os.environ.get("IDEMPOTENCY_WAIT_SECONDS", "10"))
SELLER = {
    "name": os.environ.get("SELLER_NAME", "ArtiCurated Ltd"),
    "address": os.environ.get("SELLER_ADDRESS", "1 Maker's Yard, Bristol BS1 4DJ, United Kingdom"),
    "email": os.environ.get("SELLER_EMAIL", "orders@articurated.example"),
    "vat_number": os.environ.get("SELLER_VAT_NUMBER", "GB123456789"),
}

# --- REST API -------------------------------------------------------------------------------
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "rest_framework.authentication.TokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_PARSER_CLASSES": ["articurated.api.parsers.LimitedJSONParser"],
    "DEFAULT_RENDERER_CLASSES": [
        "rest_framework.renderers.JSONRenderer",
        "rest_framework.renderers.BrowsableAPIRenderer",
    ],
    "DEFAULT_PAGINATION_CLASS": "articurated.api.pagination.PageNumberPagination",
    "PAGE_SIZE": 20,
    "DEFAULT_FILTER_BACKENDS": [
        "django_filters.rest_framework.DjangoFilterBackend",
        "rest_framework.filters.SearchFilter",
        "articurated.api.filters.StrictOrderingFilter",
    ],
    "DEFAULT_THROTTLE_CLASSES": [
        "rest_framework.throttling.AnonRateThrottle",
        "rest_framework.throttling.UserRateThrottle",
    ],
    "DEFAULT_THROTTLE_RATES": {
        "anon": os.environ.get("THROTTLE_ANON_RATE", "120/minute"),
        "user": os.environ.get("THROTTLE_USER_RATE", "100000/minute"),
        "auth": os.environ.get("THROTTLE_AUTH_RATE", "30/minute"),
    },
    "EXCEPTION_HANDLER": "articurated.api.exceptions.exception_handler",
    "DEFAULT_SCHEMA_CLASS": "articurated.api.schema.AutoSchema",
    "TEST_REQUEST_DEFAULT_FORMAT": "json",
    "DATETIME_FORMAT": "iso-8601",
    "COERCE_DECIMAL_TO_STRING": True,
    "UNAUTHENTICATED_USER": "django.contrib.auth.models.AnonymousUser",
}

SPECTACULAR_SETTINGS = {
    "TITLE": "ArtiCurated OMS API",
    "DESCRIPTION": "Orders, returns, audit trail, invoices and refunds. See API.md.",
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "COMPONENT_SPLIT_REQUEST": True,
    "POSTPROCESSING_HOOKS": [
        "drf_spectacular.hooks.postprocess_schema_enums",
        "articurated.api.schema.postprocess_strict_inputs",
    ],
    "ENUM_NAME_OVERRIDES": {
        "OrderStatusEnum": "orders.models.OrderStatus",
        "InvoiceStatusEnum": ["PENDING", "GENERATED", "FAILED"],
        "HealthStatusEnum": ["ok", "degraded"],
        "ReturnStatusEnum": "returns.models.ReturnStatus",
        "ReturnReasonEnum": "returns.models.ReturnReason",
    },
}

CACHES = {
    "default": {
        "BACKEND": "django.core.cache.backends.locmem.LocMemCache",
        "LOCATION": "articurated",
    }
}
if os.environ.get("REDIS_URL"):
    CACHES["default"] = {
        "BACKEND": "django.core.cache.backends.redis.RedisCache",
        "LOCATION": os.environ["REDIS_URL"],
    }

# --- e-mail ---------------------------------------------------------------------------------
EMAIL_BACKEND = os.environ.get("EMAIL_BACKEND", "django.core.mail.backends.console.EmailBackend")
EMAIL_HOST = os.environ.get("EMAIL_HOST", "localhost")
EMAIL_PORT = int(os.environ.get("EMAIL_PORT", "25"))
EMAIL_HOST_USER = os.environ.get("EMAIL_HOST_USER", "")
EMAIL_HOST_PASSWORD = os.environ.get("EMAIL_HOST_PASSWORD", "")
EMAIL_USE_TLS = env_bool("EMAIL_USE_TLS", False)
DEFAULT_FROM_EMAIL = os.environ.get("DEFAULT_FROM_EMAIL", SELLER["email"])
MANAGER_EMAILS = env_list("MANAGER_EMAILS", "managers@articurated.example")

# --- background jobs ------------------------------------------------------------------------
# Dramatiq through django-dramatiq; actors live in invoicing/tasks.py and payments/tasks.py.
# - BROKER_URL=amqp://… → RabbitMQ; `manage.py rundramatiq` is the worker (it also runs the
#   sweep every JOBS_SWEEP_INTERVAL_SECONDS, see articurated/jobs.py).
# - no BROKER_URL → an in-memory broker whose messages a worker embedded in the web process
#   handles (started by the process's first request), so `make run` needs nothing installed.
# - tests (pytest sets PYTEST_VERSION) → the in-memory StubBroker; tests run their own Worker.
# Time limits and the longest retry backoff stay well below RabbitMQ's consumer timeout
# (30 min): a delayed retry is held unacknowledged by a worker until it is due.
TESTING = "PYTEST_VERSION" in os.environ
BROKER_URL = os.environ.get("BROKER_URL", "").strip()
# A prefix for every queue name, so several deployments or test runs can share one RabbitMQ.
JOBS_QUEUE_PREFIX = os.environ.get("JOBS_QUEUE_PREFIX", "")
JOBS_QUEUES = {name: f"{JOBS_QUEUE_PREFIX}{name}" for name in ("invoices", "refunds", "email")}
JOBS_TIME_LIMIT_MS = {"invoices": 120_000, "refunds": 60_000, "email": 60_000, "sweep": 60_000}
JOBS_RETRY_MIN_BACKOFF_MS = int(
    os.environ.get("JOBS_RETRY_MIN_BACKOFF_MS", "1" if TESTING else "10000")
)
JOBS_RETRY_MAX_BACKOFF_MS = int(os.environ.get("JOBS_RETRY_MAX_BACKOFF_MS", "300000"))
INVOICE_MAX_RETRIES = 3
REFUND_MAX_RETRIES = 5
EMAIL_MAX_RETRIES = 5
# Work still PENDING this long after it was due is taken as lost and sent again. Larger than a
# job's time limit, so a job that is merely running is not sent twice.
JOBS_SWEEP_GRACE_SECONDS = float(os.environ.get("JOBS_SWEEP_GRACE_SECONDS", "180"))
JOBS_SWEEP_INTERVAL_SECONDS = float(os.environ.get("JOBS_SWEEP_INTERVAL_SECONDS", "60"))
# The sweeps: the actor the workers' scheduler sends, and the function `sweep_jobs` runs.
JOBS_SWEEPS = {
    "invoices_sweep": "invoicing.services.invoice_sweep",
    "refunds_sweep": "payments.services.refund_sweep",
}
# Chaos drills only (scripts/): each job sleeps this long after recording its attempt, so a
# worker can be killed mid-job.
JOBS_FAULT_DELAY_SECONDS = float(os.environ.get("JOBS_FAULT_DELAY_SECONDS", "0"))
DRAMATIQ_EMBEDDED_WORKER = (
    env_bool("DRAMATIQ_EMBEDDED_WORKER", True) and not BROKER_URL and not TESTING
)
DRAMATIQ_EMBEDDED_THREADS = int(os.environ.get("DRAMATIQ_EMBEDDED_THREADS", "2"))


def _broker_url_with_defaults(url: str) -> str:
    # Fail fast when RabbitMQ is down: a request that commits must not hang on it (the sweep
    # sends the message later).
    defaults = "connection_attempts=1&socket_timeout=3&blocked_connection_timeout=10"
    wanted = [p for p in defaults.split("&") if p.split("=")[0] + "=" not in url]
    separator = "&" if "?" in url else "?"
    return url + (separator + "&".join(wanted) if wanted else "")


_JOB_MIDDLEWARE = [
    "dramatiq.middleware.AgeLimit",
    "dramatiq.middleware.TimeLimit",
    "dramatiq.middleware.ShutdownNotifications",
    "dramatiq.middleware.Callbacks",
    "dramatiq.middleware.Pipelines",
    "dramatiq.middleware.Retries",
    "django_dramatiq.middleware.DbConnectionsMiddleware",
]
if not TESTING:
    _JOB_MIDDLEWARE.append("articurated.jobs.SweepScheduler")
if BROKER_URL and not TESTING:
    DRAMATIQ_BROKER = {
        "BROKER": "dramatiq.brokers.rabbitmq.RabbitmqBroker",
        "OPTIONS": {"url": _broker_url_with_defaults(BROKER_URL), "confirm_delivery": True},
        "MIDDLEWARE": _JOB_MIDDLEWARE,
    }
else:
    DRAMATIQ_BROKER = {
        "BROKER": "dramatiq.brokers.stub.StubBroker",
        "OPTIONS": {},
        "MIDDLEWARE": _JOB_MIDDLEWARE,
    }
DRAMATIQ_AUTODISCOVER_MODULES = ["tasks"]

# Refund gateway: a dotted path to a class with refund(); the simulated one keeps its ledger in
# the database and can be told to fail (demos, tests, drills).
REFUND_GATEWAY = os.environ.get("REFUND_GATEWAY", "payments.gateways.SimulatedGateway")
SIMULATED_GATEWAY_FAIL_TIMES = int(os.environ.get("SIMULATED_GATEWAY_FAIL_TIMES", "0"))
SIMULATED_GATEWAY_ALWAYS_FAIL = env_bool("SIMULATED_GATEWAY_ALWAYS_FAIL", False)

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": os.environ.get("LOG_LEVEL", "INFO")},
    "loggers": {"django.db.backends": {"level": "WARNING"}},
}
