"""A webhook receiver for tests: a tiny HTTP server in a thread that records what it is sent."""

from __future__ import annotations

import hashlib
import hmac
import json
import threading
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from tests.polling import eventually


@dataclass(frozen=True)
class Received:
    path: str
    headers: dict[str, str]
    body: bytes

    @property
    def json(self) -> Any:
        return json.loads(self.body)

    def signed_with(self, secret: str) -> bool:
        expected = hmac.new(secret.encode(), self.body, hashlib.sha256).hexdigest()
        return hmac.compare_digest(expected, self.headers.get("x-beacon-signature", ""))


class Receiver:
    """Answers each POST with the next scripted status (200 once the script runs out)."""

    def __init__(self, statuses: list[int] | None = None):
        self.statuses = list(statuses or [])
        self.received: list[Received] = []
        self._lock = threading.Lock()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802 - http.server's naming
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                with receiver._lock:
                    receiver.received.append(Received(
                        self.path, {k.lower(): v for k, v in self.headers.items()}, body))
                    status = receiver.statuses.pop(0) if receiver.statuses else 200
                self.send_response(status)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}/hooks/beacon"

    def __enter__(self) -> Receiver:
        self.thread.start()
        return self

    def __exit__(self, *_: Any) -> None:
        self.server.shutdown()
        self.server.server_close()

    def delivery_ids(self) -> set[str]:
        with self._lock:
            return {r.headers["x-beacon-delivery"] for r in self.received}

    def wait_for_deliveries(self, ids: set[str], timeout: float = 20.0) -> bool:
        """Wait until every delivery id in `ids` has arrived (polling, for real workers)."""
        return eventually(lambda: ids <= self.delivery_ids(), timeout)

    def wait_for_requests(self, count: int, timeout: float = 20.0) -> bool:
        """Wait until at least `count` requests have arrived."""
        return eventually(lambda: len(self.received) >= count, timeout)
