"""Django settings, all taken from shared.settings (environment variables, local defaults)."""

from __future__ import annotations

from pathlib import Path

from shared import settings as catalog_settings
from shared.sqlite import BUSY_TIMEOUT_MS

CATALOG_WEB = Path(__file__).resolve().parent
CATALOG = catalog_settings.load()
CATALOG.database.parent.mkdir(parents=True, exist_ok=True)

SECRET_KEY = CATALOG.secret_key
DEBUG = CATALOG.debug
ALLOWED_HOSTS = [h.strip() for h in CATALOG.allowed_hosts.split(",") if h.strip()]

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "web.products",
    "web.search",
    "web.dashboard",
    "web.thumbnails",
    "cdc",  # post_migrate: regenerate the CDC triggers when columns change
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    # Static files straight from the apps' folders: no collectstatic step, works with DEBUG off.
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]

ROOT_URLCONF = "web.urls"
WSGI_APPLICATION = "web.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [CATALOG_WEB / "templates"],
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

# WAL + busy timeout + IMMEDIATE writes: web processes, Celery workers and the sqlite3
# shell write concurrently without "database is locked".
DATABASES = {
    "default": {
        "ENGINE": "django.db.backends.sqlite3",
        "NAME": str(CATALOG.database),
        "OPTIONS": {
            "timeout": BUSY_TIMEOUT_MS / 1000,
            "transaction_mode": "IMMEDIATE",
            "init_command": (
                "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; "
                f"PRAGMA busy_timeout={BUSY_TIMEOUT_MS};"
            ),
        },
        # Keep connections across requests: closing the last connection of a WAL database
        # checkpoints and deletes the WAL, which tripled POST /api/products latency
        # (scripts/bench/api_latency.py).
        "CONN_MAX_AGE": 600,
        # A file, not :memory:, so other processes (tailer, workers) see the test database.
        "TEST": {"NAME": str(CATALOG.database.with_name(CATALOG.database.stem + "-test.sqlite3"))},
    }
}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
]

LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = "/static/"
STATICFILES_DIRS = [CATALOG_WEB / "static"]
WHITENOISE_USE_FINDERS = True
WHITENOISE_AUTOREFRESH = DEBUG
MEDIA_URL = CATALOG.media_url
MEDIA_ROOT = str(CATALOG.media)

# Payload limits: oversized bodies are refused before they reach a view.
DATA_UPLOAD_MAX_MEMORY_SIZE = 1024 * 1024
FILE_UPLOAD_MAX_MEMORY_SIZE = 2 * 1024 * 1024
UPLOAD_MAX_BYTES = CATALOG.thumbnail_max_bytes

LOGIN_URL = "/admin/login/"

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": CATALOG.log_level.upper()},
}

# Celery: Redis broker, JSON only, a task is acknowledged after it ran (acks_late), so a
# worker killed mid-task leaves it to be redelivered.
CELERY_BROKER_URL = CATALOG.redis_url
CELERY_TASK_SERIALIZER = "json"
CELERY_RESULT_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_IGNORE_RESULT = True
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
# Redelivery of unacknowledged tasks after a worker dies; longer than any thumbnail job.
CELERY_BROKER_TRANSPORT_OPTIONS = {
    "visibility_timeout": 300,
    "global_keyprefix": f"{CATALOG.catalog_namespace}:celery:",
}
CELERY_TASK_DEFAULT_QUEUE = f"{CATALOG.catalog_namespace}-thumbnails"
