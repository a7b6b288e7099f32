"""The web process's first WSGI application: listening while the rest of the application is imported and built.

`samverkan run` binds its port and serves this before it imports the core, the model, the catalogue, bolt and the
metrics, so that `GET /healthz` (alive: the process answers and reaches its database) is answered as soon as the
process can answer anything. Until the application is built (`open`):

- `GET /healthz` checks the database with an engine of its own (a `SELECT 1`), as the built application does;
- `GET /readyz` answers 503 `{"status": "starting"}`: not ready, so a load balancer sends no traffic yet;
- every other request waits for the application (up to `WAIT` seconds) and is then served by it, so a command
  from Slack that arrives during the start is written down and acknowledged like any other, never dropped.

Once open, every request goes straight to the built application (its own /healthz and /readyz included).
"""

from __future__ import annotations

import json
import logging
import threading
from collections.abc import Callable, Iterable

log = logging.getLogger(__name__)

WsgiApp = Callable[[dict, Callable], Iterable[bytes]]
# A request that came during the start waits at most this for the application (Slack retries one it has not seen
# acknowledged in 3 s; Teams waits 15 s).
WAIT = 10.0


class Starting:
    def __init__(self, database_url: str) -> None:
        self._url = database_url
        self._app: WsgiApp | None = None
        self._opened = threading.Event()
        self._engine = None
        self._lock = threading.Lock()

    def open(self, app: WsgiApp) -> None:
        self._app = app
        self._opened.set()
        with self._lock:
            engine, self._engine = self._engine, None
        if engine is not None:
            engine.dispose()

    def close(self) -> None:
        with self._lock:
            engine, self._engine = self._engine, None
        if engine is not None:
            engine.dispose()

    def __call__(self, environ: dict, start_response: Callable) -> Iterable[bytes]:
        app = self._app
        if app is not None:
            return app(environ, start_response)
        path = environ.get("PATH_INFO", "")
        if environ.get("REQUEST_METHOD", "GET") == "GET" and path in ("/healthz", "/readyz"):
            if path == "/readyz":
                return _json(start_response, False, {"status": "starting"})
            ok = self._healthy()
            return _json(start_response, ok, {"status": "ok" if ok else "unavailable"})
        if self._opened.wait(WAIT) and self._app is not None:
            return self._app(environ, start_response)
        return _json(start_response, False, {"status": "starting"})

    def _healthy(self) -> bool:
        """Reaches the database: through its driver directly for SQLite and PostgreSQL (SQLAlchemy is being imported
        by the start meanwhile, and waiting for that would make the first answer as late as the application),
        through an engine of its own for anything else."""
        try:
            if self._url.startswith("sqlite"):
                return _sqlite(self._url)
            if self._url.startswith(("postgresql", "postgres")):
                return _postgres(self._url)
            from sqlalchemy import text

            from storage.db import make_engine

            with self._lock:
                if self._engine is None:
                    self._engine = make_engine(self._url)
                engine = self._engine
            with engine.connect() as connection:
                connection.execute(text("SELECT 1"))
            return True
        except Exception as error:
            log.warning("health check failed while starting: %s", type(error).__name__)
            return False


def _sqlite(url: str) -> bool:
    import sqlite3

    path = url.split("///", 1)[1].split("?", 1)[0] if "///" in url else ""
    if path in ("", ":memory:"):
        return True  # a database of the process's own: reached as long as the process lives
    # Read-only: a file that is not there yet is not created by a probe (the start creates and migrates it).
    connection = sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=5)
    try:
        connection.execute("SELECT 1").fetchone()
    finally:
        connection.close()
    return True


def _postgres(url: str) -> bool:
    import psycopg

    _, rest = url.split("://", 1)
    with psycopg.connect(f"postgresql://{rest}", connect_timeout=5) as connection:
        connection.execute("SELECT 1")
    return True


def _json(start_response: Callable, ok: bool, details: dict) -> list[bytes]:
    body = json.dumps(details).encode()
    start_response("200 OK" if ok else "503 Service Unavailable",
                   [("Content-Type", "application/json"), ("Content-Length", str(len(body))),
                    ("Cache-Control", "no-store")])
    return [body]
