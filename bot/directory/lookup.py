"""Finding people, parties and roles from what a user types or what the platform tells."""

from __future__ import annotations

import re
from dataclasses import dataclass

from bot.chat import ChatPort
from bot.clock import Clock
from bot.commands import UserError
from bot.directory.people import Person
from bot.events import Event
from bot.model import GovernanceModel, Party, Role
from bot.ports import UnitOfWork, UnitOfWorkFactory

# A mention of a person or a group, as every chat adapter writes its platform's own (Slack's <@U…>, Teams' <at>…</at>)
# into a command's words: the core reads one form, whatever the platform.
_ACCOUNT = re.compile(r"^@user:([A-Za-z0-9:._-]{1,100})$")
_GROUP = re.compile(r"^@group:([A-Za-z0-9:._-]{1,100})$")
_EMAIL = re.compile(r"^[^@\s<>]+@[^@\s<>]+\.[^@\s<>]+$")


def account_word(account: str) -> str:
    """How an adapter writes a mention of a platform account into a command's words."""
    return f"@user:{account}"


def group_word(group: str) -> str:
    return f"@group:{group}"


@dataclass(frozen=True)
class Reference:
    """Who a typed word points at: exactly one of the fields is set."""

    account: str | None = None  # the account on the chat platform in use (Slack user id, Entra object id)
    group: str | None = None  # a user group standing for a team (Slack only)
    email: str | None = None
    key: str | None = None


def parse_reference(word: str) -> Reference:
    if m := _ACCOUNT.match(word):
        return Reference(account=m.group(1))
    if m := _GROUP.match(word):
        return Reference(group=m.group(1))
    if _EMAIL.match(word):
        return Reference(email=word.lower())
    return Reference(key=word.lstrip("@").lower())


def find_person(uow: UnitOfWork, word: str) -> Person | None:
    ref = parse_reference(word)
    directory = uow.directory
    if ref.account:
        return directory.by_account(ref.account)
    if ref.group:
        return directory.by_usergroup(ref.group)
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


def recognise(unit_of_work: UnitOfWorkFactory, chat: ChatPort, user_id: str,
              clock: Clock) -> Person | None:
    """The directory person behind a platform user, asked before a command's transaction opens (the platform may
    take a round trip, and a transaction must not wait for it).

    A person with this account is that person. Someone seeded by e-mail is linked to their account the first time
    they speak, and the link is remembered (and recorded) so the platform is asked only once. A member of a user
    group that stands in the directory for a team (the Service Desk's on-duty rota) acts as that entry: membership
    is read from the platform, which keeps it only briefly, so a change in the group takes effect.
    """
    with unit_of_work(read_only=True) as uow:
        person = uow.directory.by_account(user_id)
        groups = [p for p in uow.directory.people() if p.group] if person is None else []
    if person is not None:
        return person
    email = (chat.email_of(user_id) or "").lower()
    if email:
        with unit_of_work() as uow:
            found = uow.directory.by_email(email)
            if found is not None and not found.account:
                linked = found.with_account(user_id)
                uow.directory.save(linked)
                uow.events.record(Event(clock.now(), linked.key, "directory.linked", linked.key,
                                        {"account": user_id}))
                uow.commit()
                return linked
    for group in groups:
        if user_id in chat.usergroup_members(group.group or ""):
            return group
    return None
