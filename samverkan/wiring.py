"""Builds the application from its parts: the one place that knows the core, the database and Slack."""

from __future__ import annotations

import logging
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.triggers.interval import IntervalTrigger
from sqlalchemy import Engine, text
from sqlalchemy.exc import IntegrityError

from bot.app import Samverkan
from bot.chat import ChatPort
from bot.clock import Clock, SystemClock
from bot.directory.seed import seed_directory
from bot.model import GovernanceModel, load_model
from samverkan.settings import Settings
from storage.db import make_engine, migrate, session_factory
from storage.uow import SqlUnitOfWork

log = logging.getLogger(__name__)


@dataclass
class Runtime:
    settings: Settings
    model: GovernanceModel
    engine: Engine
    core: Samverkan
    work: ThreadPoolExecutor = field(default_factory=lambda: ThreadPoolExecutor(thread_name_prefix="work"))
    scheduler: BackgroundScheduler | None = None

    def healthy(self) -> bool:
        try:
            with self.engine.connect() as connection:
                connection.execute(text("SELECT 1"))
            return True
        except Exception:
            log.exception("health check failed")
            return False

    def calendar(self, forum_key: str | None = None) -> bytes | None:
        """The iCalendar feed of every forum, or of one; None when there is no such forum."""
        from bot.forum.ical import feed

        if forum_key is not None and self.model.sitting_forum(forum_key) is None:
            return None
        with self.core.unit_of_work() as uow:
            changes = {f.key: list(uow.forum.changes(f.key)) for f in self.model.calendar}
        return feed(self.model, changes, self.core.clock.now(), self.core.texts, forum_key)

    def start_scheduler(self, chat: ChatPort) -> BackgroundScheduler:
        """APScheduler drives the clock; the database says what is due. Every process runs one, and the duties'
        claims make sure each is done once. Missed duties are swept at once on start."""
        runner = self.core.runner(chat, lease=timedelta(seconds=self.settings.samverkan_claim_lease))
        scheduler = BackgroundScheduler(timezone=UTC)
        now = datetime.now(UTC)
        scheduler.add_job(self.core.plan, IntervalTrigger(minutes=5), id="plan", next_run_time=now,
                          max_instances=1, coalesce=True)
        scheduler.add_job(lambda: runner.sweep(self.core.clock.now()), IntervalTrigger(seconds=1), id="sweep",
                          next_run_time=now + timedelta(seconds=1), max_instances=1, coalesce=True)
        scheduler.start()
        self.scheduler = scheduler
        return scheduler

    def close(self) -> None:
        if self.scheduler is not None:
            self.scheduler.shutdown(wait=True)
        self.work.shutdown(wait=True)
        self.engine.dispose()


def build(settings: Settings, clock: Clock | None = None) -> Runtime:
    clock = clock or SystemClock()
    model = load_model(settings.samverkan_model)
    engine = make_engine(settings.database_url)
    migrate(engine)
    sessions = session_factory(engine)

    def unit_of_work() -> SqlUnitOfWork:
        return SqlUnitOfWork(sessions)

    _seed(unit_of_work, model, clock)
    core = Samverkan(model, unit_of_work, clock, settings.samverkan_lang)
    return Runtime(settings, model, engine, core,
                   ThreadPoolExecutor(max_workers=settings.samverkan_workers, thread_name_prefix="work"))


def _seed(unit_of_work, model: GovernanceModel, clock: Clock) -> None:  # type: ignore[no-untyped-def]
    try:
        with unit_of_work() as uow:
            added = seed_directory(uow, model, clock.now())
            uow.commit()
        if added:
            log.info("directory seeded with %d people from the model", added)
    except IntegrityError:
        # Another process seeded the same people at the same moment; theirs stands.
        log.info("directory already being seeded by another process")


def slack_app(runtime: Runtime):  # type: ignore[no-untyped-def]
    from handlers.app import build_bolt_app
    from handlers.slack_chat import web_client

    settings = runtime.settings
    assert settings.slack_bot_token
    client = web_client(settings.slack_bot_token, settings.slack_api_url)
    return build_bolt_app(runtime.core, client, settings.slack_signing_secret or "", runtime.work)


def slack_chat(runtime: Runtime) -> ChatPort:
    """The chat the scheduler's reminders and escalations go out through."""
    from handlers.slack_chat import SlackChat, web_client

    assert runtime.settings.slack_bot_token
    return SlackChat(web_client(runtime.settings.slack_bot_token, runtime.settings.slack_api_url))
