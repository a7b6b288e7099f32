"""bot.ports.ConversationStore on SQLAlchemy: Teams' conversation references and the keyed messages posted there."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from bot.ports import Conversation, Posting
from storage.models import ConversationRow, PostedRow


class SqlConversationStore:
    def __init__(self, session: Session) -> None:
        self.session = session

    def get(self, key: str) -> Conversation | None:
        row = self.session.get(ConversationRow, key)
        return Conversation(row.conversation_id, row.service_url) if row else None

    def remember(self, key: str, conversation: Conversation, at: datetime) -> None:
        row = self.session.get(ConversationRow, key)
        if row is not None:
            row.conversation_id, row.service_url, row.updated_at = (conversation.id, conversation.service_url, at)
            return
        try:
            with self.session.begin_nested():
                self.session.add(ConversationRow(key=key, conversation_id=conversation.id,
                                                 service_url=conversation.service_url, updated_at=at))
        except IntegrityError:
            pass  # another process remembered it at the same moment; the same reference

    def name_of(self, conversation_id: str) -> str | None:
        return self.session.scalar(select(ConversationRow.key).where(
            ConversationRow.conversation_id == conversation_id, ConversationRow.key.startswith("#")).limit(1))

    def posted(self, conversation_id: str, key: str) -> str | None:
        return self.session.scalar(select(PostedRow.ref).where(PostedRow.conversation_id == conversation_id,
                                                               PostedRow.key == key))

    def posting(self, conversation_id: str, key: str) -> Posting | None:
        row = self.session.get(PostedRow, (conversation_id, key))
        return Posting(row.ref, row.digest, row.sending_since) if row else None

    def record_intent(self, conversation_id: str, key: str, digest: str, at: datetime) -> None:
        row = self.session.get(PostedRow, (conversation_id, key))
        if row is None:
            try:
                with self.session.begin_nested():
                    self.session.add(PostedRow(conversation_id=conversation_id, key=key, digest=digest,
                                               sending_since=at))
                return
            except IntegrityError:
                row = self.session.get(PostedRow, (conversation_id, key), populate_existing=True)
                if row is None:
                    raise
        if row.ref is not None:
            return
        row.digest = digest
        row.sending_since = at if row.sending_since is None else min(row.sending_since, at)

    def record_posted(self, conversation_id: str, key: str, ref: str, at: datetime, replace: bool = False) -> None:
        row = self.session.get(PostedRow, (conversation_id, key))
        if row is not None:
            if row.ref is None or replace:
                row.ref, row.posted_at = ref, at
            return
        try:
            with self.session.begin_nested():
                self.session.add(PostedRow(conversation_id=conversation_id, key=key, ref=ref, posted_at=at))
        except IntegrityError:
            pass
