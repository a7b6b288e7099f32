"""The shape of a governance model file, validated by pydantic.

Keys are short slugs that users type (`city`, `supplier`, `kontraktsforum`); names are Swedish with English labels
beside them, because the Swedish names are the ones written in the contract.
"""

from __future__ import annotations

import re
import threading
from datetime import date, datetime
from datetime import time as dt_time
from typing import Annotated, Any, Literal, Protocol, TypeVar

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, model_validator

Lang = Literal["sv", "en"]


class _HasKey(Protocol):
    @property
    def key(self) -> str: ...


_Keyed = TypeVar("_Keyed", bound=_HasKey)

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


class PartyClass(Strict):
    """Parties the contract names together (Stadens Övriga Leverantörer, Centrala Leverantörer): a forum may seat
    a class, and every party of it then attends."""

    key: Slug
    name: Label


class Party(Strict):
    key: Slug
    name: Label
    # The lead supplier runs the Service Desk and coordinates the others.
    lead_supplier: bool = False
    # The City's central ordering organisation may see every disagreement; other parties only their own.
    oversight: bool = False
    classes: list[Slug] = []
    # Where this party has no seat, that party speaks for it: the City's units are represented at the central
    # forums by its central ordering organisation (section 5.4: central collaboration is local's escalation level).
    represented_by: Slug | None = None


class Role(Strict):
    key: Slug
    letter: str | None = Field(default=None, pattern=r"^[A-Z]$")
    name: Label
    # Administrators keep the directory current from chat.
    administers_directory: bool = False


GUID = r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$"


class PersonSeed(Strict):
    key: Slug
    name: str = Field(min_length=1)
    party: Slug
    roles: list[Slug] = []
    authority: list[Literal["orderer", "approver"]] = []
    slack_user: str | None = Field(default=None, pattern=r"^[UW][A-Z0-9]+$")
    # Microsoft Teams: the person's Entra ID object id. Without it (or a Slack id on Slack) the person is found
    # by e-mail (the UPN in Teams) the first time they speak, and remembered.
    teams_user: str | None = Field(default=None, pattern=GUID)
    email: Email | None = None
    slack_usergroup: str | None = Field(default=None, pattern=r"^S[A-Z0-9]+$")
    # Microsoft Teams: an Entra ID group (its object id) whose members, nested groups' included, act as this entry
    # (a rota such as the Service Desk's on-duty incident manager), as a Slack user group's do on Slack.
    teams_usergroup: str | None = Field(default=None, pattern=GUID)
    # Reached through Slack Connect: a person of another Slack organisation.
    external: bool = False

    @model_validator(mode="after")
    def _reachable(self) -> PersonSeed:
        if not (self.slack_user or self.teams_user or self.email or self.slack_usergroup or self.teams_usergroup):
            raise ValueError("unreachable")
        return self

    def accounts(self) -> dict[str, str | None]:
        """The person's account on each chat platform, as the model gives them."""
        return {"slack": self.slack_user, "teams": self.teams_user.lower() if self.teams_user else None}

    def groups(self) -> dict[str, str | None]:
        """The group whose members act as this entry on each chat platform, as the model gives them."""
        return {"slack": self.slack_usergroup,
                "teams": self.teams_usergroup.lower() if self.teams_usergroup else None}


class RoleRequirement(Strict):
    party: Slug
    roles: list[Slug] = []


class Attendee(Strict):
    """A seat at a forum: a party, or every party of a class (`{class: other-supplier}`), with the roles it must
    send; without roles, the party attends with whom it finds relevant."""

    party: Slug | None = None
    party_class: Slug | None = Field(default=None, alias="class")
    roles: list[Slug] = []
    # Attends "when needed" (8.9): expected only at the sittings the chair calls it to (`/forum call`).
    when_needed: bool = False

    @model_validator(mode="after")
    def _party_or_class(self) -> Attendee:
        if (self.party is None) == (self.party_class is None):
            raise ValueError("party_or_class")
        return self

    @property
    def ref(self) -> str:
        """The party's or the class's key."""
        return self.party or self.party_class or ""


def _offset(value: str) -> str:
    if not _OFFSET.match(value):
        raise ValueError("offset")
    return value


_OFFSET = re.compile(r"^\d{1,5}[dhms]$")
# A reminder offset before a sitting: 7d, 1d, 15m, 2h, 90s.
Offset = Annotated[str, AfterValidator(_offset)]


def _rrule(value: str) -> str:
    from dateutil.rrule import rrulestr

    try:
        rrulestr(value, dtstart=datetime(2027, 1, 1))  # noqa: DTZ001 - wall-clock time, zoned at expansion
    except (ValueError, TypeError) as exc:
        raise ValueError("rrule") from exc
    if "DTSTART" in value.upper():  # the start is the forum's own `starts` and `time`
        raise ValueError("rrule")
    return value.upper()


RRule = Annotated[str, AfterValidator(_rrule)]


class Catalogue(Strict):
    """A service catalogue (tjänstekatalog); forums marked per_catalogue are held once for each."""

    key: Slug
    name: Label
    owner_roles: list[Slug] = []


class Report(Strict):
    """A report owed before every sitting (section 5.2: "Leverantören ska inför möten tillhandahålla adekvat
    rapportering"): its owner's people are reminded `remind` before it is due, `due` before the sitting; one
    missing at that time is flagged to the chair party and marked on the agenda."""

    key: Slug
    name: Label
    owner: Slug
    due: Offset = "1d"
    remind: Offset = "2d"
    # Owed only before the sittings the chair calls for it (`/forum call`), "när behov finns" (8.9).
    when_asked: bool = False


class ServiceLevels(Strict):
    """At this forum the City formally approves or rejects the previous month's service levels and KPIs and settles
    any service credits (5.2, Leveransuppföljning): `decided_by`'s people holding `authority` decide; a month left
    undecided `decide_within` working days after its sitting is flagged to them."""

    decided_by: Slug
    authority: Literal["orderer", "approver"] = "approver"
    decide_within: int = Field(default=5, ge=0, le=60)


class Forum(Strict):
    key: Slug
    name: Label
    channel: str = Field(min_length=1)
    cadence: Label
    # Who chairs (convenes) it: parties, or classes of parties.
    chair: list[Slug] = Field(min_length=1)
    attendees: list[Attendee] = []
    # When it sits: an RFC 5545 recurrence rule from `starts`, or explicit dates ("4 to 6 times a year").
    rrule: RRule | None = None
    starts: date | None = None
    dates: list[date] = []
    time: dt_time = dt_time(9, 0)
    duration_minutes: int = Field(default=60, ge=5, le=24 * 60)
    place: str | None = None
    # A sitting that falls on a Swedish public holiday or a weekend: moved to the next or previous working day,
    # cancelled, or kept (a forum that meets whatever the day).
    holidays: Literal["next", "previous", "cancel", "keep"] = "next"
    reminders: list[Offset] = ["7d", "1d", "15m"]
    reports: list[Report] = []
    per_catalogue: bool = False
    # Meets as the need arises (section 8.5, "kontinuerliga möten"): no fixed sittings; the chair convenes them
    # with `/forum extra`, items wait on a standing agenda meanwhile, and the chair party is reminded when one has
    # waited `convene_days` without a sitting.
    continuous: bool = False
    convene_days: int = Field(default=14, ge=1, le=365)
    # Planned changes are announced before the sitting that precedes them (sections 8.7 and 8.9): changes to any
    # service, or only to the administrative side's services.
    announcements: Literal["all", "administrative"] | None = None
    # Parties that follow the forum without a seat: they read its agenda, subscribe to its reminders and may
    # propose items (the City at the lead supplier's meetings with the other suppliers, 8.2 and 8.3).
    followers: list[Slug] = []
    # The forum where the City decides on each month's service levels (5.2, Leveransuppföljning).
    service_levels: ServiceLevels | None = None

    @model_validator(mode="after")
    def _when(self) -> Forum:
        if self.rrule and not self.starts:
            raise ValueError("rrule_needs_start")
        if self.rrule and self.dates:
            raise ValueError("rrule_or_dates")
        if self.continuous and (self.rrule or self.dates):
            raise ValueError("continuous_without_dates")
        return self

    @property
    def sits(self) -> bool:
        """It has a calendar of its own: a rule or fixed dates."""
        return bool(self.rrule or self.dates)

    @property
    def convenes(self) -> bool:
        """It has sittings at all: by its calendar, or convened when needed (a continuous forum)."""
        return self.sits or self.continuous

    def announces(self, service: Service) -> bool:
        return self.announcements == "all" or (self.announcements == "administrative" and service.administrative)


class LadderRung(Strict):
    forum: Slug
    # Days after the rung's sitting before an unsettled disagreement moves up.
    grace_days: int = Field(default=0, ge=0, le=365)


class Ladder(Strict):
    rungs: list[LadderRung] = Field(min_length=1)
    # A question between suppliers is led by the City there (section 8.10) and ends with its clarification.
    supplier_to_supplier: Slug | None = None
    product_supplier_forum: Slug | None = None
    # A question between the City (or a unit it represents) and a supplier other than the lead supplier: that
    # supplier has an agreement of its own, so it does not climb this ladder. It goes to the first of these forums
    # where both sit, the City leads it there, and it ends settled or with the City's clarification (5.4, 8.10).
    city_and_other_supplier: list[Slug] = []
    # Who answers for a party at a level whose forum names no role of it: the roles that represent a supplier in
    # matters of the agreement (section 6.2 A, the Kundansvarig); for the City, its authorised approvers.
    representative_roles: list[Slug] = []


class Service(Strict):
    key: Slug
    name: Label
    catalogue: Slug | None = None
    responsible: list[Slug] = Field(min_length=1)
    # Who is called into a war room on this service: directory people (a person, a Slack user group or an
    # e-mail address of another organisation), and whoever holds these roles at these parties.
    contacts: list[Slug] = []
    contact_roles: list[RoleRequirement] = []
    # A service of the City's administrative side: GSIT 2.0's service desk joins its war rooms.
    administrative: bool = False


class Reach(Strict):
    """How the parties of a class are reached in a war room: through these (section 2.2, the central suppliers
    through GSIT 2.0's service desk)."""

    party_class: Slug = Field(alias="class")
    via: list[RoleRequirement] = Field(min_length=1)


class LegalReport(Strict):
    """A report the law requires of a classified incident, and its deadline: `hours` elapsed (a duration, so 24 hours
    across a change to summer time end at 11:00 local, not 10:00) or calendar `months` in Stockholm time, counted
    from the awareness or, with `after`, from when that earlier report of the same regime was made (until it is
    made, from its own deadline)."""

    key: Slug
    name: Label
    recipient: Label
    hours: int | None = Field(default=None, ge=1)
    months: int | None = Field(default=None, ge=1)
    after: Slug | None = None
    # Hours before the deadline at which the City's contact is reminded.
    remind_hours: list[int] = Field(default=[4], max_length=5)

    @model_validator(mode="after")
    def _one_period(self) -> LegalReport:
        if (self.hours is None) == (self.months is None):
            raise ValueError("legal_period")
        return self


class LegalRegime(Strict):
    """A legal classification of a major incident (NIS2 / cybersäkerhetslagen, a personal data breach under GDPR
    art. 33) and the reports it requires, in order."""

    key: Slug
    name: Label
    reports: list[LegalReport] = Field(min_length=1)

    @model_validator(mode="after")
    def _after_earlier(self) -> LegalRegime:
        seen: set[str] = set()
        for report in self.reports:
            if report.after is not None and report.after not in seen:
                raise ValueError("legal_after")
            seen.add(report.key)
        return self

    def report(self, key: str) -> LegalReport | None:
        return next((r for r in self.reports if r.key == key), None)


class MajorIncidents(Strict):
    """How major-incident war rooms are run (section 8.10 and the service desk role)."""

    announcement_channel: str = Field(min_length=1)
    # Who joins every war room: the lead supplier's on-duty incident manager, the City's contact.
    always: list[RoleRequirement] = []
    # Who joins when a service of the administrative side is touched: GSIT 2.0's service desk.
    administrative: list[RoleRequirement] = []
    # The default incident commander and the City's contact (told at once by direct message).
    commander: RoleRequirement
    city_contact: RoleRequirement
    channel_prefix: Slug = "mi"
    private: bool = True
    # The reaction that puts a message in the war room's timeline: Slack's emoji name (without colons), and on
    # Teams one of its reaction types (like, heart, laugh, surprised, sad, angry: the `type` of a messageReaction
    # activity's `reactionsAdded`).
    pin_reaction: str = Field(default="pushpin", pattern=r"^[a-z0-9_+-]+$")
    teams_pin_reaction: str = Field(default="like", pattern=r"^[A-Za-z0-9_+-]+$")
    # Minutes without an update before the commander is reminded, per severity (1 is the most severe).
    update_minutes: dict[int, int] = {1: 30, 2: 60, 3: 120, 4: 240}
    # The same declaration again within this many minutes gives the incident already declared.
    duplicate_minutes: int = Field(default=10, ge=0, le=24 * 60)
    archive_on_close: bool = False
    # Forums whose agendas list the major incidents since their last sitting (per-catalogue forums by key).
    report_forums: list[Slug] = []
    # A war room on a service of a party of one of these classes also invites whom the class is reached through.
    reached_through: list[Reach] = []
    # The legal classifications a war room's leads may give it, with the reports each requires.
    legal: list[LegalRegime] = []

    @property
    def severities(self) -> list[int]:
        return sorted(self.update_minutes)

    def regime(self, key: str) -> LegalRegime | None:
        return next((r for r in self.legal if r.key == key), None)


class Underlag(Strict):
    """Input the supplier owes the City at fixed times of the year, not before a sitting (section 4.6: underlag for
    the City-wide IT reporting per tertial, in April, August and at year-end, and for the annual IT accounts). Due
    on each `due` day (MM-DD) at `time`, moved back to the working day before when it is none; the holders of
    `roles` at `owner` are reminded `remind` before (working days), and one missing at its due time is flagged to
    the people of `to` with authority, else all of them."""

    key: Slug
    name: Label
    owner: Slug
    roles: list[Slug] = []
    to: Slug
    due: list[Annotated[str, Field(pattern=r"^(0[1-9]|1[0-2])-(0[1-9]|[12][0-9]|3[01])$")]] = Field(min_length=1)
    time: dt_time = dt_time(12, 0)
    remind: Offset = "5d"


class ShortNotice(Strict):
    """Reports the City asks for at short notice (4.6: "framtagning av rapporter och underlag med kort varsel";
    the Kundansvarig prioritises them): `requested_by`'s people ask, the holders of `roles` at `owner` are told at
    once and reminded when three quarters of the time has passed, and a late one is flagged to whoever asked."""

    requested_by: Slug
    owner: Slug
    roles: list[Slug] = []


class Retention(Strict):
    """How long the City must keep a kind of record with its personal data (its disposal decisions, the
    gallringsbeslut): a case from when it closed (an incident closed, a disagreement settled or ended), a forum's
    records from when they were written, in years; a person removed from the directory, in days from the removal.
    None: kept without end (bevaras). Past it, personal data is pseudonymised (samverkan erase, the daily duty)."""

    incident: int | None = Field(default=None, ge=0, le=200)
    disagreement: int | None = Field(default=None, ge=0, le=200)
    forum: int | None = Field(default=None, ge=0, le=200)
    directory_person: int | None = Field(default=None, ge=0, le=36500)


class Records(Strict):
    retention: Retention = Retention()


class GovernanceModel(Strict):
    name: Label
    language: Lang = "sv"
    timezone: str = "Europe/Stockholm"
    party_classes: list[PartyClass] = []
    parties: list[Party] = Field(min_length=1)
    roles: list[Role] = []
    people: list[PersonSeed] = []
    catalogues: list[Catalogue] = []
    forums: list[Forum] = []
    # The forum where problems found in major incidents go (Problemmöte). `deployment_forum` is the older way of
    # saying `announcements: all` on one forum, still read.
    deployment_forum: Slug | None = None
    problem_forum: Slug | None = None
    ladder: Ladder | None = None
    services: list[Service] = []
    major_incidents: MajorIncidents | None = None
    # Section 4.6: the supplier's input to the City's IT reporting, and reports asked for at short notice.
    underlag: list[Underlag] = []
    short_notice: ShortNotice | None = None
    # Fields of a case's record that are masked in a copy released on request (`samverkan export --case REF
    # --release`), by the kind of case: a record's top-level field, or `timeline.text` / `history.text` for every
    # entry's text (offentlighets- och sekretesslagen: what the City has classified as secret is not handed out).
    confidential: dict[Literal["incident", "disagreement"], list[str]] = {}
    # Retention and erasure (issue 22): how long each kind of record keeps its personal data.
    records: Records = Records()

    @property
    def calendar(self) -> list[Forum]:
        """The forums that sit, with those held per service catalogue expanded into one forum per catalogue."""
        return list(_expanded(self.forums, self.catalogues)[0])

    def sitting_forum(self, key: str) -> Forum | None:
        return _expanded(self.forums, self.catalogues)[1].get(key)

    def party_class(self, key: str) -> PartyClass | None:
        return _keyed(self.party_classes).get(key)

    def party(self, key: str) -> Party | None:
        return _keyed(self.parties).get(key)

    def role(self, key: str) -> Role | None:
        return _keyed(self.roles).get(key)

    def forum(self, key: str) -> Forum | None:
        return _keyed(self.forums).get(key)

    def service(self, key: str) -> Service | None:
        return _keyed(self.services).get(key)


# The expanded calendar, by the forums and catalogues it was made from: a model is frozen, and every command and duty
# asks for its sittings, which copying each per-catalogue forum every time made a good part of an escalation's cost.
# The entry keeps the lists it was made from, so their ids stand for them while it lives; a few models at most.
_CALENDARS: dict[tuple[int, int], tuple[list[Forum], list[Catalogue], tuple[Forum, ...], dict[str, Forum]]] = {}
_CALENDARS_KEPT = 16
_CALENDARS_LOCK = threading.Lock()


def _expanded(forums: list[Forum], catalogues: list[Catalogue]) -> tuple[tuple[Forum, ...], dict[str, Forum]]:
    found = _CALENDARS.get((id(forums), id(catalogues)))
    if found is not None and found[0] is forums and found[1] is catalogues:
        return found[2], found[3]
    expanded: list[Forum] = []
    for forum in forums:
        if not forum.per_catalogue:
            expanded.append(forum)
            continue
        for cat in catalogues:
            expanded.append(forum.model_copy(update={
                "key": f"{forum.key}-{cat.key}",
                "name": Label(sv=f"{forum.name.sv} – {cat.name.sv}", en=f"{forum.name.en} – {cat.name.en}"),
                "channel": f"{forum.channel}-{cat.key}",
                "per_catalogue": False,
                "attendees": _owners_only(forum.attendees, cat),
            }))
    by_key: dict[str, Forum] = {}
    for forum in expanded:
        by_key.setdefault(forum.key, forum)  # the first of a key, as a search in order finds it
    with _CALENDARS_LOCK:
        while len(_CALENDARS) >= _CALENDARS_KEPT:
            _CALENDARS.pop(next(iter(_CALENDARS)))
        _CALENDARS[(id(forums), id(catalogues))] = (forums, catalogues, tuple(expanded), by_key)
    return tuple(expanded), by_key


_KEYED: dict[int, tuple[list[Any], dict[str, Any]]] = {}


def _keyed(items: list[_Keyed]) -> dict[str, _Keyed]:
    """The model's entries of one kind by key (the first of a key, as a search in order finds it), made once per
    list: a party, a forum or a role is looked up many times for every message."""
    found = _KEYED.get(id(items))
    if found is not None and found[0] is items:
        return found[1]
    index: dict[str, _Keyed] = {}
    for item in items:
        index.setdefault(item.key, item)
    with _CALENDARS_LOCK:
        while len(_KEYED) >= 8 * _CALENDARS_KEPT:
            _KEYED.pop(next(iter(_KEYED)))
        _KEYED[id(items)] = (items, index)
    return index


def _owners_only(attendees: list[Attendee], catalogue: Catalogue) -> list[Attendee]:
    """A catalogue's sitting seats its owners only (section 5.2: each side "deltar med ansvarig för respektive
    Tjänstekatalog"): of the roles the forum requires, those the catalogue names as its owners'."""
    if not catalogue.owner_roles:
        return attendees
    owners = set(catalogue.owner_roles)
    return [a.model_copy(update={"roles": [r for r in a.roles if r in owners]}) if a.roles else a for a in attendees]
