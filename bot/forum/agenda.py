"""What goes on a sitting's agenda: items people added, and what the bot knows is open for that forum.

Each subject contributes an agenda source; the forum calendar only asks them. A source answers with ready
lines in the reader's language, for the person who reads them (`viewer`), or for a channel (None), which is read
by whoever is in it and so gets only what every party there may see.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime

from bot.directory.people import Person
from bot.forum.announcements import announcing_forums
from bot.forum.calendar import Sitting, next_sitting
from bot.i18n import Texts
from bot.message import Message
from bot.model.schema import Forum, GovernanceModel
from bot.ports import UnitOfWork

# (uow, model, forum, the sitting, the forum's previous held sitting or None, texts, now, viewer) -> agenda lines
AgendaSource = Callable[[UnitOfWork, GovernanceModel, Forum, Sitting, Sitting | None, Texts, datetime,
                         Person | None], Sequence[Message]]


def added_items(uow: UnitOfWork, model: GovernanceModel, forum: Forum, sitting: Sitting,
                previous: Sitting | None, t: Texts, now: datetime, viewer: Person | None) -> list[Message]:
    return [t("forum.agenda.item", text=i.text, by=i.added_by) for i in uow.forum.agenda_items(forum.key,
                                                                                              sitting.original)]


def open_actions(uow: UnitOfWork, model: GovernanceModel, forum: Forum, sitting: Sitting,
                 previous: Sitting | None, t: Texts, now: datetime, viewer: Person | None) -> list[Message]:
    lines = []
    for action in uow.forum.open_actions(forum.key):
        owner = uow.directory.by_key(action.owner)
        late = t("forum.agenda.overdue") if action.due < sitting.start.date() else ""
        lines.append(t("forum.agenda.action", ref=action.ref, text=action.text,
                       owner=owner.name if owner else action.owner, due=action.due.isoformat(), late=late))
    return lines


def announced_deployments(uow: UnitOfWork, model: GovernanceModel, forum: Forum, sitting: Sitting,
                          previous: Sitting | None, t: Texts, now: datetime, viewer: Person | None) -> list[Message]:
    """Every planned change is announced before the coordination sitting that precedes it (sections 8.7, 8.9): this
    sitting covers the changes to the services it takes announcements for, up to the next sitting; those announced
    after it had begun are marked late."""
    covered = {s.key for s in model.services if forum.key in {f.key for f in announcing_forums(model, s)}}
    if not covered:
        return []
    changes = uow.forum.changes(forum.key)
    following = next_sitting(forum, sitting.start + (sitting.end - sitting.start), changes)
    until = following.start if following else None
    # Those announced too late for the sitting before them are taken up afterwards, here, marked late.
    since = previous.start if previous else sitting.start
    lines = []
    for deployment in uow.forum.deployments(since, until):
        if deployment.service not in covered:
            continue
        if deployment.at < sitting.start and deployment.announced_at <= since:
            continue  # announced in time, and already covered by the previous sitting
        service = model.service(deployment.service)
        late = t("deploy.late_mark") if deployment.announced_at > min(sitting.start, deployment.at) or (
            deployment.at < sitting.start) else ""
        lines.append(t("forum.agenda.deployment", ref=deployment.ref, when=t.when(deployment.at),
                       service=service.name(t.lang) if service else deployment.service,
                       what=deployment.what, late=late))
    return lines


def agenda(sources: Sequence[AgendaSource], uow: UnitOfWork, model: GovernanceModel, forum: Forum,
           sitting: Sitting, previous: Sitting | None, t: Texts, now: datetime,
           viewer: Person | None = None) -> list[Message]:
    lines: list[Message] = []
    for source in sources:
        lines.extend(source(uow, model, forum, sitting, previous, t, now, viewer))
    return lines
