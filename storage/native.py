"""The native surfaces' stores (bot.native.records) on SQLAlchemy: conditional updates where two processes may
race, as for duties."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from datetime import datetime
from typing import Any

from sqlalchemy import Row, bindparam, or_, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from bot.native.records import HomeView, Language, LiveMessage
from storage.models import HomeViewRow, LiveMessageRow, UserLanguageRow

_LIVE = LiveMessageRow.__table__
_UNSETTLED = (select(_LIVE).where(_LIVE.c.subject == bindparam("subject"), _LIVE.c.settled.is_(False))
              .order_by(_LIVE.c.id))
_FREEZE = (update(_LIVE).where(_LIVE.c.subject == bindparam("the_subject"), _LIVE.c.viewer == bindparam("the_viewer"),
                               _LIVE.c.channel == bindparam("the_channel"), _LIVE.c.id != bindparam("keep"),
                               _LIVE.c.frozen.is_(False))
           .values(frozen=True))


def _live(row: LiveMessageRow | Row[Any]) -> LiveMessage:
    return LiveMessage(row.id, row.subject, row.viewer, row.channel, row.ref, row.lang, row.head,  # type: ignore[arg-type]
                       row.hash, row.posted_at, row.updated_at, row.frozen, row.settled)


class SqlLiveStore:
    def __init__(self, session: Session) -> None:
        self.session = session

    def add(self, message: LiveMessage) -> LiveMessage | None:
        # One insert that skips a message written down already (by a redelivery, or another process), instead of a
        # look, a savepoint and an ORM object: every notice sent is written down.
        insert = postgresql.insert if self.session.get_bind().dialect.name == "postgresql" else sqlite.insert
        added = self.session.scalar(
            insert(LiveMessageRow.__table__).on_conflict_do_nothing(index_elements=["channel", "ref"])
            .returning(LiveMessageRow.__table__.c.id),
            {"subject": message.subject, "viewer": message.viewer, "channel": message.channel, "ref": message.ref,
             "lang": message.lang, "head": message.head, "hash": message.hash, "posted_at": message.posted_at,
             "updated_at": message.updated_at, "frozen": message.frozen, "settled": message.settled})
        return None if added is None else replace(message, id=added)

    # A sweep's notices read and write these once per message: the statements are made once, as plain rows.
    def unsettled(self, subject: str) -> Sequence[LiveMessage]:
        return [_live(row) for row in self.session.execute(_UNSETTLED, {"subject": subject})]

    def freeze_others(self, subject: str, viewer: str, channel: str, keep: int) -> int:
        result = self.session.execute(_FREEZE, {"the_subject": subject, "the_viewer": viewer,
                                                "the_channel": channel, "keep": keep})
        return result.rowcount  # type: ignore[attr-defined,no-any-return]

    def take_slot(self, message_id: int, now: datetime, not_since: datetime) -> bool:
        result = self.session.execute(
            update(LiveMessageRow).where(LiveMessageRow.id == message_id,
                                         or_(LiveMessageRow.updated_at.is_(None),
                                             LiveMessageRow.updated_at <= not_since))
            .values(updated_at=now).execution_options(synchronize_session=False))
        return result.rowcount == 1  # type: ignore[attr-defined]

    def shown(self, message_id: int, digest: str, settled: bool) -> None:
        self.session.execute(update(LiveMessageRow).where(LiveMessageRow.id == message_id)
                             .values(hash=digest, settled=settled).execution_options(synchronize_session=False))


def _home(row: HomeViewRow) -> HomeView:
    return HomeView(row.user_id, row.person, row.hash, row.published_at)


class SqlHomeStore:
    def __init__(self, session: Session) -> None:
        self.session = session

    def opened(self, user_id: str, person: str | None, at: datetime) -> HomeView:
        row = self.session.get(HomeViewRow, user_id)
        if row is None:
            try:
                with self.session.begin_nested():
                    row = HomeViewRow(user_id=user_id, person=person, hash=None, opened_at=at)
                    self.session.add(row)
            except IntegrityError:  # opened in two places at once: the other row is as good
                row = self.session.get(HomeViewRow, user_id)
                assert row is not None
        elif row.person != person:
            row.person = person
        return _home(row)

    def get(self, user_id: str) -> HomeView | None:
        row = self.session.get(HomeViewRow, user_id)
        return _home(row) if row is not None else None

    def every(self) -> Sequence[HomeView]:
        return [_home(row) for row in self.session.scalars(select(HomeViewRow).order_by(HomeViewRow.user_id))]

    def exists(self) -> bool:
        return self.session.scalar(select(HomeViewRow.user_id).limit(1)) is not None

    def swap(self, user_id: str, old: str | None, new: str, at: datetime) -> bool:
        same = HomeViewRow.hash.is_(None) if old is None else HomeViewRow.hash == old
        result = self.session.execute(update(HomeViewRow).where(HomeViewRow.user_id == user_id, same)
                                      .values(hash=new, published_at=at).execution_options(synchronize_session=False))
        return result.rowcount == 1  # type: ignore[attr-defined]

    def forget(self, user_id: str, digest: str) -> None:
        self.session.execute(update(HomeViewRow).where(HomeViewRow.user_id == user_id, HomeViewRow.hash == digest)
                             .values(hash=None).execution_options(synchronize_session=False))


_LANGUAGE = (select(UserLanguageRow.lang, UserLanguageRow.chosen, UserLanguageRow.at)
             .where(UserLanguageRow.user_id == bindparam("user_id")))


_LANGUAGES = select(UserLanguageRow.user_id, UserLanguageRow.lang, UserLanguageRow.chosen, UserLanguageRow.at).where(
    UserLanguageRow.user_id.in_(bindparam("users", expanding=True)))


class SqlLanguageStore:
    def __init__(self, session: Session) -> None:
        self.session = session

    def get(self, user_id: str) -> Language | None:
        # Read with every command: plain columns by a statement made once, no ORM object to track.
        row = self.session.execute(_LANGUAGE, {"user_id": user_id}).first()
        return Language(row.lang, row.chosen, row.at) if row is not None else None  # type: ignore[arg-type]

    def get_many(self, user_ids: Sequence[str]) -> dict[str, Language]:
        if not user_ids:
            return {}
        rows = self.session.execute(_LANGUAGES, {"users": list(user_ids)})
        return {row.user_id: Language(row.lang, row.chosen, row.at) for row in rows}  # type: ignore[arg-type]

    def remember(self, user_id: str, language: Language) -> None:
        row = self.session.get(UserLanguageRow, user_id)
        if row is not None:
            row.lang, row.chosen, row.at = language.lang, language.chosen, language.at
            return
        try:
            with self.session.begin_nested():
                self.session.add(UserLanguageRow(user_id=user_id, lang=language.lang, chosen=language.chosen,
                                                 at=language.at))
        except IntegrityError:
            pass  # remembered at the same moment by another process, from the same locale
