#!/usr/bin/env python
"""Bench scenario (QUALITY.md "gRPC CreatePayment"): CreatePayment over gRPC at 16 concurrent
calls, p95 <= 20 ms and >= 50 % of a bare grpcio unary call doing one INSERT.

    python bench/scenarios/grpc_payments.py --database-url postgres://… --out rows.json

Creates its own database (bench_grpc_payments_…) with the payment service's tables and one
bare table, and starts two services on free 127.0.0.1 ports, each SERVER_PROCESSES (2) server
processes sharing its port with SO_REUSEPORT, 16 worker threads per process:

- the product: `manage.py rungrpc --processes 2` (auth interceptor, request ids, per-call log
  line, idempotency claim, the acquirer, the payment and its stored answer, CONN_MAX_AGE=60
  and DATABASE_STATEMENT_TIMEOUT as in production);
- the ceiling: this script with --bare-server, plain grpcio servers forked the same way, whose
  CreatePayment handler does one INSERT with psycopg (a connection per thread) and answers a
  Payment.

The process count is the same for both, as the HTTP ceilings share gunicorn's settings: one
Python process serves its calls under one GIL, and the machine has two cores.

The client is CLIENT_PROCESSES (2) processes x 8 threads, the same for both sides, each thread a
blocking unary call after another with a new idempotency key and a 10 s deadline, in rounds
alternating ceiling / product (same machine state for both); each round is bounded in calls and
seconds. One client process of 16 threads queued every call's own Python work (building the
request, reading the answer) behind one GIL, which added its waits to both sides' latencies; two
processes also give each server process a connection of its own (the kernel spreads
connections, not calls: one client process on one channel kept the second server process idle,
measured). BENCH_GRPC_SERVER_PROCESSES, BENCH_GRPC_CLIENT_PROCESSES and BENCH_GRPC_CHANNELS (per
client process) vary the set-up for experiments; the row's notes say which ran. Writes the rows
of COMMON.md's contract to --out.
"""

import argparse
import json
import os
import secrets
import signal
import subprocess
import sys
import threading
import time
from concurrent import futures
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

ROOT = Path(__file__).resolve().parent.parent.parent
sys.path.insert(0, str(ROOT))

from articurated.db import server_execute  # noqa: E402

CONCURRENCY = 16
# Server processes, the product's (`rungrpc --processes`) and the ceiling's alike.
SERVER_PROCESSES = int(os.environ.get("BENCH_GRPC_SERVER_PROCESSES", "2"))
GRPC_THREADS = CONCURRENCY  # per server process, product and ceiling
CLIENT_PROCESSES = int(os.environ.get("BENCH_GRPC_CLIENT_PROCESSES", "2"))
CHANNELS = int(os.environ.get("BENCH_GRPC_CHANNELS", "1"))  # per client process
ROUNDS = 3
CALLS_PER_ROUND = 3000
ROUND_SECONDS = 20.0
WARMUP_CALLS = 300
TOKEN = "bench-payment-token"  # noqa: S105 - a throwaway server of this script's own
BAR = "p95 <= 20 ms at 16 concurrent calls and >= 50 % of a bare grpcio unary call + one INSERT"


# --- the ceiling: a bare grpcio server ------------------------------------------------------


def bare_server(database_url: str, processes: int) -> None:
    """The ceiling, with the product's process model: `processes` forked servers on one port
    (SO_REUSEPORT), each with CONCURRENCY threads, forked before any gRPC object exists."""
    import socket

    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as reserved:
        reserved.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
        reserved.bind(("127.0.0.1", 0))
        port = reserved.getsockname()[1]
        ready_read, ready_write = os.pipe()
        children = []
        for _ in range(processes):
            pid = os.fork()
            if pid == 0:
                os.close(ready_read)
                _bare_serve(database_url, port, ready_write)
                os._exit(0)
            children.append(pid)
        os.close(ready_write)
        got = b""
        while len(got) < processes:
            chunk = os.read(ready_read, processes)
            if not chunk:
                raise RuntimeError("a bare server process died starting")
            got += chunk
        print(f"Payment service listening on 127.0.0.1:{port}", flush=True)
        stopping = threading.Event()
        signal.signal(signal.SIGTERM, lambda *_: stopping.set())
        stopping.wait(timeout=600)
        for pid in children:
            os.kill(pid, signal.SIGTERM)
        for pid in children:
            os.waitpid(pid, 0)


def _bare_serve(database_url: str, port: int, ready_fd: int) -> None:
    import grpc
    import psycopg
    from google.protobuf.timestamp_pb2 import Timestamp

    from payment_service_pb import payments_pb2 as pb

    stopping = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stopping.set())
    local = threading.local()

    def insert(request, context):
        connection = getattr(local, "connection", None)
        if connection is None:
            connection = local.connection = psycopg.connect(database_url, autocommit=True)
        payment_id = f"pay_{secrets.token_hex(12)}"
        connection.execute(
            "INSERT INTO bench_bare_payment (id, amount_minor, currency, reference, created_at)"
            " VALUES (%s, %s, %s, %s, now())",
            (payment_id, request.amount_minor, request.currency, request.reference),
        )
        created = Timestamp()
        created.GetCurrentTime()
        return pb.Payment(
            id=payment_id,
            status=pb.PAYMENT_STATUS_SUCCEEDED,
            amount_minor=request.amount_minor,
            currency=request.currency,
            reference=request.reference,
            created_at=created,
        )

    handler = grpc.method_handlers_generic_handler(
        "articurated.payments.v1.PaymentService",
        {
            "CreatePayment": grpc.unary_unary_rpc_method_handler(
                insert,
                request_deserializer=pb.CreatePaymentRequest.FromString,
                response_serializer=pb.Payment.SerializeToString,
            )
        },
    )
    server = grpc.server(
        futures.ThreadPoolExecutor(max_workers=GRPC_THREADS),
        options=[("grpc.so_reuseport", 1)],
    )
    server.add_generic_rpc_handlers((handler,))
    server.add_insecure_port(f"127.0.0.1:{port}")
    server.start()
    os.write(ready_fd, b".")
    os.close(ready_fd)
    stopping.wait(timeout=600)
    server.stop(1).wait()


# --- the client -----------------------------------------------------------------------------


def _load_threads(target: str, *, threads: int, calls: int, seconds: float, start_at: float):
    """`threads` threads of blocking CreatePayment calls on one channel, from `start_at` (a
    CLOCK_MONOTONIC time, shared by the client processes); returns latencies (ms), errors and
    the monotonic time the last thread finished."""
    import grpc

    from payment_service_pb import payments_pb2 as pb
    from payment_service_pb import payments_pb2_grpc

    # A channel of its own (not the process's shared subchannel pool) per CHANNELS: a TCP
    # connection each, which SO_REUSEPORT can hand to different server processes.
    channels = [
        grpc.insecure_channel(target, options=[("grpc.use_local_subchannel_pool", 1)])
        for _ in range(CHANNELS)
    ]
    for channel in channels:
        grpc.channel_ready_future(channel).result(timeout=10)
    stubs = [payments_pb2_grpc.PaymentServiceStub(channel) for channel in channels]
    metadata = (("authorization", f"Bearer {TOKEN}"),)
    latencies: list[float] = []
    errors: list[str] = []
    lock = threading.Lock()
    remaining = [calls]
    stop_at = start_at + seconds

    def worker(stub):
        mine, my_errors = [], []
        while time.monotonic() < stop_at:
            with lock:
                if remaining[0] <= 0:
                    break
                remaining[0] -= 1
            request = pb.CreatePaymentRequest(
                idempotency_key=secrets.token_hex(16),
                amount_minor=10400,
                currency="USD",
                reference="ORD-BENCH",
            )
            started = time.perf_counter()
            try:
                stub.CreatePayment(request, metadata=metadata, timeout=10)
                mine.append((time.perf_counter() - started) * 1000)
            except grpc.RpcError as error:
                my_errors.append(error.code().name)
        with lock:
            latencies.extend(mine)
            errors.extend(my_errors)

    pool = [threading.Thread(target=worker, args=(stubs[n % CHANNELS],)) for n in range(threads)]
    time.sleep(max(0.0, start_at - time.monotonic()))
    for thread in pool:
        thread.start()
    for thread in pool:
        thread.join(timeout=seconds + 30)
    finished = time.monotonic()
    for channel in channels:
        channel.close()
    return {"latencies": latencies, "errors": errors, "finished": finished}


def _client_process(pipe) -> None:
    """A client process: runs the load it is sent until it is sent None."""
    while (job := pipe.recv()) is not None:
        pipe.send(_load_threads(**job))


class Client:
    """CLIENT_PROCESSES processes of CONCURRENCY / CLIENT_PROCESSES threads each, started once
    (spawned: nothing of gRPC is shared) and given every round, ceiling and product alike. One
    process of 16 threads queued the calls' own Python work behind one GIL, adding its waits
    to both sides' latencies; each process has its own channel, so its own connection to the
    server (with several server processes, the kernel spreads connections, not calls)."""

    def __init__(self) -> None:
        import multiprocessing

        context = multiprocessing.get_context("spawn")
        self.pipes, self.processes = [], []
        for _ in range(CLIENT_PROCESSES):
            mine, theirs = context.Pipe()
            process = context.Process(target=_client_process, args=(theirs,), daemon=True)
            process.start()
            self.pipes.append(mine)
            self.processes.append(process)

    def load(self, target: str, *, calls: int, seconds: float) -> dict:
        """CONCURRENCY concurrent calls in all; returns latencies (ms), errors, wall time."""
        start_at = time.monotonic() + 1.0  # every process connected and waiting by then
        share = CONCURRENCY // CLIENT_PROCESSES
        for pipe in self.pipes:
            pipe.send(
                {
                    "target": target,
                    "threads": share,
                    "calls": calls // CLIENT_PROCESSES,
                    "seconds": seconds,
                    "start_at": start_at,
                }
            )
        runs = [pipe.recv() for pipe in self.pipes]
        return {
            "latencies": [ms for run in runs for ms in run["latencies"]],
            "errors": [error for run in runs for error in run["errors"]],
            "seconds": max(run["finished"] for run in runs) - start_at,
        }

    def close(self) -> None:
        for pipe in self.pipes:
            pipe.send(None)
        for process in self.processes:
            process.join(timeout=10)


# --- setup and teardown ---------------------------------------------------------------------


def _start(command: list[str], env: dict, log: Path) -> tuple[subprocess.Popen, str]:
    out = log.with_suffix(".out")
    with out.open("wb") as stdout, log.open("ab") as stderr:
        process = subprocess.Popen(
            command, cwd=ROOT, env=env, stdout=stdout, stderr=stderr, start_new_session=True
        )
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"{command[1:3]} exited: {log.read_text()[-2000:]}")
        for line in out.read_text().splitlines():
            if line.startswith("Payment service listening on "):
                return process, line.rsplit(" ", 1)[1]
        time.sleep(0.1)
    raise TimeoutError(f"{command[1:3]} did not start listening within 60 s")


def _stop(process: subprocess.Popen) -> None:
    if process.poll() is None:
        os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait(timeout=10)


def _percentile(values: list[float], fraction: float) -> float | None:
    if not values:
        return None
    ordered = sorted(values)
    return round(ordered[min(len(ordered) - 1, max(0, round(fraction * len(ordered)) - 1))], 2)


def measure(database_url: str, workdir: Path) -> list[dict]:
    python = sys.executable
    db_name = f"bench_grpc_payments_{secrets.token_hex(4)}"
    parts = urlsplit(database_url)
    db_url = urlunsplit(parts._replace(path=f"/{db_name}"))
    server_execute(database_url, f'CREATE DATABASE "{db_name}"')
    processes: list[subprocess.Popen] = []
    try:
        env = {
            **os.environ,
            "DJANGO_SETTINGS_MODULE": "articurated.settings",
            "DATABASE_URL": db_url,
            "CONN_MAX_AGE": "60",
            "DEBUG": "false",
            "PAYMENT_SERVICE_TOKEN": TOKEN,
            "GRPC_MAX_WORKERS": str(GRPC_THREADS),
        }
        env.pop("BROKER_URL", None)
        subprocess.run(
            [python, "manage.py", "migrate", "--noinput", "-v0"],
            cwd=ROOT, env=env, check=True, timeout=120,
        )  # fmt: skip
        _admin_execute_db(
            db_url,
            "CREATE TABLE bench_bare_payment (id varchar(40) PRIMARY KEY, amount_minor bigint,"
            " currency varchar(3), reference varchar(120), created_at timestamptz)",
        )
        # The database's dirty pages (this setup's, the earlier scenarios' 100k orders) are
        # written now, not by a checkpoint running through the measured rounds: a CHECKPOINT
        # completes one in progress at once, and the next timed one is minutes away.
        server_execute(database_url, "CHECKPOINT")
        product, product_target = _start(
            [python, "manage.py", "rungrpc", "--port", "0", "--processes", str(SERVER_PROCESSES)],
            env,
            workdir / "product.log",
        )
        processes.append(product)
        ceiling, ceiling_target = _start(
            [python, __file__, "--bare-server", "--database-url", db_url,
             "--processes", str(SERVER_PROCESSES)],
            env,
            workdir / "ceiling.log",
        )  # fmt: skip
        processes.append(ceiling)
        client = Client()
        try:
            for target in (ceiling_target, product_target):
                client.load(target, calls=WARMUP_CALLS, seconds=ROUND_SECONDS)
            results = {"ceiling": [], "product": []}
            for _ in range(ROUNDS):
                results["ceiling"].append(
                    client.load(ceiling_target, calls=CALLS_PER_ROUND, seconds=ROUND_SECONDS)
                )
                results["product"].append(
                    client.load(product_target, calls=CALLS_PER_ROUND, seconds=ROUND_SECONDS)
                )
        finally:
            client.close()
    finally:
        for process in processes:
            _stop(process)
        server_execute(database_url, f'DROP DATABASE IF EXISTS "{db_name}" WITH (FORCE)')

    def summary(runs: list[dict]) -> dict:
        latencies = [ms for run in runs for ms in run["latencies"]]
        seconds = sum(run["seconds"] for run in runs)
        return {
            "req_s": round(len(latencies) / seconds, 1) if seconds else None,
            "p50_ms": _percentile(latencies, 0.50),
            "p95_ms": _percentile(latencies, 0.95),
            "p99_ms": _percentile(latencies, 0.99),
            "calls": len(latencies),
            "errors": sum(len(run["errors"]) for run in runs),
        }

    product_s, ceiling_s = summary(results["product"]), summary(results["ceiling"])
    ratio = (
        round(product_s["req_s"] / ceiling_s["req_s"], 3)
        if product_s["req_s"] and ceiling_s["req_s"]
        else None
    )
    passed = (
        product_s["p95_ms"] is not None
        and product_s["p95_ms"] <= 20
        and ratio is not None
        and ratio >= 0.5
        and product_s["errors"] == 0
    )
    return [
        {
            "operation": "gRPC CreatePayment (16 concurrent)",
            "req_s": product_s["req_s"],
            "p50_ms": product_s["p50_ms"],
            "p95_ms": product_s["p95_ms"],
            "p99_ms": product_s["p99_ms"],
            "ceiling": "bare grpcio unary call + one INSERT (psycopg)",
            "ceiling_req_s": ceiling_s["req_s"],
            "ratio": ratio,
            "bar": BAR,
            "pass": passed,
            "notes": (
                f"{ROUNDS} interleaved rounds of <= {CALLS_PER_ROUND} calls / "
                f"{ROUND_SECONDS:.0f} s each; product {product_s['calls']} calls, "
                f"{product_s['errors']} errors; ceiling {ceiling_s['calls']} calls, p50 "
                f"{ceiling_s['p50_ms']} ms, p95 {ceiling_s['p95_ms']} ms, "
                f"{ceiling_s['errors']} errors; {SERVER_PROCESSES} server processes each (product "
                f"rungrpc --processes, ceiling forked the same way), {GRPC_THREADS} threads per "
                f"process; client: {CLIENT_PROCESSES} processes x "
                f"{CONCURRENCY // CLIENT_PROCESSES} threads, {CHANNELS} channel(s) each"
            ),
        }
    ]


def _admin_execute_db(url: str, sql: str) -> None:
    import psycopg

    with psycopg.connect(url, autocommit=True) as connection:
        connection.execute(sql)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database-url", required=True)
    parser.add_argument("--out", type=Path)
    parser.add_argument("--bare-server", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--processes", type=int, default=1, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.bare_server:
        bare_server(args.database_url, args.processes)
        return 0
    if args.out is None:
        parser.error("--out is required")
    import tempfile

    with tempfile.TemporaryDirectory(prefix="bench-grpc-") as tmp:
        rows = measure(args.database_url, Path(tmp))
    args.out.write_text(json.dumps(rows, indent=2))
    for row in rows:
        print(json.dumps(row))
    return 0


if __name__ == "__main__":
    sys.exit(main())
