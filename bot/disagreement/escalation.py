"""Moving a disagreement up the ladder: by a person at once, or by the sweep when its level's sitting has passed
without a settlement. Either way it happens once: the store moves it only from the level it is still at."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import UTC, datetime
from typing import TYPE_CHECKING

from bot.directory.people import Person, mention
from bot.disagreement import ladder
from bot.disagreement.records import Disagreement, Entry
from bot.duties import Duty, OnceChat, Outcome
from bot.forum.calendar import next_sitting
from bot.i18n import Lang, Texts
from bot.message import Message, Span, Text, separated, to_json
from bot.model import parties
from bot.model.schema import GovernanceModel
from bot.native import language, live
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
    return " – ".join(parties.name(model, key, t.lang) for key in d.parties)


def level_name(model: GovernanceModel, d: Disagreement, t: Texts, forum_key: str | None = None) -> str:
    forum = model.sitting_forum(forum_key or d.forum) or model.forum(forum_key or d.forum)
    return forum.name(t.lang) if forum else (forum_key or d.forum)


def speakers(model: GovernanceModel, d: Disagreement) -> dict[str, str]:
    """For each party, who speaks for it at the level's forum: itself, or where it has no seat there, the party
    that represents it (the City's central ordering organisation for its local IT support)."""
    forum = model.sitting_forum(d.forum)
    return {key: parties.speaker(model, forum, key) if forum else key for key in d.parties}


def representatives(model: GovernanceModel, uow: UnitOfWork, d: Disagreement) -> dict[str, list[Person]]:
    """For each party, who must attend the level's forum for it."""
    forum = model.sitting_forum(d.forum)
    if forum is None:
        return {key: [] for key in d.parties}
    return {key: ladder.representatives(model, forum, speaker, uow.directory.people(speaker))
            for key, speaker in speakers(model, d).items()}


def leaders(model: GovernanceModel, uow: UnitOfWork, d: Disagreement) -> list[Person]:
    """The City's people who lead a question between suppliers (section 8.10): those it sends to the forum, else
    its authorised approvers, who can agree the boundary on the City's behalf."""
    forum = model.sitting_forum(d.forum)
    if not d.led_by or forum is None:
        return []
    return ladder.representatives(model, forum, d.led_by, uow.directory.people(d.led_by))


def attendance(model: GovernanceModel, uow: UnitOfWork, d: Disagreement, t: Texts) -> Span:
    """Who must attend the level's forum for each party, mentioned."""
    parts: list[Span] = []
    spoken = speakers(model, d)
    for key, people in representatives(model, uow, d).items():
        name = parties.name(model, key, t.lang)
        if spoken[key] != key:
            name = t.text("disagreement.represented", party=name, speaker=parties.name(model, spoken[key], t.lang))
        parts.append((Text(f"{name}: "), *separated(mention(p) for p in people)) if people
                     else t("disagreement.nobody_named", party=name).span)
    return separated(parts, " · ")


def concerned(model: GovernanceModel, uow: UnitOfWork, d: Disagreement, also: Iterable[Person] = ()) -> list[Person]:
    """Who is told about a disagreement, always directly: a forum's channel is read by whoever is in it, and a
    dispute is the business of its parties (and of the City's oversight) alone. Its parties' representatives at
    the level, the City's people who lead it or attend for the oversight, whoever raised it, and the people named
    alongside."""
    reached = [*leaders(model, uow, d), *(p for people in representatives(model, uow, d).values() for p in people)]
    forum = model.sitting_forum(d.forum)
    if forum is not None:
        for party in model.parties:
            if party.oversight and party.key not in d.parties and party.key != d.led_by:
                reached.extend(ladder.representatives(model, forum, party.key, uow.directory.people(party.key)))
    raiser = uow.directory.by_key(d.raised_by)
    told = {p.key: p for p in [*reached, *([raiser] if raiser else []), *also] if ladder.may_see(model, p, d)}
    return list(told.values())


# What a person is told, written in the language they read: a function of their catalogue.
Writer = Callable[[Texts], Message]


def announce(model: GovernanceModel, uow: UnitOfWork, d: Disagreement,
             reason: Writer) -> list[tuple[Person, Writer]]:
    """What the parties are told when a disagreement arrives at a level (or goes formal): the notice, kept current
    (bot.native.views), written for each reader in their language. Call the writers inside the transaction."""
    forum = model.sitting_forum(d.forum)
    sitting = next_sitting(forum, d.level_since, uow.forum.changes(d.forum)) if forum and forum.convenes else None

    def write(t: Texts) -> Message:
        parties_named = parties_text(model, d, t)
        when = t.when(sitting.start) if sitting else t("disagreement.no_sitting")
        if d.state == "formal":
            return t("disagreement.formal_posted", ref=d.ref, title=d.title, parties=parties_named, reason=reason(t))
        attendees = attendance(model, uow, d, t)
        if d.led_by:
            # The City is named first and notified: it leads the question (section 8.10).
            return t("disagreement.led_posted", ref=d.ref, title=d.title, parties=parties_named,
                     forum=level_name(model, d, t), reason=reason(t), sitting=when,
                     leader=parties.name(model, d.led_by, t.lang),
                     leaders=separated(mention(p) for p in leaders(model, uow, d)) or t("disagreement.no_leader"),
                     attendees=attendees)
        return t("disagreement.escalated_posted", ref=d.ref, title=d.title, parties=parties_named,
                 forum=level_name(model, d, t), level=d.level + 1, levels=len(d.path), reason=reason(t),
                 sitting=when, deadline=t.when(d.deadline) if d.deadline else t("disagreement.no_deadline"),
                 attendees=attendees)

    return [(person, write) for person in concerned(model, uow, d)]


def awaiting(model: GovernanceModel, uow: UnitOfWork, d: Disagreement) -> list[tuple[Person, Writer]]:
    """A question between suppliers whose sitting passed unsettled: it does not climb; the City clarifies it."""
    def write(t: Texts) -> Message:
        return t("disagreement.awaiting_posted", ref=d.ref, title=d.title, parties=parties_text(model, d, t),
                 forum=level_name(model, d, t), leader=parties.name(model, d.led_by or "", t.lang))

    return [(person, write) for person in concerned(model, uow, d)]


Written = list[tuple[Person, Message, Lang]]


def _written(uow: UnitOfWork, default: Lang, news: list[tuple[Person, Writer]]) -> Written:
    """Each notice written in its reader's language, inside the transaction that read the disagreement."""
    texts = language.texts_for(uow, [p.slack_user for p, _ in news], default)
    return [(person, write(texts[person.slack_user]), texts[person.slack_user].lang) for person, write in news]


def _stamp(instant: datetime) -> str:
    return instant.astimezone(UTC).strftime("%Y%m%dT%H%M%SZ")


def perform(core: Samverkan, duty: Duty, now: datetime, once: OnceChat) -> Outcome:
    t = core.texts
    model = core.model
    disagreement_id, level = int(duty.payload["id"]), int(duty.payload["level"])

    def unsettled(t: Texts) -> Message:
        return t("disagreement.reason_unsettled")

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
            if d.led_by:
                # Between suppliers nothing climbs: the City is told that its clarification is awaited.
                if any(e.ref == duty.key for e in uow.disagreements.history(d.id)):
                    news = _written(uow, core.lang, awaiting(model, uow, d)) if once.recovering else []
                    return _deliver(core, d, news, once) if news else "dropped"
                uow.disagreements.set_deadline(d.id, None)
                uow.disagreements.append(Entry(d.id, now, BOT, "", "awaiting", d.level, d.forum,
                                               t.text("disagreement.reason_unsettled"), duty.key))
                news = _written(uow, core.lang, awaiting(model, uow, d))
                uow.commit()
                return _deliver(core, d, news, once)
            moved = climb(model, uow, d, now, BOT, "", t.text("disagreement.reason_unsettled"), ref=duty.key)
            if moved is None:
                return "dropped"
            news = _written(uow, core.lang, announce(model, uow, moved, unsettled))
            uow.commit()
        elif once.recovering and any(e.ref == duty.key for e in uow.disagreements.history(d.id)):
            # This duty moved it and its performer died before saying so: say it now; OnceChat skips what was said.
            news = _written(uow, core.lang, awaiting(model, uow, d) if d.led_by
                            else announce(model, uow, d, unsettled))
        else:
            return "dropped"  # settled, or moved on by a person, since it was planned
    return _deliver(core, d, news, once)


def _deliver(core: Samverkan, d: Disagreement, news: Written, once: OnceChat) -> Outcome:
    """Each reader's notice, kept current from now on; the notices it supersedes, and every other of the
    disagreement's, are drawn anew once all are out (the level changed)."""
    about = live.subject("disagreement", d.id)
    for person, text, lang in news:
        user = person.slack_user or (once.chat.find_user_by_email(person.email) if person.email else None)
        if user:
            live.deliver(core, once, about, person.key, user, True, to_json(text), lang, part=person.key,
                         redraw=False)
    live.refresh(core, about)
    from bot.native import home  # what waits for whom has changed

    home.wanted(core)
    return "done"
