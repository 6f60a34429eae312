#!/usr/bin/env python
"""Drill: a worker killed with SIGKILL mid-job loses nothing and doubles nothing.

Against a real RabbitMQ (BROKER_URL=amqp://…) and a database that worker processes can share
(DATABASE_URL), for one invoice or refund that is PENDING, or one import that is QUEUED:

1. sends its job message to RabbitMQ,
2. starts `manage.py rundramatiq` with JOBS_FAULT_DELAY_SECONDS so the job stalls after
   recording its attempt, waits for that attempt, and SIGKILLs the whole worker (master and
   worker process) — RabbitMQ gets its message back, unacknowledged,
3. starts a second worker, waits until the work is done (invoice GENERATED and e-mailed, or
   refund SUCCEEDED and the customer e-mailed), and stops it with SIGTERM,
4. prints a JSON summary (attempts, status, how many e-mails the workers printed).

    BROKER_URL=amqp://… DATABASE_URL=postgres://… EMAIL_BACKEND=…console.EmailBackend \\
        python scripts/worker_kill_drill.py invoice <uuid>

Exit status 0 when the work completed after the kill, 1 otherwise. Used by
invoicing/tests/test_worker_kill.py and payments/tests/test_worker_kill.py.
"""

import argparse
import json
import os
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "articurated.settings")
os.environ.pop("PYTEST_VERSION", None)  # this process and its workers use the real broker

import django  # noqa: E402

django.setup()

from django.conf import settings  # noqa: E402

# What each kind of job needs: the actor to send, its queues, and when its work is done.
KINDS = {
    "invoice": {
        "model": "invoicing.Invoice",
        "actor": "invoice_generate_job",
        "queues": ["invoices", "email"],
        "done": lambda row: row.status == "GENERATED" and row.emailed_at is not None,
        "subject": "Subject: Your invoice",
    },
    "refund": {
        "model": "payments.Refund",
        "actor": "refund_process_job",
        "queues": ["refunds", "email"],
        "done": lambda row: row.status == "SUCCEEDED" and row.customer_notified_at is not None,
        "subject": "Subject: Your refund",
    },
    # An import stalls after committing its first batch; the kill comes mid-import.
    "import": {
        "model": "imports.Import",
        "actor": "import_process_job",
        "queues": ["imports"],
        "started": lambda row: row.batches_done >= 1,
        "killed": lambda row: row.status == "IMPORTING" and row.batches_done >= 1,
        "done": lambda row: row.status == "COMPLETED",
        "subject": None,
    },
}


def _wait(predicate, *, seconds: float, what: str):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.2)
    raise TimeoutError(f"gave up waiting for {what} after {seconds:.0f} s")


def _worker_start(queues: list[str], log: Path, *, fault_delay: float) -> subprocess.Popen:
    env = {**os.environ, "JOBS_FAULT_DELAY_SECONDS": str(fault_delay)}
    command = [sys.executable, str(ROOT / "manage.py"), "rundramatiq"]
    command += ["--processes", "1", "--threads", "2", "--queues", *queues]
    with log.open("ab") as out:
        # Its own session, so the kill reaches the master and its worker process together.
        return subprocess.Popen(  # noqa: S603 - our own interpreter and manage.py
            command, cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True
        )


def _worker_stop(process: subprocess.Popen, sig: int) -> None:
    if process.poll() is None:
        os.killpg(process.pid, sig)
    try:
        process.wait(timeout=30)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait(timeout=30)


def drill(kind: str, row_id: str, *, log: Path, timeout: float) -> dict:
    import dramatiq
    from django.apps import apps

    spec = KINDS[kind]
    model = apps.get_model(spec["model"])
    queues = [settings.JOBS_QUEUES[name] for name in spec["queues"]]

    def row():
        return model.objects.get(pk=row_id)

    dramatiq.get_broker().get_actor(spec["actor"]).send(row_id)
    first = _worker_start(queues, log, fault_delay=timeout)
    try:
        started = spec.get("started", lambda r: r.attempts >= 1)
        _wait(lambda: started(row()), seconds=timeout, what="the first attempt to start")
    finally:
        _worker_stop(first, signal.SIGKILL)  # mid-job: attempt recorded, work not done
    after_kill = row()
    second = _worker_start(queues, log, fault_delay=0)
    try:
        done = _wait(lambda: spec["done"](row()), seconds=timeout, what="the job to complete again")
    except TimeoutError:
        done = False
    finally:
        _worker_stop(second, signal.SIGTERM)
    final = row()
    return {
        "kind": kind,
        "id": row_id,
        "killed_mid_job": spec.get("killed", _killed_pending)(after_kill),
        "completed": bool(done),
        "status": final.status,
        "attempts": final.attempts,
        "emails": log.read_text(errors="replace").count(spec["subject"]) if spec["subject"] else 0,
    }


def _killed_pending(row) -> bool:
    return row.status == "PENDING" and row.attempts >= 1


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("kind", choices=sorted(KINDS))
    parser.add_argument("id", help="the PENDING invoice's or refund's id")
    parser.add_argument("--log", type=Path, help="the workers' output (default: a temp file)")
    parser.add_argument("--timeout", type=float, default=90, help="seconds per wait")
    args = parser.parse_args()
    if not settings.BROKER_URL.startswith(("amqp://", "amqps://")):
        parser.error("needs BROKER_URL=amqp://… (a real RabbitMQ)")
    log = args.log or Path(tempfile.mkstemp(prefix="worker-kill-", suffix=".log")[1])
    summary = drill(args.kind, args.id, log=log, timeout=args.timeout)
    summary["log"] = str(log)
    print(json.dumps(summary))
    return 0 if summary["completed"] and summary["killed_mid_job"] else 1


if __name__ == "__main__":
    sys.exit(main())
