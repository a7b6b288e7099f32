"""Fixtures: a real database on both backends, the core in a dialogue, and the bolt app over signed HTTP."""

from __future__ import annotations

import io
import logging
import os
import uuid
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path

import pytest
from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from bot.app import Samverkan
from bot.chat import Command
from bot.clock import STOCKHOLM, ManualClock
from bot.directory.seed import seed_directory
from bot.i18n import speak_of
from bot.model import GovernanceModel, load_model
from samverkan.console import open_console
from samverkan.settings import Settings
from storage.db import make_engine, migrate
from storage.uow import SqlUnitOfWork
from tests.fakes.recording_chat import RecordingChat
from tests.postgres_server import PostgresServer

BACKENDS = ["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)]

# The processes the tests start (`samverkan run`, the CLI) run this checkout's code, whichever checkout the
# environment has installed (a git worktree beside the one the virtualenv was made from).
_ROOT = str(Path(__file__).resolve().parents[1])
if _ROOT not in os.environ.get("PYTHONPATH", "").split(os.pathsep):
    os.environ["PYTHONPATH"] = os.pathsep.join(p for p in (_ROOT, os.environ.get("PYTHONPATH", "")) if p)


@pytest.fixture(autouse=True)
def _slack_words() -> Iterator[None]:
    """The catalogue names the platform a process serves (bot.i18n.speak_of); a Teams test does not leave its words
    to the next test."""
    yield
    speak_of("slack")


@pytest.fixture(scope="session")
def model() -> GovernanceModel:
    return load_model()


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock(datetime(2027, 1, 11, 9, 0, tzinfo=STOCKHOLM))


# -- databases ------------------------------------------------------------------------------------------------------
@pytest.fixture(scope="session")
def postgres() -> Iterator[PostgresServer]:
    # Started once for the whole run from the installed server binaries; never skipped: a missing PostgreSQL is an
    # error that says how to install it.
    server = PostgresServer.from_env()
    server.start()
    yield server
    server.stop()


@pytest.fixture(autouse=True)
def restored_logging() -> Iterator[None]:
    """The root logger as it was: a test that runs `samverkan` in-process configures logging onto the stream pytest
    captured for that test, which is closed once it ends, and later tests' log lines would be written to it."""
    root = logging.getLogger()
    handlers, level = list(root.handlers), root.level
    yield
    root.handlers[:] = handlers
    root.setLevel(level)


@pytest.fixture
def console(database_url: str, clock: ManualClock):  # type: ignore[no-untyped-def]
    """The console on a fresh database, in Swedish: what it printed is read with `transcript`."""
    out = io.StringIO()
    console = open_console(Settings(database_url=database_url, samverkan_lang="sv"), clock, out)
    yield console, out
    console.runtime.close()


def transcript(console, *lines: str) -> str:  # type: ignore[no-untyped-def]
    """What the console printed while `lines` were typed into it."""
    bot, out = console
    start = out.tell()
    for line in lines:
        bot.say(line)
    return out.getvalue()[start:]


@pytest.fixture
def database_url(request: pytest.FixtureRequest, tmp_path) -> Iterator[str]:  # type: ignore[no-untyped-def]
    """A fresh, empty database for one test, on the backend the test is parametrised with."""
    backend = getattr(request, "param", "sqlite")
    if backend == "sqlite":
        yield f"sqlite:///{tmp_path / 'samverkan.db'}"
        return
    server: PostgresServer = request.getfixturevalue("postgres")
    name = f"t_{uuid.uuid4().hex[:12]}"
    url = server.create_database(name)
    yield url
    server.drop_database(name)


@pytest.fixture(scope="session")
def _engines(tmp_path_factory) -> Iterator[dict[str, Engine]]:  # type: ignore[no-untyped-def]
    engines: dict[str, Engine] = {}
    yield engines
    for engine in engines.values():
        engine.dispose()


def _migrated_engine(backend: str, request: pytest.FixtureRequest, engines: dict[str, Engine]) -> Engine:
    if backend not in engines:
        if backend == "sqlite":
            path = request.getfixturevalue("tmp_path_factory").mktemp("db") / "shared.db"
            url = f"sqlite:///{path}"
        else:
            url = request.getfixturevalue("postgres").create_database("shared")
        engine = make_engine(url)
        migrate(engine)  # the migrations themselves are under test here, not a metadata.create_all()
        engines[backend] = engine
    return engines[backend]


@pytest.fixture(params=BACKENDS)
def sessions(request: pytest.FixtureRequest, _engines: dict[str, Engine]) -> Iterator[sessionmaker[Session]]:
    """Sessions inside one transaction that is rolled back after the test: commits become savepoints."""
    engine = _migrated_engine(request.param, request, _engines)
    connection = engine.connect()
    outer = connection.begin()
    yield sessionmaker(bind=connection, join_transaction_mode="create_savepoint", expire_on_commit=False)
    outer.rollback()
    connection.close()


@pytest.fixture
def core(model: GovernanceModel, sessions: sessionmaker[Session], clock: ManualClock, chat: RecordingChat) -> Samverkan:
    def unit_of_work(read_only: bool = False) -> SqlUnitOfWork:
        # One connection for the whole test (rolled back at its end): it cannot be made read-only, nor need it.
        return SqlUnitOfWork(sessions)

    with unit_of_work() as uow:
        seed_directory(uow, model, clock.now())
        uow.commit()
    return Samverkan(model, unit_of_work, clock, chat, lang="sv")


class Dialogue:
    """Talk to the core as directory people, the way the console and Slack do."""

    def __init__(self, core: Samverkan, chat: RecordingChat) -> None:
        self.core = core
        self.chat = chat

    def user_of(self, key: str) -> str:
        with self.core.unit_of_work() as uow:
            person = uow.directory.by_key(key)
        assert person and person.account, f"{key} has no Slack account in the directory"
        return person.account

    def say(self, who: str, line: str, channel: str = "C0CONSOLE") -> str:
        """`who` is a directory key or a raw platform user id; returns what the bot answered the speaker."""
        name, _, text = line.lstrip("/").partition(" ")
        user = who if who.startswith("U") and who.isupper() else self.user_of(who)
        before = len(self.chat.replies)
        self.core.handle(Command(name=name, text=text, user_id=user, channel_id=channel,
                                 received_at=self.core.clock.now()))
        answers = [text for uid, text in self.chat.replies[before:] if uid == user]
        assert len(answers) == 1, f"wanted one answer to {line!r}, got {answers}"
        return answers[0]


@pytest.fixture
def chat() -> RecordingChat:
    return RecordingChat()


@pytest.fixture
def dialogue(core: Samverkan, chat: RecordingChat) -> Dialogue:
    return Dialogue(core, chat)


# -- the real bolt app over HTTP, against the fake Slack Web API -------------------------------------------------
@pytest.fixture(scope="session")
def fake_slack_server() -> Iterator:  # type: ignore[type-arg]
    from tests.fakes.slack_api import FakeSlack

    with FakeSlack() as fake:
        yield fake


@pytest.fixture
def fake_slack(fake_slack_server):  # type: ignore[no-untyped-def]
    fake_slack_server.reset()
    fake_slack_server.users.clear()
    fake_slack_server.locales.clear()
    fake_slack_server.delay = 0.0
    return fake_slack_server


@pytest.fixture
def slack_app(database_url: str, fake_slack, clock: ManualClock) -> Iterator:  # type: ignore[no-untyped-def]
    from tests.fakes.slack_http import SlackAppServer

    os.environ.pop("SLACK_APP_TOKEN", None)
    with SlackAppServer(database_url, fake_slack, clock) as server:
        yield server

