"""The native surfaces: messages kept current in place (their references, survived across restarts), the Home
each person was last shown (published again only when it changed), and the language each person reads.

Revision ID: 0009
Revises: 0008
Create Date: 2026-11-29
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from storage.types import UtcDateTime

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "live_message",
        sa.Column("id", sa.Integer, nullable=False),
        sa.Column("subject", sa.String(80), nullable=False),
        sa.Column("viewer", sa.String(120), nullable=False),
        sa.Column("channel", sa.String(100), nullable=False),
        sa.Column("ref", sa.String(40), nullable=False),
        sa.Column("lang", sa.String(8), nullable=False),
        sa.Column("head", sa.JSON, nullable=True),
        sa.Column("hash", sa.String(64), nullable=False),
        sa.Column("posted_at", UtcDateTime(), nullable=False),
        sa.Column("updated_at", UtcDateTime(), nullable=True),
        sa.Column("frozen", sa.Boolean, nullable=False),
        sa.Column("settled", sa.Boolean, nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_live_message"),
        sa.UniqueConstraint("channel", "ref", name="uq_live_message_channel"),
    )
    op.create_index("ix_live_message_subject_settled", "live_message", ["subject", "settled"])
    op.create_table(
        "home_view",
        sa.Column("user_id", sa.String(100), nullable=False),
        sa.Column("person", sa.String(80), nullable=True),
        sa.Column("hash", sa.String(64), nullable=True),
        sa.Column("opened_at", UtcDateTime(), nullable=False),
        sa.Column("published_at", UtcDateTime(), nullable=True),
        sa.PrimaryKeyConstraint("user_id", name="pk_home_view"),
    )
    op.create_table(
        "user_language",
        sa.Column("user_id", sa.String(100), nullable=False),
        sa.Column("lang", sa.String(8), nullable=False),
        sa.Column("chosen", sa.Boolean, nullable=False),
        sa.Column("at", UtcDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("user_id", name="pk_user_language"),
    )


def downgrade() -> None:
    op.drop_table("user_language")
    op.drop_table("home_view")
    op.drop_index("ix_live_message_subject_settled", table_name="live_message")
    op.drop_table("live_message")
