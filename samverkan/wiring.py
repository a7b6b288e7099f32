"""Builds the application from its parts: the one place that knows the core, the database and Slack."""

from __future__ import annotations

import logging
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field

from sqlalchemy import Engine, text
from sqlalchemy.exc import IntegrityError

from bot.app import Samverkan
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

    def healthy(self) -> bool:
        try:
            with self.engine.connect() as connection:
                connection.execute(text("SELECT 1"))
            return True
        except Exception:
            log.exception("health check failed")
            return False

    def close(self) -> None:
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
