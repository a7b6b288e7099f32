"""`/incident`: declare a major incident, run its war room, resolve and close it with a report."""

from __future__ import annotations

import re
import shlex
import uuid
from collections.abc import Callable
from dataclasses import replace
from datetime import timedelta

from bot import bounds, permissions
from bot.commands import CommandSet, Context, Hidden, Say, UserError
from bot.directory.lookup import find_person, parse_reference
from bot.directory.people import Person
from bot.domain_events import FormWanted, WorkPlanned
from bot.duties import Duty
from bot.forms import Choice, Form, FormField, Submission
from bot.forum.calendar import next_sitting
from bot.incident.assembly import archive_duty, assembly_duty
from bot.incident.people import mention_actor
from bot.incident.records import Incident, Member, TimelineEntry
from bot.incident.reminders import update_reminder
from bot.incident.report import report
from bot.incident.roster import default_commander, service_people, war_room_people
from bot.message import ChannelLink, Inline, Message, join
from bot.model.schema import MajorIncidents, Service
from bot.native import forms as native_forms
from bot.native import live

incident = CommandSet("incident")

# What the records hold (and a channel topic can show).
TITLE_MAX = bounds.TITLE
DESCRIPTION_MAX = bounds.DESCRIPTION
ROLES = {
    "commander": ("commander", "incidentledare", "ic", "ledare"),
    "communications": ("communications", "kommunikation", "kommunikationsansvarig", "comms"),
    "scribe": ("scribe", "sekreterare", "skrivare"),
}


# -- shared ---------------------------------------------------------------------------------------------------------
def settings(ctx: Context) -> MajorIncidents:
    if ctx.model.major_incidents is None:
        raise UserError("incident.not_configured")
    return ctx.model.major_incidents


def find_service(ctx: Context, word: str) -> Service | None:
    wanted = word.lower()
    return next((s for s in ctx.model.services
                 if wanted in (s.key, s.name.sv.lower(), s.name.en.lower())), None)


def declaring(ctx: Context) -> MajorIncidents:
    """What a declaration is about: the major-incident process the model describes."""
    return settings(ctx)


def visible(ctx: Context, found: Incident) -> bool:
    return ctx.person is not None and permissions.may_see_incident(ctx.model, ctx.uow, ctx.person, found)


def incident_in(*states: str) -> Callable[[Context], Incident]:
    """The resolver of a sub-command about a war room: named first (MI-7), or the war room it is typed in, or the
    only one open that this person may see. One they may not see is, to them, one that does not exist."""
    def resolve(ctx: Context) -> Incident:
        settings(ctx)
        found: Incident | None
        if ctx.args and re.fullmatch(r"(?i)mi-?\S*", ctx.args[0]):
            number = bounds.reference(ctx.args[0], "MI")
            found = ctx.uow.incidents.get(number) if number else None
            if found is None:
                raise UserError("incident.unknown", word=ctx.args[0][:40])
            if not visible(ctx, found):
                raise Hidden("incident.unknown", word=ctx.args[0][:40])
            ctx.args = ctx.args[1:]
        else:
            found = ctx.uow.incidents.by_channel(ctx.command.channel_id)
            if found is None or not visible(ctx, found):
                open_now = [i for i in ctx.uow.incidents.open_incidents() if visible(ctx, i)]
                if len(open_now) != 1:
                    raise UserError("incident.which", refs=", ".join(i.ref for i in open_now) or "–")
                found = open_now[0]
        if found.state not in states:
            raise UserError(f"incident.is_{found.state}", ref=found.ref)
        return found

    return resolve


def log(ctx: Context, found: Incident, kind: str, text: str) -> None:
    """Every command goes into the incident's timeline (and the event log)."""
    ctx.uow.incidents.add_to_timeline(f"{kind}:{uuid.uuid4().hex}",
                                      TimelineEntry(found.id, ctx.clock.now(), ctx.actor, kind, text))
    ctx.record(f"incident.{kind}", found.ref, text=text)


def member(found: Incident, person: Person, at) -> Member:  # type: ignore[no-untyped-def]
    return Member(found.id, person.key, person.party, person.name, person.account, person.group,
                  person.email, person.external, asked_at=at)


def say_in_room(ctx: Context, found: Incident, text: Say, announce: bool = False) -> None:
    """In the war room (and the announcement channel), in the channels' language."""
    if found.channel_id:
        ctx.post(found.channel_id, text)
    if announce:
        ctx.post(settings(ctx).announcement_channel, text)


def brief_changed(ctx: Context, found: Incident) -> None:
    """Roles, severity, parties or state changed: the pinned brief is edited in place."""
    live.changed(ctx, live.subject("incident", found.id))


def form_instead(ctx: Context, form: Callable[[], Form]) -> bool:
    """A click on one of the brief's buttons (or the bare words, where the platform has forms): the form asks for
    what the words would have said."""
    if ctx.args or not ctx.command.trigger_id:
        return False
    ctx.emit(FormWanted(form()))
    return True


def start(ctx: Context, duty: Duty) -> None:
    """Work on the chat platform that follows the commit: planned in this transaction, started at once after it."""
    ctx.uow.duties.plan(duty)
    ctx.emit(WorkPlanned(duty))


def declaration_form(ctx: Context, mi: MajorIncidents) -> Form:
    t = ctx.t
    return Form("incident.declare", t.text("incident.form.title"), t.text("incident.form.submit"),
                t.text("incident.form.close"), (
                    FormField("title", t.text("incident.form.title_label"), max_length=TITLE_MAX),
                    FormField("services", t.text("incident.form.services_label"), "multiselect", optional=True,
                              choices=tuple(Choice(s.key, s.name(t.lang)) for s in ctx.model.services)),
                    FormField("severity", t.text("incident.form.severity_label"), "select",
                              choices=tuple(Choice(str(n), str(n)) for n in mi.severities)),
                    FormField("description", t.text("incident.form.description_label"), "multiline",
                              optional=True, max_length=DESCRIPTION_MAX),
                ), {"channel": ctx.command.channel_id})


def declaration_words(submission: Submission) -> str:
    """The declaration form in the words of `/incident declare`, so the form and the command share their rules."""
    words = ["declare", shlex.quote(submission.text("title")), ",".join(submission.choices("services")),
             submission.text("severity")]
    text = " ".join(w for w in words if w and w != "''")
    if description := submission.text("description"):
        text += " -- " + shlex.quote(description)
    return text


# -- declare ------------------------------------------------------------------------------------------------------
def parse_declaration(ctx: Context, args: list[str]) -> tuple[str, list[str], int, str]:
    """<title> [services] [severity] [-- description]. A quoted title is followed only by services."""
    mi = settings(ctx)
    description = ""
    if "--" in args:
        cut = args.index("--")
        args, description = args[:cut], " ".join(args[cut + 1:])
    words = list(args)
    severity = max(mi.severities)
    if words and (typed := bounds.number(words[-1])) is not None:
        severity = typed
        words.pop()
        if severity not in mi.severities:
            raise UserError("incident.bad_severity", value=severity, allowed=", ".join(map(str, mi.severities)))
    services: list[str] = []
    quoted_title = bool(words) and " " in words[0]
    while len(words) > (1 if quoted_title else 0):
        parts = [p for p in words[-1].split(",") if p]
        found = [find_service(ctx, p) for p in parts]
        if parts and all(found):
            services[:0] = [s.key for s in found if s]
            words.pop()
        elif quoted_title or "," in words[-1]:
            unknown = next(p for p, s in zip(parts, found, strict=True) if s is None) if parts else words[-1]
            raise UserError("incident.unknown_service", word=unknown,
                            known=", ".join(s.key for s in ctx.model.services))
        else:
            break
    title = " ".join(words).strip()
    if not title:
        raise UserError("incident.empty_title")
    if len(title) > TITLE_MAX:
        raise UserError("incident.title_too_long", max=TITLE_MAX, length=len(title))
    if len(description) > DESCRIPTION_MAX:
        raise UserError("incident.description_too_long", max=DESCRIPTION_MAX)
    return bounds.text(title, TITLE_MAX), list(dict.fromkeys(services)), severity, bounds.text(description,
                                                                                             DESCRIPTION_MAX)


@incident.add("declare", "deklarera", "ny", subject=declaring)
def declare(ctx: Context, mi: MajorIncidents) -> None:
    person = ctx.require_person()
    if not ctx.args:
        # A platform that can show a form sent a trigger for it; elsewhere the usage explains the words.
        if ctx.command.trigger_id:
            ctx.emit(FormWanted(declaration_form(ctx, mi)))
        else:
            ctx.reply(ctx.t("incident.usage.declare"))
        return
    # legal=nis2,gdpr: classified at declaration (bot/incident/legal.py), aware from now.
    legal = [w for w in ctx.args[:ctx.args.index("--") if "--" in ctx.args else None]
             if w.lower().startswith("legal=")]
    regimes = [r for w in legal for r in w.split("=", 1)[1].lower().split(",") if r]
    for word in regimes:
        if mi.regime(word) is None:
            raise UserError("incident.legal.unknown_regime", word=word[:40],
                            allowed=", ".join(r.key for r in mi.legal) or "–")
    title, services, severity, description = parse_declaration(ctx, [w for w in ctx.args if w not in legal])
    now = ctx.clock.now()
    ctx.uow.incidents.lock_declarations()
    for earlier in ctx.uow.incidents.recent(ctx.actor, title, now - timedelta(minutes=mi.duplicate_minutes)):
        if set(earlier.services) == set(services) and earlier.state == "open":
            # Pressed again after a slow answer: the same incident, not a second war room.
            ctx.reply(ctx.t("incident.already_declared", ref=earlier.ref, title=earlier.title,
                            channel=_channel(earlier)))
            return
    commander = default_commander(ctx.uow, ctx.model)
    found = ctx.uow.incidents.declare(Incident(
        0, title, tuple(services), severity, description, ctx.actor, now, now,
        commander=commander.key if commander else ctx.actor))
    ctx.uow.incidents.add_members([member(found, someone, now)
                                   for someone in [*war_room_people(ctx.uow, ctx.model, services), person]])
    log(ctx, found, "declared", ctx.shared.text("incident.timeline.declared", title=title, severity=severity,
                                                services=", ".join(services) or "–"))
    start(ctx, assembly_duty(found.id, 0, now))
    # The first reminder to post an update, planned with the declaration: nothing else in the calendar changed.
    ctx.uow.duties.plan(update_reminder(mi, found, now))
    answer = ctx.t("incident.declared", ref=found.ref, title=title, severity=severity)
    if regimes:
        from bot.incident.legal import classified_at_declaration

        answer = join([answer, *classified_at_declaration(ctx, mi, found, list(dict.fromkeys(regimes)), now)])
    ctx.reply(answer)


def _channel(found: Incident) -> Inline | str:
    return ChannelLink(found.channel_id) if found.channel_id else "…"


# -- during ------------------------------------------------------------------------------------------------------
@incident.add("update", "uppdatering", "lägesrapport", subject=incident_in("open"))
def update(ctx: Context, found: Incident) -> None:
    if form_instead(ctx, lambda: native_forms.update(ctx, found.ref, found.title)):
        return
    text = bounds.text(" ".join(ctx.args), bounds.LONG_TEXT)
    if not text:
        raise UserError("incident.usage.update")
    now = ctx.clock.now()
    updated = replace(found, last_update_at=now)
    ctx.uow.incidents.save(updated)
    log(ctx, found, "update", text)
    by = mention_actor(ctx.uow, ctx.actor, "–")
    say_in_room(ctx, found, lambda t: t("incident.update_posted", ref=found.ref, title=found.title, text=text,
                                        by=by), announce=True)
    ctx.uow.duties.plan(update_reminder(settings(ctx), updated, now))
    ctx.reply(ctx.t("incident.update_done", ref=found.ref))


@incident.add("note", "tidslinje", "anteckna", "timeline", subject=incident_in("open"))
def note(ctx: Context, found: Incident) -> None:
    """Something said elsewhere (a message marked with the shortcut "Add to the incident timeline") goes into the
    war room's timeline, without being posted: the timeline is the record the report is written from."""
    text = bounds.text(" ".join(ctx.args), bounds.LONG_TEXT)
    if not text:
        raise UserError("incident.usage.note")
    log(ctx, found, "note", text)
    ctx.reply(ctx.t("incident.noted", ref=found.ref))


@incident.add("role", "roll", subject=incident_in("open"))
def role(ctx: Context, found: Incident) -> None:
    if form_instead(ctx, lambda: native_forms.role(ctx, found.ref, tuple(ROLES))):
        return
    if len(ctx.args) != 2:
        raise UserError("incident.usage.role")
    wanted = ctx.args[0].lower()
    which = next((r for r, words in ROLES.items() if wanted in words), None)
    if which is None:
        raise UserError("incident.unknown_role", word=ctx.args[0])
    person = find_person(ctx.uow, ctx.args[1])
    ref = parse_reference(ctx.args[1])
    if person is None and not ref.account:
        raise UserError("directory.unknown_person", word=ctx.args[1])
    holder = person.key if person else f"user:{ref.account}"
    ctx.uow.incidents.save(replace(found, **{which: holder}))
    if person:
        ctx.uow.incidents.add_member(member(found, person, ctx.clock.now()))
    who = mention_actor(ctx.uow, holder, "–")
    label = ctx.t.text(f"incident.role.{which}")
    log(ctx, found, "role", f"{ctx.shared.text(f'incident.role.{which}')}: {person.name if person else holder}")
    say_in_room(ctx, found, lambda t: t("incident.role_set", ref=found.ref, role=t.text(f"incident.role.{which}"),
                                        who=who))
    if person:
        start(ctx, assembly_duty(found.id, len(ctx.uow.incidents.members(found.id)), ctx.clock.now()))
    brief_changed(ctx, found)
    ctx.reply(ctx.t("incident.role_set", ref=found.ref, role=label, who=who))


@incident.add("invite", "bjud", subject=incident_in("open"))
def invite(ctx: Context, found: Incident) -> None:
    if not ctx.args:
        raise UserError("incident.usage.invite")
    word = " ".join(ctx.args)
    people: list[Person]
    if service := find_service(ctx, word):
        people = service_people(ctx.uow, ctx.model, service.key)
    elif party := next((p for p in ctx.model.parties
                        if word.lower() in (p.key, p.name.sv.lower(), p.name.en.lower())), None):
        people = list(ctx.uow.directory.people(party.key))
    elif person := find_person(ctx.uow, ctx.args[0]):
        people = [person]
    elif user := parse_reference(ctx.args[0]).account:
        # Someone on Slack the directory does not know (yet): invited all the same, named by their mention.
        people = [Person(f"user:{user}", user, "-", account=user)]
    else:
        raise UserError("incident.unknown_invitee", word=word)
    now = ctx.clock.now()
    added = [p for p in people if ctx.uow.incidents.add_member(member(found, p, now))]
    if not added:
        ctx.reply(ctx.t("incident.nobody_new", ref=found.ref))
        return
    names = ", ".join(p.name for p in added)
    log(ctx, found, "invite", names)
    start(ctx, assembly_duty(found.id, len(ctx.uow.incidents.members(found.id)), now))
    brief_changed(ctx, found)
    ctx.reply(ctx.t("incident.inviting", ref=found.ref, names=names))


@incident.add("severity", "allvarlighetsgrad", "prio", subject=incident_in("open"))
def severity(ctx: Context, found: Incident) -> None:
    mi = settings(ctx)
    if form_instead(ctx, lambda: native_forms.severity(ctx, found.ref, found.severity, mi.severities)):
        return
    level = bounds.number(ctx.args[0]) if len(ctx.args) == 1 else None
    if level is None or level not in mi.severities:
        raise UserError("incident.bad_severity", value=" ".join(ctx.args)[:20],
                        allowed=", ".join(map(str, mi.severities)))
    changed = replace(found, severity=level)
    ctx.uow.incidents.save(changed)
    log(ctx, found, "severity", str(level))
    say_in_room(ctx, found, lambda t: t("incident.severity_set", ref=found.ref, title=found.title,
                                        old=found.severity, new=level), announce=True)
    brief_changed(ctx, found)
    ctx.uow.duties.plan(update_reminder(mi, changed, ctx.clock.now()))
    ctx.reply(ctx.t("incident.severity_set", ref=found.ref, title=found.title, old=found.severity, new=level))


# -- close ----------------------------------------------------------------------------------------------------------
@incident.add("resolve", "löst", "lost", subject=incident_in("open"))
def resolve(ctx: Context, found: Incident) -> None:
    if form_instead(ctx, lambda: native_forms.resolution(ctx, found.ref, found.title)):
        return
    summary = bounds.text(" ".join(ctx.args), bounds.LONG_TEXT)
    if not summary:
        raise UserError("incident.usage.resolve")
    now = ctx.clock.now()
    ctx.uow.incidents.save(replace(found, resolved_at=now, summary=summary))
    log(ctx, found, "resolved", summary)
    say_in_room(ctx, found, lambda t: t("incident.resolved", ref=found.ref, title=found.title, summary=summary),
                announce=True)
    brief_changed(ctx, found)
    ctx.reply(ctx.t("incident.resolved_reply", ref=found.ref))


@incident.add("close", "stäng", "stang", subject=incident_in("resolved"))
def close(ctx: Context, found: Incident) -> None:
    mi = settings(ctx)
    archive = mi.archive_on_close or any(a.lower() in ("archive", "arkivera") for a in ctx.args)
    now = ctx.clock.now()
    log(ctx, found, "closed", "")
    closed = replace(found, closed_at=now)
    ctx.uow.incidents.save(closed)
    say_in_room(ctx, found, lambda t: report(ctx.uow, ctx.model, closed, t))
    brief_changed(ctx, found)
    agenda = _problem_item(ctx, closed)
    if archive and found.channel_id:
        start(ctx, archive_duty(found.id, found.channel_id, now))
    ctx.reply(ctx.t("incident.closed", ref=found.ref, agenda=agenda))


def _problem_item(ctx: Context, found: Incident) -> Message:
    """Problems found go to the problem meeting: an item on its next sitting's agenda."""
    forum = ctx.model.sitting_forum(ctx.model.problem_forum or "")
    if forum is None or not forum.sits:
        return ctx.t("incident.no_problem_forum")
    sitting = next_sitting(forum, ctx.clock.now(), ctx.uow.forum.changes(forum.key))
    if sitting is None:
        return ctx.t("incident.no_problem_forum")
    text = ctx.shared.text("incident.problem_item", ref=found.ref, title=found.title, summary=found.summary)
    ctx.uow.forum.add_agenda_item(forum.key, sitting.original, text, ctx.actor, ctx.clock.now())
    return ctx.t("incident.problem_added", forum=forum.name(ctx.t.lang), when=ctx.t.when(sitting.start))


@incident.add("list", "lista")
def list_incidents(ctx: Context) -> None:
    # Each party sees the war rooms it is in; the City sees them all.
    open_now = [found for found in ctx.uow.incidents.open_incidents() if visible(ctx, found)]
    if not open_now:
        ctx.reply(ctx.t("incident.none_open"))
        return
    lines = [ctx.t("incident.list_heading")]
    for found in open_now:
        lines.append(ctx.t("incident.list_line", ref=found.ref, title=found.title, severity=found.severity,
                           state=ctx.t(f"incident.state.{found.state}"), channel=_channel(found),
                           commander=mention_actor(ctx.uow, found.commander, "–"), since=ctx.t.when(found.declared_at)))
    ctx.reply(join(lines))

