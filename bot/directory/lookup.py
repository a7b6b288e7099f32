"""Finding people, parties and roles from what a user types or what the platform tells."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime

from bot.chat import ChatPort
from bot.commands import UserError
from bot.directory.people import Person
from bot.events import Event
from bot.model import GovernanceModel, Party, Role
from bot.ports import UnitOfWork

# Slack escapes mentions in slash-command text: <@U123|name>, <!subteam^S123|@handle>, <mailto:a@b|a@b>.
_USER = re.compile(r"^<@([UW][A-Z0-9]+)(?:\|[^>]*)?>$")
_GROUP = re.compile(r"^<!subteam\^(S[A-Z0-9]+)(?:\|[^>]*)?>$")
_MAILTO = re.compile(r"^<mailto:([^|>]+)(?:\|[^>]*)?>$")
_EMAIL = re.compile(r"^[^@\s<>]+@[^@\s<>]+\.[^@\s<>]+$")
_BARE_ID = re.compile(r"^[UW][A-Z0-9]{6,}$")


@dataclass(frozen=True)
class Reference:
    """Who a typed word points at: exactly one of the fields is set."""

    slack_user: str | None = None
    slack_usergroup: str | None = None
    email: str | None = None
    key: str | None = None


def parse_reference(word: str) -> Reference:
    if m := _USER.match(word):
        return Reference(slack_user=m.group(1))
    if m := _GROUP.match(word):
        return Reference(slack_usergroup=m.group(1))
    if m := _MAILTO.match(word):
        return Reference(email=m.group(1).lower())
    if _EMAIL.match(word):
        return Reference(email=word.lower())
    if _BARE_ID.match(word):
        return Reference(slack_user=word)
    return Reference(key=word.lstrip("@").lower())


def find_person(uow: UnitOfWork, word: str) -> Person | None:
    ref = parse_reference(word)
    directory = uow.directory
    if ref.slack_user:
        return directory.by_slack_user(ref.slack_user)
    if ref.slack_usergroup:
        return directory.by_usergroup(ref.slack_usergroup)
    if ref.email:
        return directory.by_email(ref.email)
    return directory.by_key(ref.key or "")


def require_person(uow: UnitOfWork, word: str) -> Person:
    person = find_person(uow, word)
    if person is None:
        raise UserError("directory.unknown_person", word=word)
    return person


def find_party(model: GovernanceModel, word: str) -> Party:
    wanted = word.lower()
    for party in model.parties:
        if wanted in (party.key, party.name.sv.lower(), party.name.en.lower()):
            return party
    raise UserError("directory.unknown_party", word=word, known=", ".join(p.key for p in model.parties))


def find_role(model: GovernanceModel, word: str) -> Role:
    wanted = word.lower()
    for role in model.roles:
        if wanted in (role.key, role.name.sv.lower(), role.name.en.lower()) or (
            role.letter and wanted == role.letter.lower()
        ):
            return role
    raise UserError("directory.unknown_role", word=word)


def identify(uow: UnitOfWork, chat: ChatPort, user_id: str, at: datetime) -> Person | None:
    """The directory person behind a platform user. People seeded by e-mail are linked to their Slack account the
    first time they speak, and the link is remembered (and recorded) so the platform is asked only once."""
    person = uow.directory.by_slack_user(user_id)
    if person is not None:
        return person
    email = chat.email_of(user_id)
    if not email:
        return None
    person = uow.directory.by_email(email.lower())
    if person is None or person.slack_user:
        return None
    linked = person.with_slack_user(user_id)
    uow.directory.save(linked)
    uow.events.record(Event(at, linked.key, "directory.linked", linked.key, {"slack_user": user_id}))
    return linked
