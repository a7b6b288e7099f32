"""The shape of a governance model file, validated by pydantic.

Keys are short slugs that users type (`city`, `supplier`, `kontraktsforum`); names are Swedish with English labels
beside them, because the Swedish names are the ones written in the contract.
"""

from __future__ import annotations

import re
from typing import Annotated, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, model_validator

Lang = Literal["sv", "en"]

_SLUG = re.compile(r"^[a-z0-9][a-z0-9.-]*$")


def _slug(value: str) -> str:
    if not _SLUG.match(value):
        raise ValueError("slug")
    return value


Slug = Annotated[str, AfterValidator(_slug)]
Email = Annotated[str, Field(pattern=r"^[^@\s]+@[^@\s]+\.[^@\s]+$")]


class Strict(BaseModel):
    # A misspelt field in a contract model must be an error, not silently ignored.
    model_config = ConfigDict(extra="forbid", frozen=True)


class Label(Strict):
    sv: str = Field(min_length=1)
    en: str = Field(min_length=1)

    def __call__(self, lang: Lang) -> str:
        return self.sv if lang == "sv" else self.en


class Party(Strict):
    key: Slug
    name: Label
    # The City's central ordering organisation may see every disagreement; other parties only their own.
    oversight: bool = False


class Role(Strict):
    key: Slug
    letter: str | None = Field(default=None, pattern=r"^[A-Z]$")
    name: Label
    # Administrators keep the directory current from chat.
    administers_directory: bool = False


class PersonSeed(Strict):
    key: Slug
    name: str = Field(min_length=1)
    party: Slug
    roles: list[Slug] = []
    authority: list[Literal["orderer", "approver"]] = []
    slack_user: str | None = Field(default=None, pattern=r"^[UW][A-Z0-9]+$")
    email: Email | None = None
    slack_usergroup: str | None = Field(default=None, pattern=r"^S[A-Z0-9]+$")
    # Reached through Slack Connect: a person of another Slack organisation.
    external: bool = False

    @model_validator(mode="after")
    def _reachable(self) -> PersonSeed:
        if not (self.slack_user or self.email or self.slack_usergroup):
            raise ValueError("unreachable")
        return self


class RoleRequirement(Strict):
    party: Slug
    roles: list[Slug] = []


class Forum(Strict):
    key: Slug
    name: Label
    channel: str = Field(min_length=1)
    cadence: Label
    chair: list[Slug] = Field(min_length=1)
    attendees: list[RoleRequirement] = []


class LadderRung(Strict):
    forum: Slug
    # Days after the rung's sitting before an unsettled disagreement moves up.
    grace_days: int = Field(default=0, ge=0, le=365)


class Ladder(Strict):
    rungs: list[LadderRung] = Field(min_length=1)
    supplier_to_supplier: Slug | None = None
    product_supplier_forum: Slug | None = None


class Service(Strict):
    key: Slug
    name: Label
    responsible: list[Slug] = Field(min_length=1)
    contacts: list[Slug] = []
    administrative: bool = False


class GovernanceModel(Strict):
    name: Label
    language: Lang = "sv"
    timezone: str = "Europe/Stockholm"
    parties: list[Party] = Field(min_length=1)
    roles: list[Role] = []
    people: list[PersonSeed] = []
    forums: list[Forum] = []
    ladder: Ladder | None = None
    services: list[Service] = []

    def party(self, key: str) -> Party | None:
        return next((p for p in self.parties if p.key == key), None)

    def role(self, key: str) -> Role | None:
        return next((r for r in self.roles if r.key == key), None)

    def forum(self, key: str) -> Forum | None:
        return next((f for f in self.forums if f.key == key), None)

    def service(self, key: str) -> Service | None:
        return next((s for s in self.services if s.key == key), None)
