#!/usr/bin/env python
"""Drill (QUALITY.md "Webhooks"): nothing is lost when workers die, nor when a receiver is down.

Against a real RabbitMQ (BROKER_URL=amqp://…) and PostgreSQL (DATABASE_URL), with a queue prefix
of its own and, unless --use-database, a database of its own (created and dropped):

1. three receivers on 127.0.0.1 (each verifying every signature with `standardwebhooks`) and an
   endpoint for each, subscribed to everything;
2. kill: `manage.py rundramatiq` workers drain EVENTS events (orders created through the real
   service: one event each, so 3 x EVENTS deliveries) while one worker at a time is SIGKILLed
   and replaced, KILLS times; then every event must have reached every endpoint at least once,
   a duplicate always with the same webhook-id and body;
3. receiver down: the third receiver is stopped, DOWN_EVENTS more events are produced, it
   stays down DOWN_SECONDS (connection refused, retried on a short schedule), then returns on
   the same port and must get every one of them.

Prints one JSON summary line; exit status 0 when nothing was lost.

    BROKER_URL=amqp://… DATABASE_URL=postgres://… python scripts/webhook_drill.py
"""

import argparse
import json
import os
import random
import signal
import subprocess
import sys
import threading
import time
import uuid
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from articurated.db import server_execute  # noqa: E402

# The drill's own settings, for this process and the workers it starts (they inherit them).
DRILL_ENV = {
    "DJANGO_SETTINGS_MODULE": "articurated.settings",
    "WEBHOOKS_RETRY_SCHEDULE": "1,2,3,4,4,4,4,4,4,4,4,4",
    "WEBHOOKS_RETRY_JITTER": "0.2",
    "WEBHOOKS_TIMEOUT_SECONDS": "3",
    "WEBHOOKS_ALLOW_PRIVATE_TARGETS": "true",
    "JOBS_SWEEP_INTERVAL_SECONDS": "2",
    "JOBS_SWEEP_GRACE_SECONDS": "8",
    "EMAIL_BACKEND": "django.core.mail.backends.dummy.EmailBackend",
    "LOG_LEVEL": "WARNING",
}


def _database_url_with_name(url: str, name: str) -> str:
    parts = urlsplit(url)
    return urlunsplit(parts._replace(path=f"/{name}"))


class Workers:
    """`manage.py rundramatiq` processes on the drill's webhooks queue, each in its own session
    so SIGKILL reaches its master and worker process together."""

    def __init__(self, count: int, threads: int, log: Path) -> None:
        self.threads, self.log = threads, log
        self.processes = [self._start() for _ in range(count)]
        self.kills = 0

    def _start(self) -> subprocess.Popen:
        from django.conf import settings

        command = [sys.executable, str(ROOT / "manage.py"), "rundramatiq"]
        command += ["--processes", "1", "--threads", str(self.threads)]
        command += ["--queues", settings.JOBS_QUEUES["webhooks"]]
        with self.log.open("ab") as out:
            return subprocess.Popen(  # noqa: S603 - our own interpreter and manage.py
                command, cwd=ROOT, stdout=out, stderr=subprocess.STDOUT, start_new_session=True
            )

    def kill_one(self) -> None:
        index = random.randrange(len(self.processes))
        process = self.processes[index]
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGKILL)
        process.wait(timeout=30)
        self.kills += 1
        self.processes[index] = self._start()

    def stop(self) -> None:
        for process in self.processes:
            if process.poll() is None:
                os.killpg(process.pid, signal.SIGTERM)
        for process in self.processes:
            try:
                process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait(timeout=10)


def _produce(count: int) -> list[str]:
    """Creates `count` orders through the real service; returns their order.created event ids."""
    from articurated.context import CLI
    from orders.services import order_create
    from webhooks.models import Event

    address = {"name": "Drill", "line1": "1 Test St", "city": "Bristol", "country": "GB"}
    ids = []
    for index in range(count):
        order = order_create(
            actor=None,
            context=CLI,
            customer_email=f"drill{index}@example.com",
            customer_name="Drill",
            currency="USD",
            shipping_address=address,
            items=[{"sku": "VASE-01", "name": "Vase", "quantity": 1, "unit_price": "10.00"}],
        )
        ids.append(Event.objects.get(order_id=order.pk, type="order.created").pk)
    return ids


def _wait(predicate, *, seconds: float) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.5)
    return False


def _tally(receivers, event_ids: list[str]) -> dict:
    wanted = set(event_ids)
    lost = duplicates = 0
    same_body = True
    for receiver in receivers:
        bodies: dict[str, bytes] = {}
        got = 0
        for received in list(receiver.received):
            if received.webhook_id not in wanted:
                continue
            got += 1
            if received.webhook_id in bodies and bodies[received.webhook_id] != received.body:
                same_body = False
            bodies.setdefault(received.webhook_id, received.body)
        lost += len(wanted - set(bodies))
        duplicates += got - len(bodies)
    return {"lost": lost, "duplicates": duplicates, "duplicates_same_id_and_body": same_body}


def drill(args) -> dict:
    import django

    django.setup()
    from django.contrib.auth import get_user_model
    from django.core.management import call_command

    from webhooks.models import Delivery
    from webhooks.services import endpoint_create
    from webhooks.testing import Receiver

    if args.migrate:
        call_command("migrate", verbosity=0)
        # Orders sell SKUs of the catalogue: the one _produce orders, with stock to spare.
        from inventory.loading import sku_bulk_load

        sku_bulk_load(
            rows=[{"sku": "VASE-01", "name": "Vase", "price": "10.00", "on_hand": 1_000_000}],
            category_name="Drill",
        )
    owner, _ = get_user_model().objects.get_or_create(
        username=f"drill-{uuid.uuid4().hex[:6]}", defaults={"is_superuser": True}
    )
    receivers = [Receiver() for _ in range(3)]
    endpoints = []
    for receiver in receivers:
        endpoint = endpoint_create(actor=owner, url=receiver.url, events=["*"])
        receiver.secrets.append(endpoint.secret)
        endpoints.append(endpoint)
    log = Path(args.log)
    workers = Workers(args.workers, args.threads, log)
    summary: dict = {"events": args.events, "endpoints": 3, "workers": args.workers}
    try:
        # 1. kill workers while the events drain
        stop_killing = threading.Event()

        def killer() -> None:
            while workers.kills < args.kills and not stop_killing.wait(random.uniform(1.5, 3.0)):
                workers.kill_one()

        killing = threading.Thread(target=killer, daemon=True)
        started = time.monotonic()
        killing.start()
        event_ids = _produce(args.events)
        total = len(event_ids) * 3

        def all_delivered() -> bool:
            return all(
                {r.webhook_id for r in list(receiver.received)} >= set(event_ids)
                for receiver in receivers
            )

        killing.join(timeout=max(30.0, args.kills * 4.0))
        stop_killing.set()
        delivered = _wait(all_delivered, seconds=args.timeout)
        summary["kill"] = {
            "deliveries": total,
            "kills": workers.kills,
            "all_delivered": delivered,
            "seconds": round(time.monotonic() - started, 1),
            "rejected_signatures": sum(len(r.rejected) for r in receivers),
            # requests cut short by a SIGKILLed worker (re-sent whole after their lease)
            "truncated_requests": sum(r.truncated for r in receivers),
            "received": sum(len(r.received) for r in receivers),
            **_tally(receivers, event_ids),
        }

        # 2. a receiver down for a while gets everything once it is back
        down = receivers[2]
        port, secret = down.port, down.secrets[0]
        down.stop()
        down_ids = _produce(args.down_events)
        time.sleep(args.down_seconds)
        refused = Delivery.objects.filter(
            endpoint=endpoints[2], event_id__in=down_ids, attempts__gt=0
        ).count()
        back = Receiver(secrets=[secret], port=port)
        receivers[2] = back
        back_ok = _wait(
            lambda: {r.webhook_id for r in list(back.received)} >= set(down_ids),
            seconds=args.timeout,
        )
        summary["receiver_down"] = {
            "events": len(down_ids),
            "down_seconds": args.down_seconds,
            "attempted_while_down": refused,
            "all_delivered_after_return": back_ok,
            "rejected_signatures": len(back.rejected),
            **_tally([back], down_ids),
        }
        summary["ok"] = (
            delivered
            and back_ok
            and summary["kill"]["lost"] == 0
            and summary["receiver_down"]["lost"] == 0
            and summary["kill"]["duplicates_same_id_and_body"]
            and summary["kill"]["rejected_signatures"] == 0
        )
    finally:
        workers.stop()
        for receiver in receivers:
            try:
                receiver.stop()
            except OSError:
                pass
    return summary


def _queues_delete(prefix: str) -> None:
    import pika

    connection = pika.BlockingConnection(pika.URLParameters(os.environ["BROKER_URL"]))
    try:
        channel = connection.channel()
        for suffix in ("", ".DQ", ".XQ"):
            for name in ("webhooks", "invoices", "refunds", "email"):
                channel.queue_delete(f"{prefix}{name}{suffix}")
    finally:
        connection.close()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--events", type=int, default=1000)
    parser.add_argument("--kills", type=int, default=8)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--threads", type=int, default=8)
    parser.add_argument("--down-events", type=int, default=100)
    parser.add_argument("--down-seconds", type=float, default=15)
    parser.add_argument("--timeout", type=float, default=180, help="seconds per wait")
    parser.add_argument(
        "--use-database",
        action="store_true",
        help="use DATABASE_URL as it is (already migrated) instead of a database of its own",
    )
    parser.add_argument("--log", default=None, help="the workers' output (default: a temp file)")
    args = parser.parse_args()
    broker = os.environ.get("BROKER_URL", "")
    database = os.environ.get("DATABASE_URL", "")
    if not broker.startswith(("amqp://", "amqps://")) or not database.startswith("postgres"):
        parser.error("needs BROKER_URL=amqp://… and DATABASE_URL=postgres://…")
    os.environ.pop("PYTEST_VERSION", None)  # this process and its workers use the real broker
    os.environ.pop("TEST_DB_SUFFIX", None)
    for name, value in DRILL_ENV.items():
        os.environ.setdefault(name, value)
    prefix = f"drill-{uuid.uuid4().hex[:10]}-"
    os.environ["JOBS_QUEUE_PREFIX"] = prefix
    args.log = args.log or f"/tmp/webhook-drill-{prefix}workers.log"  # noqa: S108
    own_database = None
    if not args.use_database:
        own_database = f"drill_webhooks_{uuid.uuid4().hex[:8]}"
        server_execute(database, f'CREATE DATABASE "{own_database}"')
        os.environ["DATABASE_URL"] = _database_url_with_name(database, own_database)
    args.migrate = own_database is not None
    try:
        summary = drill(args)
    finally:
        from django.apps import apps

        if apps.ready:
            from django.db import connections

            connections.close_all()
        if own_database:
            server_execute(database, f'DROP DATABASE IF EXISTS "{own_database}" WITH (FORCE)')
        _queues_delete(prefix)
    summary["log"] = args.log
    print(json.dumps(summary))
    return 0 if summary.get("ok") else 1


if __name__ == "__main__":
    sys.exit(main())
