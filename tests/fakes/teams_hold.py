"""The fake Teams with a Bot Connector that accepts a post and keeps its answer: what a poster killed -9 between
the Connector's accepting a message and the answer's being written down leaves behind.

A held post is in `sent` at once (the channel shows it, and Graph lists it), and the caller's request waits for
its answer until `release()`. Only the first post to each conversation named with `hold` is held. The address of
the caller of the held post is kept, so that a test of two processes can tell which one is the poster.
"""

from __future__ import annotations

import threading
from http.server import BaseHTTPRequestHandler
from typing import Any

from tests.fakes.teams_api import FakeTeams

HOLD_AT_MOST = 120.0  # seconds: a test that forgets to release does not hang the fake for ever


class HoldingTeams(FakeTeams):
    def __init__(self) -> None:
        self._caller = threading.local()
        super().__init__()

    def reset(self) -> None:
        super().reset()
        with self._lock:
            self.holding: set[str] = set()  # conversations whose next post is accepted and its answer held
            self.held: list[tuple[str, tuple[str, int]]] = []  # (conversation, the caller's address) held so far
            self.released = False

    def hold(self, conversation: str) -> None:
        with self._lock:
            self.holding.add(conversation)

    def release(self) -> None:
        with self._cond:
            self.released = True
            self._cond.notify_all()

    def _connector(self, method: str, path: str, body: Any) -> tuple[int, Any]:
        status, answer = super()._connector(method, path, body)
        if method == "POST" and status == 201 and path.endswith("/activities") and self.sent:
            conversation = self.sent[-1].conversation
            if conversation in self.holding:
                self.holding.discard(conversation)
                self.held.append((conversation, getattr(self._caller, "address", ("", 0))))
                self._cond.notify_all()  # whoever waits for the post sees it now
                # Waiting on the condition lets go of the fake's lock: the rest of it serves other callers.
                self._cond.wait_for(lambda: self.released, timeout=HOLD_AT_MOST)
        return status, answer

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        base: Any = super()._handler()
        fake = self

        class Handler(base):  # type: ignore[misc, valid-type]
            def _serve(self) -> None:
                fake._caller.address = self.client_address
                base._serve(self)

            do_GET = do_POST = do_PUT = do_PATCH = _serve  # noqa: N815 - http.server's naming

        return Handler
