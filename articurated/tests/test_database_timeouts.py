"""A database that accepts connections and never answers: requests fail with the JSON error
body instead of hanging, and health says `degraded` (QUALITY.md "Timeouts")."""

import json
import os
import socket
import subprocess
import sys
import threading
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

# Runs in a fresh interpreter whose DATABASE_URL points at the silent listener.
CLIENT = """
import json, time, django
django.setup()
from django.test import Client
client = Client()
out = {}
for name, path, headers in [
    ("orders", "/api/v1/orders", {"HTTP_AUTHORIZATION": "Token " + "a" * 40}),
    ("health", "/api/v1/health", {}),
]:
    started = time.monotonic()
    response = client.get(path, **headers)
    out[name] = {"status": response.status_code, "body": response.json(),
                 "seconds": round(time.monotonic() - started, 1)}
print(json.dumps(out))
"""


class SilentListener:
    """Accepts TCP connections on a free loopback port and never sends a byte."""

    def __init__(self) -> None:
        self.socket = socket.socket()
        self.socket.bind(("127.0.0.1", 0))
        self.socket.listen(16)
        self.port = self.socket.getsockname()[1]
        self.held: list[socket.socket] = []
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self._accept, daemon=True)

    def _accept(self) -> None:
        self.socket.settimeout(0.2)
        while not self.stop.is_set():
            try:
                self.held.append(self.socket.accept()[0])
            except TimeoutError:
                continue

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.stop.set()
        self.thread.join(timeout=5)
        for conn in self.held:
            conn.close()
        self.socket.close()


def test_a_silent_database_fails_requests_with_the_error_body_and_degrades_health():
    with SilentListener() as silent:
        env = {
            **{k: v for k, v in os.environ.items() if k not in {"PYTEST_VERSION", "BROKER_URL"}},
            "DJANGO_SETTINGS_MODULE": "articurated.settings",
            "DATABASE_URL": f"postgres://oms:pw@127.0.0.1:{silent.port}/oms",
            # 5 s by default; shorter here only to keep the suite quick.
            "DATABASE_CONNECT_TIMEOUT": "2",
            "DRAMATIQ_EMBEDDED_WORKER": "false",
        }
        # The subprocess timeout is a guard against the hang this test is about.
        result = subprocess.run(
            [sys.executable, "-c", CLIENT],
            cwd=ROOT,
            env=env,
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert silent.held, "the client never reached the listener"

    assert result.returncode == 0, result.stderr[-3000:]
    out = json.loads(result.stdout.strip().splitlines()[-1])
    orders = out["orders"]
    assert orders["status"] == 503
    assert list(orders["body"]) == ["error"]
    assert orders["body"]["error"]["code"] == "SERVICE_UNAVAILABLE"
    assert "127.0.0.1" not in json.dumps(orders["body"])  # no host or SQL leaks
    health = out["health"]
    assert health["status"] == 503
    assert health["body"] == {
        "status": "degraded",
        "checks": {"database": "unreachable", "broker": "no worker"},
    }
