"""Exactly once on Teams: a keyed message is written down as an intent before the Bot Connector is called (a digest
of its text and when sending began), and its ref once the Connector answers. A process that takes a duty over from
one killed between the two reads the conversation back through Graph for the intent's message instead of posting it
a second time (teams/chat.py). The ref (and when it was kept) is therefore empty while a post is in flight.

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-08
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from storage.types import UtcDateTime

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("chat_posted") as batch:
        batch.alter_column("ref", existing_type=sa.String(300), nullable=True)
        batch.alter_column("posted_at", existing_type=UtcDateTime(), nullable=True)
        batch.add_column(sa.Column("digest", sa.String(64), nullable=True))
        batch.add_column(sa.Column("sending_since", UtcDateTime(), nullable=True))


def downgrade() -> None:
    op.execute("DELETE FROM chat_posted WHERE ref IS NULL")  # intents whose answer never came: nothing to keep
    with op.batch_alter_table("chat_posted") as batch:
        batch.drop_column("sending_since")
        batch.drop_column("digest")
        batch.alter_column("posted_at", existing_type=UtcDateTime(), nullable=False)
        batch.alter_column("ref", existing_type=sa.String(300), nullable=False)
