"""How each subject kept current in place looks now: a disagreement's notice, a war room's brief, an action."""

from __future__ import annotations

from typing import TYPE_CHECKING

from bot.directory.people import Person
from bot.disagreement import escalation, ladder
from bot.disagreement.records import Disagreement
from bot.i18n import Texts
from bot.incident.assembly import brief
from bot.message import Button, Message, join
from bot.model import parties
from bot.model.schema import GovernanceModel
from bot.native import live
from bot.ports import UnitOfWork

if TYPE_CHECKING:
    from bot.app import Samverkan


# -- a disagreement's notice ---------------------------------------------------------------------------------------
@live.view("disagreement")
def disagreement_notice(core: Samverkan, uow: UnitOfWork, ident: str, viewer: Person | None,
                        t: Texts) -> Message | None:
    """Its level, the proposal on the table and whom it is waiting for (party and role), with what the reader may
    do about it: Propose when nothing is proposed, Accept and Reject when a proposal waits for their answer."""
    d = uow.disagreements.get(int(ident)) if ident.isdigit() else None
    if d is None or (viewer is not None and not ladder.may_see(core.model, viewer, d)):
        return None
    return join([status(core.model, d, t), *_proposal(core.model, uow, d, t)]).with_buttons(
        *disagreement_buttons(core.model, d, viewer, t))


@live.stamp("disagreement")
def disagreement_stamp(uow: UnitOfWork, ident: str) -> object:
    """A notice is drawn from the disagreement's row (the model and the directory change apart from it)."""
    return uow.disagreements.get(int(ident)) if ident.isdigit() else None


def status(model: GovernanceModel, d: Disagreement, t: Texts) -> Message:
    forum = escalation.level_name(model, d, t)
    leader = parties.name(model, d.led_by or "", t.lang)
    match d.state:
        case "settled":
            return t("native.disagreement.settled", when=t.when(d.settled_at or d.level_since))
        case "formal":
            return t("native.disagreement.formal", when=t.when(d.level_since))
        case "exhausted":
            return t("native.disagreement.exhausted", forum=forum, when=t.when(d.level_since))
        case "clarified":
            return t("native.disagreement.clarified", leader=leader, when=t.when(d.settled_at or d.level_since))
    if d.led_by and d.deadline is None:
        return t("native.disagreement.awaiting", leader=leader, forum=forum)
    if d.led_by:
        return t("native.disagreement.led", leader=leader, forum=forum)
    return t("native.disagreement.level", level=d.level + 1, levels=len(d.path), forum=forum,
             deadline=t.when(d.deadline) if d.deadline else t("disagreement.no_deadline"))


def _proposal(model: GovernanceModel, uow: UnitOfWork, d: Disagreement, t: Texts) -> list[Message]:
    if not d.is_open and d.state != "settled":
        return []
    if d.proposal is None:
        return [t("native.disagreement.no_proposal"),
                t("native.disagreement.waiting_proposal", parties=escalation.parties_text(model, d, t))]
    by = uow.directory.by_key(d.proposal.by)
    lines = [t("native.disagreement.proposal", text=d.proposal.text, by=by.name if by else d.proposal.by,
               party=parties.name(model, d.proposal.party, t.lang))]
    if d.proposal.accepted:
        lines.append(t("native.disagreement.accepted_by", count=len(d.proposal.accepted),
                       parties=", ".join(parties.name(model, p, t.lang) for p in d.proposal.accepted)))
    waiting = [p for p in d.parties if p not in d.proposal.accepted]
    if d.is_open and waiting:
        lines.append(t("native.disagreement.waiting", waiting="; ".join(
            who_answers(model, d, p, t) for p in waiting)))
    return lines


def who_answers(model: GovernanceModel, d: Disagreement, party: str, t: Texts) -> str:
    """"Leverantören: Kundansvarig", "Stadens Lokala It-stöd, genom Staden: Avtalsansvarig eller Behörig
    Godkännare"."""
    speaker, roles, approvers = ladder.answering(model, d, party)
    names = [r.name(t.lang) if (r := model.role(key)) else key for key in roles]
    if approvers and parties.is_city(model, speaker):
        names.append(t.text("native.disagreement.approvers"))
    who = t.text("native.disagreement.or", first=", ".join(names[:-1]), last=names[-1]) if len(names) > 1 else (
        names[0] if names else "")
    name = parties.name(model, party, t.lang)
    if speaker != party:
        name = t.text("native.disagreement.through", party=name, speaker=parties.name(model, speaker, t.lang))
    return t.text("native.disagreement.answered_by", party=name, roles=who) if who else name


def disagreement_buttons(model: GovernanceModel, d: Disagreement, viewer: Person | None, t: Texts) -> list[Button]:
    if viewer is None or not d.is_open or d.led_by and viewer.party not in d.parties:
        return []
    answering = ladder.answers_for(model, viewer, d)
    if d.proposal is None:
        return [Button(t.text("native.button.propose"), "disagreement.propose", d.ref, "primary")] if (
            viewer.party in d.parties or answering) else []
    if answering is not None and answering not in d.proposal.accepted:
        return [Button(t.text("native.button.accept"), "disagreement.accept", d.ref, "primary"),
                Button(t.text("native.button.reject"), "disagreement.reject", d.ref, "danger")]
    return []


# -- a war room's brief --------------------------------------------------------------------------------------------
@live.view("incident")
def war_room_brief(core: Samverkan, uow: UnitOfWork, ident: str, viewer: Person | None, t: Texts) -> Message | None:
    """The pinned brief: who leads, the severity, the parties; while the war room is open, its buttons."""
    found = uow.incidents.get(int(ident)) if ident.isdigit() else None
    if found is None:
        return None
    shown = brief(uow, core, found, t, uow.incidents.members(found.id))
    match found.state:
        case "open":
            return shown.with_buttons(*incident_buttons(found.ref, t))
        case "resolved":
            return shown + t("native.incident.resolved", when=t.when(found.resolved_at), summary=found.summary)
    return shown + t("native.incident.closed", when=t.when(found.closed_at))


def incident_buttons(ref: str, t: Texts) -> list[Button]:
    return [Button(t.text("native.button.update"), "incident.update", ref, "primary"),
            Button(t.text("native.button.role"), "incident.role", ref),
            Button(t.text("native.button.severity"), "incident.severity", ref),
            Button(t.text("native.button.resolve"), "incident.resolve", ref, "danger")]


# -- an action -----------------------------------------------------------------------------------------------------
@live.view("action")
def action_item(core: Samverkan, uow: UnitOfWork, ident: str, viewer: Person | None, t: Texts) -> Message | None:
    """Done, or the button that marks it done (for its owner and the forum's chair party; others are told why
    not)."""
    found = uow.forum.action(int(ident)) if ident.isdigit() else None
    if found is None:
        return None
    if found.done_at is not None:
        return t("native.action.done", ref=found.ref, when=t.date(found.done_at))
    return Message().with_buttons(Button(t.text("native.button.done"), "forum.done", found.ref, "primary"))
