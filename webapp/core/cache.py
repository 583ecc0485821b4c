"""The cache, tolerant of Redis going away: sessions are also in Postgres (cached_db) and throttle
counts are a safeguard, so while Redis is down a read misses, a write is dropped and the app goes
on (logged once a minute); redis-py reconnects by itself when Redis is back."""

import logging
import time

from django.core.cache.backends.base import DEFAULT_TIMEOUT
from django.core.cache.backends.redis import RedisCache
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError

logger = logging.getLogger(__name__)
_UNREACHABLE = (RedisConnectionError, RedisTimeoutError, OSError)
_last_warning = 0.0


def _warn(exc: Exception) -> None:
    global _last_warning
    if time.monotonic() - _last_warning > 60:
        _last_warning = time.monotonic()
        logger.warning("the cache (Redis) is unreachable, going on without it: %s", exc)


class ResilientRedisCache(RedisCache):
    def _tolerant(self, method: str, fallback, *args, **kwargs):
        try:
            return getattr(super(), method)(*args, **kwargs)
        except _UNREACHABLE as exc:
            _warn(exc)
            return fallback

    def get(self, key, default=None, version=None):
        return self._tolerant("get", default, key, default, version)

    def get_many(self, keys, version=None):
        return self._tolerant("get_many", {}, keys, version)

    def set(self, key, value, timeout=DEFAULT_TIMEOUT, version=None):
        return self._tolerant("set", None, key, value, timeout, version)

    def set_many(self, data, timeout=DEFAULT_TIMEOUT, version=None):
        return self._tolerant("set_many", list(data), data, timeout, version)

    def add(self, key, value, timeout=DEFAULT_TIMEOUT, version=None):
        return self._tolerant("add", True, key, value, timeout, version)

    def incr(self, key, delta=1, version=None):
        return self._tolerant("incr", 1, key, delta, version)

    def delete(self, key, version=None):
        return self._tolerant("delete", False, key, version)

    def delete_many(self, keys, version=None):
        return self._tolerant("delete_many", None, keys, version)

    def touch(self, key, timeout=DEFAULT_TIMEOUT, version=None):
        return self._tolerant("touch", False, key, timeout, version)

    def has_key(self, key, version=None):
        return self._tolerant("has_key", False, key, version)

    def clear(self):
        return self._tolerant("clear", False)
