"""bot.ports.ConversationStore on SQLAlchemy: Teams' conversation references and the keyed messages posted there."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from bot.ports import Conversation
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

    def record_posted(self, conversation_id: str, key: str, ref: str, at: datetime) -> None:
        if self.posted(conversation_id, key) is not None:
            return
        try:
            with self.session.begin_nested():
                self.session.add(PostedRow(conversation_id=conversation_id, key=key, ref=ref, posted_at=at))
        except IntegrityError:
            pass
