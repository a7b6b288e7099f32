"""People of the directory and the rules about them."""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field, replace
from typing import Literal

from bot.message import Mention

Authority = Literal["orderer", "approver"]
AUTHORITIES: tuple[Authority, ...] = ("orderer", "approver")


def scoped(kind: str, party: str) -> str:
    """An authority limited to one supplier's services (4.7: the City names authorised orderers and approvers for
    the lead supplier and for its other suppliers): held as "approver:school-platform", which is not "approver", so
    it gives no authority under this contract."""
    return f"{kind}:{party}"


def scope_of(held: str) -> tuple[str, str | None]:
    """(the kind, the supplier it is limited to, if any)."""
    kind, _, party = held.partition(":")
    return kind, party or None


@dataclass(frozen=True)
class Person:
    """Someone the bot can reach: a Slack member, an e-mail address (possibly of another organisation, reached
    through Slack Connect), or a Slack user group standing for a team such as an on-duty rota."""

    key: str
    name: str
    party: str
    roles: frozenset[str] = field(default_factory=frozenset)
    authority: frozenset[Authority] = field(default_factory=frozenset)
    account: str | None = None  # the account on the chat platform in use (Slack user id, Entra object id)
    email: str | None = None
    group: str | None = None  # a user group standing for a team (Slack only)
    external: bool = False

    def with_account(self, user_id: str) -> Person:
        return replace(self, account=user_id)

    def as_external(self) -> Person:
        return replace(self, external=True)

    def with_role(self, role: str) -> Person:
        return replace(self, roles=self.roles | {role})

    def without_role(self, role: str) -> Person:
        return replace(self, roles=self.roles - {role})

    def with_authority(self, kind: Authority) -> Person:
        return replace(self, authority=self.authority | {kind})

    def without_authority(self, kind: Authority) -> Person:
        return replace(self, authority=self.authority - {kind})


_TRANSLIT = str.maketrans({"å": "a", "ä": "a", "ö": "o", "é": "e", "ü": "u", "æ": "ae", "ø": "o"})


def slugify(text: str, separator: str = "-") -> str:
    """Lower-case ASCII with Swedish letters transliterated: what keys and channel names are made of."""
    text = text.lower().translate(_TRANSLIT)
    text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    return re.sub(r"[^a-z0-9]+", separator, text).strip(separator)


def key_for(name: str, taken: set[str]) -> str:
    base = slugify(name, ".") or "person"
    key, n = base, 2
    while key in taken:
        key, n = f"{base}-{n}", n + 1
    return key


def mention(person: Person) -> Mention:
    """How a message names someone: a mention that notifies where the platform has an account, the name
    otherwise."""
    return Mention(person.name, user=person.account, group=person.group, key=person.key)
