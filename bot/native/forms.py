"""The forms behind buttons and shortcuts, the words each filled-in form stands for, and the checks that answer a
form with its errors, field by field, before anything is written down.

A form is shown by the sub-command it belongs to (a click on Propose is `/disagreement propose D-7` without the
text, which asks for it), so it is shown only to someone the permission matrix allowed. What it sends back is put
into that sub-command's words and goes through the inbox like a typed command: the matrix and the rules are asked
again. The checks here come first, in the acknowledgement, so they read and never write, and take only what the
database answers at once: a form with a bad field stays open with the error beside that field, and nothing is done.
"""

from __future__ import annotations

import shlex
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from bot import bounds, permissions
from bot.commands import Context, UserError
from bot.directory.people import Person
from bot.disagreement import ladder
from bot.forms import Choice, Form, FormField, Submission
from bot.i18n import Texts
from bot.message import Message
from bot.model.schema import Forum, GovernanceModel
from bot.native import language
from bot.ports import UnitOfWork

if TYPE_CHECKING:
    from bot.app import Samverkan


def _form(t: Texts, action: str, fields: tuple[FormField, ...], channel: str, **context: str) -> Form:
    return Form(action, t.text(f"native.form.{action}.title"), t.text("native.form.submit"),
                t.text("native.form.close"), fields, {"channel": channel, **context})


def _channel(ctx: Context) -> str:
    return ctx.command.channel_id


# -- the forms behind buttons --------------------------------------------------------------------------------------
def proposal(ctx: Context, ref: str, title: str) -> Form:
    return _form(ctx.t, "disagreement.propose", (
        FormField("text", ctx.t.text("native.form.disagreement.propose.label", ref=ref, title=title), "multiline",
                  max_length=bounds.LONG_TEXT),), _channel(ctx), words=ref)


def rejection(ctx: Context, ref: str, proposal_text: str) -> Form:
    return _form(ctx.t, "disagreement.reject", (
        FormField("text", ctx.t.text("native.form.disagreement.reject.label", ref=ref, text=proposal_text[:1500]),
                  "multiline", max_length=bounds.LONG_TEXT),), _channel(ctx), words=ref)


def update(ctx: Context, ref: str, title: str) -> Form:
    return _form(ctx.t, "incident.update", (
        FormField("text", ctx.t.text("native.form.incident.update.label", ref=ref, title=title), "multiline",
                  max_length=bounds.LONG_TEXT),), _channel(ctx), words=ref)


def resolution(ctx: Context, ref: str, title: str) -> Form:
    return _form(ctx.t, "incident.resolve", (
        FormField("text", ctx.t.text("native.form.incident.resolve.label", ref=ref, title=title), "multiline",
                  max_length=bounds.LONG_TEXT),), _channel(ctx), words=ref)


def severity(ctx: Context, ref: str, current: int, severities: Sequence[int]) -> Form:
    return _form(ctx.t, "incident.severity", (
        FormField("severity", ctx.t.text("native.form.incident.severity.label", ref=ref), "select",
                  choices=tuple(Choice(str(n), str(n)) for n in severities), initial=str(current)),),
        _channel(ctx), words=ref)


def role(ctx: Context, ref: str, roles: Sequence[str]) -> Form:
    t = ctx.t
    return _form(t, "incident.role", (
        FormField("role", t.text("native.form.incident.role.label", ref=ref), "select",
                  choices=tuple(Choice(r, t.text(f"incident.role.{r}")) for r in roles)),
        FormField("person", t.text("native.form.incident.role.person"), "person")), _channel(ctx), words=ref)


def agenda_item(t: Texts, channel: str, forum: Forum | None, forums: Sequence[Forum] = (), text: str = "",
                link: str = "") -> Form:
    """With `forum`, an item for that forum (the reminder's button); otherwise the forum is chosen among
    `forums` (the message shortcut, with the message's text to start from)."""
    fields: tuple[FormField, ...] = (
        FormField("text", t.text("native.form.forum.agenda.label"), "multiline", max_length=bounds.TEXT,
                  initial=text[:bounds.TEXT] or None),)
    if forum is None:
        fields = (FormField("forum", t.text("native.form.forum.agenda.forum"), "select",
                            choices=tuple(Choice(f.key, f.name(t.lang)) for f in forums)), *fields)
    context = {"forum": forum.key} if forum is not None else {}
    if link:
        context["link"] = link
    return _form(t, "forum.agenda", fields, channel, **context)


def report(ctx: Context, forum: Forum, report_key: str, report_name: str) -> Form:
    return _form(ctx.t, "forum.report", (
        FormField("text", ctx.t.text("native.form.forum.report.label", report=report_name,
                                     forum=forum.name(ctx.t.lang)), "multiline", max_length=bounds.TEXT),),
        _channel(ctx), words=f"{forum.key} {report_key}")


def timeline_note(t: Texts, channel: str, incidents: Sequence[tuple[str, str]], chosen: str | None, text: str,
                  link: str) -> Form:
    """The message shortcut "Add to the incident timeline": which war room (the one it was marked in, when it
    was), and the text, the message's own to start from."""
    return _form(t, "incident.note", (
        FormField("incident", t.text("native.form.incident.note.incident"), "select",
                  choices=tuple(Choice(ref, f"{ref} {title}"[:75]) for ref, title in incidents), initial=chosen),
        FormField("text", t.text("native.form.incident.note.label"), "multiline", max_length=bounds.LONG_TEXT,
                  initial=text[:bounds.LONG_TEXT] or None)), channel, **({"link": link} if link else {}))


# -- what a filled-in form says, in the words of its command -------------------------------------------------------
def _words(submission: Submission) -> str:
    """What the form was about (D-7, MI-3, a forum and its report): it travels with the form and comes back."""
    try:
        return shlex.join(shlex.split(submission.context.get("words", ""))) or "-"
    except ValueError:
        return "-"


def _quoted(text: str) -> str:
    return shlex.quote(text) if text else "''"


def _with_link(text: str, link: str) -> str:
    return f"{text}\n{link}" if link and text else text


FORMS: dict[str, tuple[str, Callable[[Submission], str]]] = {
    "disagreement.propose": ("disagreement", lambda s: f"propose {_words(s)} {_quoted(s.text('text'))}"),
    "disagreement.reject": ("disagreement", lambda s: f"reject {_words(s)} {_quoted(s.text('text'))}"),
    "incident.update": ("incident", lambda s: f"update {_words(s)} {_quoted(s.text('text'))}"),
    "incident.resolve": ("incident", lambda s: f"resolve {_words(s)} {_quoted(s.text('text'))}"),
    "incident.severity": ("incident", lambda s: f"severity {_words(s)} {_quoted(s.text('severity'))}"),
    "incident.role": ("incident", lambda s: f"role {_words(s)} {_quoted(s.text('role'))} "
                                            f"{_quoted(s.text('person'))}"),
    "incident.note": ("incident", lambda s: f"note {_quoted(s.text('incident'))} "
                                            f"{_quoted(_with_link(s.text('text'), s.context.get('link', '')))}"),
    "forum.agenda": ("forum", lambda s: f"agenda {_quoted(s.text('forum') or s.context.get('forum', ''))} add "
                                        f"{_quoted(_with_link(s.text('text'), s.context.get('link', '')))}"),
    "forum.report": ("forum", lambda s: f"report {_words(s)} {_quoted(s.text('text'))}"),
}


# -- the checks, in the acknowledgement ----------------------------------------------------------------------------
@dataclass(frozen=True)
class Checking:
    model: GovernanceModel
    uow: UnitOfWork  # read-only
    person: Person | None
    t: Texts


Errors = dict[str, Message]
Check = Callable[[Submission, Checking], Errors]


def _text(submission: Submission, name: str, limit: int, c: Checking, errors: Errors, required: bool = True,
          extra: int = 0) -> str:
    value = submission.text(name)
    if required and not value:
        errors[name] = c.t("native.form.error.required")
    elif len(value) + extra > limit:
        errors[name] = c.t("native.form.error.too_long", count=limit, length=len(value) + extra)
    else:
        try:
            bounds.text(value, limit)
        except UserError as bad:
            errors[name] = c.t(bad.key, **bad.values)
    return value


def _link_length(submission: Submission) -> int:
    link = submission.context.get("link", "")
    return len(link) + 1 if link else 0


def _just_text(limit: int) -> Check:
    def check(submission: Submission, c: Checking) -> Errors:
        errors: Errors = {}
        _text(submission, "text", limit, c, errors, extra=_link_length(submission))
        return errors

    return check


def _severity(submission: Submission, c: Checking) -> Errors:
    mi = c.model.major_incidents
    value = submission.text("severity")
    allowed = mi.severities if mi else []
    if bounds.number(value) not in allowed:
        return {"severity": c.t("incident.bad_severity", value=value[:20] or "–",
                                allowed=", ".join(map(str, allowed)))}
    return {}


def _role(submission: Submission, c: Checking) -> Errors:
    from bot.incident.commands import ROLES

    errors: Errors = {}
    if submission.text("role") not in ROLES:
        errors["role"] = c.t("native.form.error.required")
    if not submission.text("person"):
        errors["person"] = c.t("native.form.error.required")
    return errors


def _agenda(submission: Submission, c: Checking) -> Errors:
    errors: Errors = {}
    key = submission.text("forum") or submission.context.get("forum", "")
    if "forum" in submission.values or not key:
        forum = c.model.sitting_forum(key) if key else None
        if forum is None or forum.per_catalogue:
            errors["forum"] = c.t("native.form.error.required") if not key else c.t("forum.unknown_forum", word=key)
    _text(submission, "text", bounds.TEXT, c, errors, extra=_link_length(submission))
    return errors


def _note(submission: Submission, c: Checking) -> Errors:
    errors: Errors = {}
    ref = submission.text("incident")
    number = bounds.reference(ref, "MI") if ref else None
    found = c.uow.incidents.get(number) if number else None
    # A war room this person may not see is, here too, one that does not exist: the same error for both.
    if found is None or found.state != "open" or c.person is None or not permissions.may_see_incident(
            c.model, c.uow, c.person, found):
        errors["incident"] = c.t("native.form.error.no_open_incident") if ref else c.t("native.form.error.required")
    _text(submission, "text", bounds.LONG_TEXT, c, errors, extra=_link_length(submission))
    return errors


def _declaration(submission: Submission, c: Checking) -> Errors:
    errors: Errors = {}
    _text(submission, "title", bounds.TITLE, c, errors)
    _text(submission, "description", bounds.DESCRIPTION, c, errors, required=False)
    errors.update(_severity(submission, c))
    known = {s.key for s in c.model.services}
    unknown = [s for s in submission.choices("services") if s not in known]
    if unknown:
        errors["services"] = c.t("incident.unknown_service", word=unknown[0][:40], known=", ".join(sorted(known)))
    return errors


def _opening(submission: Submission, c: Checking) -> Errors:
    """A disagreement's form: the counterparty another party than one's own, a title, a level the two parties
    meet at, a known service."""
    from bot.directory.lookup import find_party
    from bot.disagreement.commands import DESCRIPTION_MAX, TITLE_MAX, find_level

    errors: Errors = {}
    wanted = submission.text("counterparty")
    other = None
    if not wanted:
        errors["counterparty"] = c.t("native.form.error.required")
    else:
        try:
            other = find_party(c.model, wanted)
        except UserError as bad:
            errors["counterparty"] = c.t(bad.key, **bad.values)
    if other is not None and c.person is not None and other.key == c.person.party:
        errors["counterparty"] = c.t("disagreement.same_party", party=other.name(c.t.lang))
    _text(submission, "title", TITLE_MAX, c, errors)
    _text(submission, "description", DESCRIPTION_MAX, c, errors, required=False, extra=_link_length(submission))
    if (service := submission.text("service")) and c.model.service(service) is None:
        errors["service"] = c.t("disagreement.unknown_service", word=service[:40],
                                known=", ".join(s.key for s in c.model.services))
    level = submission.text("level")
    if level and other is not None and c.person is not None and c.model.ladder is not None and "counterparty" not in (
            errors):
        path, start, _ = ladder.path_for(c.model, (c.person.party, other.key))
        try:
            chosen = find_level(_Levels(c), level)  # type: ignore[arg-type]
        except UserError as bad:
            errors["level"] = c.t(bad.key, **bad.values)
        else:
            if not any(rung.forum == chosen and i >= start for i, rung in enumerate(path)):
                errors["level"] = c.t("disagreement.not_on_ladder", level=chosen,
                                      ladder=" → ".join(rung.forum for rung in path[start:]))
    return errors


@dataclass(frozen=True)
class _Levels:
    """What `find_level` reads of a context: the model."""

    checking: Checking

    @property
    def model(self) -> GovernanceModel:
        return self.checking.model


CHECKS: dict[str, Check] = {
    "incident.declare": _declaration,
    "disagreement.open": _opening,
    "disagreement.propose": _just_text(bounds.LONG_TEXT),
    "disagreement.reject": _just_text(bounds.LONG_TEXT),
    "incident.update": _just_text(bounds.LONG_TEXT),
    "incident.resolve": _just_text(bounds.LONG_TEXT),
    "incident.severity": _severity,
    "incident.role": _role,
    "incident.note": _note,
    "forum.agenda": _agenda,
    "forum.report": _just_text(bounds.TEXT),
}


def check(core: Samverkan, submission: Submission) -> dict[str, str]:
    """The errors of a filled-in form by field, as plain text in the person's language; empty when it may go on.
    Reads only (one read-only transaction, no round trip to the platform): it runs before the acknowledgement."""
    found = CHECKS.get(submission.action)
    if found is None:
        return {}
    with core.unit_of_work(read_only=True) as uow:
        person = uow.directory.by_account(submission.user_id)
        t = Texts(language.remembered(uow, submission.user_id, core.lang))
        errors = found(submission, Checking(core.model, uow, person, t))
    return {name: message.plain(markup=False) for name, message in errors.items()}
