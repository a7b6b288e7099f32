"""The directory and the event log.

Revision ID: 0001
Revises:
Create Date: 2026-11-26
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from storage.types import UtcDateTime

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "person",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("key", sa.String(80), nullable=False),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("party", sa.String(80), nullable=False),
        sa.Column("slack_user", sa.String(100)),
        sa.Column("email", sa.String(254)),
        sa.Column("slack_usergroup", sa.String(32)),
        sa.Column("external", sa.Boolean, nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_person"),
        sa.UniqueConstraint("key", name="uq_person_key"),
        sa.UniqueConstraint("slack_user", name="uq_person_slack_user"),
        sa.UniqueConstraint("slack_usergroup", name="uq_person_slack_usergroup"),
    )
    op.create_index("ix_person_party", "person", ["party"])
    op.create_index("ix_person_email", "person", ["email"])
    op.create_table(
        "person_role",
        sa.Column("person_id", sa.Integer, nullable=False),
        sa.Column("role", sa.String(80), nullable=False),
        sa.ForeignKeyConstraint(["person_id"], ["person.id"], name="fk_person_role_person_id_person",
                                ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("person_id", "role", name="pk_person_role"),
    )
    op.create_table(
        "person_authority",
        sa.Column("person_id", sa.Integer, nullable=False),
        sa.Column("authority", sa.String(20), nullable=False),
        sa.ForeignKeyConstraint(["person_id"], ["person.id"], name="fk_person_authority_person_id_person",
                                ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("person_id", "authority", name="pk_person_authority"),
    )
    op.create_table(
        "event",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("at", UtcDateTime(), nullable=False),
        sa.Column("actor", sa.String(120), nullable=False),
        sa.Column("kind", sa.String(80), nullable=False),
        sa.Column("subject", sa.String(300), nullable=False),
        sa.Column("data", sa.JSON, nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_event"),
    )
    op.create_index("ix_event_kind", "event", ["kind"])
    op.create_index("ix_event_subject_at", "event", ["subject", "at"])


def downgrade() -> None:
    op.drop_table("event")
    op.drop_table("person_authority")
    op.drop_table("person_role")
    op.drop_table("person")
