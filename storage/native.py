"""The native surfaces' stores (bot.native.records) on SQLAlchemy: conditional updates where two processes may
race, as for duties."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import bindparam, or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from bot.native.records import HomeView, Language, LiveMessage
from storage.models import HomeViewRow, LiveMessageRow, UserLanguageRow


def _live(row: LiveMessageRow) -> LiveMessage:
    return LiveMessage(row.id, row.subject, row.viewer, row.channel, row.ref, row.lang, row.head,  # type: ignore[arg-type]
                       row.hash, row.posted_at, row.updated_at, row.frozen, row.settled)


class SqlLiveStore:
    def __init__(self, session: Session) -> None:
        self.session = session

    def add(self, message: LiveMessage) -> LiveMessage | None:
        found = self.session.scalar(select(LiveMessageRow).where(LiveMessageRow.channel == message.channel,
                                                                 LiveMessageRow.ref == message.ref))
        if found is not None:
            return None
        row = LiveMessageRow(subject=message.subject, viewer=message.viewer, channel=message.channel,
                             ref=message.ref, lang=message.lang, head=message.head, hash=message.hash,
                             posted_at=message.posted_at, updated_at=message.updated_at, frozen=message.frozen,
                             settled=message.settled)
        try:
            with self.session.begin_nested():
                self.session.add(row)
        except IntegrityError:
            return None
        return _live(row)

    def unsettled(self, subject: str) -> Sequence[LiveMessage]:
        query = (select(LiveMessageRow).where(LiveMessageRow.subject == subject, LiveMessageRow.settled.is_(False))
                 .order_by(LiveMessageRow.id))
        return [_live(row) for row in self.session.scalars(query)]

    def freeze_others(self, subject: str, viewer: str, channel: str, keep: int) -> int:
        result = self.session.execute(
            update(LiveMessageRow).where(LiveMessageRow.subject == subject, LiveMessageRow.viewer == viewer,
                                         LiveMessageRow.channel == channel, LiveMessageRow.id != keep,
                                         LiveMessageRow.frozen.is_(False))
            .values(frozen=True).execution_options(synchronize_session=False))
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
        rows = self.session.scalars(select(UserLanguageRow).where(UserLanguageRow.user_id.in_(list(user_ids))))
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
