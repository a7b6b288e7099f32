"""Open disagreements on the agenda of the forum they are at, until settled or moved up."""

from __future__ import annotations

from datetime import datetime

from bot.disagreement.escalation import parties_text
from bot.forum.calendar import Sitting
from bot.i18n import Texts
from bot.model.schema import Forum, GovernanceModel
from bot.ports import UnitOfWork


def open_disagreements(uow: UnitOfWork, model: GovernanceModel, forum: Forum, sitting: Sitting,
                       previous: Sitting | None, t: Texts, now: datetime) -> list[str]:
    return [t("disagreement.agenda", ref=d.ref, title=d.title, parties=parties_text(model, d, t),
              level=d.level + 1, levels=len(d.path),
              proposal=t("disagreement.agenda_proposal") if d.proposal else "")
            for d in uow.disagreements.at_forum(forum.key)]
