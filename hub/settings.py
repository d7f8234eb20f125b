"""Django settings for Hub, derived from ``hub.config`` (``HUB_HOME/hub.properties`` + environment)."""

from __future__ import annotations

import os
import secrets
from pathlib import Path

import dj_database_url

from hub import config as hub_config
from hub import embedded_broker, filemodes
from hub import storage as hub_storage
from hub.logconfig import logging_dict

# Whatever this process writes is its user's only (hub.filemodes): set before anything is created.
filemodes.restrict_umask()
HUB = hub_config.load()
HUB_HOME: Path = HUB.home
BASE_DIR = hub_config.REPO_ROOT
for directory in (HUB_HOME, HUB.logs_dir, HUB.run_dir, HUB.certs_dir, HUB_HOME / "static"):
    directory.mkdir(parents=True, exist_ok=True)


def _secret_key() -> str:
    """A per-instance signing key kept in HUB_HOME, owner-readable only, made on first start."""
    path = HUB_HOME / "secret.key"
    if not path.exists():
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as handle:
            handle.write(secrets.token_urlsafe(50))
    return path.read_text().strip()


SECRET_KEY = _secret_key()
DEBUG = os.environ.get("HUB_DEBUG") == "1"
ALLOWED_HOSTS = ["*"]  # Hub is reached by whatever name the operator gives its host.

SAFE_MODE = os.environ.get("HUB_SAFE_MODE") == "1"

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django.forms",  # the built-in widget templates, for FORM_RENDERER below
    "django_htmx",
    "django_celery_beat",
    "axes",
    "corsheaders",
    "hub",
    "connectors",
    "integrations",
    "activity",
    "metrics",
    "settings_app",
    "extensions",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "hub.roles.KnownMethodsMiddleware",
    "hub.lifecycle.StartingMiddleware",
    "hub.addresses.RedactCredentialsMiddleware",
    "integrations.gateway.fastpath.GatewayMiddleware",  # the endpoint skips the console's middlewares
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "corsheaders.middleware.CorsMiddleware",
    "csp.middleware.CSPMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.auth.middleware.LoginRequiredMiddleware",
    "hub.roles.AdministratorRequiredMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "hub.logconfig.LogLevelMiddleware",
    "hub.lease.DatabaseInUseMiddleware",
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "hub.urls"
WSGI_APPLICATION = "hub.wsgi.application"
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "login"

# Forms render through the project templates, so templates/django/forms/ gives every form the
# console's layout (label, widget, help, errors under the field) and Bootstrap's classes at once.
FORM_RENDERER = "django.forms.renderers.TemplatesSetting"

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
                "hub.context_processors.console",
                "hub.security_context.global_problems",
            ],
        },
    }
]


def _database(url: str) -> dict:
    if not url:
        return {
            "ENGINE": "django.db.backends.sqlite3",
            "NAME": HUB_HOME / "hub.sqlite3",
            "OPTIONS": {
                # WAL lets the web server read while a worker writes; IMMEDIATE takes the write
                # lock at BEGIN so two writers queue instead of failing on a lock upgrade.
                "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
                "transaction_mode": "IMMEDIATE",
                "timeout": 30,
            },
        }
    database = dj_database_url.parse(url, conn_max_age=60, conn_health_checks=True)
    if HUB.database_password and not database.get("PASSWORD"):
        database["PASSWORD"] = HUB.database_password  # hub.database.passwordFile or HUB_DATABASE_PASSWORD
    engine = database["ENGINE"]
    options = database.setdefault("OPTIONS", {})
    if engine.endswith("postgresql"):
        options.setdefault("connect_timeout", 5)
    elif engine.endswith("mysql"):
        options.setdefault("connect_timeout", 5)
        options.setdefault("charset", "utf8mb4")
        database.setdefault("TEST", {}).update({"CHARSET": "utf8mb4", "COLLATION": "utf8mb4_unicode_ci"})
    test_name = os.environ.get("HUB_TEST_DATABASE_NAME")
    if test_name:
        database.setdefault("TEST", {})["NAME"] = test_name
    return database


# Storage Settings (HUB_HOME/database.json, written by a database transfer) win over hub.database.url;
# their password is sealed and filled in by hub.apps once the vault can unseal it.
try:
    HUB_STORAGE = hub_storage.read_file(HUB_HOME)
except hub_storage.StorageError as error:
    raise hub_config.StartupError(f"Hub cannot start: {error}") from None
if HUB_STORAGE is not None:
    DATABASES = {"default": HUB_STORAGE[0].database(password="")}
    HUB_DATABASE_BACKOFF_SECONDS: float | None = HUB_STORAGE[0].backoff_seconds
else:
    DATABASES = {"default": _database(HUB["hub.database.url"])}
    HUB_DATABASE_BACKOFF_SECONDS = None
# A database transfer whose job has been silent this long was killed: Hub stays where it was.
HUB_TRANSFER_STALE_SECONDS = 120.0
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator", "OPTIONS": {"min_length": 10}},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]

LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATICFILES_DIRS = [BASE_DIR / "static"]
STATIC_ROOT = HUB_HOME / "static"
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedStaticFilesStorage"},
}
WHITENOISE_USE_FINDERS = True  # tests and a fresh checkout serve static files without collectstatic
# Files browsers ask for at the site root (/favicon.ico), served by whitenoise before any sign-in.
WHITENOISE_ROOT = BASE_DIR / "hub" / "webroot"

# Security baseline: the console is served over HTTPS only.
# Sessions in the database under the hash of their key (hub.sessions; docs/security.md).
SESSION_ENGINE = "hub.sessions"
SESSION_COOKIE_SECURE = not DEBUG
CSRF_COOKIE_SECURE = not DEBUG
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
CSRF_COOKIE_SAMESITE = "Lax"
SECURE_HSTS_SECONDS = 31536000
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
CSRF_FAILURE_VIEW = "hub.views.csrf_failure"
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": ["'self'"],
        "script-src": ["'self'"],
        "style-src": ["'self'"],
        "img-src": ["'self'", "data:"],
        "frame-ancestors": ["'none'"],
        "form-action": ["'self'"],
    }
}
# Cross-origin requests are refused everywhere except under the paths the operator excludes from
# that check (hub.security.cors.exclusionPaths); there any origin may call, as with a public API.
CORS_EXCLUSION_PATHS = HUB["hub.security.cors.exclusionPaths"]
CORS_URLS_REGEX = hub_config.path_prefix_pattern(CORS_EXCLUSION_PATHS)
CORS_ALLOW_ALL_ORIGINS = True  # only within CORS_URLS_REGEX

# Failed sign-ins: locked for a while per user and address after five failures.
AXES_FAILURE_LIMIT = 5
AXES_COOLOFF_TIME = 0.25  # hours
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_SENSITIVE_PARAMETERS = ["password"]
AXES_LOCKOUT_TEMPLATE = "hub/locked_out.html"

# Master password and secrets (docs/security.md). The master password file lives in the home
# directory of the user running Hub, apart from HUB_HOME and the database; None means
# ~/.hub/<instance id>.key, so two instances of one user do not share a file.
HUB_MASTER_KEY_FILE: Path | None = (
    Path(HUB["hub.security.masterPasswordFile"]).expanduser()
    if HUB["hub.security.masterPasswordFile"]
    else None
)
# scrypt cost for the key that wraps the data key; the parameters used are stored beside it.
HUB_SCRYPT_N = 2**15
HUB_LICENSE_TRUSTED_KEYS: tuple[str, ...] = HUB["hub.license.trustedKeys"]
# One instance per operational database: heartbeat period, and the silence after which a lease
# counts as abandoned (its instance crashed) and may be taken without asking.
HUB_LEASE_HEARTBEAT_SECONDS = 5.0
HUB_LEASE_STALE_SECONDS = 120.0
# How long a start waits for another instance's schema migration (hub.maintenance, 30011E).
HUB_MAINTENANCE_WAIT_SECONDS = 600.0
# How many upgrade backup files (integrations.upgrade_backup) HUB_HOME keeps; older ones are deleted.
HUB_UPGRADE_BACKUPS_KEPT = 5
# How many completed activities the ledger keeps, the newest by id (activity.retention): the
# workers trim as they complete work, beat every 10 minutes. Those with conflict decisions stay.
HUB_COMPLETED_ACTIVITIES_KEPT = 100_000

# Celery: the database is the record of work; the broker only carries wake-up signals.
BROKER_DIR = HUB_HOME / "broker"
if HUB["hub.broker.url"]:
    CELERY_BROKER_URL = HUB["hub.broker.url"]
    CELERY_BROKER_TRANSPORT_OPTIONS: dict = {}
else:
    CELERY_BROKER_URL = "filesystem://"
    CELERY_BROKER_TRANSPORT = "hub.embedded_broker:Transport"  # messages appear whole, see there
    CELERY_BROKER_TRANSPORT_OPTIONS = embedded_broker.transport_options(BROKER_DIR)
CELERY_TASK_IGNORE_RESULT = True
CELERY_TASK_ACKS_LATE = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
# AMQP heartbeats every few seconds (Celery's default is 120 s), so RabbitMQ drops the connection of
# a worker whose network went away within about 10-20 s. A worker that lost its link reconnects on
# a new connection and declares its remote-control queue again; that queue is exclusive to the old
# connection as long as RabbitMQ keeps it, and the worker stops with "RESOURCE_LOCKED" (seen in
# tests/engine/test_scaleout_hosts.py: a host's link cut for 30 s). Redis ignores the setting.
CELERY_BROKER_HEARTBEAT = 10
CELERY_BEAT_SCHEDULER = "django_celery_beat.schedulers:DatabaseScheduler"
CELERY_TIMEZONE = "UTC"

LOGGING = logging_dict(HUB.logs_dir, HUB["hub.log.level"], HUB["hub.log.format"])

# The JSON API under /api/v1/ (integrations.api): per-user tokens, viewers read-only, OpenAPI.
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "integrations.api.authentication.ApiTokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["integrations.api.authentication.ViewersReadOnly"],
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    "DEFAULT_PARSER_CLASSES": ["hub.api.JSONParser"],  # size and depth limits
    # One error shape for every API error, and its description on every operation (hub.api).
    "EXCEPTION_HANDLER": "hub.api.exception_handler",
    # DRF puts this field of a created object into Location; no model has it, so a model's own
    # ``url`` (a repository's address) can never become the Location header.
    "URL_FIELD_NAME": "api_url",
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "UNAUTHENTICATED_USER": None,
}
SPECTACULAR_SETTINGS = {
    "TITLE": "Hub configuration API",
    "DESCRIPTION": "Repositories, models, collections, mappings and integrations. "
    "Authenticate with a personal API token: Authorization: Bearer <token>.",
    "VERSION": "1",
    "SCHEMA_PATH_PREFIX": "/api/v1",
    "COMPONENT_SPLIT_REQUEST": True,
    "SERVE_INCLUDE_SCHEMA": False,
    "POSTPROCESSING_HOOKS": ["drf_spectacular.hooks.postprocess_schema_enums", "hub.api.document_errors"],
    "ENUM_NAME_OVERRIDES": {
        "FlowEnum": "integrations.models.integrations.Flow",
        "MappingDirectionEnum": "integrations.models.collections.FieldMapping.Direction",
    },
}
