"""The SSRF guard (PRODUCT.md "Webhooks"): with private targets off (production), URLs whose
host is or resolves to a private, loopback or link-local address are refused when registered
and again when sent (checked on the address resolved then, and the connection goes there)."""

import pytest

from webhooks.models import Delivery, DeliveryStatus
from webhooks.targets import TargetRefused, target_resolve


@pytest.fixture
def production(settings):
    settings.WEBHOOKS_ALLOW_PRIVATE_TARGETS = False
    settings.WEBHOOKS_REQUIRE_HTTPS = True


@pytest.mark.parametrize(
    "url",
    [
        "https://10.0.0.1/hook",
        "https://169.254.169.254/latest/meta-data/",
        "https://localhost/hook",  # a name resolving to 127.0.0.1
        "https://127.0.0.1:8443/hook",
        "https://[::1]/hook",
        "https://[::ffff:10.0.0.1]/hook",
        "https://192.168.1.20/hook",
        "https://100.64.0.1/hook",
        "https://0.0.0.0/hook",
    ],
)
def test_production_refuses_private_loopback_and_link_local_targets(production, url):
    with pytest.raises(TargetRefused, match="not allowed"):
        target_resolve(url)


@pytest.mark.parametrize(
    "url", ["http://10.0.0.1/hook", "http://169.254.169.254/latest/meta-data/"]
)
def test_plain_http_to_private_addresses_is_refused_for_the_address_too(settings, url):
    # given private targets off but http allowed (so the address itself is what is refused)
    settings.WEBHOOKS_ALLOW_PRIVATE_TARGETS = False
    settings.WEBHOOKS_REQUIRE_HTTPS = False

    with pytest.raises(TargetRefused, match="not allowed"):
        target_resolve(url)


@pytest.mark.parametrize(
    "url, message",
    [
        ("http://93.184.215.14/hook", "must use https"),
        ("ftp://example.com/x", "must use https"),
        ("https://user:pw@93.184.215.14/hook", "Credentials"),
        ("https:///nohost", "no host"),
    ],
)
def test_production_accepts_only_https_urls_without_credentials(production, url, message):
    with pytest.raises(TargetRefused, match=message):
        target_resolve(url)


def test_a_public_address_is_accepted_and_pinned(production):
    # a literal public address needs no DNS; the connection goes to the checked address
    target = target_resolve("https://93.184.215.14:8443/hooks?x=1")
    assert (target.address, target.port, target.path) == ("93.184.215.14", 8443, "/hooks?x=1")


def test_development_allows_local_receivers(settings):
    settings.WEBHOOKS_ALLOW_PRIVATE_TARGETS = True
    settings.WEBHOOKS_REQUIRE_HTTPS = False
    assert target_resolve("http://localhost:8080/hook").address in ("127.0.0.1", "::1")


def test_registering_a_private_target_in_production_is_a_validation_error(production, api, db):
    # when
    for url in ("https://10.0.0.1/hook", "https://169.254.169.254/", "https://localhost/hook"):
        response = api["Integrator"].post(
            "/api/v1/webhooks", {"url": url, "events": ["*"]}, format="json"
        )

        # then
        assert response.status_code == 400, response.content
        body = response.json()
        assert body["error"]["code"] == "VALIDATION_ERROR"
        assert list(body["error"]["details"]) == ["url"]
    from webhooks.models import Endpoint

    assert not Endpoint.objects.exists()


@pytest.mark.django_db(transaction=True)
def test_a_target_that_became_private_is_refused_at_send_time(
    receiver, endpoint_for, jobs, settings
):
    # given an endpoint registered while local targets were allowed
    from conftest import order_make

    target = receiver()
    endpoint_for(target, events=["order.created"])

    # when private targets are refused and an event is sent
    settings.WEBHOOKS_ALLOW_PRIVATE_TARGETS = False
    order_make()
    jobs.drain()

    # then no request reached it and the attempt records why
    assert target.received == []
    delivery = Delivery.objects.get()
    assert delivery.status == DeliveryStatus.FAILED
    (attempt, *_) = delivery.attempt_log.all()
    assert attempt.status_code is None
    assert "not allowed" in attempt.error


def test_a_kept_alive_connection_is_reused_only_for_the_same_checked_address(settings):
    # given a receiver that keeps connections alive (HTTP/1.1) and counts them
    import threading
    from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

    from webhooks.targets import Target, _pool_for, target_post

    settings.WEBHOOKS_ALLOW_PRIVATE_TARGETS = True
    settings.WEBHOOKS_REQUIRE_HTTPS = False
    connections = []

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def setup(self):
            super().setup()
            connections.append(self.client_address)

        def log_message(self, *args):
            pass

        def do_POST(self):
            self.rfile.read(int(self.headers["Content-Length"]))
            self.send_response(204)
            self.send_header("Content-Length", "0")
            self.end_headers()

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        url = f"http://localhost:{server.server_address[1]}/hook"

        # when two deliveries are POSTed one after the other
        answers = [target_post(url, body=b"{}", headers={}) for _ in range(2)]

        # then both arrived over one connection
        assert [a.status_code for a in answers] == [204, 204]
        assert len(connections) == 1
    finally:
        server.shutdown()
        server.server_close()

    # and a pool is only ever shared by sends whose check resolved to the same address
    first = Target("http", "example.com", 80, "/", "93.184.216.34")
    assert _pool_for(first) is _pool_for(Target("http", "example.com", 80, "/x", "93.184.216.34"))
    moved = Target("http", "example.com", 80, "/", "10.0.0.1")
    assert _pool_for(first) is not _pool_for(moved)
    assert _pool_for(moved).host == "10.0.0.1"
