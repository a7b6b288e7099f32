"""What the core needs from storage, as protocols; storage/ implements them with SQLAlchemy."""

from __future__ import annotations

from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from types import TracebackType
from typing import Any, Protocol

from bot.chain import ChainHead, Link
from bot.directory.people import Person
from bot.disagreement.records import DisagreementStore
from bot.duties import DutyStore
from bot.events import Event
from bot.forum.records import ForumStore
from bot.inbox import InboxStore
from bot.incident.records import IncidentStore
from bot.native.records import HomeStore, LanguageStore, LiveStore


class DirectoryStore(Protocol):
    # Which platform's account and group `Person.account` and `Person.group` are ("slack", "teams").
    platform: str

    def by_key(self, key: str) -> Person | None: ...

    def by_account(self, user_id: str) -> Person | None: ...

    def by_email(self, email: str) -> Person | None: ...

    def by_usergroup(self, usergroup: str) -> Person | None: ...

    def people(self, party: str | None = None) -> Sequence[Person]: ...

    def people_of(self, parties: Collection[str]) -> Sequence[Person]:
        """Everyone of these parties, in one look; ordered as `people`."""
        ...

    def keys(self) -> set[str]: ...

    def save(self, person: Person, accounts: Mapping[str, str | None] | None = None,
             groups: Mapping[str, str | None] | None = None) -> None:
        """Insert or replace the person with this key. `accounts` (the model's, by platform: slack, teams) are
        all kept, whichever platform is in use; without them `person.account` is this platform's. `groups` (a
        Slack user group, an Entra ID group) likewise; without them `person.group` is this platform's."""
        ...

    def remove(self, key: str) -> None: ...


@dataclass(frozen=True)
class Conversation:
    """Where a platform that cannot be reached by a channel's name alone (Teams) reaches a channel or a person: the
    conversation's id and the service that carries it, as the platform told when it last spoke to the bot."""

    id: str
    service_url: str


@dataclass(frozen=True)
class Posting:
    """A keyed message as written down: `ref` once the platform answered; `digest` (of its normalised text) and
    `sending_since` from the intent written before it was sent."""

    ref: str | None
    digest: str | None
    sending_since: datetime | None


class ConversationStore(Protocol):
    def get(self, key: str) -> Conversation | None: ...

    def remember(self, key: str, conversation: Conversation, at: datetime) -> None: ...

    def name_of(self, conversation_id: str) -> str | None:
        """The #name a channel's conversation was remembered under, if any."""
        ...

    def posted(self, conversation_id: str, key: str) -> str | None:
        """The reference of the message posted there under this key, if any."""
        ...

    def posting(self, conversation_id: str, key: str) -> Posting | None:
        """What is written down of the keyed message there: its ref once the platform answered, and the intent
        written before it was sent. None when sending never began."""
        ...

    def record_intent(self, conversation_id: str, key: str, digest: str, at: datetime) -> None:
        """Before a keyed message is sent: that sending began at `at`, and the digest of its text. A second intent
        for the same key (a retry) keeps the earliest time and takes the new digest; a recorded ref is kept."""
        ...

    def record_posted(self, conversation_id: str, key: str, ref: str, at: datetime, replace: bool = False) -> None:
        """The platform's ref of the keyed message, once it answered (completing the intent, if one was written).
        A ref already recorded is kept, unless `replace` (a message kept current whose old one was gone)."""
        ...


class EventLog(Protocol):
    def record(self, event: Event) -> None: ...

    def record_many(self, events: Sequence[Event]) -> None: ...

    def history(self, subject: str | None = None, kind_prefix: str = "", limit: int = 50) -> Sequence[Event]:
        """Newest first."""
        ...

    def subjects(self, kind: str) -> set[str]:
        """Every subject that has ever had an event of this kind."""
        ...

    def head(self) -> ChainHead:
        """The last event of the hash chain (bot/chain.py): its sequence number and hash."""
        ...

    def links(self) -> Iterable[Link]:
        """Every stored event as bot.chain.walk wants them: the chain by sequence number, then any outside it."""
        ...


@dataclass(frozen=True)
class Glance:
    """What the scheduler's tick must know every second, read in one statement."""

    calendar: int  # the calendar's version (ForumStore.calendar_version)
    oldest_waiting: datetime | None  # when the oldest command still waiting was received
    next_due: datetime | None  # when the earliest pending duty is due
    oldest_claim: datetime | None  # when the oldest claim was last dated


class RateLimits(Protocol):
    """The per-person buckets of bot.rate, shared by every process and replica."""

    def take(self, key: str, now: datetime, every: float, burst: int) -> float | None:
        """Spends a token of the bucket `key` (`burst` at most, one more every `every` seconds), atomically: None
        when there was one, else the seconds until there is."""
        ...


class Erasure(Protocol):
    """Retention, legal holds and erasure (issue 22; storage/erasure.py)."""

    def pseudonym(self, key: str) -> str:
        """The stable pseudonym an erasure gives the person with this key."""
        ...

    def removed_due(self, model: Any, now: datetime) -> list[str]:
        """Keys of people removed from the directory past its retention and not yet pseudonymised."""
        ...

    def erase(self, key: str, model: Any, now: datetime, by: str, reason: str = "erase") -> Any:
        """Pseudonymises the person wherever retention and holds allow, recording it; None when nothing names them."""
        ...

    def cases_due(self, model: Any, now: datetime) -> list[str]:
        """Cases past their retention, not on hold, whose people are not pseudonymised yet."""
        ...

    def erase_case(self, ref: str, model: Any, now: datetime, by: str) -> Any:
        """Pseudonymises the people a case names, in its rows and events, recording it."""
        ...


class UnitOfWork(Protocol):
    """One transaction. Use cases change things through it and never commit: whoever opened it does."""

    directory: DirectoryStore
    events: EventLog
    duties: DutyStore
    forum: ForumStore
    incidents: IncidentStore
    disagreements: DisagreementStore
    inbox: InboxStore
    live: LiveStore
    homes: HomeStore
    conversations: ConversationStore
    languages: LanguageStore
    rates: RateLimits
    erasure: Erasure

    def __enter__(self) -> UnitOfWork: ...

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None: ...

    def commit(self) -> None: ...

    def glance(self) -> Glance:
        """Whether there may be anything for a tick to do, and the calendar's version: one read, along an index
        each, where the answers are nearly always "nothing yet" and the same version."""
        ...


class UnitOfWorkFactory(Protocol):
    """Opens a unit of work. A read-only one promises to write nothing, so the database may let it read beside a
    writer instead of waiting for it."""

    def __call__(self, read_only: bool = False) -> UnitOfWork: ...
