"""Settings for every environment, read from the process environment (django-environ).

With no environment at all this is the embedded development setup of ``make run``:
DEBUG on, a SQLite file, Celery eager (no broker), email printed to the console.
Production sets ``DEBUG=false``, ``SECRET_KEY``, ``DATABASE_URL``, ``CELERY_BROKER_URL``
and ``EMAIL_URL``. README.md lists every variable.
"""

from __future__ import annotations

import ipaddress
import re
from datetime import timedelta
from pathlib import Path

import django_stubs_ext
import environ
from django.core.checks.security.base import SECRET_KEY_INSECURE_PREFIX
from django.core.checks.security.base import SECRET_KEY_MIN_LENGTH
from django.core.checks.security.base import SECRET_KEY_MIN_UNIQUE_CHARACTERS
from django.core.exceptions import ImproperlyConfigured
from django.utils.translation import gettext_lazy as _

django_stubs_ext.monkeypatch()

BASE_DIR = Path(__file__).resolve().parent.parent

env = environ.Env()
env.read_env(BASE_DIR / ".env")  # optional, for local overrides; never committed

# --- Core ---------------------------------------------------------------------------------------
DEBUG = env.bool("DEBUG", default=True)
# Read as it is: django-environ takes a value starting with "$" for the name of another
# variable, and Django's key generator uses "$" (one key in 50 starts with it).
SECRET_KEY = env.ENVIRON.get("SECRET_KEY", "")
# Django's own rule for a strong key (``check --deploy``, security.W009), refused at start-up.
SECRET_KEY_RULE = (
    f"at least {SECRET_KEY_MIN_LENGTH} characters, at least {SECRET_KEY_MIN_UNIQUE_CHARACTERS} "
    f"different ones, not starting with {SECRET_KEY_INSECURE_PREFIX!r}; generate one with "
    "python -c 'from django.core.management.utils import get_random_secret_key as k; print(k())'"
)
if not SECRET_KEY:
    if not DEBUG:
        raise ImproperlyConfigured(f"SECRET_KEY must be set when DEBUG is off: {SECRET_KEY_RULE}")
    SECRET_KEY = "insecure-development-key-only-for-debug"  # noqa: S105
elif not DEBUG and (
    len(SECRET_KEY) < SECRET_KEY_MIN_LENGTH
    or len(set(SECRET_KEY)) < SECRET_KEY_MIN_UNIQUE_CHARACTERS
    or SECRET_KEY.startswith(SECRET_KEY_INSECURE_PREFIX)
):
    raise ImproperlyConfigured(f"SECRET_KEY is too weak for DEBUG off: {SECRET_KEY_RULE}")
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
    # X-Forwarded-* only from TRUSTED_PROXIES (so X-Forwarded-Proto cannot fake HTTPS).
    "records.logins.ForwardedHeadersGuard",
    "django.middleware.security.SecurityMiddleware",
    # /api/: a NUL or control character in the path or a query parameter is refused here.
    "records.api.middleware.ApiRequestGuard",
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

# --- Login protection and cache -----------------------------------------------------------------
# One cache that every process shares (gunicorn's workers, celery): the API's throttles count in
# it. Redis when CACHE_URL names one (redis://127.0.0.1:6379/1), else a table of the database,
# which ``migrate`` creates (records.apps runs ``createcachetable`` after every migrate).
CACHES = {"default": env.cache_url("CACHE_URL", default="dbcache://xueji_cache")}


def _trusted_proxies(entries: list[str]) -> list[str]:
    """``TRUSTED_PROXIES``: the reverse proxies whose ``X-Forwarded-For`` is believed, as IPs or
    CIDRs. Anything else stops the start-up: a mistyped entry would silently trust nobody."""
    networks = []
    for entry in entries:
        try:
            networks.append(str(ipaddress.ip_network(entry.strip(), strict=False)))
        except ValueError:
            raise ImproperlyConfigured(
                f"TRUSTED_PROXIES: {entry!r} is not an IP address or a network such as "
                "10.0.0.0/8; expected a comma-separated list, e.g. TRUSTED_PROXIES=127.0.0.1,::1"
            ) from None
    return networks


# The client's address is the connection's own unless it comes from one of these; then the
# rightmost X-Forwarded-For entry that is not a trusted proxy (records.logins.client_ip, which
# both the login lockout and the API throttles use). Default: no proxy is trusted.
TRUSTED_PROXIES = _trusted_proxies(env.list("TRUSTED_PROXIES", default=[]))

# django-axes counts wrong passwords on every login that goes through ``authenticate()`` with
# the request: the site's (/accounts/login/), the admin's and the API token endpoint. A user
# name is locked out from one client address after AXES_FAILURE_LIMIT failures; an address
# altogether after LOGIN_IP_FAILURE_LIMIT (many people share a school's address, so that one is
# high); both until AXES_COOLOFF_MINUTES after the last counted failure. docs/architecture.md
# says why. Attempts live in the database (axes' tables), so every process sees the same count.
INSTALLED_APPS = [*INSTALLED_APPS, "axes"]
AUTHENTICATION_BACKENDS = ["axes.backends.AxesStandaloneBackend", *AUTHENTICATION_BACKENDS]
MIDDLEWARE = [*MIDDLEWARE, "axes.middleware.AxesMiddleware"]  # last, as axes asks
AXES_HANDLER = "records.logins.LoginAttempts"
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_FAILURE_LIMIT = env.int("AXES_FAILURE_LIMIT", default=5)
LOGIN_IP_FAILURE_LIMIT = env.int("LOGIN_IP_FAILURE_LIMIT", default=100)
_cooloff_minutes = env.int("AXES_COOLOFF_MINUTES", default=15)
AXES_COOLOFF_TIME = timedelta(minutes=_cooloff_minutes)
# A failure while locked out is refused without being counted, so the lockout ends when the
# page said it would; a successful login clears that user name's failures from that address.
AXES_RESET_COOL_OFF_ON_FAILURE_DURING_LOCKOUT = False
AXES_RESET_ON_SUCCESS = True
AXES_CLIENT_IP_CALLABLE = "records.logins.client_ip"
AXES_LOCKOUT_CALLABLE = "records.logins.lockout_response"
if AXES_FAILURE_LIMIT < 1 or LOGIN_IP_FAILURE_LIMIT < AXES_FAILURE_LIMIT:
    raise ImproperlyConfigured(
        "AXES_FAILURE_LIMIT must be at least 1 and LOGIN_IP_FAILURE_LIMIT at least as high"
    )
if _cooloff_minutes < 1:
    raise ImproperlyConfigured("AXES_COOLOFF_MINUTES must be at least 1")

# --- Claiming a freshman's account --------------------------------------------------------------
# /accounts/claim/ and POST /api/v1/auth/claim/ (records.admissions.claim): after
# CLAIM_FAILURE_LIMIT claims from one address whose candidate number, ID number and name match
# no admission, every claim from it is refused (429) until the oldest of those failures is
# CLAIM_FAILURE_WINDOW_MINUTES old. Counted in the shared cache (CACHES).
CLAIM_FAILURE_LIMIT = env.int("CLAIM_FAILURE_LIMIT", default=5)
CLAIM_FAILURE_WINDOW_MINUTES = env.int("CLAIM_FAILURE_WINDOW_MINUTES", default=10)
if CLAIM_FAILURE_LIMIT < 1 or CLAIM_FAILURE_WINDOW_MINUTES < 1:
    raise ImproperlyConfigured(
        "CLAIM_FAILURE_LIMIT and CLAIM_FAILURE_WINDOW_MINUTES must be at least 1"
    )

# --- Public verification (verification reports) ------------------------------------------------
# /verify/{code} and /api/v1/verify/... (records.verification): after VERIFY_FAILURE_LIMIT
# look-ups from one address that find nothing within VERIFY_FAILURE_WINDOW_SECONDS, every
# look-up from it answers 429 until the oldest is that old. Counted in the shared cache.
VERIFY_FAILURE_LIMIT = env.int("VERIFY_FAILURE_LIMIT", default=20)
VERIFY_FAILURE_WINDOW_SECONDS = env.int("VERIFY_FAILURE_WINDOW_SECONDS", default=60)
if VERIFY_FAILURE_LIMIT < 1 or VERIFY_FAILURE_WINDOW_SECONDS < 1:
    raise ImproperlyConfigured(
        "VERIFY_FAILURE_LIMIT and VERIFY_FAILURE_WINDOW_SECONDS must be at least 1"
    )
# The platform's Ed25519 key that signs reports (GET /api/v1/verify/{code}/signed/): a PEM
# private key, or the path of a file holding one. The default is the development key that
# `make seed` writes (`python manage.py signing_key`); production sets its own.
VERIFY_SIGNING_KEY = env.str(
    "VERIFY_SIGNING_KEY", default=str(BASE_DIR / "var" / "verify-signing-key.pem"), multiline=True
)

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
    # Admission imports the broker did not take when they were uploaded.
    "admission-import-sweep": {
        "task": "records.tasks.admission_import_sweep",
        "schedule": timedelta(minutes=2),
    },
    # Reminders before work items are due, overdue marks, escalations (workflows.timers).
    "workflow-timers": {
        "task": "workflows.tasks.workflow_timers",
        "schedule": timedelta(minutes=5),
    },
    # Academic-year registrations whose school's window has opened (workflows.flows).
    "year-registration-open": {
        "task": "workflows.tasks.year_registration_open",
        "schedule": timedelta(hours=1),
    },
    # Adverse decisions whose appeal window ended with no appeal take effect.
    "status-change-appeal-windows": {
        "task": "workflows.tasks.status_change_appeal_windows",
        "schedule": timedelta(minutes=15),
    },
}

# --- Notifications: broker outages and lost workers --------------------------------------------
# A request hands its emails to the broker in one attempt with this connect and socket time-out
# (seconds); after a failure each process skips the broker for the cool-down (seconds) and the
# sweep sends what was skipped (notifications.broker, docs/architecture.md).
NOTIFICATIONS_ENQUEUE_TIMEOUT = env.float("NOTIFICATIONS_ENQUEUE_TIMEOUT", default=0.25)
NOTIFICATIONS_BROKER_COOLDOWN = env.float("NOTIFICATIONS_BROKER_COOLDOWN", default=30)
# An email still "sending" after this long (seconds) was lost with its worker and is sent again.
# A send is at most ~10 SMTP exchanges (connect, EHLO, STARTTLS, EHLO, AUTH, MAIL, RCPT, DATA,
# the message, QUIT), each bounded by EMAIL_TIMEOUT: 12 x EMAIL_TIMEOUT leaves a margin of two.
NOTIFICATIONS_SENDING_TIMEOUT = env.int("NOTIFICATIONS_SENDING_TIMEOUT", default=12 * EMAIL_TIMEOUT)

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
    "DEFAULT_SCHEMA_CLASS": "records.api.schema.AutoSchema",
    "EXCEPTION_HANDLER": "records.api.errors.exception_handler",
    "DEFAULT_PAGINATION_CLASS": "records.api.pagination.LimitOffsetPagination",
    "PAGE_SIZE": 50,
    # Bounded: a body over DATA_UPLOAD_MAX_MEMORY_SIZE is 413, JSON nested too deep is 400.
    "DEFAULT_PARSER_CLASSES": [
        "records.api.parsers.JSONParser",
        "records.api.parsers.FormParser",
        "rest_framework.parsers.MultiPartParser",
    ],
}
# The largest page a list answers (``?limit=`` above it is cut to it).
API_MAX_PAGE_SIZE = env.int("API_MAX_PAGE_SIZE", default=200)
API_MAX_JSON_DEPTH = 20
# The largest admission file an upload takes (records.api.admissions), in MB.
ADMISSION_IMPORT_MAX_MB = env.int("ADMISSION_IMPORT_MAX_MB", default=300)
# Django's CSRF refusal: JSON in the error format under /api/, the usual page elsewhere.
CSRF_FAILURE_VIEW = "records.api.errors.csrf_failure"
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
    # ``<id:pk>`` (records.converters): an object's number, 1 to 2**63 - 1.
    # Several models have a "state": each choice set keeps a name of its own.
    "ENUM_NAME_OVERRIDES": {
        "CorrectionStateEnum": "records.choices.CorrectionState",
        "AdmissionStateEnum": "records.choices.AdmissionState",
        "StudentStatusStateEnum": "records.choices.StatusState",
        "ImportStateEnum": "records.choices.ImportState",
        "YearRoundStateEnum": "records.choices.YearRoundState",
        "YearRegistrationStateEnum": "records.choices.YearRegistrationState",
        "StatusChangeStateEnum": "records.choices.StatusChangeState",
        "CertificateProofStateEnum": "records.choices.CertificateProofState",
        "RevocationStateEnum": "records.models.revocations.RevocationState",
        "GraduationCohortStateEnum": "records.choices.GraduationCohortState",
        "RecheckStateEnum": "records.choices.RecheckState",
    },
    "PATH_CONVERTER_OVERRIDES": {"id": {"type": "integer", "minimum": 1, "maximum": 2**63 - 1}},
}

# --- Security (production) ----------------------------------------------------------------------
# Every response: no framing by other sites (the evidence preview opts in for its own origin),
# no MIME sniffing, the referrer sent to our own pages only; the session cookie never readable
# by scripts. (Django's defaults, stated so that ``check --deploy`` and readers see them.)
X_FRAME_OPTIONS = "DENY"
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
SESSION_COOKIE_HTTPONLY = True
if not DEBUG:
    SESSION_COOKIE_SECURE = env.bool("SESSION_COOKIE_SECURE", default=True)
    CSRF_COOKIE_SECURE = env.bool("CSRF_COOKIE_SECURE", default=True)
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    # HTTPS only: plain HTTP is redirected (regular expressions of paths exempted, e.g. a load
    # balancer's probe), and browsers are told to use nothing else for a year.
    SECURE_SSL_REDIRECT = env.bool("SECURE_SSL_REDIRECT", default=True)
    SECURE_REDIRECT_EXEMPT = env.list("SECURE_REDIRECT_EXEMPT", default=[])
    SECURE_HSTS_SECONDS = env.int("SECURE_HSTS_SECONDS", default=31536000)
    SECURE_HSTS_INCLUDE_SUBDOMAINS = env.bool("SECURE_HSTS_INCLUDE_SUBDOMAINS", default=True)
    SECURE_HSTS_PRELOAD = env.bool("SECURE_HSTS_PRELOAD", default=True)

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": env.str("LOG_LEVEL", default="INFO")},
    "loggers": {
        "django.db.backends": {"level": "INFO"},
        # axes: its lockouts (warnings), not a line per attempt and per process start.
        "axes": {"level": "WARNING"},
    },
}
