"""`/disagreement`: open, follow, move up and settle disagreements between the parties."""

from __future__ import annotations

import re
import shlex
from collections.abc import Callable

from bot import bounds
from bot.commands import CommandSet, Context, Hidden, Say, UserError
from bot.directory.lookup import find_party
from bot.directory.people import Person
from bot.disagreement import escalation, ladder
from bot.disagreement.records import Disagreement, Entry, NewDisagreement, Proposal
from bot.disagreement.stats import figures
from bot.domain_events import FormWanted
from bot.forms import Choice, Form, FormField, Submission
from bot.i18n import Texts
from bot.message import Strong, Text, join, separated
from bot.model import parties
from bot.model.schema import GovernanceModel
from bot.native import forms as native_forms
from bot.native import live

disagreement = CommandSet("disagreement")

PAGE = 20
TITLE_MAX = bounds.DISAGREEMENT_TITLE
DESCRIPTION_MAX = bounds.LONG_TEXT
# Options people may write among the words of `open`: nivå=kontraktsforum tjänst=wlan "beskrivning=..."
_OPTION = re.compile(r"^(level|nivå|niva|service|tjänst|tjanst|description|beskrivning)=(.+)$",
                     re.IGNORECASE | re.DOTALL)
_OPTION_NAMES = {"nivå": "level", "niva": "level", "tjänst": "service", "tjanst": "service",
                 "beskrivning": "description"}


# -- finding things ---------------------------------------------------------------------------------------------
def find(ctx: Context, word: str, lock: bool = False) -> Disagreement:
    """The disagreement, if this person may see it. One that exists but is not theirs is "not found", in the very
    same words as one that does not exist: its existence is commercially sensitive too."""
    number = bounds.reference(word, "D")
    found = ctx.uow.disagreements.get(number, lock=lock) if number else None
    if found is None:
        raise UserError("disagreement.not_found", word=word[:40])
    if not ladder.may_see(ctx.model, ctx.person, found):
        raise Hidden("disagreement.not_found", word=word[:40])
    return found


def named(usage: str, still_open: bool = True) -> Callable[[Context], Disagreement]:
    """The resolver of a sub-command about one disagreement: its first word names it. One that is to be changed
    is locked until the commit, so two people answering at once do not overwrite each other."""
    def resolve(ctx: Context) -> Disagreement:
        if not ctx.args:
            raise UserError(usage)
        found = find(ctx, ctx.args[0], lock=still_open)
        if still_open and not found.is_open:
            raise UserError(f"disagreement.not_open.{found.state}", ref=found.ref)
        ctx.args = ctx.args[1:]
        return found

    return resolve


def _entry(ctx: Context, d: Disagreement, kind: str, text: str = "") -> None:
    person = ctx.require_person()
    ctx.uow.disagreements.append(Entry(d.id, ctx.clock.now(), person.key, person.party, kind,  # type: ignore[arg-type]
                                       d.level, d.forum, text))
    ctx.record(f"disagreement.{kind}", d.ref, text=text[:300])


def _tell(ctx: Context, news: list[tuple[Person, Say]], besides: Person) -> None:
    """Direct messages only: nothing about a disagreement is posted where people who may not see it read."""
    for someone, text in news:
        if someone.key != besides.key:
            ctx.direct(someone, text)


def _notices(ctx: Context, d: Disagreement, news: list[tuple[Person, Say]], besides: Person) -> None:
    """The notices of a disagreement arriving at a level: directly to each reader, kept current in place (its
    level, the proposal, whom it waits for, and the reader's buttons), superseding the reader's earlier one."""
    about = live.subject("disagreement", d.id)
    for someone, text in news:
        if someone.key != besides.key:
            live.notify(ctx, about, text, person=someone)
    live.changed(ctx, about)


def _tell_concerned(ctx: Context, d: Disagreement, text: Say) -> None:
    person = ctx.require_person()
    proposer = ctx.uow.directory.by_key(d.proposal.by) if d.proposal else None
    _tell(ctx, [(p, text) for p in escalation.concerned(ctx.model, ctx.uow, d, [proposer] if proposer else [])],
          besides=person)
    live.changed(ctx, live.subject("disagreement", d.id))


def _text(ctx: Context, usage: str) -> str:
    text = bounds.text(" ".join(ctx.args), bounds.LONG_TEXT)
    if not text:
        raise UserError(usage)
    return text


def find_level(ctx: Context, word: str) -> str:
    """A rung by its number on the ladder, its forum key or name."""
    if ctx.model.ladder is None:
        raise UserError("disagreement.no_ladder")
    keys = [r.forum for r in ctx.model.ladder.rungs]
    specials = [k for k in (ctx.model.ladder.supplier_to_supplier, ctx.model.ladder.product_supplier_forum) if k]
    if (number := bounds.number(word)) is not None and 1 <= number <= len(keys):
        return keys[number - 1]
    for key in keys + specials:
        forum = ctx.model.forum(key)
        if forum and word.lower() in (key, forum.name.sv.lower(), forum.name.en.lower()):
            return key
    raise UserError("disagreement.unknown_level", word=word, known=", ".join(keys + specials))


# -- recording ---------------------------------------------------------------------------------------------------
@disagreement.add("open", "öppna", "oppna", "ny")
def open_command(ctx: Context) -> None:
    if not ctx.args:
        # A platform that can show a form sent a trigger for it; elsewhere the usage explains the words.
        if ctx.command.trigger_id and ctx.model.ladder is not None:
            ctx.emit(FormWanted(opening_form(ctx)))
        else:
            ctx.reply(ctx.t("disagreement.usage.open"))
        return
    options: dict[str, str] = {}
    words = []
    for word in ctx.args:
        if match := _OPTION.match(word):
            name = match.group(1).lower()
            options[_OPTION_NAMES.get(name, name)] = match.group(2)
        else:
            words.append(word)
    if len(words) < 2:
        raise UserError("disagreement.usage.open")
    open_disagreement(ctx, words[0], " ".join(words[1:]), options.get("description", ""), options.get("service"),
                      options.get("level"))


def opening_form(ctx: Context) -> Form:
    return opening_form_for(ctx.model, ctx.t, ctx.command.channel_id)


def opening_form_for(model: GovernanceModel, t: Texts, channel: str, title: str = "", description: str = "",
                     link: str = "") -> Form:
    """The form, empty, or (the message shortcut "Raise as disagreement") filled in from a message, whose link
    goes into the description when the form is sent."""
    levels = [r.forum for r in model.ladder.rungs] if model.ladder else []
    context = {"channel": channel, **({"link": link} if link else {})}
    return Form("disagreement.open", t.text("disagreement.form.heading"), t.text("disagreement.form.submit"),
                t.text("disagreement.form.close"), (
                    FormField("counterparty", t.text("disagreement.form.counterparty"), "select",
                              choices=tuple(Choice(p.key, p.name(t.lang)) for p in model.parties)),
                    FormField("title", t.text("disagreement.form.title"), max_length=TITLE_MAX,
                              initial=title[:TITLE_MAX] or None),
                    FormField("description", t.text("disagreement.form.description"), "multiline", optional=True,
                              max_length=DESCRIPTION_MAX, initial=description[:DESCRIPTION_MAX] or None),
                    FormField("service", t.text("disagreement.form.service"), "select", optional=True,
                              choices=tuple(Choice(s.key, s.name(t.lang)) for s in model.services)),
                    FormField("level", t.text("disagreement.form.level"), "select", optional=True,
                              choices=tuple(Choice(key, f.name(t.lang)) for key in levels if (f := model.forum(key)))),
                ), context)


def opening_words(submission: Submission) -> str:
    """The form in the words of `/disagreement open`, so the form and the command share their rules."""
    words = ["open", submission.text("counterparty") or "-"]
    if level := submission.text("level"):
        words.append(f"nivå={level}")
    if service := submission.text("service"):
        words.append(f"tjänst={service}")
    description = submission.text("description")
    if link := submission.context.get("link", ""):
        description = f"{description}\n{link}" if description else link  # the message it was raised from
    if description:
        words.append(f"beskrivning={description}")
    words.append(submission.text("title") or "-")
    return shlex.join(words)


def open_disagreement(ctx: Context, counterparty: str, title: str, description: str, service: str | None,
                      level: str | None) -> Disagreement:
    """The use case behind both `/disagreement open` and the modal."""
    person = ctx.require_person()
    if ctx.model.ladder is None:
        raise UserError("disagreement.no_ladder")
    other = find_party(ctx.model, counterparty)
    if other.key == person.party:
        raise UserError("disagreement.same_party", party=other.name(ctx.t.lang))
    if service and ctx.model.service(service) is None:
        raise UserError("disagreement.unknown_service", word=service,
                        known=", ".join(s.key for s in ctx.model.services))
    if len(title) > TITLE_MAX or len(description) > DESCRIPTION_MAX:
        raise UserError("disagreement.too_long")
    title, description = bounds.text(title, TITLE_MAX), bounds.text(description, DESCRIPTION_MAX)
    pair = (person.party, other.key)
    path, start, led_by = ladder.path_for(ctx.model, pair)
    if level:
        wanted = find_level(ctx, level)
        # Below the lowest rung both parties attend they do not meet; from there up any level may be chosen.
        chosen = next((i for i, rung in enumerate(path) if rung.forum == wanted and i >= start), -1)
        if chosen < 0:
            raise UserError("disagreement.not_on_ladder", level=wanted,
                            ladder=" → ".join(rung.forum for rung in path[start:]))
        start = chosen
    catalogue = ladder.catalogue_for(ctx.model, service)
    forum = ladder.sitting_forum(ctx.model, path[start], catalogue)
    now = ctx.clock.now()
    deadline = ladder.deadline(forum, path[start], now, ctx.uow.forum.changes(forum.key))
    d = ctx.uow.disagreements.add(NewDisagreement(title, description, person.key, pair, path, start, forum.key,
                                                  catalogue, service, now, deadline, led_by))
    _entry(ctx, d, "opened", title)
    escalation.plan(ctx.uow, d)
    news = escalation.announce(ctx.model, ctx.uow, d, lambda t: t("disagreement.reason_opened", by=person.name))
    _notices(ctx, d, list(news), besides=person)
    if led_by:
        ctx.reply(ctx.t(ladder.led_text(ctx.model, d, "disagreement.opened_led"), ref=d.ref, title=title,
                        forum=escalation.level_name(ctx.model, d, ctx.t), leader=_party_name(ctx, led_by)))
    else:
        ctx.reply(ctx.t("disagreement.opened", ref=d.ref, title=title,
                        forum=escalation.level_name(ctx.model, d, ctx.t),
                        deadline=ctx.t.when(deadline) if deadline else ctx.t("disagreement.no_deadline")))
    return d


@disagreement.add("comment", "kommentera", "kommentar", subject=named("disagreement.usage.comment"))
def comment(ctx: Context, d: Disagreement) -> None:
    text = _text(ctx, "disagreement.usage.comment")
    _entry(ctx, d, "commented", text)
    ctx.reply(ctx.t("disagreement.commented", ref=d.ref))


@disagreement.add("show", "visa", subject=named("disagreement.usage.show", still_open=False))
def show(ctx: Context, d: Disagreement) -> None:
    if ctx.args:
        raise UserError("disagreement.usage.show")
    t = ctx.t
    state = ladder.led_text(ctx.model, d, "led") if d.led_by and d.is_open else d.state
    lines = [t("disagreement.show.heading", ref=d.ref, title=d.title),
             t("disagreement.show.parties", parties=escalation.parties_text(ctx.model, d, t)),
             t(f"disagreement.state.{state}", forum=escalation.level_name(ctx.model, d, t), level=d.level + 1,
               levels=len(d.path), deadline=t.when(d.deadline) if d.deadline else t("disagreement.no_deadline"),
               leader=_party_name(ctx, d.led_by or ""))]
    if d.description:
        lines.append(t("disagreement.show.description", description=d.description))
    if d.service:
        service = ctx.model.service(d.service)
        lines.append(t("disagreement.show.service", service=service.name(t.lang) if service else d.service))
    rungs = [escalation.level_name(ctx.model, d, t, rung.forum) for rung in d.path]
    lines.append(t("disagreement.show.ladder", ladder=separated(
        (Strong((Text(name),)) if i == d.level else name for i, name in enumerate(rungs)), " → ")))
    if d.proposal:
        accepted = ", ".join(_party_name(ctx, p) for p in d.proposal.accepted) or "–"
        lines.append(t("disagreement.show.proposal", text=d.proposal.text, by=d.proposal.by, accepted=accepted))
    lines.append(t("disagreement.show.history"))
    for entry in ctx.uow.disagreements.history(d.id):
        lines.append(t(f"disagreement.history.{entry.kind}", when=t.when(entry.at), actor=entry.actor,
                       forum=escalation.level_name(ctx.model, d, t, entry.forum), text=entry.text))
    ctx.reply(join(lines))


def _party_name(ctx: Context, key: str) -> str:
    return parties.name(ctx.model, key, ctx.t.lang)


@disagreement.add("list", "lista")
def list_command(ctx: Context) -> None:
    person = ctx.require_person()
    open_only, level, page = True, None, 1
    for word in ctx.args:
        if word.lower() in ("open", "öppna", "oppna"):
            open_only = True
        elif word.lower() in ("all", "alla"):
            open_only = False
        elif word.lower().startswith(("page=", "sida=")) and (number := bounds.number(word.split("=", 1)[1])):
            page = max(number, 1)
        else:
            level = find_level(ctx, word)
    found = ctx.uow.disagreements.page(ladder.scope(ctx.model, person), open_only, level, (page - 1) * PAGE, PAGE)
    t = ctx.t
    if not found.total:
        ctx.reply(t("disagreement.list.empty"))
        return
    pages = (found.total + PAGE - 1) // PAGE
    lines = [t("disagreement.list.heading", count=found.total, page=page, pages=pages)]
    for d in found.items:
        lines.append(t("disagreement.list.line", ref=d.ref, title=d.title,
                       parties=escalation.parties_text(ctx.model, d, t),
                       status=t(f"disagreement.list.{d.state}", forum=escalation.level_name(ctx.model, d, t))))
    if page < pages:
        lines.append(t("disagreement.list.more", next=page + 1))
    ctx.reply(join(lines))


# -- moving up ---------------------------------------------------------------------------------------------------
@disagreement.add("escalate", "eskalera", subject=named("disagreement.usage.escalate"))
def escalate(ctx: Context, d: Disagreement) -> None:
    reason = _text(ctx, "disagreement.usage.escalate")
    person = ctx.require_person()
    if d.led_by:
        raise UserError(ladder.led_text(ctx.model, d, "disagreement.led_does_not_climb"), ref=d.ref,
                        leader=_party_name(ctx, d.led_by))
    escalation.withdraw(ctx.uow, d)
    moved = escalation.climb(ctx.model, ctx.uow, d, ctx.clock.now(), person.key, person.party, reason)
    if moved is None:  # the sweep moved it a moment ago
        raise UserError("disagreement.moved_meanwhile", ref=d.ref)
    ctx.record("disagreement.escalated", d.ref, reason=reason[:300], to=moved.forum)
    news = escalation.announce(ctx.model, ctx.uow, moved, lambda t: t("disagreement.reason_manual",
                                                                       by=person.name, reason=reason))
    _notices(ctx, moved, list(news), besides=person)
    key = "disagreement.exhausted" if moved.state == "exhausted" else "disagreement.escalated"
    ctx.reply(ctx.t(key, ref=d.ref, forum=escalation.level_name(ctx.model, moved, ctx.t)))


def _exhausted(ctx: Context) -> Disagreement:
    """The subject of `formal`: seen as `show` sees it (one the person may not see is "not found"), locked."""
    if not ctx.args:
        raise UserError("disagreement.usage.formal")
    found = find(ctx, ctx.args[0], lock=True)
    ctx.args = ctx.args[1:]
    return found


@disagreement.add("formal", "formell", "påkalla", "pakalla", subject=_exhausted)
def formal(ctx: Context, d: Disagreement) -> None:
    """A party invokes formal dispute resolution ("innan formell tvistelösning påkallas", 5.4): only past the top
    rung, once informal dispute resolution is exhausted, and by someone who may answer for a party at the top
    level (the matrix lets only them through). Nothing turns formal by itself."""
    reason = _text(ctx, "disagreement.usage.formal")
    person = ctx.require_person()
    forum = escalation.level_name(ctx.model, d, ctx.t)
    if d.led_by:
        raise UserError("disagreement.not_a_ladder_question", ref=d.ref)
    if d.state == "open":
        raise UserError("disagreement.not_exhausted", ref=d.ref, forum=forum)
    if d.state != "exhausted":
        raise UserError(f"disagreement.not_open.{d.state}", ref=d.ref)
    party = ladder.answers_for(ctx.model, person, d)
    assert party is not None  # the permission matrix admits only those who answer for a party here
    if not ctx.uow.disagreements.invoke_formal(d.id, ctx.clock.now()):
        raise UserError("disagreement.moved_meanwhile", ref=d.ref)
    _entry(ctx, d, "formal", reason)
    invoked = ctx.uow.disagreements.get(d.id)
    assert invoked is not None
    _notices(ctx, invoked, [(p, _invoked_notice(ctx, invoked, party, person, reason))
                            for p in escalation.concerned(ctx.model, ctx.uow, invoked)], besides=person)
    ctx.reply(ctx.t("disagreement.formal_invoked", ref=d.ref, party=_party_name(ctx, party)))


def _invoked_notice(ctx: Context, d: Disagreement, party: str, by: Person, reason: str) -> Say:
    model = ctx.model
    return lambda t: t("disagreement.formal_invoked_posted", ref=d.ref, title=d.title,
                       parties=escalation.parties_text(model, d, t), party=parties.name(model, party, t.lang),
                       by=by.name, reason=reason)


# -- settling ----------------------------------------------------------------------------------------------------
@disagreement.add("propose", "föreslå", "foresla", "förslag", subject=named("disagreement.usage.propose"))
def propose(ctx: Context, d: Disagreement) -> None:
    if not ctx.args and ctx.command.trigger_id:
        # A click on Propose (or the bare words, where the platform has forms): the form asks for the text.
        if d.proposal is not None:
            raise UserError("disagreement.already_proposed", ref=d.ref, text=d.proposal.text)
        ctx.emit(FormWanted(native_forms.proposal(ctx, d.ref, d.title)))
        return
    text = _text(ctx, "disagreement.usage.propose")
    person = ctx.require_person()
    if d.proposal is not None:
        raise UserError("disagreement.already_proposed", ref=d.ref, text=d.proposal.text)
    ctx.uow.disagreements.save_proposal(d.id, Proposal(text, person.key, person.party, ctx.clock.now()))
    _entry(ctx, d, "proposed", text)
    _tell_concerned(ctx, d, lambda t: t("disagreement.proposed_posted", ref=d.ref, title=d.title, text=text,
                                        by=person.name))
    ctx.reply(ctx.t("disagreement.proposed", ref=d.ref))


@disagreement.add("accept", "godta", "acceptera", subject=named("disagreement.usage.accept"))
def accept(ctx: Context, d: Disagreement) -> None:
    if ctx.args:
        raise UserError("disagreement.usage.accept")
    person = ctx.require_person()
    if d.proposal is None:
        raise UserError("disagreement.no_proposal", ref=d.ref)
    # The party answered for: the person's own, or the one they speak for at this level (the City's central
    # ordering organisation for its local IT support at the central forums).
    party = ladder.answers_for(ctx.model, person, d) or person.party
    if party in d.proposal.accepted:
        raise UserError("disagreement.already_accepted", ref=d.ref, party=_party_name(ctx, party))
    proposal = Proposal(d.proposal.text, d.proposal.by, d.proposal.party, d.proposal.at,
                        (*d.proposal.accepted, party))
    ctx.uow.disagreements.save_proposal(d.id, proposal)
    _entry(ctx, d, "accepted", proposal.text)
    waiting = [p for p in d.parties if p not in proposal.accepted]
    if waiting:
        live.changed(ctx, live.subject("disagreement", d.id))
        ctx.reply(ctx.t("disagreement.accepted_waiting", ref=d.ref,
                        waiting=", ".join(_party_name(ctx, p) for p in waiting)))
        return
    now = ctx.clock.now()
    ctx.uow.disagreements.settle(d.id, now)
    _entry(ctx, d, "settled", proposal.text)
    escalation.withdraw(ctx.uow, d)
    _tell_concerned(ctx, d, lambda t: t("disagreement.settled_posted", ref=d.ref, title=d.title,
                                        text=proposal.text, parties=escalation.parties_text(ctx.model, d, t)))
    ctx.reply(ctx.t("disagreement.settled", ref=d.ref, text=proposal.text))


@disagreement.add("reject", "avvisa", "avslå", subject=named("disagreement.usage.reject"))
def reject(ctx: Context, d: Disagreement) -> None:
    if not ctx.args and ctx.command.trigger_id:
        # A click on Reject: the form asks for the reason.
        if d.proposal is None:
            raise UserError("disagreement.no_proposal", ref=d.ref)
        ctx.emit(FormWanted(native_forms.rejection(ctx, d.ref, d.proposal.text)))
        return
    reason = _text(ctx, "disagreement.usage.reject")
    person = ctx.require_person()
    if d.proposal is None:
        raise UserError("disagreement.no_proposal", ref=d.ref)
    ctx.uow.disagreements.save_proposal(d.id, None)
    _entry(ctx, d, "rejected", reason)
    _tell_concerned(ctx, d, lambda t: t("disagreement.rejected_posted", ref=d.ref, title=d.title, reason=reason,
                                        by=person.name))
    ctx.reply(ctx.t("disagreement.rejected", ref=d.ref))


# -- figures -----------------------------------------------------------------------------------------------------
@disagreement.add("stats", "statistik")
def stats(ctx: Context) -> None:
    person = ctx.require_person()
    ctx.reply(figures(ctx, ladder.scope(ctx.model, person)))
