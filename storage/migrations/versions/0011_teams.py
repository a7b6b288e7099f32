"""Microsoft Teams beside Slack: a person's Entra ID object id (the directory's and a war room's), the conversation
references through which the bot reaches Teams channels and people, and the keyed messages it posted there (Teams
lets a bot read no history, so what `find_posted` finds is written down here). Teams' channel ids and activity ids
are longer than Slack's: the columns that hold them are widened.

Revision ID: 0011
Revises: 0010
Create Date: 2026-11-27
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from storage.types import UtcDateTime

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("person") as batch:
        batch.add_column(sa.Column("teams_user", sa.String(64), nullable=True))
        batch.create_unique_constraint(op.f("uq_person_teams_user"), ["teams_user"])
    with op.batch_alter_table("incident_member") as batch:
        batch.add_column(sa.Column("teams_user", sa.String(64), nullable=True))
    with op.batch_alter_table("major_incident") as batch:
        batch.alter_column("channel_id", type_=sa.String(300), existing_type=sa.String(40), existing_nullable=True)
    with op.batch_alter_table("live_message") as batch:
        batch.alter_column("channel", type_=sa.String(300), existing_type=sa.String(100), existing_nullable=False)
        batch.alter_column("ref", type_=sa.String(300), existing_type=sa.String(40), existing_nullable=False)
    op.create_table(
        "chat_conversation",
        sa.Column("key", sa.String(300), nullable=False),
        sa.Column("conversation_id", sa.String(300), nullable=False),
        sa.Column("service_url", sa.String(500), nullable=False),
        sa.Column("updated_at", UtcDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("key", name=op.f("pk_chat_conversation")),
    )
    op.create_table(
        "chat_posted",
        sa.Column("conversation_id", sa.String(300), nullable=False),
        sa.Column("key", sa.String(300), nullable=False),
        sa.Column("ref", sa.String(300), nullable=False),
        sa.Column("posted_at", UtcDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("conversation_id", "key", name=op.f("pk_chat_posted")),
    )


def downgrade() -> None:
    op.drop_table("chat_posted")
    op.drop_table("chat_conversation")
    with op.batch_alter_table("live_message") as batch:
        batch.alter_column("ref", type_=sa.String(40), existing_type=sa.String(300), existing_nullable=False)
        batch.alter_column("channel", type_=sa.String(100), existing_type=sa.String(300), existing_nullable=False)
    with op.batch_alter_table("major_incident") as batch:
        batch.alter_column("channel_id", type_=sa.String(40), existing_type=sa.String(300), existing_nullable=True)
    with op.batch_alter_table("incident_member") as batch:
        batch.drop_column("teams_user")
    with op.batch_alter_table("person") as batch:
        batch.drop_constraint(op.f("uq_person_teams_user"), type_="unique")
        batch.drop_column("teams_user")
