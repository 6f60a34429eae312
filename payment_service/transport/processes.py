"""Several server processes on one port (`manage.py rungrpc --processes N`).

One grpcio server is one Python process, and its calls share one GIL: on a machine with more
than one core a single process leaves the others to the database. This is grpcio's own
multiprocessing pattern (grpc/examples/python/multiprocessing): the parent forks N children
before any gRPC object exists, each child starts its own server on the same host:port with
SO_REUSEPORT, and the kernel spreads new connections across them. A channel keeps to the
process that accepted it, so the spread is per client connection, not per call.

The parent only supervises: it reports the port once every child listens, forwards SIGTERM
and SIGINT to them (each stops gracefully: health NOT_SERVING, then `grace` seconds for calls
in flight), and if one child dies on its own it stops the others and exits non-zero, so that
the orchestrator restarts the whole service."""

import contextlib
import logging
import os
import signal
import socket
import sys
import threading
import time
import traceback

from django.db import connections

logger = logging.getLogger("payment_service.grpc")

# A child that has not said it listens by then has failed to start.
START_TIMEOUT_SECONDS = 60


@contextlib.contextmanager
def _port_reserved(host: str, port: int):
    """With port 0, a free port for every child: a socket bound (never listening) with
    SO_REUSEPORT holds it for the service's lifetime, so the children can all bind it and
    nobody else takes it in between. A given port is used as it is."""
    if port != 0:
        yield port
        return
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
        sock.bind((host.strip("[]"), 0))
        yield sock.getsockname()[1]


def _child_serve(*, host: str, port: int, max_workers: int, grace: float, ready_fd: int) -> int:
    """A child's whole life: serve until SIGTERM/SIGINT, then stop gracefully."""
    from payment_service.transport.server import server_start

    stopping = threading.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda *_: stopping.set())
    running = server_start(host=host, port=port, max_workers=max_workers, reuse_port=True)
    os.write(ready_fd, b".")
    os.close(ready_fd)
    stopping.wait()
    running.stop(grace)
    return 0


def _fork_child(**serve) -> int:
    pid = os.fork()
    if pid:
        return pid
    code = 1
    try:
        code = _child_serve(**serve)
    except Exception:  # noqa: BLE001 - whatever it was, the child ends here, with its trace
        traceback.print_exc()
    finally:
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(code)  # never back into the parent's command


def _children_stop(pids: set[int], grace: float) -> None:
    for pid in pids:
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGTERM)
    deadline = time.monotonic() + grace + 10
    while pids and time.monotonic() < deadline:
        for pid in list(pids):
            done, _ = os.waitpid(pid, os.WNOHANG)
            if done:
                pids.discard(pid)
        time.sleep(0.05)
    for pid in pids:  # past its grace period and then some
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGKILL)
            os.waitpid(pid, 0)


def servers_run(
    *, host: str, port: int, processes: int, max_workers: int, grace: float, on_listening
) -> int:
    """Forks `processes` servers on host:port and supervises them until SIGTERM/SIGINT; calls
    `on_listening(port)` once all of them listen. Returns the exit status: 0 after a
    requested stop, 1 when a child failed."""
    connections.close_all()  # a forked child must not share the parent's database sockets
    stopping = threading.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda *_: stopping.set())
    with _port_reserved(host, port) as bound:
        ready_read, ready_write = os.pipe()
        serve = {"host": host, "port": bound, "max_workers": max_workers, "grace": grace}
        pids = {_fork_child(**serve, ready_fd=ready_write) for _ in range(processes)}
        os.close(ready_write)
        failed = not _children_ready(ready_read, processes)
        os.close(ready_read)
        if not failed:
            on_listening(bound)
        while not failed and not stopping.wait(0.2):
            for pid in list(pids):
                done, status = os.waitpid(pid, os.WNOHANG)
                if done:
                    logger.error("gRPC server process %d exited (%s); stopping all.", pid, status)
                    pids.discard(pid)
                    failed = True
        _children_stop(pids, grace)
    return 1 if failed else 0


def _children_ready(ready_read: int, processes: int) -> bool:
    """Waits for one byte from each child; an end of file first means one died starting."""
    got = 0
    deadline = time.monotonic() + START_TIMEOUT_SECONDS
    os.set_blocking(ready_read, False)
    while got < processes and time.monotonic() < deadline:
        try:
            chunk = os.read(ready_read, processes)
        except BlockingIOError:
            time.sleep(0.05)
            continue
        if not chunk:
            return False
        got += len(chunk)
    return got == processes
