"""Settings for every environment, read from the process environment (django-environ).

With no environment at all this is the embedded development setup of ``make run``:
DEBUG on, a SQLite file, Celery eager (no broker), email printed to the console.
Production sets ``DEBUG=false``, ``SECRET_KEY``, ``DATABASE_URL``, ``CELERY_BROKER_URL``
and ``EMAIL_URL``. README.md lists every variable.
"""

from __future__ import annotations

import re
from datetime import timedelta
from pathlib import Path

import django_stubs_ext
import environ
from django.core.exceptions import ImproperlyConfigured
from django.utils.translation import gettext_lazy as _

django_stubs_ext.monkeypatch()

BASE_DIR = Path(__file__).resolve().parent.parent

env = environ.Env()
env.read_env(BASE_DIR / ".env")  # optional, for local overrides; never committed

# --- Core ---------------------------------------------------------------------------------------
DEBUG = env.bool("DEBUG", default=True)
SECRET_KEY = env.str("SECRET_KEY", default="")
if not SECRET_KEY:
    if not DEBUG:
        raise ImproperlyConfigured("SECRET_KEY must be set when DEBUG is off")
    SECRET_KEY = "insecure-development-key-only-for-debug"  # noqa: S105
ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", default=["127.0.0.1", "localhost", "testserver"])
CSRF_TRUSTED_ORIGINS = env.list("CSRF_TRUSTED_ORIGINS", default=[])
SITE_URL = env.str("SITE_URL", default="http://127.0.0.1:8000")

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django_filters",
    "rest_framework",
    "rest_framework.authtoken",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "guardian",
    "pgtrigger",
    # Before viewflow: its ``workflow_timers`` command is ours (which also fires viewflow's).
    "workflows",
    "viewflow",
    "viewflow.workflow",
    "permissions",
    "notifications",
    "records",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "workflows.middleware.SiteLoginRequiredMiddleware",
    "workflows.middleware.UserLanguageMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    # viewflow's AppConfig.ready() appends SiteMiddleware and HotwireTurboMiddleware.
]

ROOT_URLCONF = "config.urls"
WSGI_APPLICATION = "config.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.i18n",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ]
        },
    }
]

# --- Database -----------------------------------------------------------------------------------
DATABASES = {
    "default": env.db_url("DATABASE_URL", default=f"sqlite:///{BASE_DIR / 'db.sqlite3'}"),
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql":
    # Connections are kept between requests (and checked before reuse): opening one costs
    # more than most requests' queries. (Server-side binding, which would let psycopg prepare
    # repeated statements, is off: pgtrigger's ``ignore`` sends two commands in one.)
    DATABASES["default"]["CONN_MAX_AGE"] = env.int("CONN_MAX_AGE", default=60)
    DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # IMMEDIATE: a writer takes the lock when its transaction starts, so concurrent writers
    # wait (up to ``timeout`` seconds) instead of failing with "database is locked".
    DATABASES["default"].setdefault("OPTIONS", {}).update(
        {"transaction_mode": "IMMEDIATE", "timeout": 20}
    )
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
AUTH_USER_MODEL = "records.User"

# --- Auth and permissions -----------------------------------------------------------------------
AUTHENTICATION_BACKENDS = [
    "django.contrib.auth.backends.ModelBackend",
    "guardian.backends.ObjectPermissionBackend",
]
ANONYMOUS_USER_NAME = None  # guardian: anonymous users hold no object permission at all
GUARDIAN_RAISE_403 = False
LOGIN_URL = "/accounts/login/"
LOGIN_REDIRECT_URL = "/"
LOGOUT_REDIRECT_URL = "/accounts/login/"
if not DEBUG:
    PASSWORD_HASHERS = ["django.contrib.auth.hashers.PBKDF2PasswordHasher"]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
]
DEMO_PASSWORD = env.str("DEMO_PASSWORD", default="demo-password")

# --- Internationalisation -----------------------------------------------------------------------
LANGUAGE_CODE = env.str("LANGUAGE_CODE", default="zh-hans")
LANGUAGES = [("zh-hans", _("Simplified Chinese")), ("en", _("English"))]
TIME_ZONE = "Asia/Shanghai"
USE_I18N = True
# Our catalogues first: Django's own would otherwise win for shared words ("name" is 名称
# there, 姓名 for a person here). Compiled with `make messages` (polib, no GNU gettext).
LOCALE_PATHS = [BASE_DIR / "records" / "locale", BASE_DIR / "workflows" / "locale"]
USE_TZ = True

# --- Static and uploaded files ------------------------------------------------------------------
STATIC_URL = "/static/"
STATIC_ROOT = env.path("STATIC_ROOT", default=BASE_DIR / "var" / "static")
MEDIA_URL = "/media/"
MEDIA_ROOT = env.path("MEDIA_ROOT", default=BASE_DIR / "var" / "media")

# --- Email --------------------------------------------------------------------------------------
if "EMAIL_URL" in env:
    vars().update(env.email_url("EMAIL_URL"))
else:
    EMAIL_BACKEND = "django.core.mail.backends.console.EmailBackend"
DEFAULT_FROM_EMAIL = env.str("DEFAULT_FROM_EMAIL", default="Xueji <no-reply@xueji.local>")
EMAIL_TIMEOUT = env.int("EMAIL_TIMEOUT", default=10)

# --- Workflows ----------------------------------------------------------------------------------
WORKFLOW_DUE_DAYS_FORMAT = (
    "expected comma-separated <flow>.<step>=<working days> entries (a whole number, at least "
    "1), e.g. WORKFLOW_DUE_DAYS=correction.school_review=3,correction.province_signoff=8"
)
_DUE_DAYS_ENTRY = re.compile(r"(?P<ref>[a-z][a-z0-9_]*\.[a-z][a-z0-9_]*)=(?P<days>[0-9]+)")


def _due_days(raw: str) -> dict[str, int]:
    """``WORKFLOW_DUE_DAYS``: due periods in working days by step, overriding the steps'
    declarations (``workflows.steps.HumanStep.due_period``). Anything else is refused at
    start-up: a mistyped value would silently leave the declared period in force."""
    periods: dict[str, int] = {}
    for entry in (part.strip() for part in raw.split(",")):
        if not entry:
            continue
        match = _DUE_DAYS_ENTRY.fullmatch(entry.replace(" ", ""))
        if match is None or int(match["days"]) < 1:
            raise ImproperlyConfigured(
                f"WORKFLOW_DUE_DAYS: cannot read {entry!r}; {WORKFLOW_DUE_DAYS_FORMAT}"
            )
        if match["ref"] in periods:
            raise ImproperlyConfigured(
                f"WORKFLOW_DUE_DAYS: {match['ref']!r} is given twice; {WORKFLOW_DUE_DAYS_FORMAT}"
            )
        periods[match["ref"]] = int(match["days"])
    return periods


# Which steps exist is checked once the flows are loaded (a system check of ``workflows``).
WORKFLOW_DUE_DAYS = _due_days(env.str("WORKFLOW_DUE_DAYS", default=""))

# --- Celery -------------------------------------------------------------------------------------
CELERY_BROKER_URL = env.str("CELERY_BROKER_URL", default="")
# No broker configured: run tasks in the caller's process (development and the default tests).
CELERY_TASK_ALWAYS_EAGER = not CELERY_BROKER_URL
CELERY_TASK_EAGER_PROPAGATES = False
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_BROKER_CONNECTION_TIMEOUT = 3
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_TASK_IGNORE_RESULT = True
# notifications: a pending outbox row untouched this long (seconds) is queued again by the sweep.
NOTIFICATIONS_SWEEP_AFTER = env.int("NOTIFICATIONS_SWEEP_AFTER", default=60)
CELERY_BEAT_SCHEDULE = {
    "notifications-sweep": {
        "task": "notifications.tasks.notification_sweep",
        "schedule": timedelta(minutes=1),
    },
    # Reminders before work items are due, overdue marks, escalations (workflows.timers).
    "workflow-timers": {
        "task": "workflows.tasks.workflow_timers",
        "schedule": timedelta(minutes=5),
    },
}

# --- Audit checkpoints (records.checkpoints) ----------------------------------------------------
# A signed digest of every audit chain's head, written outside the database by
# `manage.py audit_checkpoint` and by celery beat; `manage.py verify_audit --checkpoint FILE`
# checks one. The private key signs (`audit_checkpoint --generate-key` makes one: the base64
# of its 32 raw bytes, or PEM); a verifier needs only the public key. No key: beat skips.
AUDIT_CHECKPOINT_KEY = env.str("AUDIT_CHECKPOINT_KEY", default="")
AUDIT_CHECKPOINT_PUBLIC_KEY = env.str("AUDIT_CHECKPOINT_PUBLIC_KEY", default="")
AUDIT_CHECKPOINT_DIR = env.str("AUDIT_CHECKPOINT_DIR", default="")
AUDIT_CHECKPOINT_HOURS = env.int("AUDIT_CHECKPOINT_HOURS", default=24)
if AUDIT_CHECKPOINT_HOURS < 1:
    raise ImproperlyConfigured("AUDIT_CHECKPOINT_HOURS must be a whole number of hours, at least 1")
CELERY_BEAT_SCHEDULE["audit-checkpoint"] = {
    "task": "records.tasks.audit_checkpoint",
    "schedule": timedelta(hours=AUDIT_CHECKPOINT_HOURS),
}

# --- REST API -----------------------------------------------------------------------------------
REST_FRAMEWORK = {
    # DRF's token and session authentication, answering in the user's stored language.
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "records.api.authentication.TokenAuthentication",
        "records.api.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "EXCEPTION_HANDLER": "records.api.errors.exception_handler",
    "DEFAULT_PAGINATION_CLASS": "rest_framework.pagination.LimitOffsetPagination",
    "PAGE_SIZE": 50,
}
SPECTACULAR_SETTINGS = {
    "TITLE": "Xueji API",
    "DESCRIPTION": "Student status and qualification review workflows.",
    "VERSION": "1",
    "SERVE_INCLUDE_SCHEMA": False,
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    # Served offline: no call to validator.swagger.io for the "valid" badge.
    "SWAGGER_UI_SETTINGS": {"deepLinking": True, "validatorUrl": None},
    # Separate request and response components (read-only fields only in the latter).
    "COMPONENT_SPLIT_REQUEST": True,
}

# --- Security (production) ----------------------------------------------------------------------
if not DEBUG:
    SESSION_COOKIE_SECURE = env.bool("SESSION_COOKIE_SECURE", default=True)
    CSRF_COOKIE_SECURE = env.bool("CSRF_COOKIE_SECURE", default=True)
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": env.str("LOG_LEVEL", default="INFO")},
    "loggers": {"django.db.backends": {"level": "INFO"}},
}
