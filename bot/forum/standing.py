"""A continuous forum (section 8.5, Service Desk-samverkan: "kontinuerliga möten ... i den omfattning som krävs")
has no calendar of its own. Its chair convenes sittings when needed (`/forum extra`); meanwhile items wait on its
standing agenda and are taken up at the next sitting convened; the chair party is reminded when an item has waited
the forum's `convene_days` without one. Actions recorded there are followed up like any forum's."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING

from bot.commands import Context
from bot.directory.people import Person
from bot.duties import Duty, OnceChat, Outcome
from bot.forum.agenda import open_actions
from bot.forum.calendar import Sitting, previous_sitting, sittings
from bot.forum.records import AgendaItem
from bot.forum.reminders import agenda_lines
from bot.forum.seats import chair_people, tell
from bot.i18n import Texts
from bot.message import Message, join
from bot.model.schema import Forum, GovernanceModel
from bot.ports import UnitOfWork

if TYPE_CHECKING:
    from bot.app import Samverkan

# Where items wait that no sitting has been convened for yet: not an instant any sitting can have.
STANDING = datetime(1970, 1, 1, tzinfo=UTC)
CONVENE = "forum.convene"


def waiting(uow: UnitOfWork, forum: Forum, since: datetime | None, until: datetime) -> list[AgendaItem]:
    """The standing items added after the sitting before (they were not taken up there) and before `until`."""
    return [i for i in uow.forum.agenda_items(forum.key, STANDING)
            if (since is None or i.added_at >= since) and i.added_at < until]


def standing_items(uow: UnitOfWork, model: GovernanceModel, forum: Forum, sitting: Sitting,
                   previous: Sitting | None, t: Texts, now: datetime, viewer: Person | None) -> list[Message]:
    """On a convened sitting's agenda: what waited for it."""
    if not forum.continuous:
        return []
    return [t("forum.agenda.item", text=i.text, by=i.added_by)
            for i in waiting(uow, forum, previous.start if previous else None, sitting.start)]


def add(ctx: Context, forum: Forum, text: str) -> None:
    now = ctx.clock.now()
    item = ctx.uow.forum.add_agenda_item(forum.key, STANDING, text, ctx.actor, now)
    ctx.record("forum.agenda_item_added", forum.key, item=item.id, text=text, sitting="standing")
    due = now + timedelta(days=forum.convene_days)
    # One reminder a day at most, however many items wait.
    key = f"{CONVENE}:{forum.key}:{due.astimezone(UTC):%Y%m%d}"
    ctx.uow.duties.plan(Duty(key, CONVENE, due, payload={"forum": forum.key, "since": now.isoformat()}))
    ctx.reply(ctx.t("forum.standing.added", forum=forum.name(ctx.t.lang), text=text, days=forum.convene_days))


def agenda(ctx: Context, forum: Forum, page: int = 1) -> Message:
    """The standing agenda, when no sitting is convened, a page at a time (bot.forum.reminders.agenda_lines)."""
    t, now = ctx.t, ctx.clock.now()
    previous = previous_sitting(forum, now, ctx.uow.forum.changes(forum.key))
    items = [t("forum.agenda.item", text=i.text, by=i.added_by)
             for i in waiting(ctx.uow, forum, previous.start if previous else None, now + timedelta(seconds=1))]
    items.extend(open_actions(ctx.uow, ctx.model, forum, _now_sitting(forum, now), previous, t, now, ctx.person))
    lines = [t("forum.standing.heading", forum=forum.name(t.lang), key=forum.key)]
    if items:
        lines.extend(agenda_lines(items, forum, t, page))
    else:
        lines.append(t("forum.standing.empty", forum=forum.key))
    return join(lines)


def _now_sitting(forum: Forum, now: datetime) -> Sitting:
    # Open actions are overdue relative to a day: for the standing agenda, today.
    return Sitting(forum.key, now, now, now)


def perform_convene(core: Samverkan, duty: Duty, now: datetime, once: OnceChat) -> Outcome:
    t = core.texts
    found = core.model.sitting_forum(duty.payload["forum"])
    if found is None:
        return "dropped"
    since = datetime.fromisoformat(duty.payload["since"])
    with core.unit_of_work() as uow:
        changes = uow.forum.changes(found.key)
        if any(s.held for s in sittings(found, since, now + timedelta(days=400), changes)):
            return "dropped"  # a sitting has been convened since: the items will be taken up there
        previous = previous_sitting(found, now, changes)
        count = len(waiting(uow, found, previous.start if previous else None, now))
        if not count:
            return "dropped"
        chair = chair_people(core.model, found, uow.directory.people,
                             core.model.ladder.representative_roles if core.model.ladder else [])
    text = t("forum.standing.convene", count=count, forum=found.name(t.lang), days=found.convene_days,
             key=found.key)
    tell(once, found, chair, text)
    return "done"
