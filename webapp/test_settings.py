"""Settings for the test suite: the real ones, with a broker database of its own and fast hashing."""

import os
import secrets

# A key of the test run's own (never the public one); processes the tests start inherit it.
os.environ.setdefault("REDLINE_SECRET_KEY", "tests-" + secrets.token_urlsafe(32))

from webapp.settings import *  # noqa: E402, F403

CELERY_BROKER_URL = os.environ.get("REDLINE_TEST_BROKER_URL", "redis://127.0.0.1:6379/15")
# The tests' tiny models are random: the lexicon guard would stop nearly all they write, and the
# loop's tests need proposals. Tests of the guard on the app's path turn it back on.
REDLINE_LEXICON_GUARD = False
# Likewise the word lists' fixes would add edits the loop's tests do not expect; tests of them turn them on.
REDLINE_WORD_LIST_FIXES = False
# The tests' random models revise a few of the gate's everyday sentences, not 200.
REDLINE_GATE_EVERYDAY_SENTENCES = 6
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}
CACHES = {
    "default": {
        "BACKEND": "webapp.core.cache.ResilientRedisCache",
        "LOCATION": os.environ.get("REDLINE_TEST_CACHE_URL", "redis://127.0.0.1:6379/14"),
        "OPTIONS": {"socket_connect_timeout": 1, "socket_timeout": 2},
    }
}
# Throttling is tested with its own low rates (tests/core/test_security.py); elsewhere tests post fast.
REDLINE_RATE_LIMITS = {"login": "100000/60", "queue": "100000/60"}
