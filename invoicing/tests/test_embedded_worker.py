"""Without a broker, several serving processes share one embedded worker: each pending invoice
is rendered once, whichever process received the request (issue 7, `make run` with gunicorn)."""

import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest
from django.db import connection

from audit.models import AuditRecord
from conftest import ROOT, order_make
from invoicing.models import Invoice, InvoiceStatus
from orders.models import OrderStatus

SHIP = b'{"new_state": "SHIPPED", "carrier": "UPS", "tracking_number": "1Z999AA10123456784"}'


def _database_url() -> str:
    db = connection.settings_dict
    if connection.vendor == "sqlite":
        return f"sqlite:///{db['NAME']}"
    return (
        f"postgres://{db['USER']}:{db['PASSWORD'] or ''}@{db['HOST'] or '127.0.0.1'}:"
        f"{db['PORT'] or 5432}/{db['NAME']}"
    )


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class Serving:
    """One gunicorn process (one sync worker) serving the test database on a free port."""

    def __init__(self, env: dict, log: Path) -> None:
        self.port = _free_port()
        self.log = log.open("w")
        self.process = subprocess.Popen(
            [sys.executable, "-m", "gunicorn", "articurated.wsgi:application", "--workers", "1",
             "--bind", f"127.0.0.1:{self.port}", "--timeout", "120"],
            cwd=ROOT, env=env, stdout=self.log, stderr=subprocess.STDOUT, start_new_session=True,
        )  # fmt: skip

    def call(self, method: str, path: str, *, token: str | None = None, body: bytes | None = None):
        request = urllib.request.Request(
            f"http://127.0.0.1:{self.port}{path}", data=body, method=method
        )
        request.add_header("Content-Type", "application/json")
        if token:
            request.add_header("Authorization", f"Token {token}")
        try:
            with urllib.request.urlopen(request, timeout=30) as response:  # noqa: S310 - http://127.0.0.1
                return response.status
        except urllib.error.HTTPError as error:
            return error.code

    def wait_ready(self) -> None:
        deadline = time.monotonic() + 60  # a guard, not a timing assertion
        while time.monotonic() < deadline:
            try:
                self.call("GET", "/api/v1/health")
                return
            except OSError:
                time.sleep(0.2)
        raise AssertionError("server did not start")

    def stop(self) -> None:
        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait(timeout=10)
        self.log.close()


def _wait_until(condition, *, seconds: float) -> bool:
    deadline = time.monotonic() + seconds  # a guard against a hang, not a timing assertion
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.5)
    return condition()


@pytest.mark.django_db(transaction=True)
def test_two_serving_processes_render_each_pending_invoice_once(
    tmp_path, settings, make_user, jobs
):
    # given three shipped orders whose invoices are PENDING (their messages died with the
    # process that queued them), and two orders ready to ship
    pending = [order_make("SHIPPED") for _ in range(3)]
    ready = [order_make("PROCESSING_IN_WAREHOUSE") for _ in range(2)]
    jobs.broker.flush_all()
    from rest_framework.authtoken.models import Token

    token = Token.objects.create(user=make_user("Warehouse")).key
    env = {
        **{k: v for k, v in os.environ.items() if k not in {"PYTEST_VERSION", "TEST_DB_SUFFIX"}},
        "DATABASE_URL": _database_url(),
        "BROKER_URL": "",
        "DEBUG": "false",
        "ALLOWED_HOSTS": "127.0.0.1",
        "MEDIA_ROOT": str(settings.MEDIA_ROOT),
        "JOBS_EMBEDDED_LOCK_DIR": str(tmp_path),
        "DRAMATIQ_EMBEDDED_THREADS": "4",
        "JOBS_SWEEP_INTERVAL_SECONDS": "1",
        "JOBS_EMBEDDED_SWEEP_INTERVAL_SECONDS": "1",
        "JOBS_EMBEDDED_SWEEP_GRACE_SECONDS": "10",
        "JOBS_EMBEDDED_LOCK_RETRY_SECONDS": "2",
        "EMAIL_BACKEND": "django.core.mail.backends.locmem.EmailBackend",
    }
    servers = [Serving(env, tmp_path / f"server-{n}.log") for n in range(2)]
    try:
        for server in servers:
            server.wait_ready()

        # when each process serves requests, and each ships one order
        statuses = [
            server.call("PATCH", f"/api/v1/orders/{order.pk}/state", token=token, body=SHIP)
            for server, order in zip(servers, ready, strict=True)
        ]
        every = [*pending, *ready]
        done = _wait_until(
            lambda: (
                Invoice.objects.filter(order__in=every, status=InvoiceStatus.GENERATED).count()
                == len(every)
            ),
            seconds=120,
        )
        time.sleep(3)  # a few more sweep rounds: nothing may be sent (and rendered) again
        # Read while both serve: once the worker's process has stopped, the other rightly
        # takes over (its retry may fire while it is being stopped in turn).
        logs = [(tmp_path / f"server-{n}.log").read_text() for n in range(2)]
    finally:
        for server in servers:
            server.stop()

    # then every invoice was rendered exactly once, by the one process running the worker
    assert statuses == [200, 200]
    assert done, logs
    invoices = Invoice.objects.filter(order__in=[o.pk for o in every])
    assert sorted(i.attempts for i in invoices) == [1] * 5
    generated = AuditRecord.objects.filter(entity_type="INVOICE", transition="generate")
    assert generated.count() == 5
    assert (
        sorted(o.status for o in type(ready[0]).objects.filter(pk__in=[o.pk for o in ready]))
        == [OrderStatus.SHIPPED] * 2
    )
    assert sum("Embedded job worker started" in log for log in logs) == 1
