"""A fake of Slack's Socket Mode on loopback: a WebSocket server that says hello, pushes envelopes and records the
acknowledgements, as Slack's would. The fake Web API hands out its URL from `apps.connections.open`."""

from __future__ import annotations

import json
import threading
import time
from typing import Any

from websockets.exceptions import ConnectionClosed
from websockets.sync.server import ServerConnection, serve


class FakeSocketMode:
    def __init__(self) -> None:
        self.connections: list[ServerConnection] = []
        self.acks: list[dict[str, Any]] = []
        self._cond = threading.Condition()
        self._server = serve(self._handle, "127.0.0.1", 0)
        self._thread = threading.Thread(target=self._server.serve_forever, name="fake-socket-mode", daemon=True)

    def __enter__(self) -> FakeSocketMode:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._server.shutdown()
        self._thread.join(timeout=5)

    @property
    def url(self) -> str:
        host, port = self._server.socket.getsockname()[:2]
        return f"ws://{host}:{port}/link"

    def _handle(self, connection: ServerConnection) -> None:
        with self._cond:
            self.connections.append(connection)
            self._cond.notify_all()
        connection.send(json.dumps({"type": "hello", "num_connections": len(self.connections),
                                    "connection_info": {"app_id": "A1"}, "debug_info": {"host": "fake"}}))
        try:
            for raw in connection:
                with self._cond:
                    self.acks.append(json.loads(raw))
                    self._cond.notify_all()
        except ConnectionClosed:
            pass

    def wait(self, condition: Any, timeout: float = 20.0) -> None:
        deadline = time.monotonic() + timeout
        with self._cond:
            while not condition():
                remaining = deadline - time.monotonic()
                assert remaining > 0, "the fake Socket Mode server waited in vain"
                self._cond.wait(remaining)

    def connected(self, count: int = 1) -> ServerConnection:
        self.wait(lambda: len(self.connections) >= count)
        return self.connections[count - 1]

    def push(self, envelope_id: str, kind: str, payload: dict[str, Any], retry_attempt: int = 0) -> None:
        """Delivers an envelope on the newest connection and waits for its acknowledgement."""
        before = sum(1 for ack in self.acks if ack.get("envelope_id") == envelope_id)
        self.connections[-1].send(json.dumps({
            "envelope_id": envelope_id, "type": kind, "payload": payload, "accepts_response_payload": True,
            "retry_attempt": retry_attempt, "retry_reason": "timeout" if retry_attempt else ""}))
        self.wait(lambda: sum(1 for ack in self.acks if ack.get("envelope_id") == envelope_id) > before)

    def drop(self) -> None:
        """The connection goes away, as Slack's do now and then: the client must come back by itself."""
        self.connections[-1].close()
