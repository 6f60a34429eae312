"""The whole API against its own OpenAPI document (QUALITY.md "Bad input", issue 8 scope 3):
schemathesis, every check and every phase (examples, coverage, fuzzing, stateful), as each role
and anonymously, on a live server over the demo data, with a fixed seed and at least 100
examples per operation. Zero failures is the bar: no 5xx, every response as documented, every
schema-valid request accepted and every schema-invalid one refused.

It runs in its own module (not collected by a bare `pytest`: `make contract` runs it) and its
own live server on a free port, so it is safe beside the rest of the suite; the five runs go in
parallel against that one server.
"""

import collections
import io
import logging
import re
import subprocess
import sys
from pathlib import Path

import pytest
from django.core.management import call_command
from rest_framework.authtoken.models import Token
from rest_framework.throttling import SimpleRateThrottle

from articurated.roles import INTEGRATOR, MANAGER, SUPPORT, WAREHOUSE

SEED = 20261122
EXAMPLES = 100
# A guard against a hang, not a timing assertion (the run takes minutes on a busy machine).
TIMEOUT_SECONDS = 3600
ST = Path(sys.executable).with_name("st")

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
"""


def _tokens() -> dict[str, str]:
    call_command("bootstrap_demo", stdout=io.StringIO())
    from django.contrib.auth import get_user_model

    users = get_user_model().objects
    return {
        role: Token.objects.get_or_create(user=users.get(username=role.lower()))[0].key
        for role in (WAREHOUSE, SUPPORT, MANAGER, INTEGRATOR)
    }


@pytest.mark.django_db(transaction=True)
def test_schemathesis_finds_nothing(live_server, monkeypatch, tmp_path):
    # given throttles raised for the run (thousands of requests a minute from one client)
    monkeypatch.setattr(
        SimpleRateThrottle,
        "THROTTLE_RATES",
        collections.defaultdict(lambda: "10000000/minute"),
    )
    # thousands of refused requests are the point of the run; only errors are worth a log line
    monkeypatch.setattr(logging.getLogger("django.request"), "level", logging.ERROR)
    tokens = _tokens()
    config = tmp_path / "schemathesis.toml"
    config.write_text(CONFIG)
    runs = {**{role: f"Token {key}" for role, key in tokens.items()}, "anonymous": None}

    # when every role runs at once
    processes = {}
    for role, authorization in runs.items():
        command = [
            str(ST), "--config-file", str(config), "--no-color", "run",
            f"{live_server.url}/api/v1/schema", "--checks", "all", "--seed", str(SEED),
            "--max-examples", str(EXAMPLES), "--request-timeout", "60",
            "--report", "junit", "--report-junit-path", str(tmp_path / f"{role}.xml"),
        ]  # fmt: skip
        if authorization:
            command += ["--header", f"Authorization: {authorization}"]
        processes[role] = subprocess.Popen(
            command,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            cwd=tmp_path,
        )
    outputs = {
        role: process.communicate(timeout=TIMEOUT_SECONDS)[0] for role, process in processes.items()
    }

    # then
    summary = {role: _summary(output) for role, output in outputs.items()}
    print("\n".join(f"{role}: {line}" for role, line in summary.items()))
    failed = {role: out for role, out in outputs.items() if processes[role].returncode != 0}
    assert not failed, "\n\n".join(f"===== {role}\n{out[-12000:]}" for role, out in failed.items())


def _summary(output: str) -> str:
    lines = [line.strip() for line in output.splitlines() if line.strip()]
    wanted = [
        line for line in lines
        if re.search(r"Operations:|passed|failed|Scenarios:|API Links:|=====", line)
    ]  # fmt: skip
    return " | ".join(wanted)
