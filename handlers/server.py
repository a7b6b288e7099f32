"""HTTP mode: a WSGI application served by waitress, with Slack's endpoint and a health check."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable

from slack_bolt import App
from slack_bolt.adapter.wsgi import SlackRequestHandler

WsgiApp = Callable[[dict, Callable], Iterable[bytes]]


def wsgi_app(bolt: App, health: Callable[[], bool],
             calendar: Callable[[str | None], bytes | None] | None = None) -> WsgiApp:
    """`calendar(forum_key or None)` gives the iCalendar feed, or None for a forum that does not exist."""
    slack = SlackRequestHandler(bolt, path="/slack/events")

    def application(environ: dict, start_response: Callable) -> Iterable[bytes]:
        path = environ.get("PATH_INFO", "")
        method = environ.get("REQUEST_METHOD", "GET")
        if path == "/healthz" and method == "GET":
            ok = health()
            body = json.dumps({"status": "ok" if ok else "unavailable"}).encode()
            start_response("200 OK" if ok else "503 Service Unavailable",
                           [("Content-Type", "application/json"), ("Content-Length", str(len(body)))])
            return [body]
        if path == "/slack/events":
            return slack(environ, start_response)
        if calendar is not None and method == "GET" and (path == "/calendar.ics" or (
                path.startswith("/calendar/") and path.endswith(".ics"))):
            key = None if path == "/calendar.ics" else path.removeprefix("/calendar/").removesuffix(".ics")
            feed = calendar(key)
            if feed is not None:
                start_response("200 OK", [("Content-Type", "text/calendar; charset=utf-8"),
                                          ("Content-Length", str(len(feed))),
                                          ("Cache-Control", "max-age=300")])
                return [feed]
        body = b"Not Found"
        start_response("404 Not Found", [("Content-Type", "text/plain"), ("Content-Length", str(len(body)))])
        return [body]

    return application


def serve(application: WsgiApp, host: str, port: int, threads: int = 16, **adjustments: object):  # type: ignore[no-untyped-def]
    """Creates (but does not start) a waitress server; `.run()` serves until closed, `.close()` stops it."""
    from waitress.server import create_server

    return create_server(application, host=host, port=port, threads=threads, ident="samverkan", **adjustments)
