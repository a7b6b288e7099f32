"""Builds the application from its parts: the one place that knows the core, the database and the chat platform."""

from __future__ import annotations

import logging
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.triggers.interval import IntervalTrigger
from sqlalchemy import Engine, text
from sqlalchemy.exc import IntegrityError

from bot.app import Samverkan
from bot.chat import ChatPort, Command
from bot.clock import Clock, SystemClock
from bot.directory.seed import seed_directory
from bot.intake import Intake
from bot.model import GovernanceModel, load_model
from bot.ports import UnitOfWorkFactory
from samverkan.settings import Settings
from storage.db import make_engine, migrate, session_factory
from storage.uow import SqlUnitOfWork

log = logging.getLogger(__name__)

ChatFactory = Callable[[UnitOfWorkFactory], ChatPort]


@dataclass
class Database:
    model: GovernanceModel
    engine: Engine
    unit_of_work: UnitOfWorkFactory


def open_database(settings: Settings, clock: Clock | None = None) -> Database:
    """The model and the database, migrated and seeded: all that the commands without chat need."""
    clock = clock or SystemClock()
    model = load_model(settings.samverkan_model)
    engine = make_engine(settings.database_url)
    migrate(engine)
    sessions = session_factory(engine)

    def unit_of_work(read_only: bool = False) -> SqlUnitOfWork:
        return SqlUnitOfWork(sessions, read_only)

    _seed(unit_of_work, model, clock)
    return Database(model, engine, unit_of_work)


@dataclass
class Runtime:
    settings: Settings
    model: GovernanceModel
    engine: Engine
    core: Samverkan
    work: ThreadPoolExecutor = field(default_factory=lambda: ThreadPoolExecutor(thread_name_prefix="work"))
    scheduler: BackgroundScheduler | None = None
    after: ThreadPoolExecutor | None = None
    # Where a received command goes to be processed: this process's workers unless told otherwise (the web
    # process of `samverkan run` hands it to its worker process).
    handoff: Callable[[int, Command], None] | None = None
    # Inbox entries this process is working on: not dead, however long they have waited (a burst's backlog).
    holding: Callable[[], set[int]] = field(default=set)

    def hand_off(self, entry: int, command: Command) -> None:
        if self.handoff is not None:
            self.handoff(entry, command)
        else:
            self.work.submit(self.process, entry, command)

    def process(self, entry: int, command: Command | None = None) -> None:
        try:
            self.core.process(entry, command)
        except Exception:
            # The core answers the person itself; this is only the last line against a failing platform.
            log.exception("could not finish command %s", entry)

    def healthy(self) -> bool:
        try:
            with self.engine.connect() as connection:
                connection.execute(text("SELECT 1"))
            return True
        except Exception:
            log.exception("health check failed")
            return False

    def calendar(self, forum_key: str | None = None) -> bytes | None:
        return calendar(self.model, self.core.unit_of_work, self.core.clock, self.core.texts, forum_key)

    def start_scheduler(self) -> BackgroundScheduler:
        """APScheduler drives the clock; the database says what is due. Every process runs one, and the duties'
        claims make sure each is done once. The first tick, at once on start, plans and sweeps what was missed;
        after that a tick plans only when the calendar changed or five minutes have passed (Samverkan.tick)."""
        self.core.runner.start_heartbeat()
        scheduler = BackgroundScheduler(timezone=UTC)
        scheduler.add_job(self._tick, IntervalTrigger(seconds=1), id="tick", next_run_time=datetime.now(UTC),
                          max_instances=1, coalesce=True)
        scheduler.start()
        self.scheduler = scheduler
        return scheduler

    def _tick(self) -> None:
        self.core.tick(skip=self.holding())

    def close(self) -> None:
        if self.scheduler is not None:
            self.scheduler.shutdown(wait=True)
        self.core.runner.stop()
        self.work.shutdown(wait=True)
        if self.after is not None:
            self.after.shutdown(wait=True)
        if self.core.intake is not None:
            self.core.intake.close()
        self.engine.dispose()


def calendar(model: GovernanceModel, unit_of_work: UnitOfWorkFactory, clock: Clock, texts,  # type: ignore[no-untyped-def]
             forum_key: str | None = None) -> bytes | None:
    """The iCalendar feed of every forum, or of one; None when there is no such forum."""
    from bot.forum.ical import feed

    if forum_key is not None and model.sitting_forum(forum_key) is None:
        return None
    with unit_of_work() as uow:
        changes = {f.key: list(uow.forum.changes(f.key)) for f in model.calendar}
    return feed(model, changes, clock.now(), texts, forum_key)


# Threads delivering what commands have to say: each mostly waits on Slack, so there can be many.
DELIVERY_THREADS = 64


def build(settings: Settings, clock: Clock | None = None, chat: ChatFactory | None = None,
          deliver_apart: bool = False) -> Runtime:
    """The whole application. `chat` makes the chat platform's port from the unit of work (the console lists the
    directory's people through it); the default is Slack, from the settings. `deliver_apart` gives the work after
    each commit threads of its own (a server's worker); otherwise it is done at once, in order."""
    clock = clock or SystemClock()
    database = open_database(settings, clock)
    port = (chat or slack_chat(settings))(database.unit_of_work)
    after = ThreadPoolExecutor(DELIVERY_THREADS, thread_name_prefix="deliver") if deliver_apart else None
    core = Samverkan(database.model, database.unit_of_work, clock, port, settings.samverkan_lang,
                     lease=timedelta(seconds=settings.samverkan_claim_lease), intake=Intake(database.unit_of_work),
                     after=after)
    return Runtime(settings, database.model, database.engine, core,
                   ThreadPoolExecutor(max_workers=settings.samverkan_workers, thread_name_prefix="work"),
                   after=after)


def _seed(unit_of_work: UnitOfWorkFactory, model: GovernanceModel, clock: Clock) -> None:
    try:
        with unit_of_work() as uow:
            added = seed_directory(uow, model, clock.now())
            uow.commit()
        if added:
            log.info("directory seeded with %d people from the model", added)
    except IntegrityError:
        # Another process seeded the same people at the same moment; theirs stands.
        log.info("directory already being seeded by another process")


def slack_chat(settings: Settings) -> ChatFactory:
    def make(unit_of_work: UnitOfWorkFactory) -> ChatPort:
        from handlers.slack_chat import SlackChat, web_client

        assert settings.slack_bot_token, "Slack needs SLACK_BOT_TOKEN"
        return SlackChat(web_client(settings.slack_bot_token, settings.slack_api_url),
                         cache_seconds=settings.samverkan_directory_cache)

    return make


def slack_app(runtime: Runtime):  # type: ignore[no-untyped-def]
    from handlers.app import build_bolt_app
    from handlers.slack_chat import web_client

    settings = runtime.settings
    assert settings.slack_bot_token, "Slack needs SLACK_BOT_TOKEN"
    client = web_client(settings.slack_bot_token, settings.slack_api_url)
    return build_bolt_app(runtime.core, client, settings.slack_signing_secret or "", runtime.work,
                          runtime.hand_off)


def http_app(runtime: Runtime):  # type: ignore[no-untyped-def]
    """Everything served over HTTP: Slack's endpoint, the health check, the calendar feeds."""
    from handlers.server import wsgi_app

    return wsgi_app(slack_app(runtime), runtime.settings.slack_signing_secret or "", runtime.healthy,
                    runtime.calendar)


def socket_mode(runtime: Runtime):  # type: ignore[no-untyped-def]
    """Slack through Socket Mode (SLACK_APP_TOKEN): the same bolt app, over slack_sdk's own WebSocket client."""
    from slack_bolt.adapter.socket_mode import SocketModeHandler

    assert runtime.settings.slack_app_token, "Socket Mode needs SLACK_APP_TOKEN"
    return SocketModeHandler(slack_app(runtime), runtime.settings.slack_app_token)
