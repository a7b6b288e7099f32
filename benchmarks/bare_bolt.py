"""The floor for benchmarks.ack_latency: a slack-bolt app whose only listener acks, served exactly as samverkan's web
process is (handlers.server on waitress, the same signature check first), as a process of its own.

    python -m benchmarks.bare_bolt PORT SLACK_API_URL
"""

from __future__ import annotations

import gc
import signal
import sys

from slack_bolt import App
from slack_sdk import WebClient

from handlers.server import serve, wsgi_app
from tests.fakes.slack_http import SIGNING_SECRET


def main(port: int, api_url: str) -> None:
    app = App(signing_secret=SIGNING_SECRET, token_verification_enabled=False, process_before_response=True,
              client=WebClient(token="xoxb-bare", base_url=api_url))

    @app.command("/samverkan")
    def only_ack(ack) -> None:  # type: ignore[no-untyped-def]
        ack()

    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    gc.collect()
    gc.freeze()  # as samverkan does after its start-up
    serve(wsgi_app(app, SIGNING_SECRET, lambda: True), "127.0.0.1", port).run()


if __name__ == "__main__":
    main(int(sys.argv[1]), sys.argv[2])
