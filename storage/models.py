"""Tables, as typed SQLAlchemy 2.0 mappings. Changes to them go through an Alembic migration."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import JSON, BigInteger, Boolean, Date, ForeignKey, Index, Integer, MetaData, String, UniqueConstraint
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

from storage.types import UtcDateTime

# Named constraints, so migrations can refer to them on every backend.
NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)


class PersonRow(Base):
    __tablename__ = "person"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    key: Mapped[str] = mapped_column(String(80), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    party: Mapped[str] = mapped_column(String(80), index=True)
    slack_user: Mapped[str | None] = mapped_column(String(100), unique=True)
    # Microsoft Entra ID object id (a GUID): the person in Teams.
    teams_user: Mapped[str | None] = mapped_column(String(64), unique=True)
    email: Mapped[str | None] = mapped_column(String(254), index=True)
    slack_usergroup: Mapped[str | None] = mapped_column(String(32), unique=True)
    # An Entra ID group (its object id) whose members act as this entry on Teams: a rota.
    teams_usergroup: Mapped[str | None] = mapped_column(String(64), unique=True)
    external: Mapped[bool] = mapped_column(Boolean, default=False)

    roles: Mapped[list[PersonRoleRow]] = relationship(cascade="all, delete-orphan", lazy="selectin")
    authorities: Mapped[list[PersonAuthorityRow]] = relationship(cascade="all, delete-orphan", lazy="selectin")


class PersonRoleRow(Base):
    __tablename__ = "person_role"

    person_id: Mapped[int] = mapped_column(ForeignKey("person.id", ondelete="CASCADE"), primary_key=True)
    role: Mapped[str] = mapped_column(String(80), primary_key=True)


class PersonAuthorityRow(Base):
    __tablename__ = "person_authority"

    person_id: Mapped[int] = mapped_column(ForeignKey("person.id", ondelete="CASCADE"), primary_key=True)
    # "approver", or limited to a supplier's services: "approver:school-platform" (4.7).
    authority: Mapped[str] = mapped_column(String(100), primary_key=True)


class EventRow(Base):
    __tablename__ = "event"
    __table_args__ = (Index("ix_event_subject_at", "subject", "at"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    at: Mapped[datetime] = mapped_column(UtcDateTime)
    actor: Mapped[str] = mapped_column(String(120))
    kind: Mapped[str] = mapped_column(String(80), index=True)
    subject: Mapped[str] = mapped_column(String(300))
    data: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    # The hash chain (bot/chain.py): the place in the chain, in commit order, and the hashes. Nullable only so that a
    # row written past the log (with SQL) can exist to be found by `samverkan verify`; the log always sets them.
    seq: Mapped[int | None] = mapped_column(Integer, unique=True)
    prev_hash: Mapped[str | None] = mapped_column(String(64))
    hash: Mapped[str | None] = mapped_column(String(64))


class DutyRow(Base):
    __tablename__ = "duty"
    # The sweep reads only pending rows in due order: its cost follows the number due, not the number planned. A
    # planner reads its own kind's pending rows, not every pending row; by due time too, so that the entries a
    # sweep's claims move (the earliest due of a kind) lie together, not one on every page.
    __table_args__ = (Index("ix_duty_state_due", "state", "due_at"),
                      Index("ix_duty_kind_state_due", "kind", "state", "due_at"))

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    key: Mapped[str] = mapped_column(String(300), unique=True)
    kind: Mapped[str] = mapped_column(String(80))
    due_at: Mapped[datetime] = mapped_column(UtcDateTime)
    not_after: Mapped[datetime | None] = mapped_column(UtcDateTime)
    payload: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    state: Mapped[str] = mapped_column(String(16), default="pending")  # pending, claimed, done, dropped, withdrawn
    claimed_by: Mapped[str | None] = mapped_column(String(80))
    claimed_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    finished_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    note: Mapped[str] = mapped_column(String(300), default="")


class ForumChangeRow(Base):
    __tablename__ = "forum_change"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    forum: Mapped[str] = mapped_column(String(120), index=True)
    kind: Mapped[str] = mapped_column(String(16))  # move, cancel, extra
    original: Mapped[datetime | None] = mapped_column(UtcDateTime)
    start: Mapped[datetime | None] = mapped_column(UtcDateTime)
    actor: Mapped[str] = mapped_column(String(120))
    at: Mapped[datetime] = mapped_column(UtcDateTime)


class AgendaItemRow(Base):
    __tablename__ = "agenda_item"
    __table_args__ = (Index("ix_agenda_item_forum_sitting", "forum", "sitting"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    forum: Mapped[str] = mapped_column(String(120))
    sitting: Mapped[datetime] = mapped_column(UtcDateTime)
    text: Mapped[str] = mapped_column(String(2000))
    added_by: Mapped[str] = mapped_column(String(120))
    added_at: Mapped[datetime] = mapped_column(UtcDateTime)


class DecisionRow(Base):
    __tablename__ = "forum_decision"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    forum: Mapped[str] = mapped_column(String(120), index=True)
    text: Mapped[str] = mapped_column(String(2000))
    by: Mapped[str] = mapped_column(String(120))
    at: Mapped[datetime] = mapped_column(UtcDateTime)


class ActionRow(Base):
    __tablename__ = "forum_action"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    forum: Mapped[str] = mapped_column(String(120), index=True)
    owner: Mapped[str] = mapped_column(String(80))
    due: Mapped[date] = mapped_column(Date)
    text: Mapped[str] = mapped_column(String(2000))
    by: Mapped[str] = mapped_column(String(120))
    at: Mapped[datetime] = mapped_column(UtcDateTime)
    done_at: Mapped[datetime | None] = mapped_column(UtcDateTime)


class SubscriptionRow(Base):
    __tablename__ = "forum_subscription"

    forum: Mapped[str] = mapped_column(String(120), primary_key=True)
    person: Mapped[str] = mapped_column(String(80), primary_key=True)


class DeploymentRow(Base):
    __tablename__ = "deployment"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    service: Mapped[str] = mapped_column(String(80), index=True)
    party: Mapped[str] = mapped_column(String(80))
    at: Mapped[datetime] = mapped_column(UtcDateTime, index=True)
    what: Mapped[str] = mapped_column(String(2000))
    announced_by: Mapped[str] = mapped_column(String(120))
    announced_at: Mapped[datetime] = mapped_column(UtcDateTime)
    cancelled_at: Mapped[datetime | None] = mapped_column(UtcDateTime)


class MarkRow(Base):
    __tablename__ = "mark"

    name: Mapped[str] = mapped_column(String(80), primary_key=True)
    value: Mapped[datetime] = mapped_column(UtcDateTime)


class CounterRow(Base):
    """A number bumped in the transaction of a change, so that other processes see at a glance that it happened."""

    __tablename__ = "counter"

    name: Mapped[str] = mapped_column(String(80), primary_key=True)
    value: Mapped[int] = mapped_column(BigInteger)


class IncidentRow(Base):
    __tablename__ = "major_incident"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    title: Mapped[str] = mapped_column(String(300))
    services: Mapped[list[str]] = mapped_column(JSON, default=list)
    severity: Mapped[int] = mapped_column(Integer)
    description: Mapped[str] = mapped_column(String(4000), default="")
    declared_by: Mapped[str] = mapped_column(String(120))
    declared_at: Mapped[datetime] = mapped_column(UtcDateTime, index=True)
    last_update_at: Mapped[datetime] = mapped_column(UtcDateTime)
    channel_name: Mapped[str | None] = mapped_column(String(80))
    # Slack's channel ids are short; a Teams channel's is "19:…@thread.tacv2".
    channel_id: Mapped[str | None] = mapped_column(String(300), index=True)
    commander: Mapped[str | None] = mapped_column(String(120))
    communications: Mapped[str | None] = mapped_column(String(120))
    scribe: Mapped[str | None] = mapped_column(String(120))
    assembled_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    resolved_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    summary: Mapped[str] = mapped_column(String(4000), default="")
    closed_at: Mapped[datetime | None] = mapped_column(UtcDateTime)


class IncidentMemberRow(Base):
    __tablename__ = "incident_member"

    incident_id: Mapped[int] = mapped_column(ForeignKey("major_incident.id", ondelete="CASCADE"), primary_key=True)
    key: Mapped[str] = mapped_column(String(120), primary_key=True)
    party: Mapped[str] = mapped_column(String(80))
    name: Mapped[str] = mapped_column(String(200))
    slack_user: Mapped[str | None] = mapped_column(String(100))
    teams_user: Mapped[str | None] = mapped_column(String(64))
    slack_usergroup: Mapped[str | None] = mapped_column(String(32))
    teams_usergroup: Mapped[str | None] = mapped_column(String(64))
    email: Mapped[str | None] = mapped_column(String(254))
    external: Mapped[bool] = mapped_column(Boolean, default=False)
    state: Mapped[str] = mapped_column(String(16), default="pending")  # pending, invited, failed
    reason: Mapped[str] = mapped_column(String(500), default="")
    asked_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    joined_at: Mapped[datetime | None] = mapped_column(UtcDateTime)


class IncidentStepRow(Base):
    """One step of a war room's assembly and its result: what a resumed assembly need not do again."""

    __tablename__ = "incident_step"

    incident_id: Mapped[int] = mapped_column(ForeignKey("major_incident.id", ondelete="CASCADE"), primary_key=True)
    name: Mapped[str] = mapped_column(String(80), primary_key=True)
    result: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    at: Mapped[datetime] = mapped_column(UtcDateTime)


class IncidentTimelineRow(Base):
    __tablename__ = "incident_timeline"
    __table_args__ = (Index("ix_incident_timeline_incident_at", "incident_id", "at"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    incident_id: Mapped[int] = mapped_column(ForeignKey("major_incident.id", ondelete="CASCADE"))
    # Unique: an event Slack delivers twice (a marked message) is written once.
    key: Mapped[str] = mapped_column(String(300), unique=True)
    at: Mapped[datetime] = mapped_column(UtcDateTime)
    author: Mapped[str] = mapped_column(String(120))
    kind: Mapped[str] = mapped_column(String(40))
    text: Mapped[str] = mapped_column(String(4000), default="")


class DisagreementRow(Base):
    __tablename__ = "disagreement"
    __table_args__ = (
        # A party's list and the agenda read only their own rows, newest first: pages cost the page, not the table.
        Index("ix_disagreement_party_a_id", "party_a", "id"),
        Index("ix_disagreement_party_b_id", "party_b", "id"),
        Index("ix_disagreement_forum_state", "forum", "state"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    title: Mapped[str] = mapped_column(String(300))
    description: Mapped[str] = mapped_column(String(4000), default="")
    raised_by: Mapped[str] = mapped_column(String(120))
    party_a: Mapped[str] = mapped_column(String(80))  # the raiser's party
    party_b: Mapped[str] = mapped_column(String(80))
    path: Mapped[list[Any]] = mapped_column(JSON)  # [[forum, grace days], ...], fixed when opened
    level: Mapped[int] = mapped_column(Integer)
    rung: Mapped[str] = mapped_column(String(120))  # the model forum of the level, for listing by level
    forum: Mapped[str] = mapped_column(String(120))  # the sitting forum of the level
    catalogue: Mapped[str | None] = mapped_column(String(80))
    service: Mapped[str | None] = mapped_column(String(80))
    state: Mapped[str] = mapped_column(String(16))  # open, settled, exhausted, formal, clarified
    opened_at: Mapped[datetime] = mapped_column(UtcDateTime)
    level_since: Mapped[datetime] = mapped_column(UtcDateTime)
    deadline: Mapped[datetime | None] = mapped_column(UtcDateTime)
    settled_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    proposal_text: Mapped[str | None] = mapped_column(String(4000))
    proposal_by: Mapped[str | None] = mapped_column(String(120))
    proposal_party: Mapped[str | None] = mapped_column(String(80))
    proposal_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    accepted: Mapped[list[Any]] = mapped_column(JSON, default=list)
    led_by: Mapped[str | None] = mapped_column(String(80))  # the City, in a question between suppliers


class DisagreementEntryRow(Base):
    """The append-only history of a disagreement."""

    __tablename__ = "disagreement_entry"
    __table_args__ = (Index("ix_disagreement_entry_disagreement_id", "disagreement_id", "id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    disagreement_id: Mapped[int] = mapped_column(ForeignKey("disagreement.id"))
    at: Mapped[datetime] = mapped_column(UtcDateTime)
    actor: Mapped[str] = mapped_column(String(120))
    party: Mapped[str] = mapped_column(String(80))
    kind: Mapped[str] = mapped_column(String(16))
    level: Mapped[int] = mapped_column(Integer)
    forum: Mapped[str] = mapped_column(String(120))
    text: Mapped[str] = mapped_column(String(4000), default="")
    ref: Mapped[str] = mapped_column(String(300), default="")


class ClarificationRow(Base):
    """The register of responsibility boundaries the City recorded to end questions between suppliers."""

    __tablename__ = "clarification"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    disagreement_id: Mapped[int] = mapped_column(ForeignKey("disagreement.id"), unique=True)
    party_a: Mapped[str] = mapped_column(String(80))
    party_b: Mapped[str] = mapped_column(String(80))
    service: Mapped[str | None] = mapped_column(String(80))
    text: Mapped[str] = mapped_column(String(4000))
    by: Mapped[str] = mapped_column(String(120))
    at: Mapped[datetime] = mapped_column(UtcDateTime)


class ReportRow(Base):
    """A report delivered for a sitting; a later delivery of the same report replaces it on the agenda."""

    __tablename__ = "forum_report"
    __table_args__ = (Index("ix_forum_report_forum_sitting", "forum", "sitting"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    forum: Mapped[str] = mapped_column(String(120))
    report: Mapped[str] = mapped_column(String(80))
    sitting: Mapped[datetime] = mapped_column(UtcDateTime)
    party: Mapped[str] = mapped_column(String(80))
    text: Mapped[str] = mapped_column(String(2000))
    by: Mapped[str] = mapped_column(String(120))
    at: Mapped[datetime] = mapped_column(UtcDateTime)


class ServiceLevelRow(Base):
    """The register of Leveransuppföljning's decisions (5.2): for each month, the City's formal approval or
    rejection of its service levels and KPIs, and any service credit. One decision a month."""

    __tablename__ = "service_level_decision"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    month: Mapped[str] = mapped_column(String(7), unique=True)  # YYYY-MM
    forum: Mapped[str] = mapped_column(String(120))
    approved: Mapped[bool] = mapped_column(Boolean)
    credit_sek: Mapped[int | None] = mapped_column(BigInteger)
    reason: Mapped[str] = mapped_column(String(2000))
    party: Mapped[str] = mapped_column(String(80))
    by: Mapped[str] = mapped_column(String(120))
    at: Mapped[datetime] = mapped_column(UtcDateTime)


class UnderlagRow(Base):
    """Input the supplier owes the City (section 4.6): for its IT reporting at fixed times of the year (`key` the
    model's, one row per due time), or a report the City asked for at short notice (`key` None, `requested_by`)."""

    __tablename__ = "underlag"
    __table_args__ = (UniqueConstraint("key", "due", name="uq_underlag_key_due"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    key: Mapped[str | None] = mapped_column(String(80))
    title: Mapped[str] = mapped_column(String(2000))
    owner: Mapped[str] = mapped_column(String(80))
    due: Mapped[datetime] = mapped_column(UtcDateTime)
    requested_by: Mapped[str | None] = mapped_column(String(120))
    requested_at: Mapped[datetime] = mapped_column(UtcDateTime)
    text: Mapped[str | None] = mapped_column(String(2000))
    delivered_by: Mapped[str | None] = mapped_column(String(120))
    delivered_at: Mapped[datetime | None] = mapped_column(UtcDateTime)


class InboxRow(Base):
    """A command as it was received: waiting, then done (or failed) in the transaction that did its work."""

    __tablename__ = "inbox"
    __table_args__ = (Index("ix_inbox_state_received_at", "state", "received_at"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    command: Mapped[dict[str, Any]] = mapped_column(JSON)
    received_at: Mapped[datetime] = mapped_column(UtcDateTime)
    state: Mapped[str] = mapped_column(String(16), default="waiting")  # waiting, done, failed
    processed_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    # What the platform delivered it as (its trigger), so a redelivery is recognised; None when it has none.
    delivery: Mapped[str | None] = mapped_column(String(200), unique=True)


class LiveMessageRow(Base):
    """A message the bot keeps current in place (bot.native.records.LiveMessage): where it is, what it showed."""

    __tablename__ = "live_message"
    __table_args__ = (
        UniqueConstraint("channel", "ref"),
        # A change redraws the subject's messages that may still change: the settled ones are never read again.
        Index("ix_live_message_subject_settled", "subject", "settled"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    subject: Mapped[str] = mapped_column(String(80))
    viewer: Mapped[str] = mapped_column(String(120), default="")
    channel: Mapped[str] = mapped_column(String(300))
    ref: Mapped[str] = mapped_column(String(300))  # a Slack ts, or a Teams activity id
    lang: Mapped[str] = mapped_column(String(8))
    head: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    hash: Mapped[str] = mapped_column(String(64))
    posted_at: Mapped[datetime] = mapped_column(UtcDateTime)
    updated_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    frozen: Mapped[bool] = mapped_column(Boolean, default=False)
    settled: Mapped[bool] = mapped_column(Boolean, default=False)


class HomeViewRow(Base):
    """The Home a person was last shown, as a hash: it is published again only when it changed."""

    __tablename__ = "home_view"

    user_id: Mapped[str] = mapped_column(String(100), primary_key=True)
    person: Mapped[str | None] = mapped_column(String(80))
    hash: Mapped[str | None] = mapped_column(String(64))
    opened_at: Mapped[datetime] = mapped_column(UtcDateTime)
    published_at: Mapped[datetime | None] = mapped_column(UtcDateTime)


class UserLanguageRow(Base):
    """The language a person reads: from the platform's locale when first seen, or as they chose it."""

    __tablename__ = "user_language"

    user_id: Mapped[str] = mapped_column(String(100), primary_key=True)
    lang: Mapped[str] = mapped_column(String(8))
    chosen: Mapped[bool] = mapped_column(Boolean, default=False)
    at: Mapped[datetime] = mapped_column(UtcDateTime)


class ConversationRow(Base):
    """Where Teams can be reached: a conversation reference (the Bot Connector's service URL and conversation id)
    for a channel (by name, `#forum-x`, and by id) or a person's personal chat with the bot (by Entra object id)."""

    __tablename__ = "chat_conversation"

    key: Mapped[str] = mapped_column(String(300), primary_key=True)  # "#name", a channel id, or "user:<object id>"
    conversation_id: Mapped[str] = mapped_column(String(300))
    service_url: Mapped[str] = mapped_column(String(500))
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime)


class PostedRow(Base):
    """A keyed message the bot posts where the platform's history cannot be searched for the key (Teams): written
    as an intent (a digest of the text and when sending began) before the message goes out, and given its ref when
    the platform answers. A taker-over finds the ref, or reads the conversation back for the intent's message."""

    __tablename__ = "chat_posted"

    conversation_id: Mapped[str] = mapped_column(String(300), primary_key=True)
    key: Mapped[str] = mapped_column(String(300), primary_key=True)
    ref: Mapped[str | None] = mapped_column(String(300), nullable=True)  # none yet: sending began, no answer kept
    posted_at: Mapped[datetime | None] = mapped_column(UtcDateTime, nullable=True)
    digest: Mapped[str | None] = mapped_column(String(64), nullable=True)  # sha256 of the normalised text
    sending_since: Mapped[datetime | None] = mapped_column(UtcDateTime, nullable=True)


class ErasureSecretRow(Base):
    """The key of the stable pseudonyms erasure gives people (storage/erasure.py), made once by migration 0018."""

    __tablename__ = "erasure_secret"

    name: Mapped[str] = mapped_column(String(40), primary_key=True)
    value: Mapped[str] = mapped_column(String(128))
