"""Where a webhook may go, and the one HTTP request of an attempt.

The SSRF guard: only http(s) (https when WEBHOOKS_REQUIRE_HTTPS), and the host must resolve to
public addresses only, unless WEBHOOKS_ALLOW_PRIVATE_TARGETS. It is checked when an endpoint is
registered and again at every send, on the addresses resolved then; the connection goes to the
address that was checked (the URL's host is sent as Host and as the TLS server name), so a DNS
answer that changes between the check and the connect (rebinding) cannot redirect it.
"""

import ipaddress
import logging
import socket
import threading
import time
from dataclasses import dataclass
from urllib.parse import urlsplit

import urllib3
from django.conf import settings

RESPONSE_KEEP_BYTES = 1024


class TargetRefused(Exception):
    """The URL may not be called (scheme, host, or an address in a refused network)."""


@dataclass(frozen=True)
class Target:
    scheme: str
    host: str
    port: int
    path: str  # with the query string
    address: str  # the checked IP the connection goes to


@dataclass(frozen=True)
class Answer:
    status_code: int | None
    duration_ms: int
    body: str
    error: str
    retry_after: float | None

    @property
    def ok(self) -> bool:
        return self.status_code is not None and 200 <= self.status_code < 300


def _address_allowed(address: ipaddress.IPv4Address | ipaddress.IPv6Address) -> bool:
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped:
        address = address.ipv4_mapped
    # is_global is False for private, loopback, link-local (169.254/16, the cloud metadata
    # address), carrier-grade NAT, reserved, unspecified and documentation networks.
    return address.is_global and not address.is_multicast


def target_url_check(url: str) -> tuple[str, str, int, str]:
    """Scheme, host, port and path of an acceptable URL, or TargetRefused (no network)."""
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError as exc:
        raise TargetRefused(f"Not a valid URL: {exc}.") from None
    schemes = ("https",) if settings.WEBHOOKS_REQUIRE_HTTPS else ("http", "https")
    if parts.scheme not in schemes:
        raise TargetRefused(f"The URL must use {' or '.join(schemes)}.")
    if not parts.hostname:
        raise TargetRefused("The URL has no host.")
    if parts.username or parts.password:
        raise TargetRefused("Credentials in the URL are not accepted; authenticate by signature.")
    if parts.fragment:
        raise TargetRefused("The URL may not have a fragment.")
    path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    return parts.scheme, parts.hostname, port or (443 if parts.scheme == "https" else 80), path


def target_resolve(url: str) -> Target:
    """Checks the URL and resolves its host; refuses it when any address it resolves to is in
    a private, loopback or link-local network (unless those are allowed)."""
    scheme, host, port, path = target_url_check(url)
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (socket.gaierror, UnicodeError) as exc:
        raise TargetRefused(f"The host {host} does not resolve ({exc}).") from None
    addresses = []
    for info in infos:
        address = ipaddress.ip_address(info[4][0].split("%")[0])
        if address not in addresses:
            addresses.append(address)
    if not addresses:
        raise TargetRefused(f"The host {host} does not resolve.")
    if not settings.WEBHOOKS_ALLOW_PRIVATE_TARGETS:
        refused = [str(a) for a in addresses if not _address_allowed(a)]
        if refused:
            raise TargetRefused(
                f"The host {host} resolves to {', '.join(refused)}: private, loopback and "
                "link-local addresses are not allowed."
            )
    return Target(scheme=scheme, host=host, port=port, path=path, address=str(addresses[0]))


_POOLS_MAX = 256


class _NotPoolFull(logging.Filter):
    """More POSTs at once than a pool keeps connections is normal here (block=False): the
    extra connection is closed after use, without a warning per request."""

    def filter(self, record: logging.LogRecord) -> bool:
        return not record.getMessage().startswith("Connection pool is full")


logging.getLogger("urllib3.connectionpool").addFilter(_NotPoolFull())
_pools: dict[tuple, urllib3.HTTPConnectionPool] = {}
_pools_lock = threading.Lock()


def _pool_for(target: Target) -> urllib3.HTTPConnectionPool:
    """The process's connection pool for this checked address (with its scheme, port and TLS
    name), made on first use: a connection the endpoint keeps alive is reused, but only for a
    send whose check resolved to that same address. The least recently made pool beyond
    _POOLS_MAX is closed."""
    key = (target.scheme, target.address, target.port, target.host)
    with _pools_lock:
        pool = _pools.get(key)
        if pool is not None:
            return pool
        common = {
            "port": target.port,
            "retries": False,
            "maxsize": settings.WEBHOOKS_POST_THREADS,  # idle connections kept
            "block": False,  # more POSTs at once open more connections, closed after use
        }
        if target.scheme == "https":
            pool = urllib3.HTTPSConnectionPool(
                target.address,
                server_hostname=target.host,
                assert_hostname=target.host,
                cert_reqs="CERT_REQUIRED",
                **common,
            )
        else:
            pool = urllib3.HTTPConnectionPool(target.address, **common)
        _pools[key] = pool
        while len(_pools) > _POOLS_MAX:
            _pools.pop(next(iter(_pools))).close()
        return pool


def _retry_after(value: str | None) -> float | None:
    if not value:
        return None
    try:
        return max(0.0, float(value.strip()))
    except ValueError:
        pass
    from email.utils import parsedate_to_datetime

    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(0.0, when.timestamp() - time.time())


def target_post(url: str, *, body: bytes, headers: dict[str, str]) -> Answer:
    """POSTs once: resolved and checked now, connected to the checked address (a kept-alive
    connection to that address is reused), WEBHOOKS_TIMEOUT seconds at most for connect and for
    each read, redirects not followed, the first 1 KB of the answer kept. Never raises for a
    network failure: it is the answer's `error`."""
    started = time.monotonic()

    def elapsed() -> int:
        return int((time.monotonic() - started) * 1000)

    try:
        target = target_resolve(url)
    except TargetRefused as exc:
        return Answer(None, elapsed(), "", f"Refused: {exc}", None)
    timeout = urllib3.Timeout(
        connect=settings.WEBHOOKS_TIMEOUT_SECONDS, read=settings.WEBHOOKS_TIMEOUT_SECONDS
    )
    default_port = 443 if target.scheme == "https" else 80
    host_header = target.host if target.port == default_port else f"{target.host}:{target.port}"
    if ":" in target.host and target.port == default_port:
        host_header = f"[{target.host}]"
    pool = _pool_for(target)
    request = {
        "body": body,
        "headers": {**headers, "Host": host_header},
        "redirect": False,
        "preload_content": False,
        "assert_same_host": False,
        "timeout": timeout,
    }
    try:
        try:
            response = pool.urlopen("POST", target.path, **request)
        except urllib3.exceptions.ProtocolError:
            if elapsed() >= 1000:
                raise
            # At once: most likely a kept-alive connection the endpoint had closed. Once more on
            # a new one (at worst a second copy with the same webhook-id, which receivers drop).
            response = pool.urlopen("POST", target.path, **request)
        try:
            kept = response.read(RESPONSE_KEEP_BYTES, decode_content=False) or b""
        except urllib3.exceptions.HTTPError:
            kept = b""
        if response.length_remaining != 0:
            response.close()  # unread answer left (or chunked): the connection is not reused
        response.release_conn()
        return Answer(
            response.status,
            elapsed(),
            kept.decode("utf-8", errors="replace"),
            "",
            _retry_after(response.headers.get("Retry-After")),
        )
    except urllib3.exceptions.HTTPError as exc:
        reason = getattr(exc, "reason", None) or exc
        return Answer(None, elapsed(), "", f"{type(exc).__name__}: {reason}"[:2000], None)
