"""Helpers of the threaded race tests (tests/*/test_concurrency.py)."""

import threading

from django.db import close_old_connections, connection


def run_together(*targets) -> list[BaseException]:
    """Run the callables in threads started together (a barrier); the errors they raised."""
    barrier = threading.Barrier(len(targets))
    errors: list[BaseException] = []

    def work(target):
        try:
            barrier.wait(timeout=30)
            target()
        except Exception as exc:  # noqa: BLE001 (reported by the test)
            errors.append(exc)
        finally:
            connection.close()  # this thread's own connection

    threads = [threading.Thread(target=work, args=(t,)) for t in targets]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert not any(t.is_alive() for t in threads), "a thread did not finish"
    close_old_connections()
    return errors


def pg_sleep(seconds: float) -> None:
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_sleep(%s)", [seconds])
