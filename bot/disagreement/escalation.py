"""Moving a disagreement up the ladder: by a person at once, or by the sweep when its level's sitting has passed
without a settlement. Either way it happens once: the store moves it only from the level it is still at."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, datetime
from typing import TYPE_CHECKING

from bot.directory.people import Person, mention
from bot.disagreement import ladder
from bot.disagreement.records import Disagreement, Entry
from bot.duties import Duty, OnceChat, Outcome
from bot.forum.calendar import next_sitting
from bot.i18n import Texts
from bot.message import Message, Span, Text, separated
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


def parties_text(model: GovernanceModel, d: Disagreement, t: Texts) -> str:
    return " – ".join(p.name(t.lang) if (p := model.party(key)) else key for key in d.parties)


def level_name(model: GovernanceModel, d: Disagreement, t: Texts, forum_key: str | None = None) -> str:
    forum = model.sitting_forum(forum_key or d.forum) or model.forum(forum_key or d.forum)
    return forum.name(t.lang) if forum else (forum_key or d.forum)


def representatives(model: GovernanceModel, uow: UnitOfWork, d: Disagreement) -> dict[str, list[Person]]:
    """For each party, who must attend the level's forum for it."""
    forum = model.sitting_forum(d.forum)
    return {key: ladder.representatives(model, forum, key, uow.directory.people(key)) if forum else []
            for key in d.parties}


def attendance(model: GovernanceModel, uow: UnitOfWork, d: Disagreement, t: Texts) -> Span:
    """Who must attend the level's forum for each party, mentioned."""
    parts: list[Span] = []
    for key, people in representatives(model, uow, d).items():
        party = model.party(key)
        name = party.name(t.lang) if party else key
        parts.append((Text(f"{name}: "), *separated(mention(p) for p in people)) if people
                     else t("disagreement.nobody_named", party=name).span)
    return separated(parts, " · ")


def concerned(model: GovernanceModel, uow: UnitOfWork, d: Disagreement, also: Iterable[Person] = ()) -> list[Person]:
    """Who is told about a disagreement, always directly: a forum's channel is read by whoever is in it, and a
    dispute is the business of its parties (and of the City's oversight) alone. Its parties' representatives at
    the level, the oversight's people there, whoever raised it, and the people named alongside."""
    reached = [p for people in representatives(model, uow, d).values() for p in people]
    forum = model.sitting_forum(d.forum)
    if forum is not None:
        for party in model.parties:
            if party.oversight and party.key not in d.parties:
                reached.extend(ladder.representatives(model, forum, party.key, uow.directory.people(party.key)))
    raiser = uow.directory.by_key(d.raised_by)
    told = {p.key: p for p in [*reached, *([raiser] if raiser else []), *also] if ladder.may_see(model, p, d)}
    return list(told.values())


def announce(model: GovernanceModel, uow: UnitOfWork, d: Disagreement, t: Texts,
             reason: Message) -> list[tuple[Person, Message]]:
    """What the parties are told when a disagreement arrives at a level (or goes formal)."""
    parties = parties_text(model, d, t)
    attendees = attendance(model, uow, d, t)
    if d.state == "formal":
        text = t("disagreement.formal_posted", ref=d.ref, title=d.title, parties=parties, reason=reason)
    else:
        forum = model.sitting_forum(d.forum)
        sitting = next_sitting(forum, d.level_since, uow.forum.changes(d.forum)) if forum and forum.sits else None
        text = t("disagreement.escalated_posted", ref=d.ref, title=d.title, parties=parties,
                 forum=level_name(model, d, t), level=d.level + 1, levels=len(d.path), reason=reason,
                 sitting=t.when(sitting.start) if sitting else t("disagreement.no_sitting"),
                 deadline=t.when(d.deadline) if d.deadline else t("disagreement.no_deadline"),
                 attendees=attendees)
    return [(person, text) for person in concerned(model, uow, d)]


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
            moved = climb(model, uow, d, now, BOT, "", t.text("disagreement.reason_unsettled"), ref=duty.key)
            if moved is None:
                return "dropped"
            news = announce(model, uow, moved, t, t("disagreement.reason_unsettled"))
            uow.commit()
        elif once.recovering and any(e.ref == duty.key for e in uow.disagreements.history(d.id)):
            # This duty moved it and its performer died before saying so: say it now; OnceChat skips what was said.
            news = announce(model, uow, d, t, t("disagreement.reason_unsettled"))
        else:
            return "dropped"  # settled, or moved on by a person, since it was planned
    for person, text in news:
        user = person.slack_user or (once.chat.find_user_by_email(person.email) if person.email else None)
        if user:
            once.direct(user, text, part=person.key)
    return "done"
