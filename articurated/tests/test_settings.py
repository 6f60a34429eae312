"""Production settings refuse to start with DEBUG on or without a real SECRET_KEY."""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
GOOD_KEY = "k" * 50


def start(**env):
    """Loads the settings in a fresh interpreter, as a server process would."""
    environment = {k: v for k, v in os.environ.items() if k not in {"DEBUG", "SECRET_KEY"}}
    environment.update(env, DJANGO_SETTINGS_MODULE="articurated.settings")
    return subprocess.run(
        [sys.executable, "-c", "import django; django.setup(); print('started')"],
        cwd=ROOT,
        env=environment,
        capture_output=True,
        text=True,
        timeout=60,
    )


@pytest.mark.parametrize(
    ("env", "complaint"),
    [
        ({"DEBUG": "true", "SECRET_KEY": GOOD_KEY}, "DEBUG must be off"),
        ({}, "Set SECRET_KEY"),
        ({"SECRET_KEY": "short"}, "Set SECRET_KEY"),
    ],
)
def test_production_refuses_unsafe_settings(env, complaint):
    result = start(ARTICURATED_ENV="production", **env)
    assert result.returncode != 0
    assert complaint in result.stderr


def test_production_refuses_to_start_without_a_broker():
    result = start(ARTICURATED_ENV="production", SECRET_KEY=GOOD_KEY, BROKER_URL="")
    assert result.returncode != 0
    assert "Set BROKER_URL" in result.stderr


def test_database_connections_persist_and_time_out_by_default():
    probe = (
        "import django, json; django.setup(); from django.conf import settings; "
        "d = settings.DATABASES['default']; "
        "print(json.dumps([d['CONN_MAX_AGE'], d['CONN_HEALTH_CHECKS'], d['OPTIONS']]))"
    )
    environment = {
        **{
            k: v
            for k, v in os.environ.items()
            if not k.startswith(("CONN_", "DATABASE_")) and k != "PYTEST_VERSION"
        },
        "DATABASE_URL": "postgres://oms@127.0.0.1:5432/oms",
        "DJANGO_SETTINGS_MODULE": "articurated.settings",
    }
    result = subprocess.run(
        [sys.executable, "-c", probe], cwd=ROOT, env=environment, capture_output=True, text=True
    )
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout) == [
        60,
        True,
        {
            "connect_timeout": 5,
            "server_side_binding": True,
            "prepare_threshold": 2,
            "options": "-c statement_timeout=5000",
        },
    ]


def test_production_starts_with_a_real_key_and_debug_off():
    result = start(
        ARTICURATED_ENV="production", SECRET_KEY=GOOD_KEY, BROKER_URL="amqp://guest@127.0.0.1//"
    )
    assert result.returncode == 0, result.stderr
    assert "started" in result.stdout


def test_development_defaults_start():
    result = start()
    assert result.returncode == 0, result.stderr
