"""Operating the background jobs (issue 8): `sweep_jobs` by hand re-sends all due work,
EMAIL_FILE_PATH comes from the environment, and JOBS_QUEUE_PREFIX separates deployments
completely (the worker consumes no unprefixed queue)."""

import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.core.management import call_command

ROOT = Path(__file__).resolve().parents[2]


def _settings_value(expression: str, **env) -> str:
    environment = {**os.environ, **env, "DJANGO_SETTINGS_MODULE": "articurated.settings"}
    environment.pop("PYTEST_VERSION", None)
    result = subprocess.run(
        [sys.executable, "-c", f"import django; django.setup(); print({expression})"],
        cwd=ROOT, env=environment, capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    return result.stdout.strip().splitlines()[-1]


def test_email_file_path_comes_from_the_environment(tmp_path):
    # when
    value = _settings_value(
        "__import__('django.conf').conf.settings.EMAIL_FILE_PATH",
        EMAIL_BACKEND="django.core.mail.backends.filebased.EmailBackend",
        EMAIL_FILE_PATH=str(tmp_path / "mail"),
    )

    # then
    assert value == str(tmp_path / "mail")


def test_the_worker_consumes_only_the_prefixed_queues(monkeypatch, settings):
    # given a deployment with its own prefix
    from django_dramatiq.management.commands import rundramatiq

    settings.JOBS_QUEUES = {"invoices": "d1-invoices", "refunds": "d1-refunds", "email": "d1-email"}
    started = []
    monkeypatch.setattr(rundramatiq.os, "execvp", lambda path, args: started.append(args))

    # when the worker starts without naming queues
    call_command("rundramatiq", "--processes", "1", "--threads", "1")

    # then it listens to its own queues and not to the shared "default" one
    [args] = started
    queues = args[args.index("--queues") + 1 :]
    assert sorted(queues) == ["d1-email", "d1-invoices", "d1-refunds"]
    assert "default" not in args


def test_naming_queues_explicitly_still_works(monkeypatch, settings):
    from django_dramatiq.management.commands import rundramatiq

    started = []
    monkeypatch.setattr(rundramatiq.os, "execvp", lambda path, args: started.append(args))

    # when
    call_command("rundramatiq", "--processes", "1", "--queues", "email")

    # then
    [args] = started
    assert args[args.index("--queues") + 1 :] == ["email"]


@pytest.mark.django_db(transaction=True)
def test_sweep_jobs_by_hand_resends_recent_lost_work(jobs):
    # given an order shipped a moment ago whose message was lost
    from conftest import TEST_CONTEXT, order_make
    from orders.services import order_ship

    order = order_make("PROCESSING_IN_WAREHOUSE")
    order_ship(
        order_id=order.pk, actor=None, context=TEST_CONTEXT, carrier="UPS", tracking_number="1Z"
    )
    jobs.broker.flush_all()

    # when an operator runs the sweep after an outage, with no options
    from io import StringIO

    out = StringIO()
    call_command("sweep_jobs", stdout=out)

    # then it is sent again at once (no 180-second grace)
    assert "invoices_sweep: 1 sent again" in out.getvalue()
    assert len(jobs.queued(os.environ.get("JOBS_QUEUE_PREFIX", "") + "invoices")) == 1


@pytest.mark.django_db(transaction=True)
def test_sweep_jobs_keeps_a_grace_period_on_request(jobs):
    from io import StringIO

    from conftest import TEST_CONTEXT, order_make
    from orders.services import order_ship

    order = order_make("PROCESSING_IN_WAREHOUSE")
    order_ship(
        order_id=order.pk, actor=None, context=TEST_CONTEXT, carrier="UPS", tracking_number="1Z"
    )
    jobs.broker.flush_all()

    # when
    out = StringIO()
    call_command("sweep_jobs", "--with-grace", stdout=out)

    # then work due only a moment ago is left to its message
    assert "invoices_sweep: 0 sent again" in out.getvalue()
