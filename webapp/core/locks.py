"""Postgres session-level advisory locks.

A worker holds one for as long as it works on a row. If the worker process dies, its
connection closes and Postgres releases the lock, so a redelivered task can tell a live
run (lock taken) from a dead one (lock free, row still marked as running) and take over.
"""

import zlib
from contextlib import contextmanager

from django.db import connection


def _namespace_key(namespace: str) -> int:
    # Postgres's two-key form takes two int4: a stable 31-bit hash of the namespace, and the id.
    return zlib.crc32(namespace.encode()) & 0x7FFFFFFF


@contextmanager
def advisory_lock(namespace: str, key: int):
    """Try to take the lock without waiting; yields True if this session holds it."""
    ns = _namespace_key(namespace)
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_try_advisory_lock(%s, %s)", [ns, key])
        acquired = cursor.fetchone()[0]
    try:
        yield acquired
    finally:
        if acquired:
            with connection.cursor() as cursor:
                cursor.execute("SELECT pg_advisory_unlock(%s, %s)", [ns, key])


def advisory_xact_lock(namespace: str, key: int) -> None:
    """Take a transaction-level advisory lock, waiting for it; Postgres releases it at commit or
    rollback. Call inside a transaction: it serialises requests that must not race (the same
    double-click token, say)."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_advisory_xact_lock(%s, %s)", [_namespace_key(namespace), key])
