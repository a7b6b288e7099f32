"""The App Home: when someone opens the app's Home tab, theirs is drawn and published if it changed
(bot.native.home); after the acknowledgement, since drawing it reads the database and may ask Slack who they are."""

from __future__ import annotations

import logging
from concurrent.futures import Executor
from typing import Any

from pydantic import ValidationError
from slack_bolt import App

from bot.app import Samverkan
from bot.native import home
from handlers.payloads import AppHomeOpened

log = logging.getLogger(__name__)


def register(app: App, core: Samverkan, work: Executor) -> None:
    @app.event("app_home_opened")
    def on_home_opened(body: dict[str, Any]) -> None:
        try:
            event = AppHomeOpened.model_validate(body.get("event") or {})
        except ValidationError:
            log.warning("an app_home_opened event did not have the expected fields")
            return
        if event.tab == "home":
            # Slack sends the view it shows along; without one, nothing of ours is shown and it is published.
            work.submit(_opened, core, event.user, event.view is not None)


def _opened(core: Samverkan, user_id: str, shown: bool) -> None:
    try:
        home.opened(core, user_id, shown)
    except Exception:
        log.exception("could not publish the Home of %s", user_id)
