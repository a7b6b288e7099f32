"""Who may do what: one matrix, as data, for every sub-command of every command, checked in one place
(`bot.commands.CommandSet.run`) before a sub-command runs.

A sub-command is about something (a forum, a war room, a disagreement, a deployment, an action, a service), or about
nothing in particular. Relative to that subject each person is of one or more kinds, and the matrix says which kinds
may run the sub-command. The README's permission table is this matrix (a test keeps them equal), and a test runs
every row as every kind of person over signed HTTP.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from bot.directory.people import Person
from bot.disagreement import ladder
from bot.disagreement.records import Disagreement
from bot.forum.records import Action, Deployment, OwedReport, ServiceLevelMonth, Underlag, UnderlagRegister
from bot.incident.records import Incident
from bot.model import parties
from bot.model.schema import Forum, GovernanceModel, Lang, MajorIncidents, Service, ShortNotice
from bot.ports import UnitOfWork


class Kind(StrEnum):
    OUTSIDER = "outsider"  # not in the directory
    UNINVOLVED = "uninvolved"  # a person of a party the subject does not concern
    INVOLVED = "involved"  # a person of a party it concerns
    HOLDER = "holder"  # holds what the action needs: see HOLDERS
    OVERSIGHT = "oversight"  # a person of the City's oversight organisation
    ADMIN = "admin"  # a Samverkan administrator (only the oversight organisation's people can be)


KINDS = tuple(Kind)
# What "holder" means for each subject.
HOLDERS = {
    "forum": "a person of the forum's chair party",
    "action": "the action's owner, or a person of its forum's chair party",
    "service": "a person of a party responsible for the service, or of the lead supplier",
    "deployment": "a person of the party that announced it, or of the lead supplier",
    "declaration": "a person of the lead supplier, or someone holding the incident commander's role at any party",
    "incident": "the war room's commander, the lead supplier's on-duty incident managers, the City's major-incident "
                "contact",
    "disagreement": "someone with authority to settle for their party at the disagreement's level",
    "report": "a person of the party that owes the report",
    "service levels": "for a month, a person of the deciding party (the City's central ordering organisation) with "
                      "the authority the model names (an authorised approver); for the register, a person of a "
                      "party that attends the forum",
    "underlag": "asking at short notice, a person of the party that asks (the City's central ordering "
                "organisation); delivering, a person of the party that owes it; the list, a person of either",
}

EVERYONE = frozenset(KINDS)
MEMBERS = EVERYONE - {Kind.OUTSIDER}
_ = Kind


@dataclass(frozen=True)
class Rule:
    allowed: frozenset[Kind]
    refusal: str  # the catalogue key that explains a refusal

    def allows(self, kinds: set[Kind]) -> bool:
        return bool(kinds & self.allowed)


def _rule(refusal: str, *allowed: Kind) -> Rule:
    # Every administrator is of the oversight organisation: what it may do, they may.
    admin = {Kind.ADMIN} if Kind.OVERSIGHT in allowed else set()
    return Rule(frozenset({*allowed, *admin}), refusal)


_MEMBER = Rule(MEMBERS, "permission.members")
_EVERYONE = Rule(EVERYONE, "permission.members")
_ADMIN = _rule("permission.admin", _.ADMIN)
_FORUM_PARTIES = _rule("permission.forum_parties", _.INVOLVED, _.HOLDER, _.OVERSIGHT)
_FORUM_CHAIR = _rule("permission.forum_chair", _.HOLDER)
_INCIDENT_LEADS = _rule("permission.incident_leads", _.HOLDER, _.OVERSIGHT)

MATRIX: dict[str, dict[str, Rule]] = {
    "samverkan": {
        "help": _EVERYONE,
        "whoami": _EVERYONE,
        "home": _EVERYONE,
        "directory": _MEMBER,
        "person": _ADMIN,
        "role": _ADMIN,
        "authority": _ADMIN,
        "history": _ADMIN,
    },
    "forum": {
        "help": _EVERYONE,
        "list": _MEMBER,
        "next": _MEMBER,
        "agenda": _FORUM_PARTIES,
        "move": _FORUM_CHAIR,
        "cancel": _FORUM_CHAIR,
        # The City may add a sitting to any forum (2.1: the supplier may not oppose forums the City finds adequate).
        "extra": _rule("permission.forum_extra", _.HOLDER, _.OVERSIGHT),
        # The chair calls its when-needed seats and reports to a sitting (8.9).
        "call": _FORUM_CHAIR,
        "decision": _rule("permission.forum_attendees", _.INVOLVED, _.HOLDER),
        "action": _rule("permission.forum_attendees", _.INVOLVED, _.HOLDER),
        "done": _rule("permission.action_owner", _.HOLDER),
        "report": _rule("permission.report_owner", _.HOLDER),
        # The City's authorised approvers decide a month's service levels (5.2); the forum's parties read the
        # register.
        "sla": _rule("permission.service_levels", _.HOLDER),
        # 4.6: the City's central ordering organisation asks for reports at short notice; the supplier delivers
        # them and its input to the City's IT reporting; both follow the list.
        "request": _rule("permission.underlag_request", _.HOLDER),
        "deliver": _rule("permission.underlag_deliver", _.HOLDER),
        "underlag": _rule("permission.underlag_list", _.HOLDER),
        "subscribe": _FORUM_PARTIES,
        "unsubscribe": _MEMBER,
    },
    "deploy": {
        "help": _EVERYONE,
        "announce": _rule("permission.service_parties", _.HOLDER),
        "list": _MEMBER,
        "cancel": _rule("permission.deployment_party", _.HOLDER),
    },
    "incident": {
        "help": _EVERYONE,
        "declare": _rule("permission.declare", _.HOLDER, _.OVERSIGHT),
        # 8.10: a supplier responsible for the service (or the lead supplier) contacts the City without delay.
        "alert": _rule("permission.alert", _.HOLDER),
        "list": _MEMBER,
        "update": _rule("permission.incident_parties", _.INVOLVED, _.HOLDER, _.OVERSIGHT),
        "note": _rule("permission.incident_parties", _.INVOLVED, _.HOLDER, _.OVERSIGHT),
        "role": _INCIDENT_LEADS,
        "invite": _INCIDENT_LEADS,
        "severity": _INCIDENT_LEADS,
        "resolve": _INCIDENT_LEADS,
        "close": _INCIDENT_LEADS,
        # The legal clocks (bot/incident/legal.py): started and kept by the war room's leads.
        "classify": _INCIDENT_LEADS,
        "reported": _INCIDENT_LEADS,
    },
    "disagreement": {
        "help": _EVERYONE,
        "open": _MEMBER,
        "list": _MEMBER,
        "stats": _MEMBER,
        "show": _rule("permission.disagreement_parties", _.INVOLVED, _.HOLDER, _.OVERSIGHT),
        "comment": _rule("permission.disagreement_parties", _.INVOLVED, _.HOLDER),
        "propose": _rule("permission.disagreement_parties", _.INVOLVED, _.HOLDER),
        "escalate": _rule("permission.disagreement_parties", _.INVOLVED, _.HOLDER),
        "accept": _rule("permission.disagreement_authority", _.HOLDER),
        "reject": _rule("permission.disagreement_authority", _.HOLDER),
        # Past the top rung, whoever may answer for a party at the top level invokes formal dispute resolution.
        "formal": _rule("permission.disagreement_formal", _.HOLDER),
        # The City leads a question between suppliers and records how it ends (section 8.10).
        "clarify": _rule("permission.disagreement_clarify", _.OVERSIGHT),
    },
}


def rule(command: str, subcommand: str) -> Rule:
    """The row of the matrix; a sub-command without one may be run by nobody (and a test fails)."""
    return MATRIX.get(command, {}).get(subcommand, _rule("permission.nobody"))


# -- who someone is, relative to what a sub-command is about --------------------------------------------------------
Subject = (Forum | Action | Service | Deployment | MajorIncidents | Incident | Disagreement | OwedReport
           | ServiceLevelMonth | ShortNotice | Underlag | UnderlagRegister | None)


def is_admin(model: GovernanceModel, person: Person) -> bool:
    return oversees(model, person) and any(r and r.administers_directory for r in map(model.role, person.roles))


def oversees(model: GovernanceModel, person: Person) -> bool:
    party = model.party(person.party)
    return bool(party and party.oversight)


def lead_supplier(model: GovernanceModel, person: Person) -> bool:
    party = model.party(person.party)
    return bool(party and party.lead_supplier)


def kinds(model: GovernanceModel, uow: UnitOfWork, person: Person | None, subject: Subject) -> set[Kind]:
    if person is None:
        return {Kind.OUTSIDER}
    found: set[Kind] = set()
    if oversees(model, person):
        found.add(Kind.OVERSIGHT)
    if is_admin(model, person):
        found.add(Kind.ADMIN)
    involved, holder = _relation(model, uow, person, subject)
    found.add(Kind.INVOLVED if involved else Kind.UNINVOLVED)
    if holder:
        found.add(Kind.HOLDER)
    return found


def _relation(model: GovernanceModel, uow: UnitOfWork, person: Person, subject: Subject) -> tuple[bool, bool]:
    """(of a party the subject concerns, holds what acting on it needs)."""
    party = person.party
    match subject:
        case None:
            return True, False
        case Forum():
            # A party that follows the forum (the City at the lead supplier's meetings with the other suppliers,
            # 8.2 and 8.3) takes part as its attending parties do, without a seat.
            involved = attends(model, subject, party) or parties.follows(model, subject, party)
            return involved, parties.chairs(model, subject, party)
        case OwedReport():
            return attends(model, subject.forum, party), party == subject.report.owner
        case ShortNotice():
            return party in (subject.requested_by, subject.owner), party == subject.requested_by
        case Underlag():
            return party in underlag_parties(model, subject), party == subject.owner
        case UnderlagRegister():
            concerned = party in (subject.owner, subject.to)
            return concerned, concerned
        case ServiceLevelMonth():
            attending = attends(model, subject.forum, party)
            if subject.month is None:
                return attending, attending
            return attending, may_decide(model, person, subject.forum)
        case Action():
            forum = model.sitting_forum(subject.forum)
            chair = forum is not None and parties.chairs(model, forum, party)
            return forum is not None and attends(model, forum, party), subject.owner == person.key or chair
        case Service():
            responsible = party in subject.responsible
            return responsible, responsible or lead_supplier(model, person)
        case Deployment():
            announced = party == subject.party
            return announced, announced or lead_supplier(model, person)
        case MajorIncidents():
            commander_roles = set(subject.commander.roles)
            return True, lead_supplier(model, person) or bool(person.roles & commander_roles)
        case Incident():
            return party in incident_parties(uow, subject), leads_incident(model, person, subject)
        case Disagreement():
            # The City leads a question between two suppliers (section 8.10): its oversight takes part in it.
            involved = party in subject.parties or oversees(model, person)
            return involved, ladder.authorised(model, person, subject)
    return False, False


def underlag_parties(model: GovernanceModel, item: Underlag) -> set[str]:
    """The parties an underlag concerns: the one that owes it and the one it is for (4.6)."""
    owed = next((o for o in model.underlag if o.key == item.key), None) if item.key else None
    receiver = owed.to if owed else (model.short_notice.requested_by if model.short_notice else "")
    return {item.owner, receiver}


def may_decide(model: GovernanceModel, person: Person, forum: Forum) -> bool:
    """The person may decide a month's service levels at the forum: of the deciding party, with its authority."""
    rule = forum.service_levels
    return bool(rule and person.party == rule.decided_by and rule.authority in person.authority)


def attends(model: GovernanceModel, forum: Forum, party: str) -> bool:
    """A seat of the party's own or its class's (the City's other suppliers at the forums open to them)."""
    return parties.attends(model, forum, party)


def incident_parties(uow: UnitOfWork, incident: Incident) -> set[str]:
    """The parties a war room concerns: those of everyone asked into it, and of whoever declared it."""
    parties = {m.party for m in uow.incidents.members(incident.id)}
    declarer = uow.directory.by_key(incident.declared_by)
    return parties | ({declarer.party} if declarer else set())


def leads_incident(model: GovernanceModel, person: Person, incident: Incident) -> bool:
    mi = model.major_incidents
    if incident.commander == person.key:
        return True
    if mi is None:
        return False
    on_duty = lead_supplier(model, person) and bool(person.roles & set(mi.commander.roles))
    city_contact = person.party == mi.city_contact.party and bool(person.roles & set(mi.city_contact.roles))
    return on_duty or city_contact


def may_see_incident(model: GovernanceModel, uow: UnitOfWork, person: Person, incident: Incident) -> bool:
    return oversees(model, person) or person.party in incident_parties(uow, incident) or leads_incident(
        model, person, incident)


def reference(subject: Subject) -> str:
    """How the event log names what a refused sub-command was about."""
    match subject:
        case Forum() | Service():
            return subject.key
        case OwedReport():
            return f"{subject.forum.key}/{subject.report.key}"
        case ServiceLevelMonth():
            return f"{subject.forum.key}/{subject.month or 'register'}"
        case Underlag():
            return subject.ref
        case ShortNotice() | UnderlagRegister():
            return "underlag"
        case Action() | Deployment() | Incident() | Disagreement():
            return subject.ref
        case MajorIncidents():
            return "major_incidents"
    return ""


def describe(model: GovernanceModel, lang: Lang, subject: Subject) -> dict[str, str]:
    """The values a refusal's explanation names."""
    match subject:
        case Forum():
            chair = ", ".join(parties.name(model, key, lang) for key in subject.chair)
            return {"forum": subject.name(lang), "chair": chair}
        case OwedReport():
            return {"forum": subject.forum.name(lang), "report": subject.report.name(lang),
                    "owner": parties.name(model, subject.report.owner, lang)}
        case ShortNotice():
            return {"party": parties.name(model, subject.requested_by, lang)}
        case Underlag():
            return {"ref": subject.ref, "party": parties.name(model, subject.owner, lang)}
        case UnderlagRegister():
            return {"owner": parties.name(model, subject.owner, lang), "to": parties.name(model, subject.to, lang)}
        case ServiceLevelMonth():
            return {"forum": subject.forum.name(lang), "party": parties.name(
                model, subject.forum.service_levels.decided_by if subject.forum.service_levels else "", lang)}
        case Service():
            return {"service": subject.name(lang)}
        case Action() | Deployment() | Incident():
            return {"ref": subject.ref}
        case Disagreement():
            forum = model.sitting_forum(subject.forum) or model.forum(subject.forum)
            return {"ref": subject.ref, "forum": forum.name(lang) if forum else subject.forum}
    return {}


def table() -> str:
    """The matrix as the README shows it: one row per sub-command, one column per kind of person."""
    lines = ["| sub-command | " + " | ".join(k.value for k in KINDS) + " |",
             "|---|" + "---|" * len(KINDS)]
    for command, subs in MATRIX.items():
        for sub, row in subs.items():
            marks = " | ".join("✓" if kind in row.allowed else "–" for kind in KINDS)
            lines.append(f"| `/{command} {sub}` | {marks} |")
    lines.append("")
    lines.append("What *holder* means depends on what the sub-command is about:")
    lines.extend(f"- {subject}: {meaning}" for subject, meaning in HOLDERS.items())
    return "\n".join(lines)
