"""Django settings for Orchestrate.

Everything that differs between machines comes from the environment (django-environ).
The embedded default needs no service: SQLite and a file-system Celery broker under
`var/`. `DATABASE_URL` and `CELERY_BROKER_URL` switch to PostgreSQL and Redis.

`DJANGO_ENV=production` turns on the deployment settings (HTTPS only, HSTS, secure
cookies) and refuses to start without a real secret key, with DEBUG or without allowed
hosts; `python manage.py check --deploy` passes with no warning then (SECURITY.md).
"""

from datetime import timedelta
from pathlib import Path

import environ
from csp.constants import NONE, SELF, UNSAFE_INLINE
from django.core.exceptions import ImproperlyConfigured

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = BASE_DIR / "var"

env = environ.Env()
environ.Env.read_env(BASE_DIR / ".env", overwrite=False)

DJANGO_ENV = env("DJANGO_ENV", default="development")
if DJANGO_ENV not in ("development", "production"):
    raise ImproperlyConfigured(
        f"DJANGO_ENV must be 'development' or 'production', not {DJANGO_ENV!r}."
    )
PRODUCTION = DJANGO_ENV == "production"

DEBUG = env.bool("DJANGO_DEBUG", default=not PRODUCTION)
DEV_SECRET_KEY = "dev-only-insecure-key-change-me-in-production-0123456789abcdef"
SECRET_KEY = env("DJANGO_SECRET_KEY", default=DEV_SECRET_KEY)
ALLOWED_HOSTS = env.list(
    "DJANGO_ALLOWED_HOSTS", default=[] if PRODUCTION else ["localhost", "127.0.0.1", "[::1]"]
)
# Origins (scheme and host) that may POST forms besides the site itself, e.g. when the
# proxy answers under another name: https://orchestrate.example.com
CSRF_TRUSTED_ORIGINS = env.list("DJANGO_CSRF_TRUSTED_ORIGINS", default=[])
if PRODUCTION:
    # Refuse to start rather than run a production site that anyone could sign cookies,
    # password-reset and e-mail action links for, or that shows tracebacks.
    if SECRET_KEY == DEV_SECRET_KEY:
        raise ImproperlyConfigured(
            "DJANGO_ENV=production needs DJANGO_SECRET_KEY: a long random value of your own, "
            "not the development key."
        )
    if DEBUG:
        raise ImproperlyConfigured("DJANGO_ENV=production refuses DJANGO_DEBUG=true.")
    if not ALLOWED_HOSTS:
        raise ImproperlyConfigured(
            "DJANGO_ENV=production needs DJANGO_ALLOWED_HOSTS, e.g. orchestrate.example.com."
        )

# How many reverse proxies stand in front of the app (0: clients connect directly). The
# nearest proxy appends the address it saw to X-Forwarded-For, so with N proxies the
# client is the N-th entry from the right; entries further left are the client's own
# claims. With N > 0 the proxy must also set X-Forwarded-Proto (HTTPS detection).
ORCHESTRATE_TRUSTED_PROXIES = env.int("ORCHESTRATE_TRUSTED_PROXIES", default=0)
if ORCHESTRATE_TRUSTED_PROXIES < 0:
    raise ImproperlyConfigured("ORCHESTRATE_TRUSTED_PROXIES must be 0 or more.")

# --- HTTPS, cookies and headers -------------------------------------------------------
# Development (`make run`, the tests) works over plain HTTP; production is HTTPS only.
if ORCHESTRATE_TRUSTED_PROXIES:
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SECURE_SSL_REDIRECT = env.bool("DJANGO_SECURE_SSL_REDIRECT", default=PRODUCTION)
# One year; include subdomains and allow the browsers' preload lists. Only the header is
# sent: submitting the domain to a preload list stays a decision of whoever runs it.
SECURE_HSTS_SECONDS = env.int("DJANGO_HSTS_SECONDS", default=31_536_000 if PRODUCTION else 0)
SECURE_HSTS_INCLUDE_SUBDOMAINS = env.bool("DJANGO_HSTS_INCLUDE_SUBDOMAINS", default=PRODUCTION)
SECURE_HSTS_PRELOAD = env.bool("DJANGO_HSTS_PRELOAD", default=PRODUCTION)
SESSION_COOKIE_SECURE = PRODUCTION
CSRF_COOKIE_SECURE = PRODUCTION
SESSION_COOKIE_HTTPONLY = True
# Our pages send the CSRF token from the template (hx-headers, forms), never from the
# cookie, so scripts need not read it.
CSRF_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
CSRF_COOKIE_SAMESITE = "Lax"
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"

# Content-Security-Policy (django-csp) on every response: scripts, styles, images and
# requests only from this site; no inline script and no eval (our JS is in static/js/,
# htmx runs with allowEval off, see base.html).
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": [SELF],
        "script-src": [SELF],
        # Mermaid draws its diagrams as SVG with <style> elements and style attributes,
        # and Swagger UI adds a <style> element: with style-src 'self' alone the admin's
        # diagrams and /api/docs/ lose their layout (the inbox and the reports would
        # not). Styles cannot run code.
        "style-src": [SELF, UNSAFE_INLINE],
        # Swagger UI's icons are data: URIs in its stylesheet.
        "img-src": [SELF, "data:"],
        "font-src": [SELF],
        "connect-src": [SELF],
        "object-src": [NONE],
        "base-uri": [SELF],
        "form-action": [SELF],
        "frame-ancestors": [NONE],
    },
}

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "axes",
    "csp",
    "rest_framework",
    "rest_framework.authtoken",
    "django_filters",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "guardian",
    "orchestrate",
    "tasks_inbox",
]

MIDDLEWARE = [
    # Each request logs with its own instance/step/task ids (see orchestrate.observability).
    "orchestrate.observability.logging.LogContextMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "csp.middleware.CSPMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    # The client address for the audit trail; refusals and admin changes in the security log.
    "orchestrate.security.RequestOriginMiddleware",
    # A page view reads each person's access facts (groups, absences, grants) once.
    "tasks_inbox.selectors.access.AccessMemoMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    # Last, as django-axes asks: it turns a locked-out login into the lockout page.
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "orchestrate.urls"
WSGI_APPLICATION = "orchestrate.wsgi.application"

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
    {
        # Only for the rows of the inbox lists (`templates/jinja2/`): see orchestrate/jinja2.py.
        "NAME": "jinja2",
        "BACKEND": "django.template.backends.jinja2.Jinja2",
        "DIRS": [BASE_DIR / "templates" / "jinja2"],
        "APP_DIRS": False,
        "OPTIONS": {"environment": "orchestrate.jinja2.environment"},
    },
]

DATABASES = {
    "default": env.db(
        "DATABASE_URL",
        default=f"sqlite:///{VAR_DIR / 'orchestrate.sqlite3'}",
    )
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # IMMEDIATE transactions take SQLite's write lock at BEGIN, so the web process, the
    # worker and beat queue up for it instead of failing with "database is locked".
    DATABASES["default"].setdefault("OPTIONS", {}).update(
        {"transaction_mode": "IMMEDIATE", "timeout": 30, "init_command": "PRAGMA journal_mode=WAL;"}
    )
else:
    DATABASES["default"].setdefault("CONN_MAX_AGE", env.int("DATABASE_CONN_MAX_AGE", default=60))

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTHENTICATION_BACKENDS = [
    # First, so a locked-out username and address pair is refused before any password check.
    "axes.backends.AxesStandaloneBackend",
    # Django's ModelBackend, with a person's and their groups' permissions in one query.
    "orchestrate.auth_backends.OneQueryModelBackend",
    "guardian.backends.ObjectPermissionBackend",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "/accounts/login/"
LOGIN_REDIRECT_URL = "/inbox/"
LOGOUT_REDIRECT_URL = "/accounts/login/"

# --- Login throttling (django-axes) ----------------------------------------------------
# After AXES_FAILURE_LIMIT wrong passwords for one username from one address, that pair is
# refused until the cool-off has passed since the last failure before the lockout. Locking
# the pair, not the username alone, keeps an attacker from locking the real user out: the
# user still signs in from their own address. Failed attempts during a lockout do not
# extend it, so it always ends. A successful login forgets the failures.
AXES_FAILURE_LIMIT = env.int("ORCHESTRATE_LOGIN_FAILURE_LIMIT", default=5)
AXES_COOLOFF_TIME = timedelta(minutes=env.int("ORCHESTRATE_LOGIN_COOLOFF_MINUTES", default=15))
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_RESET_COOL_OFF_ON_FAILURE_DURING_LOCKOUT = False
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_TEMPLATE = "registration/lockout.html"
# The client's address as ORCHESTRATE_TRUSTED_PROXIES says, the same as the audit trail's.
AXES_CLIENT_IP_CALLABLE = "orchestrate.security.client_address"

LANGUAGE_CODE = "en-us"
TIME_ZONE = env("TIME_ZONE", default="UTC")
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = BASE_DIR / "staticfiles"
STATICFILES_DIRS = [BASE_DIR / "static"]

EMAIL_BACKEND = env("EMAIL_BACKEND", default="django.core.mail.backends.console.EmailBackend")
DEFAULT_FROM_EMAIL = env("DEFAULT_FROM_EMAIL", default="orchestrate@localhost")

REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "rest_framework.authentication.TokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_PAGINATION_CLASS": "rest_framework.pagination.PageNumberPagination",
    "PAGE_SIZE": 50,
    "DEFAULT_FILTER_BACKENDS": ["django_filters.rest_framework.DjangoFilterBackend"],
    # drf-spectacular's, with the error bodies of orchestrate.api.schema.
    "DEFAULT_SCHEMA_CLASS": "orchestrate.api.schema.OrchestrateAutoSchema",
}
SPECTACULAR_SETTINGS = {
    "TITLE": "Orchestrate API",
    "VERSION": "1",
    "SERVE_INCLUDE_SCHEMA": False,
    # Tags and operation ids come from the path after this prefix (instances, tasks...).
    "SCHEMA_PATH_PREFIX": r"/api/v1",
    "DESCRIPTION": (
        "Start and watch workflow instances, deliver messages, and work on tasks. "
        "Authenticate with `Authorization: Token <key>` (a key from your profile page) "
        "or a browser session. Lists are paginated with `page` and `page_size`."
    ),
    # Swagger UI and Redoc come from drf-spectacular-sidecar's static files: no CDN.
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "TAGS": [
        {"name": "instances", "description": "Start, read and cancel workflow instances."},
        {"name": "tasks", "description": "The inbox: list, claim, decide and delegate tasks."},
        {"name": "messages", "description": "Deliver messages that waiting instances expect."},
        {"name": "events", "description": "Receive CloudEvents from other systems."},
        {"name": "demo", "description": "Stand-ins for external systems of the demo."},
    ],
    "ENUM_NAME_OVERRIDES": {
        "TaskStatusEnum": "tasks_inbox.models.TaskStatus",
        "TaskKindEnum": "tasks_inbox.models.TaskKind",
    },
}

# --- Celery -------------------------------------------------------------------------
# The database is the source of truth; the broker only carries "look at row N" hints.
CELERY_BROKER_URL = env("CELERY_BROKER_URL", default="filesystem://")
if CELERY_BROKER_URL.startswith("filesystem://"):
    _broker_dir = VAR_DIR / "broker"
    for _sub in ("queue", "processed", "control"):
        (_broker_dir / _sub).mkdir(parents=True, exist_ok=True)
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "data_folder_in": str(_broker_dir / "queue"),
        "data_folder_out": str(_broker_dir / "queue"),
        "processed_folder": str(_broker_dir / "processed"),
        "control_folder": str(_broker_dir / "control"),
        "store_processed": False,
        # The default of 1 s would make every automated step wait a second.
        "polling_interval": 0.05,
    }
else:
    CELERY_BROKER_TRANSPORT_OPTIONS = {"visibility_timeout": 3600}
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_IGNORE_RESULT = True
CELERY_TASK_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_BROKER_CONNECTION_TIMEOUT = 2
# A request must not hang when the broker is down: the step-run row is the outbox and
# the sweep sends what could not be sent now.
CELERY_TASK_PUBLISH_RETRY = True
CELERY_TASK_PUBLISH_RETRY_POLICY = {
    "max_retries": 1,
    "interval_start": 0,
    "interval_step": 0.2,
    "interval_max": 0.2,
}
CELERY_WORKER_HIJACK_ROOT_LOGGER = False

# --- Orchestrate --------------------------------------------------------------------
ORCHESTRATE_SWEEP_SECONDS = env.float("ORCHESTRATE_SWEEP_SECONDS", default=2.0)
# A worker holds a taken automated step this long; after that the sweep hands it to
# another worker (the first one is presumed dead).
ORCHESTRATE_STEP_LEASE_SECONDS = env.int("ORCHESTRATE_STEP_LEASE_SECONDS", default=300)
# A dispatched row that no worker took within this time is sent again.
ORCHESTRATE_REDISPATCH_SECONDS = env.int("ORCHESTRATE_REDISPATCH_SECONDS", default=30)
# How many times a step may be lost by dying workers before it becomes an incident.
ORCHESTRATE_MAX_LOST_ATTEMPTS = env.int("ORCHESTRATE_MAX_LOST_ATTEMPTS", default=3)
ORCHESTRATE_SWEEP_BATCH = env.int("ORCHESTRATE_SWEEP_BATCH", default=500)
# Modules imported at start-up that register custom actions with @register_action.
ORCHESTRATE_ACTION_MODULES = env.list("ORCHESTRATE_ACTION_MODULES", default=[])
ORCHESTRATE_BASE_URL = env("ORCHESTRATE_BASE_URL", default="http://127.0.0.1:8000")
# Outbound webhooks (docs/integrations.md): the HTTP timeout of one attempt, the lease a
# worker holds a delivery for (then the sweep takes it back), attempts before a delivery
# fails, the backoff (doubling from BACKOFF up to MAX_BACKOFF seconds), and how old a
# process's snapshot of the active subscriptions may get before it is reloaded.
ORCHESTRATE_WEBHOOK_TIMEOUT_SECONDS = env.float("ORCHESTRATE_WEBHOOK_TIMEOUT_SECONDS", default=10.0)
ORCHESTRATE_WEBHOOK_LEASE_SECONDS = env.int("ORCHESTRATE_WEBHOOK_LEASE_SECONDS", default=60)
ORCHESTRATE_WEBHOOK_MAX_ATTEMPTS = env.int("ORCHESTRATE_WEBHOOK_MAX_ATTEMPTS", default=8)
ORCHESTRATE_WEBHOOK_BACKOFF_SECONDS = env.float("ORCHESTRATE_WEBHOOK_BACKOFF_SECONDS", default=10.0)
ORCHESTRATE_WEBHOOK_MAX_BACKOFF_SECONDS = env.float(
    "ORCHESTRATE_WEBHOOK_MAX_BACKOFF_SECONDS", default=3600.0
)
ORCHESTRATE_WEBHOOK_REFRESH_SECONDS = env.float("ORCHESTRATE_WEBHOOK_REFRESH_SECONDS", default=10.0)
# Fernet keys (comma-separated; the first encrypts, all decrypt) for the secrets stored in
# the database (webhook secrets, orchestrate.secret_box); empty: derived from SECRET_KEY.
ORCHESTRATE_SECRETS_KEYS = env.list("ORCHESTRATE_SECRETS_KEYS", default=[])

# --- Observability -------------------------------------------------------------------
# json: one JSON object a line with instance_id, step_key, step_run_id and task_id where
# known (production, the default without DEBUG); plain: readable lines (`make run`).
LOG_FORMAT = env("LOG_FORMAT", default="plain" if DEBUG else "json")
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {"context": {"()": "orchestrate.observability.logging.ContextFilter"}},
    "formatters": {
        "plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s%(context)s"},
        "json": {"()": "orchestrate.observability.logging.JsonFormatter"},
    },
    "handlers": {
        "console": {
            "class": "logging.StreamHandler",
            "formatter": LOG_FORMAT,
            "filters": ["context"],
        }
    },
    "root": {"handlers": ["console"], "level": env("LOG_LEVEL", default="INFO")},
}
# `/metrics` wants `Authorization: Bearer <METRICS_TOKEN>`; when it is empty, only
# requests from this machine and staff sessions may read it.
METRICS_TOKEN = env("METRICS_TOKEN", default="")
# Step durations and retries in `/metrics` cover step runs that ended this recently,
# among the newest ORCHESTRATE_METRICS_STEP_RUNS step runs (a primary-key range scan).
ORCHESTRATE_METRICS_WINDOW_SECONDS = env.int("ORCHESTRATE_METRICS_WINDOW_SECONDS", default=3600)
ORCHESTRATE_METRICS_STEP_RUNS = env.int("ORCHESTRATE_METRICS_STEP_RUNS", default=50000)
# How long the approve/reject links in assignment mails work (each works once).
ORCHESTRATE_ACTION_LINK_HOURS = env.int("ORCHESTRATE_ACTION_LINK_HOURS", default=72)
