"""Engines, sessions and migrations."""

from __future__ import annotations

import functools
import sqlite3
import threading
import time
from pathlib import Path
from typing import TYPE_CHECKING

from sqlalchemy import Connection, Engine, create_engine, event, inspect
from sqlalchemy.orm import Session, sessionmaker

if TYPE_CHECKING:
    from alembic.config import Config

MIGRATIONS = Path(__file__).parent / "migrations"


READ_ONLY = "samverkan_read_only"


def make_engine(url: str, **kwargs: object) -> Engine:
    if url.startswith("sqlite"):
        # One file shared by the server's worker threads (and by a second process): SQLite itself serialises
        # writers, and the busy timeout makes a writer wait for the lock instead of failing at once.
        engine = create_engine(url, connect_args={"check_same_thread": False, "timeout": 30}, **kwargs)
        # Within the process, writers queue on a lock of our own: SQLite's busy handler makes a waiting writer
        # sleep in steps of up to 100 ms, which under load cost an acknowledgement a second.
        writer = threading.Lock()
        event.listen(engine, "connect", _sqlite_pragmas)
        event.listen(engine, "begin", functools.partial(_sqlite_begin, writer))
        event.listen(engine, "commit", functools.partial(_sqlite_end, writer))
        event.listen(engine, "rollback", functools.partial(_sqlite_end, writer))
        return engine
    return create_engine(url, pool_pre_ping=True, **kwargs)


def _sqlite_pragmas(dbapi_connection, _record) -> None:  # type: ignore[no-untyped-def]
    # pysqlite would begin a transaction only before the first write, so a savepoint taken earlier would be the
    # outermost transaction and its release a commit: half of a unit of work saved. SQLAlchemy begins instead.
    dbapi_connection.isolation_level = None
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA foreign_keys=ON")
    # Writers wait for each other in _begin_immediate; a reader in WAL mode does not wait at all, but for the rare
    # moment a checkpoint or a recovery holds the file, which this still covers.
    cursor.execute("PRAGMA busy_timeout=30000")
    if not _is_memory(dbapi_connection):
        cursor.execute("PRAGMA journal_mode=WAL")
        # Durable when the process dies (kill -9 included: the operating system has the log); only a power cut
        # could lose the last commits. FULL would add an fsync to every commit.
        cursor.execute("PRAGMA synchronous=NORMAL")
    # Up to 32 MB of pages kept per connection (SQLite's default is 2 MB): a sweep that touches rows spread over a
    # large database otherwise reads most of its pages anew from the operating system, and its cost per escalation
    # grew with the number stored.
    cursor.execute("PRAGMA cache_size=-32000")
    cursor.close()


def _sqlite_begin(writer: threading.Lock, connection) -> None:  # type: ignore[no-untyped-def]
    if connection.get_execution_options().get(READ_ONLY):
        # A reader takes no lock: in WAL mode it reads a snapshot while a writer writes.
        connection.exec_driver_sql("BEGIN")
        return
    # IMMEDIATE takes the write lock at the start: a transaction that reads and then writes can never be refused
    # its upgrade by a writer that came between (SQLITE_BUSY, which the busy timeout does not wait out).
    writer.acquire()
    connection.info["samverkan_writer"] = True
    try:
        _begin_immediate(connection)
    except BaseException:
        _sqlite_end(writer, connection)
        raise


# Another process may hold the write lock. SQLite's own busy handler would wait for it in sleeps of up to 100 ms,
# too coarse for a lock held a millisecond at a time: while taking it the busy timeout is 0, and we retry here.
_WRITE_LOCK_WAIT = 30.0


def _begin_immediate(connection) -> None:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + _WRITE_LOCK_WAIT
    pause = 0.0002
    raw = connection.connection.dbapi_connection
    raw.execute("PRAGMA busy_timeout=0")
    try:
        while True:
            try:
                raw.execute("BEGIN IMMEDIATE")
                return
            except sqlite3.OperationalError as error:
                if "locked" not in str(error) or time.monotonic() > deadline:
                    raise
            time.sleep(pause)
            pause = min(pause * 2, 0.005)
    finally:
        raw.execute("PRAGMA busy_timeout=30000")


def _sqlite_end(writer: threading.Lock, connection) -> None:  # type: ignore[no-untyped-def]
    if connection.info.pop("samverkan_writer", False):
        writer.release()


def _is_memory(dbapi_connection) -> bool:  # type: ignore[no-untyped-def]
    rows = dbapi_connection.execute("PRAGMA database_list").fetchall()
    return any(row[1] == "main" and not row[2] for row in rows)


# The revision at the head of every branch of migrations. Written here so that a start on a database that is up to
# date (every start but the first after an upgrade) and the readiness check need not load Alembic and read every
# migration script; tests/test_storage.py keeps it equal to what the scripts say.
HEADS = frozenset({"0018"})


def known_revisions() -> frozenset[str]:
    """Every revision this code has a migration for (each script's name starts with its revision)."""
    return frozenset(path.name.split("_", 1)[0] for path in (MIGRATIONS / "versions").glob("[0-9]*_*.py"))


def schema_revisions(connection: Connection) -> frozenset[str]:
    """The revisions the database's schema is at: none for a database never migrated."""
    if not inspect(connection).has_table("alembic_version"):
        return frozenset()
    return frozenset(connection.exec_driver_sql("SELECT version_num FROM alembic_version").scalars())


def alembic_config() -> Config:
    from alembic.config import Config

    # No sqlalchemy.url: the migrations run on the connection they are given, and a URL in Alembic's
    # configuration would be read through ConfigParser's interpolation, where a percent-encoded password breaks.
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    return config


def migrate(engine: Engine) -> None:
    """Brings the schema to the newest revision. Safe to call on every start, from any number of processes."""
    with engine.connect() as connection:
        if schema_revisions(connection) == HEADS:
            return
    from alembic import command

    config = alembic_config()
    with engine.begin() as connection:
        if connection.dialect.name == "postgresql":
            # Two processes starting at once must not both try to create the tables.
            connection.exec_driver_sql("SELECT pg_advisory_xact_lock(7252011)")
        config.attributes["connection"] = connection
        # "heads": each capability keeps its own branch of migrations from the shared base.
        command.upgrade(config, "heads")


def revisions(engine: Engine) -> tuple[set[str], set[str]]:
    """The schema's revision in the database (none when it has no schema) and the newest the code has: equal when
    the database is migrated. Reads only: the database is not changed, nor on SQLite locked for writing."""
    with engine.connect() as connection:
        connection.execution_options(**{READ_ONLY: True})
        current = set(schema_revisions(connection))
    return current, set(HEADS)


def session_factory(engine: Engine) -> sessionmaker[Session]:
    return sessionmaker(engine, expire_on_commit=False)
