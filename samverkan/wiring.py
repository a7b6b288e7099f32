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
from bot.chain_head import HeadTarget
from bot.chat import ChatPort, Command
from bot.clock import Clock, SystemClock
from bot.directory.seed import seed_directory
from bot.i18n import speak_of
from bot.intake import Intake
from bot.model import GovernanceModel, load_model
from bot.ports import UnitOfWorkFactory
from bot.telemetry import SILENT, Telemetry
from samverkan.settings import Settings
from storage.db import HEADS, known_revisions, make_engine, migrate, schema_revisions, session_factory
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

    platform = settings.platform

    def unit_of_work(read_only: bool = False) -> SqlUnitOfWork:
        return SqlUnitOfWork(sessions, read_only, platform)

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
    telemetry: Telemetry = SILENT

    def hand_off(self, entry: int, command: Command) -> None:
        if self.handoff is not None:
            self.handoff(entry, command)
        else:
            self.telemetry.waiting(+1)
            self.work.submit(self.process, entry, command)

    def process(self, entry: int, command: Command | None = None) -> None:
        try:
            self.core.process(entry, command)
        except Exception:
            # The core answers the person itself; this is only the last line against a failing platform.
            log.exception("could not finish command %s", entry)
        finally:
            self.telemetry.waiting(-1)

    def healthy(self) -> bool:
        try:
            with self.engine.connect() as connection:
                connection.execute(text("SELECT 1"))
            return True
        except Exception:
            log.exception("health check failed")
            return False

    def ready(self) -> tuple[bool, dict[str, object]]:
        """Ready to serve: the database answers and its schema is at the newest migration this code knows. A
        replica started before `samverkan migrate` ran is not. One whose database a newer version has migrated
        (revisions this code has never heard of) still is: migrations add, so that a rolling upgrade keeps the
        old replicas serving until the new ones are ready."""
        try:
            with self.engine.connect() as connection:
                revisions = schema_revisions(connection)
        except Exception as error:
            log.warning("not ready: the database did not answer: %s", str(error).splitlines()[0][:200])
            return False, {"status": "unavailable", "database": "unreachable"}
        schema = "current" if revisions == HEADS else "newer" if revisions - known_revisions() else "behind"
        ready = schema != "behind"
        return ready, {"status": "ready" if ready else "unavailable", "database": "ok", "schema": schema,
                       "revisions": sorted(revisions), "expected": sorted(HEADS)}

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
        self.work.shutdown(wait=True)
        if self.after is not None:
            self.after.shutdown(wait=True)
        self.core.runner.stop()  # its claims renewed until the last delivery is done, and their marks written
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
          deliver_apart: bool = False, telemetry: Telemetry | None = None) -> Runtime:
    """The whole application. `chat` makes the chat platform's port from the unit of work (the console lists the
    directory's people through it); the default is Slack, from the settings. `deliver_apart` gives the work after
    each commit threads of its own (a server's worker); otherwise it is done at once, in order."""
    clock = clock or SystemClock()
    if telemetry is None:
        telemetry = _telemetry(settings)
    speak_of(settings.platform)  # what the catalogue calls the chat platform (bot.i18n)
    database = open_database(settings, clock)
    default = teams_chat(settings, clock) if settings.platform == "teams" else slack_chat(settings, telemetry)
    port = (chat or default)(database.unit_of_work)
    after = ThreadPoolExecutor(DELIVERY_THREADS, thread_name_prefix="deliver") if deliver_apart else None
    core = Samverkan(database.model, database.unit_of_work, clock, port, settings.samverkan_lang,
                     lease=timedelta(seconds=settings.samverkan_claim_lease), intake=Intake(database.unit_of_work),
                     after=after, telemetry=telemetry, rate_limit=settings.rate_limit,
                     chain_head=HeadTarget(settings.samverkan_chain_head_file, settings.samverkan_chain_head_channel,
                                           settings.samverkan_chain_head_every))
    return Runtime(settings, database.model, database.engine, core,
                   ThreadPoolExecutor(max_workers=settings.samverkan_workers, thread_name_prefix="work"),
                   after=after, telemetry=telemetry)


def _telemetry(settings: Settings) -> Telemetry:
    if not settings.samverkan_metrics:
        return SILENT
    from samverkan.metrics import PrometheusTelemetry

    return PrometheusTelemetry()


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


def slack_chat(settings: Settings, telemetry: Telemetry = SILENT) -> ChatFactory:
    def make(unit_of_work: UnitOfWorkFactory) -> ChatPort:
        from handlers.slack_chat import SlackChat
        from handlers.slack_client import web_client

        assert settings.slack_bot_token, "Slack needs SLACK_BOT_TOKEN"
        return SlackChat(web_client(settings.slack_bot_token, settings.slack_api_url, telemetry=telemetry),
                         cache_seconds=settings.samverkan_directory_cache, telemetry=telemetry)

    return make


def teams_chat(settings: Settings, clock: Clock) -> ChatFactory:
    def make(unit_of_work: UnitOfWorkFactory) -> ChatPort:
        from samverkan.teams_wiring import chat

        return chat(settings, unit_of_work, clock)

    return make


def slack_app(runtime: Runtime):  # type: ignore[no-untyped-def]
    from handlers.app import build_bolt_app
    from handlers.slack_client import web_client

    settings = runtime.settings
    assert settings.slack_bot_token, "Slack needs SLACK_BOT_TOKEN"
    client = web_client(settings.slack_bot_token, settings.slack_api_url, telemetry=runtime.telemetry)
    return build_bolt_app(runtime.core, client, settings.slack_signing_secret or "", runtime.work,
                          runtime.hand_off, runtime.telemetry)


def http_app(runtime: Runtime):  # type: ignore[no-untyped-def]
    """Everything served over HTTP: Slack's endpoint, the health and readiness checks, the metrics, the calendar
    feeds."""
    from handlers.server import json_endpoint, wsgi_app
    from samverkan.metrics import PrometheusTelemetry, exposition

    routes = {"/readyz": json_endpoint(runtime.ready)}
    if isinstance(runtime.telemetry, PrometheusTelemetry):  # off: no /metrics at all
        routes["/metrics"] = exposition(runtime.telemetry, runtime.core.unit_of_work, runtime.core.clock,
                                        runtime.settings.samverkan_metrics_token)
    if runtime.settings.platform == "teams":
        from samverkan.teams_wiring import endpoint

        routes["/api/messages"] = endpoint(runtime.settings, runtime.core, runtime.hand_off, runtime.telemetry,
                                           runtime.work)
        return wsgi_app(None, "", runtime.healthy, runtime.calendar, routes)
    return wsgi_app(slack_app(runtime), runtime.settings.slack_signing_secret or "", runtime.healthy,
                    runtime.calendar, routes)


def socket_mode(runtime: Runtime):  # type: ignore[no-untyped-def]
    """Slack through Socket Mode (SLACK_APP_TOKEN): the same bolt app, over slack_sdk's own WebSocket client."""
    from slack_bolt.adapter.socket_mode import SocketModeHandler

    assert runtime.settings.slack_app_token, "Socket Mode needs SLACK_APP_TOKEN"
    return SocketModeHandler(slack_app(runtime), runtime.settings.slack_app_token)
