"""Django settings. Everything a deployment changes comes from the environment (README table)."""

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


def env_int(name: str, default: int) -> int:
    return int(os.environ.get(name, default))


DEBUG = env_bool("REDLINE_DEBUG", False)
# The key signs sessions, CSRF tokens and password-reset links: REDLINE_SECRET_KEY, else the file
# REDLINE_SECRET_KEY_FILE (`./dev up` and `./dev test` write a random one to var/secret_key once and
# keep it). Without either, only debug runs start, on a key that is printed nowhere else.
SECRET_KEY_FILE = Path(os.environ.get("REDLINE_SECRET_KEY_FILE", BASE_DIR / "var" / "secret_key"))
SECRET_KEY = os.environ.get("REDLINE_SECRET_KEY", "").strip()
if not SECRET_KEY and SECRET_KEY_FILE.is_file():
    SECRET_KEY = SECRET_KEY_FILE.read_text(encoding="utf-8").strip()
if not SECRET_KEY:
    if not DEBUG:
        raise ImproperlyConfigured(
            f"No secret key: set REDLINE_SECRET_KEY, or write one to {SECRET_KEY_FILE} "
            "(./dev up does it once: python -c 'import secrets; print(secrets.token_urlsafe(50))')."
        )
    SECRET_KEY = "redline-debug-only-key"
ALLOWED_HOSTS = os.environ.get("REDLINE_ALLOWED_HOSTS", "localhost,127.0.0.1,[::1]").split(",")
CSRF_TRUSTED_ORIGINS = [o for o in os.environ.get("REDLINE_CSRF_TRUSTED_ORIGINS", "").split(",") if o]

# Behind TLS (README, "Deploying behind TLS"): REDLINE_TLS=1 sends HSTS, redirects plain HTTP and
# marks the cookies secure; REDLINE_PROXY_SSL_HEADER=1 trusts the proxy's X-Forwarded-Proto (set it
# only when a proxy that always sets that header is the only way in).
REDLINE_TLS = env_bool("REDLINE_TLS", False)
SECURE_SSL_REDIRECT = REDLINE_TLS
SESSION_COOKIE_SECURE = CSRF_COOKIE_SECURE = REDLINE_TLS
SECURE_HSTS_SECONDS = env_int("REDLINE_HSTS_SECONDS", 31_536_000) if REDLINE_TLS else 0
SECURE_HSTS_INCLUDE_SUBDOMAINS = env_bool("REDLINE_HSTS_INCLUDE_SUBDOMAINS", True)
SECURE_HSTS_PRELOAD = env_bool("REDLINE_HSTS_PRELOAD", False)
if env_bool("REDLINE_PROXY_SSL_HEADER", False):
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = CSRF_COOKIE_SAMESITE = "Lax"
SESSION_COOKIE_AGE = env_int("REDLINE_SESSION_SECONDS", 14 * 24 * 3600)
X_FRAME_OPTIONS = "DENY"
# Messages live in the session, never in a cookie of their own that a client could write.
MESSAGE_STORAGE = "django.contrib.messages.storage.session.SessionStorage"
# Content-Security-Policy (webapp.core.middleware.SecurityHeadersMiddleware): scripts and styles
# from this origin only, htmx without eval; style attributes (progress bars' widths) allowed.
REDLINE_CONTENT_SECURITY_POLICY = os.environ.get(
    "REDLINE_CONTENT_SECURITY_POLICY",
    "default-src 'self'; script-src 'self'; style-src 'self'; style-src-attr 'unsafe-inline'; "
    "img-src 'self' data:; font-src 'self'; connect-src 'self'; object-src 'none'; base-uri 'none'; "
    "form-action 'self'; frame-ancestors 'none'",
)

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django_htmx",
    "template_partials",
    "rest_framework",
    "rest_framework.authtoken",
    "drf_spectacular",
    "webapp.accounts",
    "webapp.core",
    "webapp.registry",
    "webapp.training",
    "webapp.writing",
    "webapp.coding",
    "webapp.preferences",
    "webapp.demo",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "webapp.core.middleware.RefuseLoneSurrogatesMiddleware",  # form data decoded to lone surrogates: 400
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "webapp.core.middleware.VaryOnHtmxMiddleware",
    "webapp.core.middleware.SecurityHeadersMiddleware",
    "webapp.core.throttling.ThrottleMiddleware",
]

ROOT_URLCONF = "webapp.urls"
WSGI_APPLICATION = "webapp.wsgi.application"

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
    }
]

DATABASES = {
    "default": dj_database_url.parse(
        os.environ.get("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/redline"),
        conn_max_age=env_int("REDLINE_DB_CONN_MAX_AGE", 60),
        # A kept connection is checked before each request reuses it, so that a restarted
        # Postgres costs no request an error once it is back.
        conn_health_checks=True,
    )
}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTHENTICATION_BACKENDS = ["webapp.accounts.security.LockoutBackend"]  # ModelBackend, with the lockout
AUTH_USER_MODEL = "accounts.User"  # Redline's own, on Django's tables (webapp/accounts/models.py)
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator", "OPTIONS": {"min_length": 10}},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "writing:document_list"
LOGOUT_REDIRECT_URL = "login"

LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = BASE_DIR / "var" / "static"
# htmx comes from the npm registry at setup (package.json), never copied into the repo.
STATICFILES_DIRS = [BASE_DIR / "static", ("vendor/htmx", BASE_DIR / "node_modules" / "htmx.org" / "dist")]
WHITENOISE_USE_FINDERS = True

# A pasted 1 MB document must reach the form so that it can be refused with a clear message.
DATA_UPLOAD_MAX_MEMORY_SIZE = 8 * 1024 * 1024
FILE_UPLOAD_MAX_MEMORY_SIZE = 8 * 1024 * 1024

REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "webapp.core.authentication.ExpiringTokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    # DRF's, but JSON nested too deep, lone surrogates, NaN, and limits or offsets out of range are a 400.
    "DEFAULT_PARSER_CLASSES": [
        "webapp.core.parsers.CheckedJSONParser",
        "rest_framework.parsers.FormParser",
        "rest_framework.parsers.MultiPartParser",
    ],
    "DEFAULT_PAGINATION_CLASS": "webapp.core.pagination.CheckedLimitOffsetPagination",
    "PAGE_SIZE": 50,
}
SPECTACULAR_SETTINGS = {
    "TITLE": "Redline API",
    "DESCRIPTION": "Documents, iterations, edit proposals and decisions: drive the writing loop from a script.",
    "VERSION": "1",
    "SERVE_INCLUDE_SCHEMA": False,
}

# Sessions are read from Redis on every request and written through to Postgres, so a
# restart of Redis logs nobody out.
CACHES = {
    "default": {
        "BACKEND": "webapp.core.cache.ResilientRedisCache",
        "LOCATION": os.environ.get("REDLINE_CACHE_URL", "redis://127.0.0.1:6379/1"),
        # A Redis that is down costs a request at most this long, not a hung worker.
        "OPTIONS": {"socket_connect_timeout": 1, "socket_timeout": 2},
    }
}
SESSION_ENGINE = "django.contrib.sessions.backends.cached_db"

# Celery: `default` for light work, `gpu` for generation and training.
CELERY_BROKER_URL = os.environ.get("CELERY_BROKER_URL", "redis://127.0.0.1:6379/0")
CELERY_RESULT_BACKEND = None
CELERY_TASK_IGNORE_RESULT = True
CELERY_TASK_DEFAULT_QUEUE = "default"
CELERY_TASK_ROUTES = {
    "webapp.writing.tasks.*": {"queue": "gpu"},
    "webapp.training.tasks.train_run": {"queue": "gpu"},
    "webapp.training.tasks.evaluate_version": {"queue": "gpu"},
    "webapp.training.tasks.check_retrain_policy": {"queue": "default"},
    "webapp.coding.tasks.generate_coding_iteration": {"queue": "gpu"},
    "webapp.coding.tasks.execute_coding_iteration": {"queue": "default"},
    "webapp.preferences.tasks.generate_comparisons": {"queue": "gpu"},
}
# Periodic upkeep, so that no page has to write while it reads (the worker runs beat: `worker -B`).
CELERY_BEAT_SCHEDULE = {
    "fail-abandoned-training-runs": {"task": "webapp.training.tasks.fail_abandoned_runs", "schedule": 60.0},
    # Tasks whose sending failed while the broker was unreachable (webapp/core/queue.py).
    "send-unsent-tasks": {
        "task": "webapp.core.tasks.send_unsent_tasks",
        "schedule": float(os.environ.get("REDLINE_RESEND_SECONDS", "30")),
    },
}
CELERY_TASK_ACKS_LATE = True
# Task events, for `celery events` and Flower.
CELERY_WORKER_SEND_TASK_EVENTS = True
CELERY_TASK_SEND_SENT_EVENT = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_SOFT_TIME_LIMIT = env_int("REDLINE_TASK_SOFT_TIME_LIMIT", 1800)
CELERY_TASK_TIME_LIMIT = env_int("REDLINE_TASK_TIME_LIMIT", 1900)
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_WORKER_HIJACK_ROOT_LOGGER = False

# Models and the writing loop.
# The built-in editor ships with the project (python -m inference.editor_train rebuilds it).
REDLINE_BUILTIN_MODEL = BASE_DIR / "inference" / "weights" / "redline-editor"
REDLINE_DEFAULT_MODEL = os.environ.get("REDLINE_MODEL", str(REDLINE_BUILTIN_MODEL))
REDLINE_MAX_DEPTH = env_int("REDLINE_MAX_DEPTH", 5)
REDLINE_MAX_DOCUMENT_CHARS = env_int("REDLINE_MAX_DOCUMENT_CHARS", 200_000)
REDLINE_GENERATION_BATCH_SIZE = env_int("REDLINE_GENERATION_BATCH_SIZE", 32)
# The promotion gate's everyday-prose check (webapp.training.services.everyday_figures): how many
# sentences of the everyday suite's tuning half each evaluated editor revises (all 449: about 10 s on 2
# CPUs; fewer make a 1-point tolerance a single sentence).
REDLINE_GATE_EVERYDAY_SENTENCES = env_int("REDLINE_GATE_EVERYDAY_SENTENCES", 449)
# Each writer's preference model (inference/preference_model.py), trained on their decisions when a
# round is generated: edits they would accept with a lower probability than the threshold are not
# proposed. REDLINE_PREFERENCE_MODEL=0 proposes them all.
REDLINE_PREFERENCE_MODEL = env_bool("REDLINE_PREFERENCE_MODEL", True)
# Whether the preference model also reads the sentence's MiniLM embedding (what kind of sentence it
# is), besides the edit's own features.
REDLINE_PREFERENCE_EMBEDDING = env_bool("REDLINE_PREFERENCE_EMBEDDING", True)
REDLINE_PREFERENCE_THRESHOLD = float(os.environ.get("REDLINE_PREFERENCE_THRESHOLD", "0.3"))
# The writer's own respellings (inference/corrections.py): a misspelt word they corrected by hand
# before is proposed corrected the next time, whatever the model says. 0: only the model proposes.
REDLINE_WRITER_CORRECTIONS = env_bool("REDLINE_WRITER_CORRECTIONS", True)
# The lexicon guard (inference/edit_kinds.py): no proposed edit writes a word that is not English
# nor elsewhere in the document, and a grammar fix rewords a correct word only when the model is
# sure. On for every model; REDLINE_LEXICON_GUARD=0 proposes whatever the model writes.
REDLINE_LEXICON_GUARD = env_bool("REDLINE_LEXICON_GUARD", True)
# Under "Fix grammar", the word lists' fixes for words the model left (inference/word_list_fixes.py):
# respellings of words no list has, capitals of names, a/an and a few sure patterns ("should of").
# REDLINE_WORD_LIST_FIXES=0 proposes the model's edits only.
REDLINE_WORD_LIST_FIXES = env_bool("REDLINE_WORD_LIST_FIXES", True)
# The code model (id or local path). The default is a tiny one that `./dev up` trains in half a
# minute on ten small problems (inference/tiny_code.py): enough to try the loop offline. Point it
# at a real code model for real work, e.g. REDLINE_CODE_MODEL=Qwen/Qwen2.5-Coder-1.5B-Instruct.
REDLINE_BUILTIN_CODE_MODEL = BASE_DIR / "var" / "models" / "tiny-code"
REDLINE_CODE_MODEL = os.environ.get("REDLINE_CODE_MODEL", str(REDLINE_BUILTIN_CODE_MODEL))
# Code proposals: how many candidates and tests a round asks for, and the sandbox that runs them
# (inference/sandbox). When bubblewrap's isolation cannot be confirmed the sandbox refuses to run
# model code, unless REDLINE_SANDBOX_ALLOW_WEAK says a weaker mode (rlimits and a temp dir only) is fine.
REDLINE_CODING_CANDIDATES = env_int("REDLINE_CODING_CANDIDATES", 4)
REDLINE_CODING_TESTS = env_int("REDLINE_CODING_TESTS", 4)
REDLINE_SANDBOX_ALLOW_WEAK = env_bool("REDLINE_SANDBOX_ALLOW_WEAK", False)
REDLINE_SANDBOX_CPU_SECONDS = float(os.environ.get("REDLINE_SANDBOX_CPU_SECONDS", 2))
REDLINE_SANDBOX_WALL_SECONDS = float(os.environ.get("REDLINE_SANDBOX_WALL_SECONDS", 5))
REDLINE_SANDBOX_MEMORY_MB = env_int("REDLINE_SANDBOX_MEMORY_MB", 512)
REDLINE_SANDBOX_WORKERS = env_int("REDLINE_SANDBOX_WORKERS", 2)
# Retraining: run artifacts (adapters, fine-tuned models) go under this directory.
REDLINE_MODEL_DIR = os.environ.get("REDLINE_MODEL_DIR", str(BASE_DIR / "var" / "models"))
REDLINE_TRAINING_SOFT_TIME_LIMIT = env_int("REDLINE_TRAINING_SOFT_TIME_LIMIT", 6 * 3600)
REDLINE_TRAINING_TIME_LIMIT = env_int("REDLINE_TRAINING_TIME_LIMIT", 6 * 3600 + 300)
# Redis redelivers a task not acknowledged within the visibility timeout (acks are late, so that
# is a task still running): it must outlast the longest task, a training run, or that run would be
# started a second time while the first still trains.
CELERY_BROKER_TRANSPORT_OPTIONS = {"visibility_timeout": REDLINE_TRAINING_TIME_LIMIT + 3600}

# Throttling (webapp/core/throttling.py): "count/seconds" per user and per client address.
# login: sign-in and token attempts; queue: requests that queue generation, training or execution.
REDLINE_RATE_LIMITS = {
    "login": os.environ.get("REDLINE_RATE_LOGIN", "30/300"),
    "queue": os.environ.get("REDLINE_RATE_QUEUE", "120/60"),
}
# After this many failed sign-ins for one username, that account's sign-in is refused (even with the
# right password) until REDLINE_LOGIN_LOCKOUT_SECONDS have passed since the last failure.
REDLINE_LOGIN_FAILURES_BEFORE_LOCKOUT = env_int("REDLINE_LOGIN_FAILURES_BEFORE_LOCKOUT", 10)
REDLINE_LOGIN_LOCKOUT_SECONDS = env_int("REDLINE_LOGIN_LOCKOUT_SECONDS", 900)
# API tokens expire this many days after they are issued; POST /api/token/ issues a new one.
REDLINE_TOKEN_TTL_DAYS = env_int("REDLINE_TOKEN_TTL_DAYS", 30)
# Behind a proxy, the client address is the last one it appends to X-Forwarded-For.
REDLINE_BEHIND_PROXY = env_bool("REDLINE_BEHIND_PROXY", False)

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": os.environ.get("REDLINE_LOG_LEVEL", "INFO")},
}
