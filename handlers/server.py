"""HTTP mode: a WSGI application served by waitress, with Slack's endpoint, the health check and the calendar feeds.

Slack's signature is checked here, on the raw bytes, before anything of the request is parsed: a request that is
not from Slack gets 401 and costs nothing else, and one that is from Slack but malformed (or whose JSON nests deeper
than bot.json_depth allows) gets 400. Neither leaves a traceback in the log.
"""

from __future__ import annotations

import io
import json
import logging
from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING
from urllib.parse import parse_qs

from bot import json_depth

if TYPE_CHECKING:  # bolt is imported when the app is built, not by `serve` (the web process listens first)
    from slack_bolt import App
    from slack_sdk.signature import SignatureVerifier

log = logging.getLogger(__name__)

WsgiApp = Callable[[dict, Callable], Iterable[bytes]]
# Slack's requests are a few kilobytes; a form with every field filled is well under this.
MAX_BODY = 1_000_000


def wsgi_app(bolt: App | None, signing_secret: str, health: Callable[[], bool],
             calendar: Callable[[str | None], bytes | None] | None = None,
             extra: dict[str, WsgiApp] | None = None) -> WsgiApp:
    """`calendar(forum_key or None)` gives the iCalendar feed, or None for a forum that does not exist. `extra`
    serves more paths (readiness, metrics, Teams' endpoint). Without `bolt` (a Teams deployment) Slack's path is
    not served."""
    from slack_bolt.adapter.wsgi import SlackRequestHandler
    from slack_sdk.signature import SignatureVerifier

    slack = SlackRequestHandler(bolt, path="/slack/events") if bolt is not None else None
    verifier = SignatureVerifier(signing_secret) if bolt is not None else None
    routes = dict(extra or {})
    liveness = json_endpoint(lambda: (ok := health(), {"status": "ok" if ok else "unavailable"}))

    def slack_events(environ: dict, start_response: Callable) -> Iterable[bytes]:
        if slack is None:
            return _plain(start_response, "404 Not Found", "Not Found")
        if environ.get("REQUEST_METHOD") != "POST":
            return _plain(start_response, "405 Method Not Allowed", "POST only")
        try:
            length = int(environ.get("CONTENT_LENGTH") or 0)
        except ValueError:
            return _plain(start_response, "400 Bad Request", "bad length")
        if not 0 < length <= MAX_BODY:
            return _plain(start_response, "413 Content Too Large" if length > MAX_BODY else "400 Bad Request",
                          "bad length")
        body = environ["wsgi.input"].read(length)
        if verifier is None or not _signed(verifier, body, environ):
            return _plain(start_response, "401 Unauthorized", "invalid signature")
        if not _well_formed(body, environ.get("CONTENT_TYPE") or ""):
            log.warning("a signed request from Slack could not be read (%d bytes)", len(body))
            return _plain(start_response, "400 Bad Request", "malformed")
        environ["wsgi.input"] = io.BytesIO(body)
        return slack(environ, start_response)

    def application(environ: dict, start_response: Callable) -> Iterable[bytes]:
        path = environ.get("PATH_INFO", "")
        method = environ.get("REQUEST_METHOD", "GET")
        if path == "/slack/events":
            return slack_events(environ, start_response)
        if path == "/healthz" and method == "GET":
            return liveness(environ, start_response)
        if path in routes:
            return routes[path](environ, start_response)
        if calendar is not None and method == "GET" and (path == "/calendar.ics" or (
                path.startswith("/calendar/") and path.endswith(".ics"))):
            key = None if path == "/calendar.ics" else path.removeprefix("/calendar/").removesuffix(".ics")
            feed = calendar(key)
            if feed is not None:
                start_response("200 OK", [("Content-Type", "text/calendar; charset=utf-8"),
                                          ("Content-Length", str(len(feed))),
                                          ("Cache-Control", "max-age=300")])
                return [feed]
        return _plain(start_response, "404 Not Found", "Not Found")

    return application


def json_endpoint(check: Callable[[], tuple[bool, dict]]) -> WsgiApp:
    """A GET endpoint answering `check()`'s details as JSON: 200 when it passes, 503 when not."""

    def application(environ: dict, start_response: Callable) -> Iterable[bytes]:
        if environ.get("REQUEST_METHOD") != "GET":
            return _plain(start_response, "405 Method Not Allowed", "GET only")
        ok, details = check()
        body = json.dumps(details).encode()
        start_response("200 OK" if ok else "503 Service Unavailable",
                       [("Content-Type", "application/json"), ("Content-Length", str(len(body))),
                        ("Cache-Control", "no-store")])
        return [body]

    return application


def _signed(verifier: SignatureVerifier, body: bytes, environ: dict) -> bool:
    timestamp = environ.get("HTTP_X_SLACK_REQUEST_TIMESTAMP")
    signature = environ.get("HTTP_X_SLACK_SIGNATURE")
    if not timestamp or not signature or not timestamp.isascii() or not timestamp.isdigit():
        return False
    try:
        return verifier.is_valid(body=body.decode("utf-8"), timestamp=timestamp, signature=signature)
    except (UnicodeDecodeError, ValueError):
        return False


def _well_formed(body: bytes, content_type: str) -> bool:
    """What bolt will read, checked first, so that a request it cannot read is a 400 rather than its traceback: JSON
    (an event), or a form that is a slash command or carries an interaction `payload` shaped as Slack shapes it."""
    try:
        text = body.decode("utf-8")
        # Nesting bounded (bot.json_depth): deep brackets are a 400, not json's RecursionError and its traceback.
        if content_type.startswith("application/json"):
            return isinstance(json_depth.loads(text), dict)
        form = parse_qs(text)
        if "payload" not in form:
            return "command" in form or "ssl_check" in form
        payload = json_depth.loads(form["payload"][0])
    except (UnicodeDecodeError, ValueError):
        return False
    if not isinstance(payload, dict) or not isinstance(payload.get("type"), str):
        return False
    if payload["type"].startswith("view_"):
        view = payload.get("view")
        return isinstance(view, dict) and isinstance(view.get("type"), str) and isinstance(payload.get("user"), dict)
    return True


def _plain(start_response: Callable, status: str, text: str) -> list[bytes]:
    body = text.encode()
    start_response(status, [("Content-Type", "text/plain"), ("Content-Length", str(len(body)))])
    return [body]


def serve(application: WsgiApp, host: str, port: int, threads: int = 16, **adjustments: object):  # type: ignore[no-untyped-def]
    """Creates (but does not start) a waitress server; `.run()` serves until closed, `.close()` stops it.

    Idle connections cannot starve it: it takes up to 1,000 of them, and closes one that has been idle for 30 s
    (Slack sends each request on a connection of its own and does not keep it waiting)."""
    from waitress.server import create_server

    settings = {"connection_limit": 1000, "channel_timeout": 30, "cleanup_interval": 5, **adjustments}
    return create_server(application, host=host, port=port, threads=threads, ident="samverkan", **settings)
