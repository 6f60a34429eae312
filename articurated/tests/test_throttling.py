"""Rate limits count requests in fixed windows: one integer per client and window."""

import pytest
from django.core.cache import cache
from rest_framework.throttling import UserRateThrottle as DrfUserRateThrottle

from articurated.api import throttling
from conftest import api_client_for


@pytest.fixture(autouse=True)
def _fresh_cache():
    cache.clear()
    yield
    cache.clear()


def test_a_client_over_its_rate_waits_for_the_next_window(make_user, monkeypatch):
    # given 3 requests a minute per user, and a clock we move by hand
    monkeypatch.setattr(DrfUserRateThrottle, "THROTTLE_RATES", {"user": "3/minute", "anon": None})
    now = [60 * 16_667 + 20.0]  # 20 s into a window
    monkeypatch.setattr(throttling.UserRateThrottle, "timer", lambda self: now[0])
    client = api_client_for(make_user("Support"))
    other = api_client_for(make_user("Manager"))

    # when
    statuses = [client.get("/api/v1/orders").status_code for _ in range(4)]
    others = other.get("/api/v1/orders").status_code
    throttled = client.get("/api/v1/orders")
    now[0] += 40  # the next window
    later = client.get("/api/v1/orders").status_code

    # then
    assert statuses == [200, 200, 200, 429]
    assert others == 200
    error = throttled.json()["error"]
    assert error["code"] == "THROTTLED" and error["details"]["retry_after"] == 40
    assert throttled["Retry-After"] == "40"
    assert later == 200


def test_the_cache_holds_a_count_not_a_list_of_request_times(make_user, monkeypatch):
    # DRF's own throttle stores every request time: at a high rate that list is what grows.
    monkeypatch.setattr(DrfUserRateThrottle, "THROTTLE_RATES", {"user": "1000/minute"})
    # One window for all 25 requests, however slow the machine (a minute boundary would split
    # the count in two).
    monkeypatch.setattr(throttling.UserRateThrottle, "timer", lambda self: 1_800_000_000.0)
    user = make_user("Support")
    client = api_client_for(user)
    for _ in range(25):
        client.get("/api/v1/orders")

    keys = [key.split(":", 2)[2] for key in cache._cache if f"throttle_user_{user.pk}:" in key]
    stored = [cache.get(key) for key in keys]
    assert stored == [25]
