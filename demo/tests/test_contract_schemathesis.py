"""The whole API against its own OpenAPI document (QUALITY.md "Bad input", issue 8 scope 3):
schemathesis, every check and every phase (examples, coverage, fuzzing, stateful), as each role
and anonymously, on a live server over the demo data, with a fixed seed and at least 100
examples per operation. Zero failures is the bar: no 5xx, every response as documented, every
schema-valid request accepted and every schema-invalid one refused.

Part of `make test`. Where the time goes (measured: 5 runs of ~9,500 cases each over 54
operations, 0 failures, 20 minutes on the shared 2-core machine at load 8): about 1,400
CPU-seconds, about two thirds of them in schemathesis itself (hypothesis generating cases and
checking responses, one CPU-bound process per role; the coverage and fuzzing phases) and the
rest in the server. Django's `live_server` is one thread inside this process, so the server
here is gunicorn (threaded workers) in a subprocess on the test database (SQLite file or
PostgreSQL), with jobs on the in-memory broker as in every test (queued work stays queued) and
no log line per refused request; the five runs go in parallel against it. Even so the run needs
about 12 minutes of a quiet 2-core machine, more than the 5 it was allotted, so `.ci/run`
runs it in its SQLite pass only (CONTRACT_RUN=0 in the PostgreSQL pass: the HTTP contract is
the same on either database, and the rest of that pass covers PostgreSQL). `make contract`
runs it alone.
"""

import http.client
import io
import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
from django.core.management import call_command
from django.db import connection
from rest_framework.authtoken.models import Token

from articurated.roles import INTEGRATOR, MANAGER, SUPPORT, WAREHOUSE

SEED = 20261122
EXAMPLES = 100
# Guards against a hang, not timing assertions (a run takes minutes on a busy machine).
TIMEOUT_SECONDS = 3600
START_TIMEOUT_SECONDS = 120
BIN = Path(sys.executable).parent
# A rate no run reaches: thousands of requests a minute come from one client address.
UNTHROTTLED = "100000000/minute"

# Where a check needs configuring, and why (each entry is the reason the default is wrong
# for this API, not a way round a failure):
CONFIG = """
[generation]
database = "none"

# Business rules no JSON Schema can state: a return's quantities must not exceed what is left
# of each line, its lines must belong to its order, and a rejection needs a reason only at
# that step. A request valid by the schema can therefore be refused with 400 VALIDATION_ERROR
# by the service; every other check (and negative data) still applies to these operations.
[[operations]]
# One operation by its name ("METHOD path"): include-path with include-method also matched
# GET /api/v1/returns and POST …/state in the first run.
include-name = "POST /api/v1/returns"
checks.positive_data_acceptance.expected-statuses = [201, 400, 401, 403, 404, 409, 422, 429]

# Lists: `cursor` is opaque (API.md: links carry it); only a value the server issued is valid,
# and `page` with `cursor` is refused, a rule between parameters that OpenAPI cannot state. Any
# string the schema admits as a cursor is therefore a 400; the other parameters are exact.
[[operations]]
include-name = [
    "GET /api/v1/audit",
    "GET /api/v1/categories",
    "GET /api/v1/events",
    "GET /api/v1/imports",
    "GET /api/v1/orders",
    "GET /api/v1/orders/{id}/history",
    "GET /api/v1/products",
    "GET /api/v1/returns",
    "GET /api/v1/returns/{id}/history",
    "GET /api/v1/skus",
    "GET /api/v1/stock-movements",
    "GET /api/v1/webhooks",
    "GET /api/v1/webhooks/{id}/deliveries",
]
checks.positive_data_acceptance.expected-statuses = [200, 400, 401, 403, 404, 429]

# Catalogue changes: If-Match must name the current version, which changes as the run writes
# (a well-formed version can be stale: 412); and an id in the body (`parent_id`,
# `category_id`, `product_id`) must name a live object, which a generated UUID does not (400).
# An If-Match that names no version (`*`, `{}`) is a precondition no version meets: 412, as
# RFC 9110 answers a failed If-Match, which this check does not count as a refusal.
[[operations]]
include-name-regex = "^(PATCH|DELETE) /api/v1/(categories|products|skus)/[{]id[}]$"
checks.positive_data_acceptance.expected-statuses = [200, 204, 400, 401, 403, 404, 409, 412, 429]
# Without If-Match the answer is 428 PRECONDITION_REQUIRED (API.md, RFC 6585), a status this
# check does not count as refusing a missing header.
checks.missing_required_header.expected-statuses = [400, 401, 403, 404, 406, 415, 422, 428]
checks.negative_data_rejection.expected-statuses = [
    400, 401, 403, 404, 405, 406, 409, 412, 413, 415, 422, 428, 429,
]
[[operations]]
include-name = ["POST /api/v1/categories", "POST /api/v1/products", "POST /api/v1/skus"]
checks.positive_data_acceptance.expected-statuses = [201, 400, 401, 403, 404, 409, 429]

# An order's lines must name live catalogue SKUs (400 otherwise): state, not shape.
[[operations]]
include-name = "POST /api/v1/orders"
checks.positive_data_acceptance.expected-statuses = [201, 400, 401, 403, 404, 409, 422, 429]

# "Exactly one of": `on_hand` or `delta` for a stock change; `ids`, `filter` or `all: true` for a
# bulk delete. A rule between fields; each field alone is exact in the schema.
[[operations]]
include-name = ["POST /api/v1/skus/{id}/stock", "POST /api/v1/products/bulk-delete"]
checks.positive_data_acceptance.expected-statuses = [200, 400, 401, 403, 404, 409, 429]

# A webhook's url must name a host that resolves to a public address (the SSRF guard, checked
# when it is registered), which no pattern of a URL can state; and "*" goes alone in `events`.
[[operations]]
include-name = ["POST /api/v1/webhooks", "PATCH /api/v1/webhooks/{id}"]
checks.positive_data_acceptance.expected-statuses = [200, 201, 400, 401, 403, 404, 429]

# An import's file must be a UTF-8 CSV with the documented header: the schema can only say
# "a file" (binary), so a generated file is a 400 whatever its bytes.
[[operations]]
include-name = "POST /api/v1/imports"
checks.positive_data_acceptance.expected-statuses = [202, 400, 401, 403, 404, 429]
"""


# Thousands of refused requests are the point of the run: a log line for each (django.request
# warns on every 4xx) costs the server time; errors are still logged.
GUNICORN_CONFIG = """
import logging


def post_worker_init(worker):
    logging.getLogger("django.request").setLevel(logging.ERROR)
"""


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _database_url() -> str:
    """The test database this process made, as DATABASE_URL for the server process."""
    db = connection.settings_dict
    if db["ENGINE"].endswith("sqlite3"):
        return f"sqlite:///{db['NAME']}"
    credentials = db["USER"] + (f":{db['PASSWORD']}" if db["PASSWORD"] else "")
    return f"postgres://{credentials}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}"


@pytest.fixture
def server(transactional_db, tmp_path):
    """The API over the test database in gunicorn; yields its base URL, stops it before the
    database is flushed."""
    port = _free_port()
    env = {
        **os.environ,
        "DATABASE_URL": _database_url(),
        "THROTTLE_ANON_RATE": UNTHROTTLED,
        "THROTTLE_USER_RATE": UNTHROTTLED,
        "THROTTLE_AUTH_RATE": UNTHROTTLED,
        "LOG_LEVEL": "ERROR",
        # An import's progress stream stays open this long (it is re-opened by the client): at
        # the default 20 s, thousands of generated requests for it held every server thread.
        "IMPORT_EVENTS_STREAM_SECONDS": "1",
        "DEBUG": "false",
        "PYTEST_VERSION": os.environ.get("PYTEST_VERSION", "1"),  # jobs on the StubBroker
    }
    env.pop("BROKER_URL", None)
    log = tmp_path / "server.log"
    config = tmp_path / "gunicorn.conf.py"
    config.write_text(GUNICORN_CONFIG)
    command = [
        str(BIN / "gunicorn"), "articurated.wsgi:application", "--bind", f"127.0.0.1:{port}",
        "--config", str(config),
        "--worker-class", "gthread", "--workers", "2", "--threads", "8", "--timeout", "120",
    ]  # fmt: skip
    with log.open("w") as output:
        process = subprocess.Popen(command, env=env, stdout=output, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + START_TIMEOUT_SECONDS
        while True:
            assert process.poll() is None, log.read_text()[-4000:]
            try:
                client = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
                client.request("GET", "/api/v1/health")
                if client.getresponse().status == 200:
                    break
            except OSError:
                pass
            assert time.monotonic() < deadline, log.read_text()[-4000:]
            time.sleep(0.5)
        yield url
    finally:
        process.terminate()
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        connection.close()


def _tokens() -> dict[str, str]:
    call_command("bootstrap_demo", stdout=io.StringIO())
    from django.contrib.auth import get_user_model

    users = get_user_model().objects
    return {
        role: Token.objects.get_or_create(user=users.get(username=role.lower()))[0].key
        for role in (WAREHOUSE, SUPPORT, MANAGER, INTEGRATOR)
    }


@pytest.mark.skipif(
    os.environ.get("CONTRACT_RUN") == "0", reason="CONTRACT_RUN=0: run in the other CI pass"
)
def test_schemathesis_finds_nothing(server, tmp_path):
    # given the demo data, a token per role, and throttles raised for the run (in the server)
    tokens = _tokens()
    config = tmp_path / "schemathesis.toml"
    config.write_text(CONFIG)
    runs = {**{role: f"Token {key}" for role, key in tokens.items()}, "anonymous": None}

    # when every role runs at once
    processes = {}
    for role, authorization in runs.items():
        command = [
            str(BIN / "st"), "--config-file", str(config), "--no-color", "run",
            f"{server}/api/v1/schema", "--checks", "all", "--seed", str(SEED),
            "--max-examples", str(EXAMPLES), "--request-timeout", "60",
        ]  # fmt: skip
        if authorization:
            command += ["--header", f"Authorization: {authorization}"]
        with (tmp_path / f"{role}.log").open("w") as output:  # tail it to follow a run
            processes[role] = subprocess.Popen(
                command, stdout=output, stderr=subprocess.STDOUT, cwd=tmp_path
            )
    for process in processes.values():
        process.wait(timeout=TIMEOUT_SECONDS)
    outputs = {role: (tmp_path / f"{role}.log").read_text() for role in processes}

    # then
    print("\n".join(f"{role}: {_summary(output)}" for role, output in outputs.items()))
    failed = {role: out for role, out in outputs.items() if processes[role].returncode != 0}
    assert not failed, "\n\n".join(f"===== {role}\n{out[-12000:]}" for role, out in failed.items())


def _summary(output: str) -> str:
    """The summary lines: operations tested, cases generated, failures, and the final line."""
    lines = [line.strip() for line in output.splitlines() if line.strip()]
    start = next((i for i, line in enumerate(lines) if "SUMMARY" in line), len(lines))
    wanted = [
        line for line in lines[start:]
        if line.startswith(("Tested", "Selected", "❌", "✅", "⏭", "=")) or "generated" in line
    ]  # fmt: skip
    return " | ".join(wanted)
