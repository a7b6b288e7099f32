"""A throwaway PostgreSQL server for the test suite, started from the installed server binaries.

Set SAMVERKAN_TEST_POSTGRES_URL to an admin database URL (for example
postgresql+psycopg://postgres@127.0.0.1:5432/postgres) to use a running server instead.
"""

from __future__ import annotations

import atexit
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
import time
from pathlib import Path

import psycopg
from psycopg import sql
from sqlalchemy.engine import make_url

ENV_URL = "SAMVERKAN_TEST_POSTGRES_URL"
INSTALL_HINT = f"install the server (Debian: apt-get install postgresql) or set {ENV_URL}"


class PostgresUnavailable(RuntimeError):
    pass


def find_bindir() -> Path:
    # Debian's pg_config comes with libpq-dev and may belong to another major version than the server,
    # so it only counts when initdb is really next to it.
    if pg_config := shutil.which("pg_config"):
        result = subprocess.run([pg_config, "--bindir"], capture_output=True, text=True, check=False)
        bindir = Path(result.stdout.strip())
        if result.returncode == 0 and (bindir / "initdb").is_file():
            return bindir
    found = [path.parent for path in Path("/usr/lib/postgresql").glob("*/bin/initdb")]
    if not found:
        raise PostgresUnavailable(f"no PostgreSQL server binaries (initdb) found: {INSTALL_HINT}")
    return max(found, key=lambda bindir: tuple(int(part) for part in bindir.parent.name.split(".")))


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def libpq_url(url: str) -> str:
    # psycopg takes a libpq URI: the SQLAlchemy URL without its "+psycopg" driver part.
    return make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)


class PostgresServer:
    def __init__(self, admin_url: str | None = None) -> None:
        """Without admin_url, start() runs a new server; with one, start() only checks that server."""
        self.admin_url = admin_url
        self._owned = admin_url is None
        self._tmp: Path | None = None
        self._process: subprocess.Popen[bytes] | None = None
        self._as_user: list[str] = []

    @classmethod
    def from_env(cls) -> PostgresServer:
        return cls(os.environ.get(ENV_URL) or None)

    def start(self) -> None:
        if self._owned and self._process is None:
            self._start_server()
        try:
            psycopg.connect(libpq_url(self.admin_url), connect_timeout=10).close()
        except psycopg.OperationalError as error:
            raise PostgresUnavailable(f"cannot connect to {self.admin_url}: {error}") from error

    def _start_server(self) -> None:
        bindir = find_bindir()
        if os.geteuid() == 0:
            # initdb refuses to run as root, so root hands the server to the postgres system user.
            try:
                owner = pwd.getpwnam("postgres")
            except KeyError:
                raise PostgresUnavailable(f"as root, this needs the postgres user: {INSTALL_HINT}") from None
            if not shutil.which("runuser"):
                raise PostgresUnavailable("as root, this needs runuser (Debian: apt-get install util-linux)")
            self._as_user = ["runuser", "-u", "postgres", "--"]
        self._tmp = Path(tempfile.mkdtemp(prefix="samverkan-pg-"))
        atexit.register(self.stop)  # for a test run that ends without calling stop()
        self._pg_ctl, self._data = bindir / "pg_ctl", self._tmp / "data"
        sockets, log = self._tmp / "sockets", self._tmp / "server.log"
        # Own socket directory: the default one (/var/run/postgresql) may be missing or not writable.
        sockets.mkdir()
        if self._as_user:
            for path in (self._tmp, sockets):
                os.chown(path, owner.pw_uid, owner.pw_gid)
        # C.UTF-8 rather than C, so that upper(), lower() and ILIKE work on å, ä and ö.
        self._run(bindir / "initdb", "--pgdata", self._data, "--auth=trust", "--username=postgres",
                  "--encoding=UTF8", "--locale=C.UTF-8", "--no-sync")
        port = free_port()
        settings = {
            "listen_addresses": "127.0.0.1", "port": port, "unix_socket_directories": sockets,
            "max_connections": 100, "fsync": "off", "synchronous_commit": "off", "full_page_writes": "off",
        }
        options = [arg for key, value in settings.items() for arg in ("-c", f"{key}={value}")]
        with log.open("wb") as log_file:
            self._process = subprocess.Popen(
                [*self._as_user, str(bindir / "postgres"), "-D", str(self._data), *options],
                stdout=log_file, stderr=subprocess.STDOUT, cwd=self._tmp,
            )
        self.admin_url = f"postgresql+psycopg://postgres@127.0.0.1:{port}/postgres"
        deadline = time.monotonic() + 30
        is_ready = [bindir / "pg_isready", "--quiet", "--host=127.0.0.1", f"--port={port}"]
        while subprocess.run(is_ready, check=False).returncode != 0:
            if self._process.poll() is not None:
                output = log.read_text(errors="replace")
                self.stop()
                raise PostgresUnavailable(f"PostgreSQL exited while starting:\n{output}")
            if time.monotonic() > deadline:
                self.stop()
                raise PostgresUnavailable("PostgreSQL did not accept connections within 30 s")
            time.sleep(0.05)

    def _run(self, *command: object) -> None:
        # cwd: the postgres user may not be allowed into the caller's working directory.
        result = subprocess.run([*self._as_user, *map(str, command)], cwd=self._tmp,
                                capture_output=True, text=True, check=False)
        if result.returncode != 0:
            raise PostgresUnavailable(f"{command[0]} failed:\n{result.stdout}{result.stderr}")

    def stop(self) -> None:
        if self._process is not None:
            if self._process.poll() is None:
                try:
                    self._run(self._pg_ctl, "stop", "--pgdata", self._data, "--mode=immediate")
                except PostgresUnavailable:
                    self._process.terminate()
                try:
                    self._process.wait(timeout=10)
                except subprocess.TimeoutExpired:
                    self._process.kill()
            self._process = None
        if self._tmp is not None:
            shutil.rmtree(self._tmp, ignore_errors=True)
            self._tmp = None

    def __enter__(self) -> PostgresServer:
        self.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    def _admin(self) -> psycopg.Connection:
        assert self.admin_url, "call PostgresServer.start() first"
        return psycopg.connect(libpq_url(self.admin_url), autocommit=True)

    def create_database(self, name: str) -> str:
        """Creates an empty database and returns its SQLAlchemy URL."""
        name = _own(name)
        with self._admin() as connection:
            connection.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
        return make_url(self.admin_url).set(database=name).render_as_string(hide_password=False)

    def drop_database(self, name: str) -> None:
        name = _own(name)
        # FORCE (PostgreSQL 13+) ends sessions a test left open, which would otherwise block the drop.
        statement = sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))
        with self._admin() as connection:
            connection.execute(statement)


def _own(name: str) -> str:
    """A database name of this test process's own: pytest-xdist's workers may share one server (the environment's
    URL) and would otherwise create and drop each other's databases."""
    worker = os.environ.get("PYTEST_XDIST_WORKER")
    return f"{name}_{worker}" if worker else name
