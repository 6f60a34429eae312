import logging
from urllib.parse import urlparse

from django.conf import settings

logger = logging.getLogger(__name__)


def broker_check() -> str:
    """ "ok" when the configured RabbitMQ accepts a connection, "embedded" when no broker is
    configured and jobs run in-process (the embedded worker; tests run their own), "no worker"
    when no broker is configured and the embedded worker is switched off (jobs would wait
    forever), else "unreachable"."""
    url = getattr(settings, "BROKER_URL", None)
    if not url:
        embedded = getattr(settings, "DRAMATIQ_EMBEDDED_WORKER", False)
        return "embedded" if embedded or getattr(settings, "TESTING", False) else "no worker"
    if urlparse(url).scheme not in {"amqp", "amqps"}:
        return "ok"
    import pika

    try:
        parameters = pika.URLParameters(url)
        parameters.socket_timeout = 2
        parameters.blocked_connection_timeout = 2
        parameters.connection_attempts = 1
        pika.BlockingConnection(parameters).close()
        return "ok"
    except Exception:  # noqa: BLE001 - any failure means "not reachable"
        logger.warning("Health check: broker at %s unreachable", urlparse(url).hostname)
        return "unreachable"
