"""Moving a disagreement up the ladder: by a person at once, or by the sweep when its level's sitting has passed
without a settlement. Either way it happens once: the store moves it only from the level it is still at."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import replace
from datetime import datetime
from typing import TYPE_CHECKING

from bot.directory.people import Person, mention
from bot.disagreement import ladder
from bot.disagreement.records import Disagreement, Entry
from bot.duties import Duty, OnceChat, Outcome, stamp
from bot.forum.calendar import next_sitting
from bot.forum.seats import representatives as seat_holders
from bot.i18n import Lang, Texts
from bot.message import Message, Span, Text, separated, to_json
from bot.model import parties
from bot.model.schema import Forum, GovernanceModel
from bot.native import language, live
from bot.ports import UnitOfWork
from bot.reading import Remembering

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


def ascent(model: GovernanceModel, uow: UnitOfWork, d: Disagreement, now: datetime, actor: str, party: str,
           reason: str, ref: str = "") -> tuple[Disagreement, Entry]:
    """One rung up, or past the top rung, where informal dispute resolution is exhausted (a party may then invoke
    the formal one; nothing becomes formal by itself), as it will be once written: the disagreement moved and the
    history entry that says so."""
    if ladder.is_top(d):
        moved = replace(d, level_since=now, deadline=None, state="exhausted", proposal=None)
        return moved, Entry(d.id, now, actor, party, "exhausted", d.level, d.forum, reason, ref)
    level = d.path[d.level + 1]
    forum = ladder.sitting_forum(model, level, d.catalogue)
    deadline = ladder.deadline(forum, level, now, uow.forum.changes(forum.key))
    moved = replace(d, level=d.level + 1, forum=forum.key, level_since=now, deadline=deadline, proposal=None)
    return moved, Entry(d.id, now, actor, party, "escalated", moved.level, forum.key, reason, ref)


def climb(model: GovernanceModel, uow: UnitOfWork, d: Disagreement, now: datetime, actor: str, party: str,
          reason: str, ref: str = "") -> Disagreement | None:
    """One rung up, or past the top into exhaustion; None when someone else moved it first."""
    moved, entry = ascent(model, uow, d, now, actor, party, reason, ref)
    if not uow.disagreements.move(d.id, d.level, moved.level, moved.forum, now, moved.deadline, state=moved.state):
        return None
    uow.disagreements.append(entry)
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


def attendance(model: GovernanceModel, uow: UnitOfWork, d: Disagreement, t: Texts,
               attending: dict[str, list[Person]] | None = None) -> Span:
    """Who must attend the level's forum for each party (`attending`, when the caller has it), mentioned."""
    parts: list[Span] = []
    spoken = speakers(model, d)
    for key, people in (attending if attending is not None else representatives(model, uow, d)).items():
        name = parties.name(model, key, t.lang)
        if spoken[key] != key:
            name = t.text("disagreement.represented", party=name, speaker=parties.name(model, spoken[key], t.lang))
        parts.append((Text(f"{name}: "), *separated(mention(p) for p in people)) if people
                     else t("disagreement.nobody_named", party=name).span)
    return separated(parts, " · ")


def concerned(model: GovernanceModel, uow: UnitOfWork, d: Disagreement, also: Iterable[Person] = (),
              attending: dict[str, list[Person]] | None = None) -> list[Person]:
    """Who is told about a disagreement, always directly: a forum's channel is read by whoever is in it, and a
    dispute is the business of its parties (and of the City's oversight) alone. Its parties' representatives at
    the level (`attending`, when the caller has them), the City's people who lead it or attend for the oversight,
    whoever raised it, and the people named alongside."""
    attending = attending if attending is not None else representatives(model, uow, d)
    reached = [*leaders(model, uow, d), *(p for people in attending.values() for p in people)]
    forum = model.sitting_forum(d.forum)
    if forum is not None:
        for party in model.parties:
            if party.oversight and party.key not in d.parties and party.key != d.led_by:
                reached.extend(ladder.representatives(model, forum, party.key, uow.directory.people(party.key)))
    if forum is not None:
        reached.extend(_unreached_parties(model, uow, d, forum, reached))
    raiser = uow.directory.by_key(d.raised_by)
    told = {p.key: p for p in [*reached, *([raiser] if raiser else []), *also] if ladder.may_see(model, p, d)}
    return list(told.values())


def _unreached_parties(model: GovernanceModel, uow: UnitOfWork, d: Disagreement, forum: Forum,
                       reached: list[Person]) -> list[Person]:
    """Someone of every party to the disagreement, whoever opened it (issue 18, item 9). The level's attendees
    may name nobody of a party: nobody holds the role the forum requires of it (the notice then warns of the
    gap), or another party speaks for it there (the City for its executive office or local IT support). The
    party is still told, through whoever answers for it: its role holders, its representative roles (the
    Kundansvarig), its authorised approvers, or failing those all its people."""
    representing = model.ladder.representative_roles if model.ladder else []
    extra: list[Person] = []
    for party in d.parties:
        if any(p.party == party for p in reached):
            continue
        extra.extend(seat_holders(model, forum, party, uow.directory.people(party), representing,
                                  always_someone=True))
    return extra


# What a person is told, written in the language they read: a function of their catalogue.
Writer = Callable[[Texts], Message]


def announce(model: GovernanceModel, uow: UnitOfWork, d: Disagreement,
             reason: Writer) -> list[tuple[Person, Writer]]:
    """What the parties are told when a disagreement arrives at a level (or goes formal): the notice, kept current
    (bot.native.views), written for each reader in their language. Call the writers while `uow` is open."""
    attending = representatives(model, uow, d)
    forum = model.sitting_forum(d.forum)
    sitting = next_sitting(forum, d.level_since, uow.forum.changes(d.forum)) if forum and forum.convenes else None

    def write(t: Texts) -> Message:
        parties_named = parties_text(model, d, t)
        when = t.when(sitting.start) if sitting else t("disagreement.no_sitting")
        if d.state == "exhausted":
            return exhausted_notice(model, d, t, reason)
        attendees = attendance(model, uow, d, t, attending)
        if d.led_by:
            # The City is named first and notified: it leads the question (section 8.10).
            return t(ladder.led_text(model, d, "disagreement.led_posted"), ref=d.ref, title=d.title,
                     parties=parties_named,
                     forum=level_name(model, d, t), reason=reason(t), sitting=when,
                     leader=parties.name(model, d.led_by, t.lang),
                     leaders=separated(mention(p) for p in leaders(model, uow, d)) or t("disagreement.no_leader"),
                     attendees=attendees)
        return t("disagreement.escalated_posted", ref=d.ref, title=d.title, parties=parties_named,
                 forum=level_name(model, d, t), level=d.level + 1, levels=len(d.path), reason=reason(t),
                 sitting=when, deadline=t.when(d.deadline) if d.deadline else t("disagreement.no_deadline"),
                 attendees=attendees)

    return [(person, write) for person in concerned(model, uow, d, attending=attending)]


def exhausted_notice(model: GovernanceModel, d: Disagreement, t: Texts, reason: Writer) -> Message:
    """Past the top rung: informal dispute resolution is exhausted, and either party may invoke the formal one."""
    return t("disagreement.exhausted_posted", ref=d.ref, title=d.title, parties=parties_text(model, d, t),
             forum=level_name(model, d, t), reason=reason(t))


def awaiting(model: GovernanceModel, uow: UnitOfWork, d: Disagreement) -> list[tuple[Person, Writer]]:
    """A question between suppliers whose sitting passed unsettled: it does not climb; the City clarifies it."""
    def write(t: Texts) -> Message:
        return t(ladder.led_text(model, d, "disagreement.awaiting_posted"), ref=d.ref, title=d.title,
                 parties=parties_text(model, d, t),
                 forum=level_name(model, d, t), leader=parties.name(model, d.led_by or "", t.lang))

    return [(person, write) for person in concerned(model, uow, d)]


Written = list[tuple[Person, Message, Lang]]


def _written(uow: UnitOfWork, default: Lang, news: list[tuple[Person, Writer]]) -> Written:
    """Each notice written in its reader's language, while the unit of work that read the disagreement is open."""
    texts = language.texts_for(uow, [p.account for p, _ in news], default)
    return [(person, write(texts[person.account]), texts[person.account].lang) for person, write in news]


def perform(core: Samverkan, duty: Duty, now: datetime, once: OnceChat) -> Outcome:
    result = perform_batch(core, [duty], now, {duty.key: once})[duty.key]
    if isinstance(result, Exception):
        raise result
    return result


def perform_batch(core: Samverkan, duties: Sequence[Duty], now: datetime,
                  onces: Mapping[str, OnceChat]) -> dict[str, Outcome | Exception]:
    """The escalations that fell due, together: their disagreements read and locked in one query, each decided as
    if alone and in order, the moves, history entries and next steps written together in one transaction; then
    what each has to say is put into words (outside the transaction, which holds the disagreements' locks, and on
    SQLite the write lock, only as long as it must) and said through its own OnceChat, so that one failure is
    retried alone and a recovering performer skips what was said."""
    t = core.texts
    model = core.model
    outcomes: dict[str, Outcome | Exception] = {}
    # For each duty with something to say, the disagreement as it now stands and whether it climbed (announce)
    # or waits for the City's clarification (awaiting).
    tell: dict[str, tuple[Disagreement, bool]] = {}
    unsettled = t.text("disagreement.reason_unsettled")
    with core.unit_of_work() as uow:
        found = dict(uow.disagreements.get_many(sorted({int(d.payload["id"]) for d in duties}), lock=True))
        deciding = Remembering(uow)  # nothing here changes the directory or the agreed dates: each is read once
        dates = deciding.forum
        moves: list[tuple[int, Disagreement]] = []
        entries: list[Entry] = []
        plans: list[Duty] = []
        for duty in duties:
            once = onces[duty.key]
            disagreement_id, level = int(duty.payload["id"]), int(duty.payload["level"])
            d = found.get(disagreement_id)
            if d is None:
                outcomes[duty.key] = "dropped"
            elif d.is_open and d.level == level:
                forum = ladder.sitting_forum(model, d.rung, d.catalogue)
                due = ladder.deadline(forum, d.rung, d.level_since, dates.changes(forum.key))
                if due is not None and due > now:
                    # The sitting was moved later since this was planned: it still gets its chance.
                    plans.append(Duty(f"{duty_key(d.id, level)}:{stamp(due)}", ESCALATE, due,
                                      payload=duty.payload))
                    outcomes[duty.key] = "dropped"
                elif d.led_by:
                    # Between suppliers nothing climbs: the City is told that its clarification is awaited.
                    if any(e.ref == duty.key for e in uow.disagreements.history(d.id)):
                        if once.recovering:
                            tell[duty.key] = (d, False)
                        else:
                            outcomes[duty.key] = "dropped"
                        continue
                    uow.disagreements.set_deadline(d.id, None)
                    found[d.id] = replace(d, deadline=None)
                    entries.append(Entry(d.id, now, BOT, "", "awaiting", d.level, d.forum, unsettled, duty.key))
                    tell[duty.key] = (found[d.id], False)
                else:
                    moved, entry = ascent(model, deciding, d, now, BOT, "", unsettled, ref=duty.key)
                    moves.append((d.level, moved))
                    entries.append(entry)
                    if moved.is_open and moved.deadline is not None:
                        plans.append(Duty(duty_key(moved.id, moved.level), ESCALATE, moved.deadline,
                                          payload={"id": moved.id, "level": moved.level}))
                    found[d.id] = moved  # a second duty of this disagreement in the batch finds it moved
                    tell[duty.key] = (moved, True)
            elif once.recovering and any(e.ref == duty.key for e in uow.disagreements.history(d.id)):
                # This duty moved it and its performer died before saying so: say it now; OnceChat skips what was
                # said.
                tell[duty.key] = (d, not d.led_by)
            else:
                outcomes[duty.key] = "dropped"  # settled, or moved on by a person, since it was planned
        # The rows are locked (and on SQLite the database is), so each is still where it was read: all move.
        if moves and uow.disagreements.move_many(moves) != len(moves):
            raise RuntimeError("a disagreement moved under its lock")
        uow.disagreements.append_many(entries)
        uow.duties.plan_many(plans)
        uow.commit()
    if not tell:
        return outcomes
    news: dict[str, Written] = {}
    with core.unit_of_work(read_only=True) as uow:
        # The batch's news read each party's people, each person and each forum's agreed dates once.
        seen = Remembering(uow)
        for key, (d, climbed) in tell.items():
            news[key] = _written(seen, core.lang, announce(model, seen, d, _unsettled) if climbed
                                 else awaiting(model, seen, d))
    _deliver(core, duties, tell, news, onces, outcomes)
    from bot.native import home  # what waits for whom has changed

    home.wanted(core)
    return outcomes


def _unsettled(t: Texts) -> Message:
    return t("disagreement.reason_unsettled")


def _deliver(core: Samverkan, duties: Sequence[Duty], tell: Mapping[str, tuple[Disagreement, bool]],
             news: Mapping[str, Written], onces: Mapping[str, OnceChat],
             outcomes: dict[str, Outcome | Exception]) -> None:
    """Each reader's notice, kept current from now on, all of the batch's together; the notices they supersede,
    and every other of each disagreement's, are drawn anew once all are out (the level changed). A duty one of
    whose notices could not be sent is given back, to say the rest (its chat skips what was said)."""
    notices: list[live.Notice] = []
    of: list[str] = []  # the duty of each notice
    for duty in duties:
        if duty.key not in news:
            continue
        once = onces[duty.key]
        about = live.subject("disagreement", tell[duty.key][0].id)
        outcomes[duty.key] = "done"
        try:
            for person, text, lang in news[duty.key]:
                user = person.account or (once.chat.find_user_by_email(person.email) if person.email else None)
                if user:
                    notices.append(live.Notice(once, about, person.key, user, True, to_json(text), lang, person.key))
                    of.append(duty.key)
        except Exception as exc:
            outcomes[duty.key] = exc
    for n, sent in enumerate(live.deliver_many(core, notices)):
        if isinstance(sent, Exception):
            outcomes[of[n]] = sent
