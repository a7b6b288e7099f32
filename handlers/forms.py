"""A filled-in form is checked before it is acknowledged: a bad field keeps the form open with the error beside it
(`response_action: errors`), in the person's language, and nothing is written down. The checks only read
(bot.native.forms.check), so the acknowledgement stays well inside Slack's three seconds."""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from pydantic import ValidationError
from slack_bolt import Ack

from bot.app import Samverkan
from bot.native import forms
from handlers.payloads import ViewSubmissionPayload

log = logging.getLogger(__name__)

# Slack shows an error of at most this many characters beside a field.
ERROR_LIMIT = 2000


def validating(core: Samverkan, listener: Callable[..., None]) -> Callable[..., None]:
    """The form's listener, behind the check of its fields."""
    def on_submission(ack: Ack, body: dict[str, Any]) -> None:
        try:
            submission = ViewSubmissionPayload.model_validate(body).to_submission()
        except ValidationError:
            listener(ack=ack, body=body)  # it says what is wrong with the payload
            return
        try:
            errors = forms.check(core, submission)
        except Exception:
            # The command's own rules still stand behind it: the form goes on rather than failing.
            log.exception("could not check the form %s", submission.action)
            errors = {}
        if errors:
            ack(response_action="errors", errors=_placed(errors, body))
            return
        listener(ack=ack, body=body)

    return on_submission


def _placed(errors: dict[str, str], body: dict[str, Any]) -> dict[str, str]:
    """Each error beside its field; one about a field the form does not show goes beside its first field."""
    view = body.get("view") or {}
    shown = [b.get("block_id") for b in view.get("blocks") or [] if isinstance(b, dict) and b.get("block_id")]
    placed: dict[str, str] = {}
    for name, text in errors.items():
        where = name if name in shown or not shown else shown[0]
        placed[where] = f"{placed[where]} {text}" if where in placed else text
    return {name: text[:ERROR_LIMIT] for name, text in placed.items()}
