"""Helpers for webhook tests: real receivers on 127.0.0.1 that verify every signature with the
`standardwebhooks` library, endpoints registered through the real service, and a short retry
schedule. Jobs run on the StubBroker with a real worker (the root `jobs` fixture); worker
threads use their own connections, so delivery tests need committed data."""

import pytest

from webhooks.testing import Receiver


@pytest.fixture(autouse=True)
def _fast_webhooks(settings):
    settings.WEBHOOKS_RETRY_SCHEDULE = [0.05, 0.05, 0.05]
    settings.WEBHOOKS_RETRY_JITTER = 0.1
    settings.WEBHOOKS_TIMEOUT_SECONDS = 5
    settings.WEBHOOKS_ALLOW_PRIVATE_TARGETS = True
    settings.WEBHOOKS_REQUIRE_HTTPS = False
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"


@pytest.fixture
def receiver():
    """receiver(**kwargs) starts one; all are stopped after the test."""
    started = []

    def start(**kwargs) -> Receiver:
        made = Receiver(**kwargs)
        started.append(made)
        return made

    yield start
    for made in started:
        made.stop()


@pytest.fixture
def endpoint_for(users):
    """endpoint_for(receiver, events=[...], owner=users[...]) registers an endpoint through the
    service and tells the receiver its secret."""
    from webhooks.services import endpoint_create

    def make(target, *, events=("*",), owner=None):
        endpoint = endpoint_create(
            actor=owner or users["Integrator"], url=target.url, events=list(events)
        )
        target.secrets.append(endpoint.secret)
        return endpoint

    return make
