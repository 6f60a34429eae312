import os
import subprocess
import sys

from conftest import ROOT


def test_rungrpc_refuses_production_without_a_real_token():
    env = {k: v for k, v in os.environ.items() if k not in {"PAYMENT_SERVICE_TOKEN", "DEBUG"}}
    env.update(
        ARTICURATED_ENV="production", SECRET_KEY="k" * 50, DEBUG="false",
        BROKER_URL="amqp://guest:guest@127.0.0.1:5672/",
    )  # fmt: skip
    result = subprocess.run(
        [sys.executable, "manage.py", "rungrpc", "--port", "0"],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert result.returncode != 0
    assert "Set PAYMENT_SERVICE_TOKEN" in result.stderr
