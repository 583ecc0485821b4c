"""Fixtures that start real processes (a Celery worker) and build tiny models. Filled in by the e2e work."""
