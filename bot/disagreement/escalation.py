"""Moving a disagreement up the ladder: by a person at once, or by the sweep when its level's sitting has passed
without a settlement. Either way it happens once: the store moves it only from the level it is still at."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING

from bot.directory.people import Person, mention
from bot.disagreement import ladder
from bot.disagreement.records import Disagreement, Entry
from bot.duties import Duty, OnceChat, Outcome
from bot.forum.calendar import next_sitting
from bot.i18n import Texts
from bot.model.schema import GovernanceModel
from bot.ports import UnitOfWork

if TYPE_CHECKING:
    from bot.app import Samverkan

ESCALATE = "disagreement.escalate"
BOT = "samverkan"


def duty_key(disagreement_id: int, level: int) -> str:
    # The disagreement and the level it leaves: planned again, it is the same duty, so each step happens once.
    return f"{ESCALATE}:{disagreement_id}:{level}"


def plan(uow: UnitOfWork, d: Disagreement) -> None:
    if d.is_open and d.deadline is not None:
        uow.duties.plan(Duty(duty_key(d.id, d.level), ESCALATE, d.deadline, payload={"id": d.id, "level": d.level}))


def withdraw(uow: UnitOfWork, d: Disagreement) -> None:
    """A person moved or settled it: the sweep's pending step for this level is no longer wanted."""
    for key in uow.duties.pending_keys(duty_key(d.id, d.level)):
        if key == duty_key(d.id, d.level) or key.startswith(duty_key(d.id, d.level) + ":"):
            uow.duties.unplan(key)


def climb(model: GovernanceModel, uow: UnitOfWork, d: Disagreement, now: datetime, actor: str, party: str,
          reason: str, ref: str = "") -> Disagreement | None:
    """One rung up, or into formal dispute from the top; None when someone else moved it first."""
    if ladder.is_top(d):
        if not uow.disagreements.move(d.id, d.level, d.level, d.forum, now, None, state="formal"):
            return None
        uow.disagreements.append(Entry(d.id, now, actor, party, "formal", d.level, d.forum, reason, ref))
    else:
        level = d.path[d.level + 1]
        forum = ladder.sitting_forum(model, level, d.catalogue)
        deadline = ladder.deadline(forum, level, now, uow.forum.changes(forum.key))
        if not uow.disagreements.move(d.id, d.level, d.level + 1, forum.key, now, deadline):
            return None
        uow.disagreements.append(Entry(d.id, now, actor, party, "escalated", d.level + 1, forum.key, reason, ref))
    moved = uow.disagreements.get(d.id)
    assert moved is not None
    plan(uow, moved)
    return moved


@dataclass
class Announcement:
    posts: list[tuple[str, str]] = field(default_factory=list)  # (channel, text)
    directs: list[tuple[Person, str]] = field(default_factory=list)


def parties_text(model: GovernanceModel, d: Disagreement, t: Texts) -> str:
    return " – ".join(p.name(t.lang) if (p := model.party(key)) else key for key in d.parties)


def level_name(model: GovernanceModel, d: Disagreement, t: Texts, forum_key: str | None = None) -> str:
    forum = model.sitting_forum(forum_key or d.forum) or model.forum(forum_key or d.forum)
    return forum.name(t.lang) if forum else (forum_key or d.forum)


def attendance(model: GovernanceModel, uow: UnitOfWork, d: Disagreement, t: Texts) -> tuple[str, list[Person]]:
    """Who must attend the level's forum for each party, mentioned; the people reached."""
    forum = model.sitting_forum(d.forum)
    reached: list[Person] = []
    parts = []
    for key in d.parties:
        party = model.party(key)
        name = party.name(t.lang) if party else key
        people = ladder.representatives(model, forum, key, uow.directory.people(key)) if forum else []
        reached.extend(people)
        parts.append(f"{name}: {', '.join(mention(p) for p in people)}" if people
                     else t("disagreement.nobody_named", party=name))
    return " · ".join(parts), reached


def announce(model: GovernanceModel, uow: UnitOfWork, d: Disagreement, t: Texts, reason: str) -> Announcement:
    """What the forum's channel and the parties are told when a disagreement arrives at a level (or goes formal)."""
    news = Announcement()
    channel_forum = model.sitting_forum(d.forum)
    channel = channel_forum.channel if channel_forum else ""
    parties = parties_text(model, d, t)
    if d.state == "formal":
        text = t("disagreement.formal_posted", ref=d.ref, title=d.title, parties=parties, reason=reason)
        attendees, reached = attendance(model, uow, d, t)
    else:
        attendees, reached = attendance(model, uow, d, t)
        sitting = next_sitting(channel_forum, d.level_since, uow.forum.changes(d.forum)) if (
            channel_forum and channel_forum.sits) else None
        text = t("disagreement.escalated_posted", ref=d.ref, title=d.title, parties=parties,
                 forum=level_name(model, d, t), level=d.level + 1, levels=len(d.path), reason=reason,
                 sitting=t.when(sitting.start) if sitting else t("disagreement.no_sitting"),
                 deadline=t.when(d.deadline) if d.deadline else t("disagreement.no_deadline"),
                 attendees=attendees)
    if channel:
        news.posts.append((channel, text))
    raiser = uow.directory.by_key(d.raised_by)
    told = {p.key: p for p in [*reached, *([raiser] if raiser else [])]}
    news.directs.extend((p, text) for p in told.values() if p.slack_user)
    return news


def _stamp(instant: datetime) -> str:
    return instant.astimezone(UTC).strftime("%Y%m%dT%H%M%SZ")


def perform(core: Samverkan, duty: Duty, now: datetime, once: OnceChat) -> Outcome:
    t = core.texts
    model = core.model
    disagreement_id, level = int(duty.payload["id"]), int(duty.payload["level"])
    with core.unit_of_work() as uow:
        d = uow.disagreements.get(disagreement_id, lock=True)
        if d is None:
            return "dropped"
        if d.is_open and d.level == level:
            forum = ladder.sitting_forum(model, d.rung, d.catalogue)
            due = ladder.deadline(forum, d.rung, d.level_since, uow.forum.changes(forum.key))
            if due is not None and due > now:
                # The sitting was moved later since this was planned: it still gets its chance.
                uow.duties.plan(Duty(f"{duty_key(d.id, level)}:{_stamp(due)}", ESCALATE, due, payload=duty.payload))
                uow.commit()
                return "dropped"
            moved = climb(model, uow, d, now, BOT, "", t("disagreement.reason_unsettled"), ref=duty.key)
            if moved is None:
                return "dropped"
            news = announce(model, uow, moved, t, t("disagreement.reason_unsettled"))
            uow.commit()
        elif once.recovering and any(e.ref == duty.key for e in uow.disagreements.history(d.id)):
            # This duty moved it and its performer died before saying so: say it now; OnceChat skips what was said.
            news = announce(model, uow, d, t, t("disagreement.reason_unsettled"))
        else:
            return "dropped"  # settled, or moved on by a person, since it was planned
    for channel, text in news.posts:
        once.post(channel, text)
    for person, text in news.directs:
        once.direct(person.slack_user or "", text, part=person.key)
    return "done"
