"""Production hardening (issue 8): `check --deploy` is clean under production settings (HSTS and
the SSL redirect on by default, switchable behind a TLS-terminating proxy), and the admin login
locks out after repeated failures (django-axes, limits from the environment)."""

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
GOOD_KEY = "t3st-Only-9fK2mQ7vXr8LwZ4pN6sJ1hB5dC0gE-aYuTiOoPlMnBvCxZ"


def _manage(*args, **env):
    environment = {k: v for k, v in os.environ.items() if k not in {"DEBUG", "SECRET_KEY"}}
    # Set by the test run itself (Playwright's tests), never by a deployment.
    for name in ("PYTEST_VERSION", "DJANGO_ALLOW_ASYNC_UNSAFE"):
        environment.pop(name, None)
    # Production also needs a broker (the in-process worker is for development only).
    environment.setdefault("BROKER_URL", "amqp://guest:guest@127.0.0.1:5672/")
    environment.update(env)
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=ROOT, env=environment, capture_output=True, text=True, timeout=120,
    )  # fmt: skip


def test_check_deploy_is_clean_under_production_settings():
    # when
    result = _manage("check", "--deploy", ARTICURATED_ENV="production", SECRET_KEY=GOOD_KEY)

    # then
    assert result.returncode == 0, result.stderr
    assert "System check identified no issues" in result.stdout, result.stdout + result.stderr


def _setting(expression: str, **env) -> str:
    result = _manage(
        "shell", "-c", f"from django.conf import settings; print(repr(({expression})))",
        ARTICURATED_ENV="production", SECRET_KEY=GOOD_KEY, **env,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    return result.stdout.strip().splitlines()[-1]


def test_production_defaults_to_hsts_and_ssl_redirect():
    assert _setting("settings.SECURE_SSL_REDIRECT, settings.SECURE_HSTS_SECONDS > 0") == (
        "(True, True)"
    )


def test_behind_a_tls_terminating_proxy_the_header_is_trusted_and_redirect_can_be_off():
    value = _setting(
        "settings.SECURE_PROXY_SSL_HEADER, settings.SECURE_SSL_REDIRECT",
        SECURE_PROXY_SSL_HEADER="HTTP_X_FORWARDED_PROTO,https",
        SECURE_SSL_REDIRECT="false",
    )
    assert value == "(('HTTP_X_FORWARDED_PROTO', 'https'), False)"


@pytest.mark.django_db
def test_the_admin_login_locks_out_after_repeated_failures(client, make_user, settings):
    # given a staff user and a limit of 3 failures
    settings.AXES_FAILURE_LIMIT = 3
    make_user("Manager", username="mara")

    def login(password):
        return client.post("/admin/login/", {"username": "mara", "password": password})

    # when the password is guessed wrong three times
    for _ in range(3):
        login("guess")

    # then even the right password is refused
    response = login("pw-for-tests-1")
    assert response.status_code == 429
    assert "_auth_user_id" not in client.session


@pytest.mark.django_db
def test_a_right_password_before_the_limit_logs_in(client, make_user, settings):
    settings.AXES_FAILURE_LIMIT = 3
    make_user("Manager", username="mara")
    client.post("/admin/login/", {"username": "mara", "password": "guess"})

    response = client.post("/admin/login/", {"username": "mara", "password": "pw-for-tests-1"})

    assert response.status_code == 302
    assert "_auth_user_id" in client.session
