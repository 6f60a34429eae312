"""A webhook receiver on 127.0.0.1 for tests, drills and the bench: a real HTTP server (port
chosen by the OS) that verifies every request's signature with the `standardwebhooks` library
and records what arrived. Not used by the application itself."""

import json
import socket
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from standardwebhooks import Webhook, WebhookVerificationError


class _Server(ThreadingHTTPServer):
    daemon_threads = True

    def handle_error(self, request, client_address) -> None:
        if isinstance(sys.exc_info()[1], ConnectionError):
            return  # a kept-alive connection the sender closed or reset: normal
        super().handle_error(request, client_address)


@dataclass
class Received:
    webhook_id: str
    headers: dict[str, str]
    body: bytes
    verified_with: list[int]  # indexes of the secrets whose signature matched
    at: float = field(default_factory=time.time)

    @property
    def event(self) -> dict:
        return json.loads(self.body)

    @property
    def signatures(self) -> list[str]:
        return self.headers.get("webhook-signature", "").split(" ")


class Receiver:
    """`Receiver(secrets=[...])` answers `status` (or what `respond(received)` returns: a
    status code, or (code, headers)); `.url`, `.received`, `.stop()`. A request whose
    signature no secret verifies is answered 400 and recorded in `.rejected`; one whose body
    ended before its Content-Length (the sender died mid-request: a drill's SIGKILL) is counted
    in `.truncated` instead, since nothing was signed wrong."""

    def __init__(
        self,
        *,
        secrets: list[str] | None = None,
        status: int = 200,
        respond: Callable[["Received"], int | tuple[int, dict]] | None = None,
        port: int = 0,
    ) -> None:
        self.secrets = list(secrets or [])
        self.status = status
        self.respond = respond
        self.received: list[Received] = []
        self.rejected: list[tuple[dict, bytes, str]] = []
        self.truncated = 0
        self.lock = threading.Lock()
        self.connections: set = set()  # open (kept-alive) connections, closed by stop()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            # Keep-alive, as integrators' servers do: the sender's pooled connections are
            # reused instead of a connection (and a server thread) per delivery.
            protocol_version = "HTTP/1.1"

            def log_message(self, *args) -> None:  # quiet
                pass

            def setup(self) -> None:
                super().setup()
                with receiver.lock:
                    receiver.connections.add(self.connection)

            def finish(self) -> None:
                with receiver.lock:
                    receiver.connections.discard(self.connection)
                super().finish()

            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length)
                if len(body) < length:
                    with receiver.lock:
                        receiver.truncated += 1
                    self.close_connection = True
                    return  # the sender is gone: no one to answer
                headers = {k.lower(): v for k, v in self.headers.items()}
                code, extra = receiver._handle(headers, body)
                self.send_response(code)
                for name, value in extra.items():
                    self.send_header(name, value)
                self.send_header("Content-Length", "2")
                self.end_headers()
                self.wfile.write(b"ok")

        self.server = _Server(("127.0.0.1", port), Handler)
        self.port = self.server.server_address[1]
        self.url = f"http://127.0.0.1:{self.port}/hook"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def _handle(self, headers: dict, body: bytes) -> tuple[int, dict]:
        verified = []
        for index, secret in enumerate(self.secrets):
            try:
                Webhook(secret).verify(body, headers)
                verified.append(index)
            except WebhookVerificationError:
                continue
        if self.secrets and not verified:
            with self.lock:
                self.rejected.append((headers, body, "signature"))
            return 400, {}
        received = Received(headers.get("webhook-id", ""), headers, body, verified)
        with self.lock:
            self.received.append(received)
        answer = self.respond(received) if self.respond else self.status
        return answer if isinstance(answer, tuple) else (answer, {})

    def ids(self) -> list[str]:
        with self.lock:
            return [r.webhook_id for r in self.received]

    def wait_for(self, count: int, *, seconds: float = 30) -> bool:
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            if len(self.received) >= count:
                return True
            time.sleep(0.05)
        return False

    def stop(self) -> None:
        """Stops listening and drops the open connections, as a server going down does (a
        kept-alive connection would otherwise go on being served)."""
        self.server.shutdown()
        self.server.server_close()
        with self.lock:
            connections = list(self.connections)
        for connection in connections:
            try:
                connection.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass  # already closed
