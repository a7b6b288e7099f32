"""Each person's Home: what waits for them, each with its button.

Their next sittings (forum, when, where, their role there), the reports their party owes and when, the
disagreements waiting for their answer, the open actions they own, and the war rooms they are in or their party is
involved in: only what they may see, in their language. Someone not in the directory is told how to be added.

A Home is drawn when the person opens it and, for everyone who has one, after anything that changes it: a command
that wrote something down, a disagreement moved up by the sweep, a war room assembled, and when time alone changes
one (a sitting begins, a day begins: `next_change`, per forum), not every few minutes. It is published only when it
differs from what was published (a hash per person says so).
"""

from __future__ import annotations

import hashlib
import json
import uuid
from dataclasses import dataclass, field
from datetime import datetime, time, timedelta
from functools import cached_property
from typing import TYPE_CHECKING

from bot import permissions
from bot.clock import STOCKHOLM
from bot.commands import Context
from bot.directory.lookup import recognise
from bot.directory.people import Person, mention
from bot.disagreement import escalation, ladder
from bot.disagreement.records import Disagreement
from bot.domain_events import WorkPlanned
from bot.duties import Duty, OnceChat, Outcome
from bot.forum.calendar import Sitting, next_sitting
from bot.forum.records import Action
from bot.forum.reports import due_at, latest
from bot.forum.seats import representatives
from bot.forum.when import local_date
from bot.i18n import Texts
from bot.incident.people import mention_actor
from bot.incident.records import Incident
from bot.message import Button, ChannelLink, Message, Page, Section, page_json, separated
from bot.model import parties
from bot.model.schema import Forum, Report
from bot.native import language
from bot.native.records import HomeView
from bot.native.views import disagreement_buttons
from bot.ports import UnitOfWork

if TYPE_CHECKING:
    from bot.app import Samverkan

REFRESH = "home.refresh"
OPEN = "home.open"  # someone asked for their Home (`/samverkan home`): drawn and shown right after the command
PLANNED = "home.redrawn"
# When time alone next changes some Home (a sitting starts, so the forum's next one is another; a day begins, so an
# action may be overdue): written by each redraw, computed per forum from what it drew, not per person.
NEXT_CHANGE = "home.next_change"
# How often the planner looks whether that time has come (a look is one read of a mark).
EVERY = timedelta(minutes=5)
# Items shown of each kind; the rest are counted ("and 3 more"): Slack shows at most 100 blocks.
ITEMS = 6


# -- when it is drawn ----------------------------------------------------------------------------------------------
def after(ctx: Context) -> None:
    """A command wrote something down: everyone's Home is drawn anew right after its commit (and published where
    it changed)."""
    if ctx.changed and ctx.uow.homes.exists():
        duty = Duty(f"{REFRESH}:{uuid.uuid4().hex}", REFRESH, ctx.clock.now())
        ctx.uow.duties.plan(duty)
        ctx.emit(WorkPlanned(duty))


def wanted(core: Samverkan) -> None:
    """Something changed outside a command (the sweep moved a disagreement up, a war room was assembled): the
    next sweep draws the Homes anew."""
    with core.unit_of_work() as uow:
        if uow.homes.exists() and not uow.duties.pending_keys(f"{REFRESH}:"):
            uow.duties.plan(Duty(f"{REFRESH}:{uuid.uuid4().hex}", REFRESH, core.clock.now()))
        uow.commit()


def plan(core: Samverkan, now: datetime) -> None:
    """A planner: the Homes are drawn anew when time alone changes one of them (the instant the last redraw found,
    NEXT_CHANGE), not every few minutes: a redraw of thousands of Homes that publishes nothing is not free. What
    changes otherwise (a command, the sweep, a war room) asks for its own redraw (`after`, `wanted`)."""
    with core.unit_of_work(read_only=True) as uow:
        last = uow.forum.mark(PLANNED)
        due = uow.forum.mark(NEXT_CHANGE)
        needed = (last is None or now - last >= EVERY) and (due is None or now >= due) and uow.homes.exists()
    if not needed:
        return
    with core.unit_of_work() as uow:
        uow.forum.set_mark(PLANNED, now)
        uow.forum.set_mark(NEXT_CHANGE, now + EVERY)  # until the redraw says when; a lost one is retried then
        if not uow.duties.pending_keys(f"{REFRESH}:"):
            uow.duties.plan(Duty(f"{REFRESH}:{uuid.uuid4().hex}", REFRESH, now))
        uow.commit()


def perform_refresh(core: Samverkan, duty: Duty, now: datetime, once: OnceChat) -> Outcome:
    with core.unit_of_work() as uow:
        # Redraws asked for before this one began are covered by it: they were committed, and it reads after.
        for key in uow.duties.pending_keys(f"{REFRESH}:"):
            uow.duties.unplan(key)
        uow.commit()
    redraw(core)
    return "done"


def redraw(core: Samverkan) -> int:
    """Draws every Home and publishes those that changed; returns how many were published."""
    with core.unit_of_work(read_only=True) as uow:
        homes = list(uow.homes.every())
        texts = language.texts_for(uow, [h.user_id for h in homes], core.lang)
        seen = Snapshot(core, uow, core.clock.now())
        pages = [(home, compose(seen, _person(uow, home), texts[home.user_id])) for home in homes]
        upcoming = next_change(seen)
    with core.unit_of_work() as uow:
        uow.forum.set_mark(NEXT_CHANGE, upcoming)
        uow.commit()
    published = lost = 0
    for home, page in pages:
        done = publish(core, home, page)
        published += done is True
        lost += done is None
    if lost:
        # Another redraw published meanwhile, from what it read then: one more look settles which is current.
        wanted(core)
    return published


def open_after(ctx: Context) -> None:
    """`/samverkan home`: the person's Home is opened right after the command's commit, as when they open it on
    Slack, and shown whatever was shown before (on Teams the card is posted anew if it is gone)."""
    duty = Duty(f"{OPEN}:{uuid.uuid4().hex}", OPEN, ctx.clock.now(), payload={"user": ctx.command.user_id})
    ctx.uow.duties.plan(duty)
    ctx.emit(WorkPlanned(duty))


def perform_open(core: Samverkan, duty: Duty, now: datetime, once: OnceChat) -> Outcome:
    opened(core, str(duty.payload["user"]), shown=False)
    return "done"


def next_change(seen: Snapshot) -> datetime:
    """When time alone next changes what a Home shows: the first of the next sittings to start (the forum's next
    sitting is then another, and the reports owed for it with it) or the next local midnight (an action falls
    overdue). Per forum, from what the redraw read anyway; nothing else a Home shows depends on the time."""
    midnight = datetime.combine(local_date(seen.now) + timedelta(days=1), time(0), tzinfo=STOCKHOLM)
    return min([midnight, *(sitting.start for _, sitting in seen.sittings if sitting.start > seen.now)])


def _person(uow: UnitOfWork, home: HomeView) -> Person | None:
    return (uow.directory.by_key(home.person) if home.person else None) or uow.directory.by_account(home.user_id)


def opened(core: Samverkan, user_id: str, shown: bool = True) -> bool:
    """The person opened their Home. `shown`: the platform still shows the view last published (Slack sends it
    along); when it does not, it is published whatever the hash says. True when it was published."""
    person = recognise(core.unit_of_work, core.chat, user_id, core.clock)  # may ask the platform: no transaction
    t = Texts(language.of(core, user_id, fresh=True))
    with core.unit_of_work() as uow:
        home = uow.homes.opened(user_id, person.key if person else None, core.clock.now())
        uow.commit()
    with core.unit_of_work(read_only=True) as uow:
        page = compose(Snapshot(core, uow, core.clock.now()), person, t)
    published = publish(core, home, page, force=not shown)
    if published is None:
        wanted(core)
    return bool(published)


def digest(page: Page) -> str:
    return hashlib.sha256(json.dumps(page_json(page), sort_keys=True).encode()).hexdigest()


def publish(core: Samverkan, home: HomeView, page: Page, force: bool = False) -> bool | None:
    """Publishes the page unless it is what was published; of two publishers at once, one does (None for the
    other, whose page may be older or newer than the one shown)."""
    new = digest(page)
    if new == home.hash and not force:
        return False
    with core.unit_of_work() as uow:
        won = uow.homes.swap(home.user_id, home.hash, new, core.clock.now())
        uow.commit()
    if not won:
        return None
    try:
        core.chat.publish_home(home.user_id, page)
    except Exception:
        with core.unit_of_work() as uow:
            uow.homes.forget(home.user_id, new)  # not shown after all: the next look publishes it
            uow.commit()
        raise
    return True


# -- what it shows -------------------------------------------------------------------------------------------------
@dataclass
class Snapshot:
    """What every Home is drawn from, read once for all of them."""

    core: Samverkan
    uow: UnitOfWork
    now: datetime
    _subscribers: dict[str, set[str]] = field(default_factory=dict)
    _delivered: dict[str, set[str]] = field(default_factory=dict)
    _people: dict[str, list[Person]] = field(default_factory=dict)
    _reminded: dict[tuple[str, str], set[str]] = field(default_factory=dict)
    _lines: dict[tuple[object, ...], list[tuple[Disagreement, Message | None]]] = field(default_factory=dict)

    @cached_property
    def sittings(self) -> list[tuple[Forum, Sitting]]:
        found = []
        for forum in self.core.model.calendar:
            if forum.convenes and (s := next_sitting(forum, self.now, self.uow.forum.changes(forum.key))):
                found.append((forum, s))
        return sorted(found, key=lambda fs: fs[1].start)

    @cached_property
    def people_all(self) -> list[Person]:
        return list(self.uow.directory.people())

    @cached_property
    def disagreements(self) -> list[Disagreement]:
        return [d for d in self.uow.disagreements.every() if d.is_open]

    @cached_property
    def actions(self) -> list[Action]:
        return list(self.uow.forum.open_actions())

    @cached_property
    def incidents(self) -> list[tuple[Incident, set[str], set[str]]]:
        """Each war room not yet closed, with the parties it concerns and the people asked into it."""
        found = []
        for incident in self.uow.incidents.open_incidents():
            members = self.uow.incidents.members(incident.id)
            found.append((incident, permissions.incident_parties(self.uow, incident), {m.key for m in members}))
        return found

    def subscribers(self, forum: str) -> set[str]:
        if forum not in self._subscribers:
            self._subscribers[forum] = set(self.uow.forum.subscribers(forum))
        return self._subscribers[forum]

    def people(self, party: str) -> list[Person]:
        if party not in self._people:
            self._people[party] = list(self.uow.directory.people(party))
        return self._people[party]

    def reminded(self, forum: Forum, party: str) -> set[str]:
        """Who of the party is reminded of a report it owes the forum: those the forum asks of it, else its
        representatives (bot.forum.reports)."""
        if (forum.key, party) not in self._reminded:
            model = self.core.model
            representing = model.ladder.representative_roles if model.ladder else []
            self._reminded[(forum.key, party)] = {p.key for p in representatives(
                model, forum, party, self.people(party), representing, always_someone=True)}
        return self._reminded[(forum.key, party)]

    def delivered(self, forum: Forum, sitting: Sitting) -> set[str]:
        if sitting.uid not in self._delivered:
            self._delivered[sitting.uid] = set(latest(self.uow, forum, sitting))
        return self._delivered[sitting.uid]


def compose(seen: Snapshot, person: Person | None, t: Texts) -> Page:
    if person is None:
        return stranger(seen, t)
    model = seen.core.model
    party = model.party(person.party)
    return Page((
        Section(t("native.home.heading", name=person.name, party=party.name(t.lang) if party else person.party),
                empty=t("native.home.intro")),
        _section(t, "sittings", sittings(seen, person, t)),
        _section(t, "reports", reports(seen, person, t)),
        _section(t, "disagreements", disagreements(seen, person, t)),
        _section(t, "actions", actions(seen, person, t)),
        _section(t, "war_rooms", war_rooms(seen, person, t)),
    ))


def _section(t: Texts, kind: str, items: list[Message]) -> Section:
    shown = items[:ITEMS]
    if len(items) > ITEMS:
        shown.append(t("native.home.more", count=len(items) - ITEMS))
    return Section(t(f"native.home.{kind}.heading", count=len(items)), tuple(shown), t(f"native.home.{kind}.none"))


def stranger(seen: Snapshot, t: Texts) -> Page:
    """Someone the directory does not know: who can add them, and what to ask for."""
    model = seen.core.model
    admins = [p for p in seen.people_all if permissions.is_admin(model, p)]
    oversight = next((p for p in model.parties if p.oversight), None)
    return Page((Section(t("native.home.stranger_heading"), empty=t(
        "native.home.stranger", admins=separated(mention(p) for p in admins) or t("native.home.no_admins"),
        party=oversight.name(t.lang) if oversight else "–")),))


def _mine(seen: Snapshot, forum: Forum, person: Person) -> bool:
    """A sitting of the person's: their party attends and asks for a role they hold (or for none), or they
    subscribed to the forum."""
    model = seen.core.model
    if person.key in seen.subscribers(forum.key):
        return True
    if not parties.attends(model, forum, person.party):
        return False
    wanted = parties.required_roles(model, forum, person.party)
    return not wanted or bool(wanted & person.roles)


def seat(seen: Snapshot, forum: Forum, person: Person, t: Texts) -> str:
    model = seen.core.model
    held = sorted(parties.required_roles(model, forum, person.party) & person.roles)
    names = [r.name(t.lang) if (r := model.role(key)) else key for key in held]
    role = ", ".join(names) or t.text("native.home.for_party", party=parties.name(model, person.party, t.lang))
    return t.text("native.home.chairing", role=role) if parties.chairs(model, forum, person.party) else role


def sittings(seen: Snapshot, person: Person, t: Texts) -> list[Message]:
    return [t("native.home.sitting", forum=forum.name(t.lang), when=t.when(sitting.start),
              place=forum.place or t.text("native.home.no_place"), role=seat(seen, forum, person, t))
            .with_buttons(Button(t.text("native.button.add_agenda_item"), "forum.agenda", f"{forum.key} add"))
            for forum, sitting in seen.sittings if _mine(seen, forum, person)]


def reports(seen: Snapshot, person: Person, t: Texts) -> list[Message]:
    """Reports the person's party owes for the next sittings and has not delivered, for the people reminded of
    them (those the forum asks of the party, else its representatives)."""
    model = seen.core.model
    owed: list[tuple[datetime, Message]] = []
    for forum, sitting in seen.sittings:
        for report in forum.reports:
            if not parties.of(model, person.party, report.owner) or report.key in seen.delivered(forum, sitting):
                continue
            if person.key not in seen.reminded(forum, person.party):
                continue
            if report.when_asked and not _called(seen.uow, forum, sitting):
                continue  # the chair has not asked for it (8.9)
            owed.append((due_at(report, sitting), _report(forum, report, sitting, t)))
    return [message for _, message in sorted(owed, key=lambda o: o[0])]


def _called(uow, forum: Forum, sitting: Sitting) -> bool:  # type: ignore[no-untyped-def]
    from bot.forum import calls

    return calls.called(uow, forum, sitting)


def _report(forum: Forum, report: Report, sitting: Sitting, t: Texts) -> Message:
    return t("native.home.report", report=report.name(t.lang), forum=forum.name(t.lang),
             due=t.when(due_at(report, sitting)), when=t.when(sitting.start)).with_buttons(
        Button(t.text("native.button.deliver_report"), "forum.report", f"{forum.key} {report.key}", "primary"))


def disagreements(seen: Snapshot, person: Person, t: Texts) -> list[Message]:
    """Those waiting for the person: a proposal their party has not answered (for whoever may answer it), nothing
    proposed yet (for the parties' people), a question between suppliers waiting for the City's clarification (for
    the City's people who lead it).

    Who may see a disagreement and which buttons they get depend on the person's party, roles and authority only,
    so the lines are drawn once for each such kind of person and language, not once for each person (1,500 Homes
    and 500 disagreements were 750,000 draws); only whether they lead a clarification is looked at per person."""
    model = seen.core.model
    kind = (t.lang, person.party, person.roles, person.authority)
    shared = seen._lines.get(kind)
    if shared is None:
        shared = seen._lines[kind] = _disagreement_lines(seen, person, t)
    found = []
    for d, line in shared:
        if line is not None:
            found.append(line)
        elif person in escalation.leaders(model, seen.uow, d):
            found.append(t("native.home.to_clarify", ref=d.ref, title=d.title,
                           parties=escalation.parties_text(model, d, t)))
    return found


def _disagreement_lines(seen: Snapshot, person: Person, t: Texts) -> list[tuple[Disagreement, Message | None]]:
    """The lines of a kind of person (see `disagreements`): a message, or None where it depends on whether the
    person leads the question."""
    model = seen.core.model
    found: list[tuple[Disagreement, Message | None]] = []
    for d in seen.disagreements:
        if not ladder.may_see(model, person, d):
            continue
        buttons = disagreement_buttons(model, d, person, t)
        if d.proposal is not None and buttons:
            found.append((d, t("native.home.to_answer", ref=d.ref, title=d.title,
                               parties=escalation.parties_text(model, d, t), text=d.proposal.text)
                          .with_buttons(*buttons)))
        elif d.proposal is None and buttons:
            found.append((d, t("native.home.to_propose", ref=d.ref, title=d.title,
                               parties=escalation.parties_text(model, d, t),
                               forum=escalation.level_name(model, d, t)).with_buttons(*buttons)))
        elif d.led_by and d.deadline is None:
            found.append((d, None))
    return found


def actions(seen: Snapshot, person: Person, t: Texts) -> list[Message]:
    model = seen.core.model
    today = local_date(seen.now)
    found = []
    for action in sorted((a for a in seen.actions if a.owner == person.key), key=lambda a: a.due):
        forum = model.sitting_forum(action.forum)
        found.append(t("native.home.action", ref=action.ref, text=action.text,
                       forum=forum.name(t.lang) if forum else action.forum, due=action.due.isoformat(),
                       late=t("forum.agenda.overdue") if action.due < today else "").with_buttons(
            Button(t.text("native.button.done"), "forum.done", action.ref, "primary")))
    return found


def war_rooms(seen: Snapshot, person: Person, t: Texts) -> list[Message]:
    """The war rooms the person was asked into, or their party is involved in (whoever may see them)."""
    found = []
    for incident, involved, members in seen.incidents:
        if person.key not in members and person.party not in involved:
            continue
        line = t("native.home.war_room", ref=incident.ref, title=incident.title, severity=incident.severity,
                 channel=ChannelLink(incident.channel_id) if incident.channel_id else "…",
                 state=t(f"incident.state.{incident.state}"),
                 commander=mention_actor(seen.uow, incident.commander, t.text("incident.nobody")))
        if incident.state == "open":
            line = line.with_buttons(Button(t.text("native.button.update"), "incident.update", incident.ref,
                                            "primary"))
        found.append(line)
    return found
