"""Fixtures shared by every app's tests: role users, API clients, orders built through the real
services, and the switches that let transactional tests clean the append-only audit table."""

import contextlib
import json
import os
import subprocess
import sys
import uuid
from pathlib import Path

import dramatiq
import pytest
from django.conf import settings
from django.db import connection
from dramatiq.brokers.stub import StubBroker
from rest_framework.test import APIClient

from articurated.context import ActionContext, Source
from articurated.roles import INTEGRATOR, MANAGER, SUPPORT, WAREHOUSE, roles_sync
from audit.db import triggers_install, triggers_remove
from inventory.db import triggers_install as movement_triggers_install
from inventory.db import triggers_remove as movement_triggers_remove

ROOT = Path(__file__).resolve().parent
BROKER_URL = os.environ.get("BROKER_URL", "")
ROLES = (WAREHOUSE, SUPPORT, MANAGER, INTEGRATOR)
TEST_CONTEXT = ActionContext(source=Source.API, ip_address="127.0.0.1", request_id="test")


def _is_transactional(request) -> bool:
    marker = request.node.get_closest_marker("django_db")
    return (
        "transactional_db" in request.fixturenames
        or "live_server" in request.fixturenames
        or bool(marker and marker.kwargs.get("transaction"))
    )


@pytest.fixture(autouse=True)
def _audit_triggers(request):
    """The audit and stock-movement triggers refuse DELETE/TRUNCATE, which is how Django
    empties the database after a transactional test. Those tests get the triggers installed
    for their run and removed just before the flush; every other database test runs with them
    as migrated."""
    if _is_transactional(request):
        request.getfixturevalue("transactional_db")
        triggers_install(connection)
        movement_triggers_install(connection)
        yield
        movement_triggers_remove(connection)
        triggers_remove(connection)
    else:
        if "db" in request.fixturenames or request.node.get_closest_marker("django_db"):
            request.getfixturevalue("db")
            triggers_install(connection)
            movement_triggers_install(connection)
        yield


# The SKUs the order and return tests sell: tracked, with stock no test exhausts, so every order
# test also allocates, releases and consumes stock. VASE-01-EU is the one priced in euros.
TEST_SKUS = [
    {"sku": code, "name": name, "price": price, "on_hand": 1_000_000}
    for code, name, price in [
        ("VASE-01", "Hand-thrown vase", "49.50"),
        ("BOWL-02", "Glazed bowl", "20.00"),
        ("CARD-01", "Hand-printed card", "4.50"),
        ("A", "A", "1.00"),
        ("BOWL", "Bowl", "12.00"),
        ("CUP", "Cup", "0.10"),
        ("PEN", "Pen", "10.00"),
        ("PLATE", "Plate", "1000000.00"),
        ("RUG", "Rug", "500.00"),
    ]
] + [{"sku": "VASE-01-EU", "name": "Hand-thrown vase", "price": "45.00", "currency": "EUR",
      "on_hand": 1_000_000}]  # fmt: skip


@pytest.fixture(autouse=True)
def _test_catalogue(request, _audit_triggers):
    """Every database test starts with TEST_SKUS in the catalogue (a set-based load: no audit
    records, so tests that count them are unaffected), unless marked `empty_catalogue`."""
    wants_db = _is_transactional(request) or "db" in request.fixturenames
    wants_db = wants_db or request.node.get_closest_marker("django_db")
    if wants_db and not request.node.get_closest_marker("empty_catalogue"):
        from inventory.loading import sku_bulk_load

        sku_bulk_load(rows=TEST_SKUS, category_name="Test catalogue")
    yield


@pytest.fixture(autouse=True)
def _fast_password_hashing(settings):
    # Every test makes users; the production hasher (PBKDF2) would cost ~0.1 s each.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


class Jobs:
    """Background jobs in tests: the in-memory StubBroker (what settings choose under pytest)
    and a real dramatiq.Worker that runs what the code under test queued."""

    def __init__(self, broker: StubBroker) -> None:
        self.broker = broker

    def queued(self, queue: str) -> list[dramatiq.Message]:
        """The messages waiting on a queue (and its delay queue), without consuming them."""
        waiting = []
        for name in (queue, f"{queue}.DQ"):
            waiting += [
                dramatiq.Message.decode(raw) for raw in list(self.broker.queues[name].queue)
            ]
        return waiting

    def drain(self, *, threads: int = 4) -> None:
        """Runs a worker until every queue is empty, including the messages the jobs send and
        the retries they schedule. Re-raises any message that ended up dead-lettered."""
        worker = dramatiq.Worker(self.broker, worker_timeout=20, worker_threads=threads)
        worker.start()
        try:
            while True:
                for name in list(self.broker.queues):
                    if not name.endswith((".DQ", ".XQ")):
                        # A guard against a hang, not a timing assertion.
                        self.broker.join(name, timeout=120_000, fail_fast=True)
                worker.join()
                if not any(q.unfinished_tasks for q in self.broker.queues.values()):
                    return
        finally:
            worker.stop()


@pytest.fixture
def jobs():
    broker = dramatiq.get_broker()
    assert isinstance(broker, StubBroker), "tests run jobs on the StubBroker"
    broker.flush_all()
    yield Jobs(broker)
    broker.flush_all()


def requires_rabbitmq():
    return pytest.mark.skipif(
        not BROKER_URL.startswith(("amqp://", "amqps://")),
        reason="needs a real RabbitMQ: run with BROKER_URL=amqp://…",
    )


@pytest.fixture
def drill_env(tmp_path):
    """The environment of the drill and its workers: this test's database, media and a queue
    prefix of their own, so parallel runs on one RabbitMQ never take each other's messages."""
    prefix = f"test-{uuid.uuid4().hex[:10]}-"
    db = connection.settings_dict
    env = {
        **os.environ,
        "DATABASE_URL": f"postgres://{db['USER']}:{db['PASSWORD'] or ''}@{db['HOST']}:"
        f"{db['PORT'] or 5432}/{db['NAME']}",
        "BROKER_URL": BROKER_URL,
        "JOBS_QUEUE_PREFIX": prefix,
        "MEDIA_ROOT": settings.MEDIA_ROOT,
        "EMAIL_BACKEND": "django.core.mail.backends.console.EmailBackend",
        "JOBS_SWEEP_INTERVAL_SECONDS": "0",
    }
    env.pop("PYTEST_VERSION", None)
    env.pop("TEST_DB_SUFFIX", None)
    yield env
    _queues_delete(prefix)


def _queues_delete(prefix: str) -> None:
    import pika

    connection = pika.BlockingConnection(pika.URLParameters(BROKER_URL))
    try:
        channel = connection.channel()
        for name in ("invoices", "refunds", "email", "imports", "webhooks"):
            for suffix in ("", ".DQ", ".XQ"):
                channel.queue_delete(f"{prefix}{name}{suffix}")
    finally:
        connection.close()


def _run_drill(kind: str, row_id, env: dict, tmp_path) -> dict:
    result = subprocess.run(
        [sys.executable, str(ROOT / "scripts" / "worker_kill_drill.py"), kind, str(row_id),
         "--log", str(tmp_path / "workers.log")],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    assert result.returncode in (0, 1), result.stderr[-3000:]
    return json.loads(result.stdout.strip().splitlines()[-1])


@pytest.fixture
def worker_kill_drill(drill_env, tmp_path):
    """Runs scripts/worker_kill_drill.py on one invoice or refund: a real worker on RabbitMQ is
    SIGKILLed mid-job, another takes over. Returns the drill's JSON summary."""

    def run(kind: str, row_id) -> dict:
        return _run_drill(kind, row_id, drill_env, tmp_path)

    return run


@pytest.fixture(scope="session")
def grpc_server():
    """The payment service's gRPC server, in this process on a free port, for the session. Its
    threads use their own database connections, so tests that call it need committed data
    (transactional_db)."""
    from payment_service.transport.server import server_start

    running = server_start(port=0, max_workers=8)
    yield running
    running.stop(grace=0)


def statement_timeout_show() -> str:
    """PostgreSQL's statement limit in force on the test's connection ("5s", "5min", "0")."""
    with connection.cursor() as cursor:
        cursor.execute("SHOW statement_timeout")
        return cursor.fetchone()[0]


@contextlib.contextmanager
def statement_timeout_seen_on(signal, *, connection_limit: str = "5s"):
    """Gives the connection `connection_limit` (a request's), then yields the list of the
    limits in force each time `signal` is sent inside the block: what a service's own
    statements ran under."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT set_config('statement_timeout', %s, false)", [connection_limit])
    seen: list[str] = []

    def look(sender, **kwargs):
        seen.append(statement_timeout_show())

    signal.connect(look, dispatch_uid="conftest-statement-timeout-seen")
    try:
        yield seen
    finally:
        signal.disconnect(dispatch_uid="conftest-statement-timeout-seen")


def requires_postgres():
    return pytest.mark.skipif(
        connection.vendor != "postgresql",
        reason="needs PostgreSQL for real row locks: run with DATABASE_URL=postgres://…",
    )


@pytest.fixture
def make_user(db, django_user_model):
    def make(role: str | None = None, *, username: str | None = None, superuser: bool = False):
        from django.contrib.auth.models import Group

        if not Group.objects.filter(name=role or WAREHOUSE).exists():
            roles_sync()  # groups come with migrate; only a flushed database lacks them
        name = username or (role or ("admin" if superuser else "nobody")).lower()
        user = django_user_model.objects.create_user(
            username=name,
            password="pw-for-tests-1",
            is_staff=superuser or role in (WAREHOUSE, SUPPORT, MANAGER),
            is_superuser=superuser,
        )
        if role:
            user.groups.add(Group.objects.get(name=role))
        return django_user_model.objects.get(pk=user.pk)  # fresh permission cache

    return make


@pytest.fixture
def users(make_user):
    """One user per role plus a superuser, keyed by role name and "admin"."""
    made = {role: make_user(role) for role in ROLES}
    made["admin"] = make_user(superuser=True)
    return made


def api_client_for(user) -> APIClient:
    from rest_framework.authtoken.models import Token

    client = APIClient()
    if user is not None:
        token, _ = Token.objects.get_or_create(user=user)
        client.credentials(HTTP_AUTHORIZATION=f"Token {token.key}")
    return client


@pytest.fixture
def api(users):
    """api[role] is an APIClient authenticated as that role's user."""
    return {name: api_client_for(user) for name, user in users.items()}


ORDER_PAYLOAD = {
    "customer": {"email": "ada@example.com", "name": "Ada Lovelace"},
    "currency": "USD",
    "shipping_address": {
        "name": "Ada Lovelace",
        "line1": "12 St James's Sq",
        "line2": "",
        "city": "London",
        "region": "",
        "postal_code": "SW1Y 4JH",
        "country": "GB",
        "phone": "+44 20 7946 0000",
    },
    "billing_address": None,
    "items": [{"sku": "VASE-01", "name": "Hand-thrown vase", "quantity": 2, "unit_price": "49.50"}],
    "shipping_amount": "5.00",
    "tax_amount": "0.00",
    "notes": "Gift wrap",
}

# The path of transitions (and their inputs) from PENDING_PAYMENT to each state.
PATH_TO = {
    "PENDING_PAYMENT": [],
    "PAID": [("PAID", {"payment_reference": "pay_test", "payment_method": "card"})],
    "PROCESSING_IN_WAREHOUSE": [("PROCESSING_IN_WAREHOUSE", {})],
    "SHIPPED": [("SHIPPED", {"carrier": "UPS", "tracking_number": "1Z999AA10123456784"})],
    "DELIVERED": [("DELIVERED", {})],
    "CANCELLED": [("CANCELLED", {"reason": "customer asked"})],
}
_CHAIN = ["PAID", "PROCESSING_IN_WAREHOUSE", "SHIPPED", "DELIVERED"]


def order_make(status: str = "PENDING_PAYMENT", **overrides):
    """An order in `status`, built through the real services (actor: system)."""
    from orders.services import order_change_state, order_create

    payload = {**ORDER_PAYLOAD, **overrides}
    customer = payload.pop("customer")
    order = order_create(
        actor=None,
        context=TEST_CONTEXT,
        customer_email=customer["email"],
        customer_name=customer["name"],
        **payload,
    )
    steps = PATH_TO["CANCELLED"] if status == "CANCELLED" else []
    if status in _CHAIN:
        steps = [PATH_TO[s][0] for s in _CHAIN[: _CHAIN.index(status) + 1]]
    for new_state, params in steps:
        order = order_change_state(
            order_id=order.pk, actor=None, context=TEST_CONTEXT, new_state=new_state, **params
        )
    return order


@pytest.fixture
def make_order(db):
    return order_make


def pytest_report_header(config):
    url = os.environ.get("DATABASE_URL", "sqlite (default)")
    return f"database: {url.split('@')[-1]}; broker: {os.environ.get('BROKER_URL', 'in-process')}"
