"""One settings module for every environment; differences come in through environment variables.

Safe local defaults (SQLite under var/, Celery eager, console mail) let `make run` work with no
.env at all. Production must set SECRET_KEY and turn DEBUG off; see .env.example.
"""

import os
from email.utils import getaddresses
from pathlib import Path

import dj_database_url
from csp.constants import NONCE, NONE, SELF
from django.core.exceptions import ImproperlyConfigured

from tracker.feeds.sources import beat_schedule

BASE_DIR = Path(__file__).resolve().parent.parent


def env_str(name: str, default: str = "") -> str:
    """A string setting; a NAME_FILE variable (Docker secrets) wins over NAME."""
    secret_file = os.environ.get(f"{name}_FILE")
    if secret_file:
        return Path(secret_file).read_text().strip()
    return os.environ.get(name, default)


def env_bool(name: str, default: bool) -> bool:
    value = os.environ.get(name)
    if value is None or value == "":
        return default
    if value.lower() in {"1", "true", "yes", "on"}:
        return True
    if value.lower() in {"0", "false", "no", "off"}:
        return False
    raise ImproperlyConfigured(f"{name} must be true or false, not {value!r}")


def env_int(name: str, default: int) -> int:
    value = os.environ.get(name, "")
    try:
        return int(value) if value else default
    except ValueError:
        raise ImproperlyConfigured(f"{name} must be a whole number, not {value!r}") from None


def env_list(name: str, default: str) -> list[str]:
    return [item.strip() for item in os.environ.get(name, default).split(",") if item.strip()]


# Core
DEBUG = env_bool("DEBUG", True)
INSECURE_DEFAULT_SECRET_KEY = "django-insecure-local-demo-key-never-use-in-production"
# An empty SECRET_KEY (docker compose passes one when .env has none) counts as unset.
SECRET_KEY = env_str("SECRET_KEY", "") or INSECURE_DEFAULT_SECRET_KEY
if not DEBUG and SECRET_KEY == INSECURE_DEFAULT_SECRET_KEY:
    # A production deploy that forgot its key would sign sessions and unsubscribe links with a
    # key anyone can read on GitHub; refuse to start instead.
    raise ImproperlyConfigured("SECRET_KEY must be set when DEBUG is off.")
ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", "localhost,127.0.0.1,[::1]" if DEBUG else "")
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS", "")
SITE_URL = env_str("SITE_URL", "http://127.0.0.1:8000").rstrip("/")
# Which negotiation the pages follow (a slug); empty means the most recently created one.
CURRENT_NEGOTIATION = env_str("CURRENT_NEGOTIATION", "")
# Demo mode creates the demo users with a printed password; never on a real deployment.
DEMO_MODE = env_bool("DEMO_MODE", DEBUG)
DEMO_PASSWORD = env_str("DEMO_PASSWORD", "negotiate-2024")

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    # Full-text and trigram lookups for the search box (tracker/search.py) on PostgreSQL.
    "django.contrib.postgres",
    "django_htmx",
    "template_partials",
    "simple_history",
    "csp",
    "allauth",
    "allauth.account",
    "allauth.mfa",
    "tracker",
]

MIDDLEWARE = [
    # Outermost, so every response carries the request's id and every log line of the request
    # (the 500 included) names it and its user; one JSON line per request.
    "tracker.logs.RequestLogMiddleware",
    # The middleware setting security headers comes next. When a middleware raises, Django
    # turns the exception into a 500 there and only the middleware listed before it sees that
    # response: a 500 from the session store (database down) still gets every header.
    "csp.middleware.CSPMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django.middleware.security.SecurityMiddleware",
    # /healthz and /readyz, answered inside the header middlewares (so they carry every security
    # header) and before anything reads the Host header: a probe asks by the pod's address.
    "tracker.views.health.ProbeMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "tracker.middleware.SessionLifetimeMiddleware",
    "allauth.account.middleware.AccountMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "tracker.middleware.HtmxLoginRedirectMiddleware",
    "tracker.middleware.AdminsNeedTwoFactorMiddleware",
    "simple_history.middleware.HistoryRequestMiddleware",
]

ROOT_URLCONF = "tracker.urls"
WSGI_APPLICATION = "tracker.wsgi.application"
ASGI_APPLICATION = "tracker.asgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        # template_partials wraps the loaders itself when APP_DIRS is off and loaders are unset.
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "csp.context_processors.nonce",
                "tracker.page_cache.stamp_context",
            ],
            "builtins": [
                "template_partials.templatetags.partials",
                "tracker.templatetags.tracker",
            ],
        },
    }
]

# Database: DATABASE_URL, or a SQLite file under var/ for the demo. DATABASE_POOL says how
# PostgreSQL connections are shared (README, "Deploying on several machines"):
#   ""          each process keeps one connection open for DATABASE_CONN_MAX_AGE seconds;
#   "psycopg"   Django's psycopg pool, up to DATABASE_POOL_MAX_SIZE connections per process;
#   "pgbouncer" DATABASE_URL names a PgBouncer in transaction mode: a server connection is
#               lent per transaction, so no server-side cursors (Django already turns psycopg's
#               prepared statements off) and no connection kept by the app.
(BASE_DIR / "var").mkdir(exist_ok=True)
DATABASE_POOL = env_str("DATABASE_POOL", "")
if DATABASE_POOL not in {"", "psycopg", "pgbouncer"}:
    raise ImproperlyConfigured(f"DATABASE_POOL must be psycopg or pgbouncer, not {DATABASE_POOL!r}")
DATABASES = {
    "default": dj_database_url.parse(
        env_str("DATABASE_URL", f"sqlite:///{BASE_DIR / 'var' / 'tracker.sqlite3'}"),
        conn_max_age=0 if DATABASE_POOL else env_int("DATABASE_CONN_MAX_AGE", 60),
        conn_health_checks=True,
    )
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql":
    _db_options = DATABASES["default"].setdefault("OPTIONS", {})
    # A database that does not answer fails the request within seconds (a 503, see
    # tracker/views/health.py) instead of holding the worker for the system's TCP timeout.
    _db_options.setdefault("connect_timeout", env_int("DATABASE_CONNECT_TIMEOUT", 3))
    if DATABASE_POOL == "psycopg":
        _db_options["pool"] = {
            "min_size": env_int("DATABASE_POOL_MIN_SIZE", 1),
            "max_size": env_int("DATABASE_POOL_MAX_SIZE", 4),
            # How long a request waits for a free connection before it fails (a 503).
            "timeout": env_int("DATABASE_POOL_TIMEOUT", 5),
        }
    elif DATABASE_POOL == "pgbouncer":
        DATABASES["default"]["DISABLE_SERVER_SIDE_CURSORS"] = True
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
# Staff accounts: django-allauth (login by username or email, no public sign-up) and its MFA.
AUTHENTICATION_BACKENDS = [
    "django.contrib.auth.backends.ModelBackend",
    "allauth.account.auth_backends.AuthenticationBackend",
]
LOGIN_URL = "account_login"
LOGIN_REDIRECT_URL = "/"
ACCOUNT_ADAPTER = "tracker.accounts.StaffAccountAdapter"
ACCOUNT_FORMS = {
    "add_email": "tracker.accounts.AddEmailForm",
    "change_password": "tracker.accounts.ChangePasswordForm",
}
ACCOUNT_LOGIN_METHODS = {"username", "email"}
ACCOUNT_SIGNUP_FIELDS = ["email*", "username*", "password1*", "password2*"]
# An address staff add is kept only once they type the code mailed to it; until then it can
# neither log in nor receive a password reset. Logging in itself needs no verified address
# (see tracker/accounts.py): the address an Admin gave an account is trusted as it is.
ACCOUNT_EMAIL_VERIFICATION = "mandatory"
ACCOUNT_EMAIL_VERIFICATION_BY_CODE_ENABLED = True
ACCOUNT_UNIQUE_EMAIL = True
# Adding, removing or switching an address and changing the password need a fresh
# reauthentication (password, or the authenticator app for those who have one), as do
# setting up and removing the app itself: a stolen session cookie alone cannot do them.
ACCOUNT_REAUTHENTICATION_REQUIRED = True
MFA_REAUTHENTICATION_REQUIRED = True
ACCOUNT_LOGOUT_ON_GET = False
ACCOUNT_SESSION_REMEMBER = None
ACCOUNT_PASSWORD_RESET_BY_CODE_ENABLED = False
# Failed logins: allauth counts them per client address and per account (whichever of its
# username or addresses was typed) in the cache below, and locks the account out for five
# minutes after five failures.
ACCOUNT_RATE_LIMITS = {
    "login_failed": "10/m/ip,5/5m/key",
    "reset_password": "20/m/ip,5/m/key",
    "change_password": "5/m/user",
}
MFA_SUPPORTED_TYPES = ["totp", "recovery_codes"]
MFA_TOTP_ISSUER = "Negotiation tracker"

# Reverse proxies in front of the app that append the client's address to X-Forwarded-For
# (0: none, the header is ignored). Clients are then counted by the address the outermost of
# them saw, and X-Forwarded-Proto from the proxy says whether the request came over HTTPS.
TRUSTED_PROXY_COUNT = env_int("TRUSTED_PROXY_COUNT", 0)
ALLAUTH_TRUSTED_PROXY_COUNT = TRUSTED_PROXY_COUNT

# Sessions: signed out after SESSION_IDLE_TIMEOUT seconds without a request (2 hours: a desk
# left for lunch in a shared office) and SESSION_MAX_AGE seconds after login however busy
# (12 hours: a working day), by tracker.middleware.SessionLifetimeMiddleware.
SESSION_IDLE_TIMEOUT = env_int("SESSION_IDLE_TIMEOUT", 2 * 60 * 60)
SESSION_MAX_AGE = env_int("SESSION_MAX_AGE", 12 * 60 * 60)
SESSION_COOKIE_AGE = SESSION_MAX_AGE

# Cache: the database, so rate limits and locks survive a Redis outage. allauth keeps its
# failed-login counters and used authenticator codes in the default cache; LockoutCache never
# evicts a live entry (MAX_ENTRIES only says when expired ones are swept).
CACHES = {
    "default": {
        "BACKEND": "tracker.accounts.LockoutCache",
        "LOCATION": "tracker_cache",
    },
    # Page fragments drawn once per change (tracker/page_cache.py): in each process's memory,
    # as they are keyed on the data stamp every node reads from the database. A kept part is
    # 1-100 KB (a House whip board a few hundred): 500 of them bound a process's share to tens
    # of MB; past that the oldest third goes.
    "template_fragments": {
        "BACKEND": "django.core.cache.backends.locmem.LocMemCache",
        "LOCATION": "tracker-fragments",
        "TIMEOUT": env_int("FRAGMENT_CACHE_SECONDS", 300),
        "OPTIONS": {"MAX_ENTRIES": env_int("FRAGMENT_CACHE_ENTRIES", 500)},
    },
}
FRAGMENT_CACHE_SECONDS = CACHES["template_fragments"]["TIMEOUT"]

LANGUAGE_CODE = "en-us"
TIME_ZONE = "America/New_York"
USE_I18N = True
USE_TZ = True

# Static files: vendored assets in static/, served by whitenoise in every environment.
STATIC_URL = "/static/"
STATICFILES_DIRS = [BASE_DIR / "static"]
STATIC_ROOT = Path(env_str("STATIC_ROOT", str(BASE_DIR / "var" / "staticfiles")))
STATIC_ROOT.mkdir(parents=True, exist_ok=True)
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": (
            "django.contrib.staticfiles.storage.StaticFilesStorage"
            if DEBUG
            else "whitenoise.storage.CompressedManifestStaticFilesStorage"
        )
    },
}

# Security: strict whenever DEBUG is off, so `check --deploy` passes on a real deployment.
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SECURE = not DEBUG
CSRF_COOKIE_SECURE = not DEBUG
# The __Host- prefix makes browsers refuse these cookies unless Secure, for this host only and
# for every path, so a sibling subdomain or a plain-HTTP page cannot plant one.
SESSION_COOKIE_NAME = "__Host-sessionid" if SESSION_COOKIE_SECURE else "sessionid"
CSRF_COOKIE_NAME = "__Host-csrftoken" if CSRF_COOKIE_SECURE else "csrftoken"
SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", not DEBUG)
# Probes speak plain HTTP to the pod's address; tracker.views.health.ProbeMiddleware answers them.
SECURE_REDIRECT_EXEMPT = [r"^healthz$", r"^readyz$"]
SECURE_HSTS_SECONDS = env_int("SECURE_HSTS_SECONDS", 0 if DEBUG else 31536000)
SECURE_HSTS_INCLUDE_SUBDOMAINS = not DEBUG
SECURE_HSTS_PRELOAD = not DEBUG
# Only a proxy of ours may say the request came over HTTPS; without one, any client could.
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https") if TRUSTED_PROXY_COUNT else None
SECURE_REFERRER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"

# CSP: same-origin assets only, plus nonces for the rare inline script.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": [SELF],
        "script-src": [SELF, NONCE],
        "style-src": [SELF],
        "img-src": [SELF, "data:"],
        "frame-ancestors": [NONE],
        "form-action": [SELF],
        "base-uri": [NONE],
        "object-src": [NONE],
    }
}

# Email
EMAIL_HOST = env_str("EMAIL_HOST", "")
EMAIL_PORT = env_int("EMAIL_PORT", 25)
EMAIL_HOST_USER = env_str("EMAIL_HOST_USER", "")
EMAIL_HOST_PASSWORD = env_str("EMAIL_HOST_PASSWORD", "")
EMAIL_USE_TLS = env_bool("EMAIL_USE_TLS", False)
EMAIL_TIMEOUT = env_int("EMAIL_TIMEOUT", 20)
DEFAULT_FROM_EMAIL = env_str("DEFAULT_FROM_EMAIL", "Negotiation Tracker <tracker@localhost>")
SERVER_EMAIL = DEFAULT_FROM_EMAIL
# Who is mailed a server error's traceback when DEBUG is off: "Name <address>, ...".
ADMINS = [(name, address) for name, address in getaddresses([env_str("ADMINS", "")]) if address]
# Without an SMTP host (the local demo) mail is printed to the console rather than lost.
EMAIL_BACKEND = env_str(
    "EMAIL_BACKEND",
    "django.core.mail.backends.smtp.EmailBackend"
    if EMAIL_HOST
    else "django.core.mail.backends.console.EmailBackend",
)

# Celery: a real broker when REDIS_URL is set; otherwise tasks run eagerly in-process.
REDIS_URL = env_str("REDIS_URL", "")
CELERY_BROKER_URL = REDIS_URL or "memory://"
CELERY_RESULT_BACKEND = REDIS_URL or None
CELERY_TASK_ALWAYS_EAGER = not REDIS_URL
CELERY_TASK_EAGER_PROPAGATES = True
CELERY_TASK_ACKS_LATE = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
# Processes per worker, each with its own database connection (the budget: README).
CELERY_WORKER_CONCURRENCY = env_int("CELERY_WORKER_CONCURRENCY", 2)
CELERY_TASK_SOFT_TIME_LIMIT = env_int("CELERY_TASK_SOFT_TIME_LIMIT", 300)
CELERY_TASK_TIME_LIMIT = env_int("CELERY_TASK_TIME_LIMIT", 360)
CELERY_TIMEZONE = TIME_ZONE
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
# Periodic jobs, reviewed with the code; hours are Eastern (CELERY_TIMEZONE). The feeds' come
# from their registry (tracker/feeds/sources.py); each job has a management command doing the
# same by hand (refresh_feeds, send_digests).
CELERY_BEAT_SCHEDULE: dict[str, dict] = {
    **beat_schedule(task="tracker.tasks.refresh_feed"),
    # Picks the staff whose digest time has come; each digest is claimed before it is sent.
    "send-due-digests": {"task": "tracker.tasks.send_due_digests", "schedule": 300.0},
}

# Congress.gov and the other congressional feeds (base URLs can point at a loopback server)
CONGRESS_API_KEY = env_str("CONGRESS_API_KEY", "")
CONGRESS_API_BASE_URL = env_str("CONGRESS_API_BASE_URL", "https://api.congress.gov/v3")
SENATE_VOTES_BASE_URL = env_str("SENATE_VOTES_BASE_URL", "https://www.senate.gov/legislative/LIS")
HOUSE_VOTES_BASE_URL = env_str("HOUSE_VOTES_BASE_URL", "https://clerk.house.gov/evs")
LEGISLATORS_URL = env_str(
    "LEGISLATORS_URL",
    "https://unitedstates.github.io/congress-legislators/legislators-current.json",
)
FEED_CONNECT_TIMEOUT = env_int("FEED_CONNECT_TIMEOUT", 10)
FEED_READ_TIMEOUT = env_int("FEED_READ_TIMEOUT", 30)
FEED_MAX_BYTES = env_int("FEED_MAX_BYTES", 20 * 1024 * 1024)
# One download, redirects included, in all: the timeouts above are per read, which a server
# sending a byte every few seconds never trips.
FEED_TOTAL_TIMEOUT = env_int("FEED_TOTAL_TIMEOUT", 60)
# Without REDIS_URL, "Refresh now" runs the refresh inside the web request: it stops after this
# many seconds (and is recorded as failed), well before gunicorn's 30-second worker timeout.
FEED_IN_REQUEST_TIMEOUT = env_int("FEED_IN_REQUEST_TIMEOUT", 15)
# Redirects are followed within the same scheme, host and port only, or to these origins
# ("https://host:port", comma-separated).
FEED_REDIRECT_ALLOWED_ORIGINS = env_list("FEED_REDIRECT_ALLOWED_ORIGINS", "")
# Broker calls made from web requests give up quickly, so no page waits on a hung Redis.
CELERY_BROKER_TRANSPORT_OPTIONS = {
    "socket_connect_timeout": 2,
    "socket_timeout": 2,
    # A task taken by a worker that died (acks_late) goes back to the queue after this many
    # seconds. It must outlast the longest countdown of a retry (FEED_TASK_OPTIONS: 1800 s),
    # or Redis hands a waiting retry to a second worker.
    "visibility_timeout": env_int("CELERY_VISIBILITY_TIMEOUT", 3600),
}
CELERY_BROKER_CONNECTION_TIMEOUT = 2
# The result store (the same Redis) defaults to 120-second socket timeouts retried 20 times: a
# worker storing a result on a hung Redis would be stuck for most of an hour.
CELERY_REDIS_SOCKET_CONNECT_TIMEOUT = 2
CELERY_REDIS_SOCKET_TIMEOUT = 5

# Email digests
DIGEST_DEFAULT_TIME_ZONE = "America/New_York"

# Live pages (dashboard, provision, whip board): how often an open page asks whether anything
# changed; each ask that finds nothing costs one query and a 304.
LIVE_POLL_SECONDS = env_int("LIVE_POLL_SECONDS", 5)

# Logs: one JSON object per line on stderr, stamped in UTC, with the request's id and user or
# the task's id (tracker/logs.py). LOG_FORMAT=plain gives one readable line per record instead.
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {"require_debug_false": {"()": "django.utils.log.RequireDebugFalse"}},
    "formatters": {
        "json": {"()": "tracker.logs.JsonFormatter"},
        "plain": {"()": "tracker.logs.PlainFormatter"},
    },
    "handlers": {
        "console": {"class": "logging.StreamHandler", "formatter": env_str("LOG_FORMAT", "json")},
        "mail_admins": {
            "class": "django.utils.log.AdminEmailHandler",
            "filters": ["require_debug_false"],
            "level": "ERROR",
        },
    },
    "root": {"handlers": ["console"], "level": env_str("LOG_LEVEL", "INFO")},
    "loggers": {
        # Django's own console handler would print its records a second time, unformatted.
        "django": {"handlers": ["mail_admins"], "level": "INFO", "propagate": True},
        # A line per request would bury a run's own progress; the FeedRun records every failure.
        "httpx": {"level": env_str("HTTPX_LOG_LEVEL", "WARNING")},
    },
}

# Errors: sent to Sentry when SENTRY_DSN is set (Django requests and Celery tasks), nothing sent
# otherwise; ADMINS are mailed a server error either way.
SENTRY_DSN = env_str("SENTRY_DSN", "")
if SENTRY_DSN:
    import sentry_sdk
    from sentry_sdk.integrations.celery import CeleryIntegration
    from sentry_sdk.integrations.django import DjangoIntegration

    sentry_sdk.init(
        dsn=SENTRY_DSN,
        integrations=[DjangoIntegration(), CeleryIntegration()],
        environment=env_str("SENTRY_ENVIRONMENT", "production"),
        release=env_str("SENTRY_RELEASE", "") or None,
        traces_sample_rate=float(env_str("SENTRY_TRACES_SAMPLE_RATE", "0") or 0),
        # Staff names, addresses and IP addresses stay out of error reports.
        send_default_pii=False,
    )

# Probes: /readyz gives each of the database, the cache and the broker this many seconds.
READINESS_TIMEOUT = env_int("READINESS_TIMEOUT", 2)
