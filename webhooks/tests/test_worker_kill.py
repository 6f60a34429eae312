"""The webhook drill in small (scripts/webhook_drill.py): real workers on RabbitMQ SIGKILLed
while events drain to three receivers on 127.0.0.1, then a receiver down for a while. Worker
processes share the test database, hence PostgreSQL and committed data."""

import json
import os
import subprocess
import sys

import pytest
from django.conf import settings
from django.db import connection

from conftest import BROKER_URL, ROOT, requires_postgres, requires_rabbitmq
from webhooks.models import Delivery, DeliveryStatus


@pytest.mark.rabbitmq
@requires_rabbitmq()
@requires_postgres()
@pytest.mark.django_db(transaction=True)
def test_workers_killed_while_events_drain_lose_nothing(tmp_path):
    # given the test database and a queue prefix of the drill's own
    db = connection.settings_dict
    env = {
        **os.environ,
        "DATABASE_URL": f"postgres://{db['USER']}:{db['PASSWORD'] or ''}@{db['HOST']}:"
        f"{db['PORT'] or 5432}/{db['NAME']}",
        "BROKER_URL": BROKER_URL,
    }
    env.pop("PYTEST_VERSION", None)
    env.pop("TEST_DB_SUFFIX", None)

    # when 60 events drain to 3 endpoints while workers are killed twice, then a receiver is
    # down for 4 seconds while 10 more events happen
    result = subprocess.run(
        [sys.executable, str(ROOT / "scripts" / "webhook_drill.py"), "--use-database",
         "--events", "60", "--kills", "2", "--down-events", "10", "--down-seconds", "4",
         "--timeout", "90", "--log", str(tmp_path / "workers.log")],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=400,
    )  # fmt: skip

    # then every event reached every endpoint, duplicates only with the same id and body
    assert result.returncode in (0, 1), result.stderr[-3000:]
    summary = json.loads(result.stdout.strip().splitlines()[-1])
    kill, down = summary["kill"], summary["receiver_down"]
    assert kill["kills"] == 2, summary
    assert kill["all_delivered"], (tmp_path / "workers.log").read_text()[-3000:]
    assert kill["lost"] == 0 and kill["rejected_signatures"] == 0
    assert kill["duplicates_same_id_and_body"]
    assert down["attempted_while_down"] > 0  # it really was retried while down
    assert down["all_delivered_after_return"] and down["lost"] == 0
    assert summary["ok"]
    assert Delivery.objects.count() == 3 * 60 + 3 * 10
    # A worker killed after the receiver answered but before it recorded the answer leaves that
    # row PENDING under its lease; the sweep sends it again once the lease runs out (the same
    # webhook-id, a duplicate the receiver drops). Such a row may remain when the drill ends
    # (the receivers already hold its event: all_delivered above); none may have FAILED.
    assert not Delivery.objects.exclude(
        status__in=[DeliveryStatus.SUCCEEDED, DeliveryStatus.PENDING]
    ).exists()
    # at most the attempts in flight in a killed worker (8 threads each, a thread's job holding
    # up to WEBHOOKS_POST_THREADS claimed deliveries of new events), each claimed by an attempt
    # (never one whose message was simply lost)
    pending = Delivery.objects.filter(status=DeliveryStatus.PENDING)
    assert pending.count() <= kill["kills"] * 8 * settings.WEBHOOKS_POST_THREADS, list(pending)
    assert not pending.filter(attempts=0).exists(), list(pending)
