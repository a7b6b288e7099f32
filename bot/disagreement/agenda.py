"""Open disagreements on the agenda of the forum they are at, until settled or moved up."""

from __future__ import annotations

from datetime import datetime

from bot.directory.people import Person
from bot.disagreement import ladder
from bot.disagreement.escalation import parties_text
from bot.forum.calendar import Sitting
from bot.i18n import Texts
from bot.message import Message
from bot.model.schema import Forum, GovernanceModel
from bot.ports import UnitOfWork


def open_disagreements(uow: UnitOfWork, model: GovernanceModel, forum: Forum, sitting: Sitting,
                       previous: Sitting | None, t: Texts, now: datetime, viewer: Person | None) -> list[Message]:
    """Each one the reader may see; a channel, read by whoever is in it, learns only how many there are."""
    found = uow.disagreements.at_forum(forum.key)
    if viewer is None:
        return [t("disagreement.agenda_count", count=len(found), forum=forum.key)] if found else []
    return [t("disagreement.agenda", ref=d.ref, title=d.title, parties=parties_text(model, d, t),
              level=d.level + 1, levels=len(d.path),
              proposal=t("disagreement.agenda_proposal") if d.proposal else "")
            for d in found if ladder.may_see(model, viewer, d)]
