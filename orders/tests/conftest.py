import pytest
from django.core.cache import cache

from conftest import api_client_for


@pytest.fixture(autouse=True)
def _fresh_throttle_counts():
    """Throttle counters live in the cache, which outlives a test; start each test at zero."""
    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def nobody(make_user):
    """An authenticated user in no group."""
    return make_user()


@pytest.fixture
def clients(api, nobody):
    """api plus "nobody" (a user with no group) and "anonymous" (no credentials)."""
    return {**api, "nobody": api_client_for(nobody), "anonymous": api_client_for(None)}
