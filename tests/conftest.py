pytest_plugins = ["tests.fixtures_worker"]

import pytest

from tests.factories import DocumentFactory, UserFactory, iteration_in_review

FIXED_TEXT = "The cat sat on the mat. It was happy."


@pytest.fixture(autouse=True)
def _fresh_cache():
    """Throttle and lockout counts live in the cache: no test inherits another's."""
    from django.core.cache import cache

    cache.clear()


@pytest.fixture
def api_client_factory():
    """APIClient(**environ defaults), e.g. REMOTE_ADDR="10.0.0.1"."""
    from rest_framework.test import APIClient

    return lambda **defaults: APIClient(**defaults)


@pytest.fixture
def writer(db):
    return UserFactory(role="writer")


@pytest.fixture
def other_writer(db):
    return UserFactory(role="writer")


@pytest.fixture
def annotator(db):
    return UserFactory(role="annotator")


@pytest.fixture
def admin_user(db):
    return UserFactory(role="admin")


@pytest.fixture
def document(writer):
    return DocumentFactory(owner=writer)


@pytest.fixture
def review(document):
    """A round in review on `document` with two proposals: the doubled 'the' and 'were'->'was'."""
    return iteration_in_review(document, FIXED_TEXT)


@pytest.fixture
def writer_client(client, writer):
    client.force_login(writer)
    return client
