"""Tables, as typed SQLAlchemy 2.0 mappings. Changes to them go through an Alembic migration."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Boolean, ForeignKey, Index, Integer, MetaData, String
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
    email: Mapped[str | None] = mapped_column(String(254), index=True)
    slack_usergroup: Mapped[str | None] = mapped_column(String(32), unique=True)
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
    authority: Mapped[str] = mapped_column(String(20), primary_key=True)


class EventRow(Base):
    __tablename__ = "event"
    __table_args__ = (Index("ix_event_subject_at", "subject", "at"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    at: Mapped[datetime] = mapped_column(UtcDateTime)
    actor: Mapped[str] = mapped_column(String(120))
    kind: Mapped[str] = mapped_column(String(80), index=True)
    subject: Mapped[str] = mapped_column(String(120))
    data: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
