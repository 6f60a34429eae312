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
    # HTTPS only, by default. Behind a proxy that terminates TLS, set SECURE_PROXY_SSL_HEADER
    # (e.g. "HTTP_X_FORWARDED_PROTO,https") so Django knows the request was secure; set
    # SECURE_SSL_REDIRECT=false only if that proxy redirects to HTTPS itself.
    SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", True)
    # Plain-HTTP health checks from inside the network (load balancer, compose) are not
    # redirected.
    SECURE_REDIRECT_EXEMPT = [r"^api/v1/health/?$"]
    SECURE_HSTS_SECONDS = int(os.environ.get("SECURE_HSTS_SECONDS", str(365 * 24 * 3600)))
    SECURE_HSTS_INCLUDE_SUBDOMAINS = env_bool("SECURE_HSTS_INCLUDE_SUBDOMAINS", True)
    # The header alone enrols nobody: a domain is preloaded only when submitted to the list.
    SECURE_HSTS_PRELOAD = env_bool("SECURE_HSTS_PRELOAD", True)
if os.environ.get("SECURE_PROXY_SSL_HEADER"):
    _header, _, _value = os.environ["SECURE_PROXY_SSL_HEADER"].partition(",")
    SECURE_PROXY_SSL_HEADER = (_header.strip(), _value.strip() or "https")

INSTALLED_APPS = [
    # django-unfold themes the admin; its apps come before django.contrib.admin (our
    # OmsAdminConfig) so their templates win. BasicAppConfig: unfold's default config would
    # replace admin.site with its own site, hiding OmsAdminSite (dashboards, navigation).
    "unfold.apps.BasicAppConfig",
    "unfold.contrib.filters",
    "unfold.contrib.simple_history",
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
    "axes",
    # Before django_dramatiq: its `rundramatiq` is overridden (articurated/management/commands).
    "articurated",
    "django_dramatiq",
    "audit",
    "catalogue",
    "inventory",
    "orders",
    "returns",
    "invoicing",
    "payments",
    "payment_service",
    "webhooks",
    "imports",
    "demo",
]

MIDDLEWARE = [
    "articurated.middleware.RequestIdMiddleware",
    "articurated.middleware.ApiBoundaryMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "simple_history.middleware.HistoryRequestMiddleware",
    # Last, as django-axes asks: it turns a locked-out login into its lockout response.
    "axes.middleware.AxesMiddleware",
]

# --- admin login lockout (django-axes) ------------------------------------------------------
# After AXES_FAILURE_LIMIT failed admin logins for one username from one address, that pair is
# locked out for AXES_COOLOFF_HOURS (`manage.py axes_reset` lifts it). Only the admin login:
# the API token endpoint has its own throttle (THROTTLE_AUTH_RATE).
# Axes first (it refuses locked-out admin logins), then the role map (articurated/roles.py),
# a ModelBackend that answers role permissions without a query.
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "articurated.roles.RoleBackend",
]
AXES_ENABLED = env_bool("AXES_ENABLED", True)
AXES_ONLY_ADMIN_SITE = True
AXES_FAILURE_LIMIT = int(os.environ.get("AXES_FAILURE_LIMIT", "5"))
AXES_COOLOFF_TIME = float(os.environ.get("AXES_COOLOFF_HOURS", "1"))
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_RESET_ON_SUCCESS = True

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
            "builtins": ["articurated.templatetags.oms_admin"],
        },
    },
]

# --- database -------------------------------------------------------------------------------
# Persistent connections: opening a PostgreSQL connection costs more than the queries of a
# request (the bare read goes from ~200 to ~700 req/s with 60 s); the health check replaces a
# connection the server closed before a request uses it.
DATABASES = {
    "default": dj_database_url.parse(
        os.environ.get("DATABASE_URL", f"sqlite:///{BASE_DIR / 'db.sqlite3'}"),
        conn_max_age=int(os.environ.get("CONN_MAX_AGE", "60")),
        conn_health_checks=env_bool("CONN_HEALTH_CHECKS", True),
    )
}
# A database that accepts TCP but never answers must fail a request, not hang a worker: the
# connection attempt gives up after DATABASE_CONNECT_TIMEOUT seconds, and the server cancels any
# statement (lock waits included) running longer than DATABASE_STATEMENT_TIMEOUT seconds
# (0 turns it off; bulk commands such as bench_seed lift it for their own session, and a
# `migrate` that builds indexes on a large table should run with 0).
DATABASE_CONNECT_TIMEOUT = int(os.environ.get("DATABASE_CONNECT_TIMEOUT", "5"))
# Off by default under pytest: creating and dropping test databases on a busy server can take
# longer (tests that need the limit set it themselves).
DATABASE_STATEMENT_TIMEOUT = float(
    os.environ.get("DATABASE_STATEMENT_TIMEOUT", "0" if "PYTEST_VERSION" in os.environ else "5")
)
# Work that is large by design lifts that limit for its own statements only: a bulk delete's
# UPDATE of 500,000 rows, an import's statements over its whole staging table (seconds; 0: none).
DATABASE_BULK_STATEMENT_TIMEOUT = float(os.environ.get("DATABASE_BULK_STATEMENT_TIMEOUT", "300"))
if DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql":
    # Django's backend, with the health check of a kept connection answered from its socket
    # (a SELECT 1 only when the server closed it meanwhile): articurated/db_backends.
    DATABASES["default"]["ENGINE"] = "articurated.db_backends.postgresql"
    DATABASES["default"].setdefault("OPTIONS", {})
    DATABASES["default"]["OPTIONS"]["connect_timeout"] = DATABASE_CONNECT_TIMEOUT
    # Parameters travel apart from the SQL (psycopg's server-side binding), so psycopg prepares
    # a statement the second time a connection runs it: the server parses and plans each of a
    # request's statements once per connection instead of every time, and no query is formatted
    # in Python. Off with DATABASE_SERVER_SIDE_BINDING=false (e.g. behind PgBouncer in
    # transaction mode, where prepared statements do not survive a switch of server session).
    if env_bool("DATABASE_SERVER_SIDE_BINDING", True):
        DATABASES["default"]["OPTIONS"]["server_side_binding"] = True
        DATABASES["default"]["OPTIONS"]["prepare_threshold"] = 2
    if DATABASE_STATEMENT_TIMEOUT > 0:
        DATABASES["default"]["OPTIONS"]["options"] = (
            f"-c statement_timeout={int(DATABASE_STATEMENT_TIMEOUT * 1000)}"
        )
elif DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
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
if DATABASES["default"]["ENGINE"] != "django.db.backends.sqlite3" and os.environ.get(
    "TEST_DB_SUFFIX"
):
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
# The zone the back-office shows times in (stored times are UTC), e.g. Europe/London.
TIME_ZONE = os.environ.get("TIME_ZONE", "UTC")
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = BASE_DIR / "staticfiles"
MEDIA_URL = "media/"
MEDIA_ROOT = Path(os.environ.get("MEDIA_ROOT", BASE_DIR / "media"))

# Bodies above this are refused with 413 before parsing (a real order is a few KB).
DATA_UPLOAD_MAX_MEMORY_SIZE = int(os.environ.get("MAX_REQUEST_BYTES", str(1024 * 1024)))

# The back-office is the only place people log in; unfold's login form has no "next" field.
LOGIN_REDIRECT_URL = "/admin/"

# --- back-office (django-unfold) ------------------------------------------------------------
UNFOLD = {
    "SITE_TITLE": "ArtiCurated OMS",
    "SITE_HEADER": "ArtiCurated back-office",
    "SITE_SYMBOL": "inventory_2",
    "SITE_URL": "/admin/",
    "SHOW_VIEW_ON_SITE": False,
    "SIDEBAR": {
        "show_search": False,
        "show_all_applications": False,
        # Built per request from what each app registers (articurated/admin_nav.py).
        "navigation": "articurated.admin_nav.sidebar_navigation",
    },
}

# --- domain ---------------------------------------------------------------------------------
# CSV imports (API.md "Imports (CSV)"): the largest accepted file; products per batch (one
# transaction each); how often progress is written; how long one job runs before it queues
# itself again (RabbitMQ takes a message back after 30 minutes unacknowledged).
IMPORT_MAX_BYTES = int(os.environ.get("IMPORT_MAX_BYTES", str(100 * 1024 * 1024)))
IMPORT_BATCH_PRODUCTS = int(os.environ.get("IMPORT_BATCH_PRODUCTS", "10000"))
IMPORT_PROGRESS_SECONDS = float(os.environ.get("IMPORT_PROGRESS_SECONDS", "0.5"))
IMPORT_JOB_BUDGET_SECONDS = float(os.environ.get("IMPORT_JOB_BUDGET_SECONDS", "1200"))
# The SSE stream of an import's progress closes after this long; the client re-opens it
# with Last-Event-ID (a sync worker is never held for minutes).
IMPORT_EVENTS_STREAM_SECONDS = float(os.environ.get("IMPORT_EVENTS_STREAM_SECONDS", "20"))

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
        "articurated.api.authentication.TokenAuthentication",
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
        "articurated.api.filters.StrictFilterBackend",
        "rest_framework.filters.SearchFilter",
        "articurated.api.filters.StrictOrderingFilter",
    ],
    "DEFAULT_THROTTLE_CLASSES": [
        "articurated.api.throttling.AnonRateThrottle",
        "articurated.api.throttling.UserRateThrottle",
    ],
    "DEFAULT_THROTTLE_RATES": {
        "anon": os.environ.get("THROTTLE_ANON_RATE", "120/minute"),
        "user": os.environ.get("THROTTLE_USER_RATE", "100000/minute"),
        "auth": os.environ.get("THROTTLE_AUTH_RATE", "30/minute"),
    },
    "EXCEPTION_HANDLER": "articurated.api.exceptions.exception_handler",
    "DEFAULT_CONTENT_NEGOTIATION_CLASS": "articurated.api.negotiation.StrictContentNegotiation",
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
        "WebhookEventTypeEnum": "webhooks.events.EVENT_TYPE_CHOICES",
        "WebhookSubscriptionEnum": "webhooks.events.SUBSCRIPTION_CHOICES",
        "DeliveryStatusEnum": "webhooks.models.DeliveryStatus",
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
# Where django.core.mail.backends.filebased.EmailBackend writes (drills, staging).
if os.environ.get("EMAIL_FILE_PATH"):
    EMAIL_FILE_PATH = os.environ["EMAIL_FILE_PATH"]
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
if IS_PRODUCTION and not BROKER_URL:
    # The embedded worker is for `make run`: its queue lives in one process's memory, so with
    # several serving processes only one may run it (articurated/jobs.py) and work queued by
    # the others waits for its sweep. Production runs `rundramatiq` on RabbitMQ.
    raise ImproperlyConfigured(
        "Set BROKER_URL (amqp://…) when ARTICURATED_ENV=production; the in-process worker is "
        "for development only."
    )
# A prefix for every queue name, so several deployments or test runs can share one RabbitMQ;
# `rundramatiq` consumes exactly these queues (not django_dramatiq's unprefixed "default").
JOBS_QUEUE_PREFIX = os.environ.get("JOBS_QUEUE_PREFIX", "")
JOBS_QUEUES = {
    name: f"{JOBS_QUEUE_PREFIX}{name}"
    for name in ("invoices", "refunds", "email", "webhooks", "imports")
}
JOBS_TIME_LIMIT_MS = {
    "invoices": 120_000,
    "refunds": 60_000,
    "email": 60_000,
    "webhooks": 60_000,
    "sweep": 60_000,
    # Above IMPORT_JOB_BUDGET_SECONDS, below RabbitMQ's 30-minute consumer timeout.
    "imports": 25 * 60_000,
}
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
    "webhooks_sweep": "webhooks.services.delivery_sweep",
    "webhooks_prune": "webhooks.services.event_prune",
    "imports_sweep": "imports.services.import_sweep",
}
# Chaos drills only (scripts/): each job sleeps this long after recording its attempt, so a
# worker can be killed mid-job.
JOBS_FAULT_DELAY_SECONDS = float(os.environ.get("JOBS_FAULT_DELAY_SECONDS", "0"))
DRAMATIQ_EMBEDDED_WORKER = (
    env_bool("DRAMATIQ_EMBEDDED_WORKER", True) and not BROKER_URL and not TESTING
)
DRAMATIQ_EMBEDDED_THREADS = int(os.environ.get("DRAMATIQ_EMBEDDED_THREADS", "2"))
# Without a broker, exactly one serving process per database runs the embedded worker (an
# exclusive lock file in this directory); the others retry the lock now and then, and its
# sweep sends the work they recorded, every so often, once overdue by the grace below.
JOBS_EMBEDDED_LOCK_DIR = os.environ.get("JOBS_EMBEDDED_LOCK_DIR", str(BASE_DIR / "var"))
JOBS_EMBEDDED_LOCK_RETRY_SECONDS = float(os.environ.get("JOBS_EMBEDDED_LOCK_RETRY_SECONDS", "10"))
JOBS_EMBEDDED_SWEEP_INTERVAL_SECONDS = float(
    os.environ.get("JOBS_EMBEDDED_SWEEP_INTERVAL_SECONDS", "10")
)
JOBS_EMBEDDED_SWEEP_GRACE_SECONDS = float(os.environ.get("JOBS_EMBEDDED_SWEEP_GRACE_SECONDS", "20"))


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

# Refund gateway: a dotted path to a class with refund(). The default pays through the payment
# service (payment_service/), over gRPC when PAYMENT_SERVICE_URL=host:port is set, else
# in-process. Its simulated acquirer reads the two SIMULATED_GATEWAY_* switches below.
REFUND_GATEWAY = os.environ.get("REFUND_GATEWAY", "payments.gateways.PaymentServiceGateway")
SIMULATED_GATEWAY_FAIL_TIMES = int(os.environ.get("SIMULATED_GATEWAY_FAIL_TIMES", "0"))
SIMULATED_GATEWAY_ALWAYS_FAIL = env_bool("SIMULATED_GATEWAY_ALWAYS_FAIL", False)

# Payment service (API.md "Payment service (gRPC)"). The server: `manage.py rungrpc`.
GRPC_PORT = int(os.environ.get("GRPC_PORT", "50051"))
GRPC_MAX_WORKERS = int(os.environ.get("GRPC_MAX_WORKERS", "16"))
GRPC_GRACE_SECONDS = float(os.environ.get("GRPC_GRACE_SECONDS", "10"))
DEV_PAYMENT_SERVICE_TOKEN = "dev-only-payment-service-token"  # noqa: S105
PAYMENT_SERVICE_TOKEN = os.environ.get("PAYMENT_SERVICE_TOKEN", DEV_PAYMENT_SERVICE_TOKEN)
# The client: unset → the OMS calls the service in-process (`make run` stays one command).
PAYMENT_SERVICE_URL = os.environ.get("PAYMENT_SERVICE_URL", "")
# Production needs a real token wherever one crosses the network (rungrpc checks it too).
if IS_PRODUCTION and PAYMENT_SERVICE_URL and PAYMENT_SERVICE_TOKEN == DEV_PAYMENT_SERVICE_TOKEN:
    raise ImproperlyConfigured("Set PAYMENT_SERVICE_TOKEN when PAYMENT_SERVICE_URL is set.")
PAYMENT_SERVICE_DEADLINE_SECONDS = float(os.environ.get("PAYMENT_SERVICE_DEADLINE_SECONDS", "5"))
# `pay` checks the reference names a succeeded payment of the order's total (PAYMENT_MISMATCH).
PAYMENTS_VERIFY = env_bool("PAYMENTS_VERIFY", False)
PAYMENT_IDEMPOTENCY_TTL_HOURS = int(os.environ.get("PAYMENT_IDEMPOTENCY_TTL_HOURS", "24"))
# How long a call may hold its key before a retry may take over (its process presumably died).
PAYMENT_IDEMPOTENCY_LEASE_SECONDS = float(os.environ.get("PAYMENT_IDEMPOTENCY_LEASE_SECONDS", "30"))
# Drills only: each mutating call stalls this long before committing.
PAYMENT_SERVICE_FAULT_DELAY_SECONDS = float(
    os.environ.get("PAYMENT_SERVICE_FAULT_DELAY_SECONDS", "0")
)
# --- webhooks (PRODUCT.md "Webhooks") -------------------------------------------------------
# Seconds between a failed attempt and the next one (each jittered by ±WEBHOOKS_RETRY_JITTER);
# after the last, the delivery is FAILED. The default spans about 28 hours (Svix's schedule).
WEBHOOKS_RETRY_SCHEDULE = [
    float(part) for part in env_list("WEBHOOKS_RETRY_SCHEDULE", "5,300,1800,7200,18000,36000,36000")
]
WEBHOOKS_RETRY_JITTER = float(os.environ.get("WEBHOOKS_RETRY_JITTER", "0.2"))
# A retry due within this many seconds goes to the broker as a delayed message; a later one is
# left to the database (next_attempt_at) and re-sent by the webhooks sweep when due, because a
# worker holds a delayed message unacknowledged and RabbitMQ's consumer timeout is 30 minutes.
WEBHOOKS_BROKER_DELAY_MAX_SECONDS = float(
    os.environ.get("WEBHOOKS_BROKER_DELAY_MAX_SECONDS", "600")
)
# An endpoint failing without a single success for this long is disabled (owner and managers
# e-mailed). Seconds; default 5 days.
WEBHOOKS_DISABLE_AFTER = float(os.environ.get("WEBHOOKS_DISABLE_AFTER", str(5 * 24 * 3600)))
WEBHOOKS_TIMEOUT_SECONDS = float(os.environ.get("WEBHOOKS_TIMEOUT_SECONDS", "10"))
# Retry-After of a 429/503 is honoured up to this many seconds.
WEBHOOKS_RETRY_AFTER_MAX_SECONDS = float(
    os.environ.get("WEBHOOKS_RETRY_AFTER_MAX_SECONDS", "86400")
)
# Targets in private, loopback or link-local networks: allowed in development and tests only.
WEBHOOKS_ALLOW_PRIVATE_TARGETS = env_bool("WEBHOOKS_ALLOW_PRIVATE_TARGETS", not IS_PRODUCTION)
WEBHOOKS_REQUIRE_HTTPS = env_bool("WEBHOOKS_REQUIRE_HTTPS", IS_PRODUCTION)
WEBHOOKS_EVENT_RETENTION_DAYS = int(os.environ.get("WEBHOOKS_EVENT_RETENTION_DAYS", "30"))
WEBHOOKS_SECRET_OVERLAP_HOURS = 24
# Threads per worker process that POST the deliveries of a `webhook_event_job` side by side;
# also the most deliveries one such message carries.
WEBHOOKS_POST_THREADS = int(os.environ.get("WEBHOOKS_POST_THREADS", "16"))
# How long the request process's publisher gathers new events into one message (a backlog is
# sent at once): a little commit-to-delivery latency for far fewer messages under load.
WEBHOOKS_PUBLISH_LINGER_SECONDS = float(os.environ.get("WEBHOOKS_PUBLISH_LINGER_SECONDS", "0.05"))
# Delivery messages are handed to the broker by a background thread, so a request never waits
# on RabbitMQ (a message lost with the process is re-sent by the sweep). Off in tests, which
# drain the queues right after the change.
WEBHOOKS_PUBLISH_IN_BACKGROUND = env_bool("WEBHOOKS_PUBLISH_IN_BACKGROUND", not TESTING)

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": os.environ.get("LOG_LEVEL", "INFO")},
    "loggers": {"django.db.backends": {"level": "WARNING"}},
}
