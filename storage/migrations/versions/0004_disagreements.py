"""Disagreements and their append-only history.

Revision ID: 0004
Revises: 0002
Create Date: 2026-11-26
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from storage.types import UtcDateTime

revision = "0004"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "disagreement",
        sa.Column("id", sa.Integer, nullable=False),
        sa.Column("title", sa.String(300), nullable=False),
        sa.Column("description", sa.String(4000), nullable=False),
        sa.Column("raised_by", sa.String(120), nullable=False),
        sa.Column("party_a", sa.String(80), nullable=False),
        sa.Column("party_b", sa.String(80), nullable=False),
        sa.Column("path", sa.JSON, nullable=False),
        sa.Column("level", sa.Integer, nullable=False),
        sa.Column("rung", sa.String(120), nullable=False),
        sa.Column("forum", sa.String(120), nullable=False),
        sa.Column("catalogue", sa.String(80)),
        sa.Column("service", sa.String(80)),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("opened_at", UtcDateTime(), nullable=False),
        sa.Column("level_since", UtcDateTime(), nullable=False),
        sa.Column("deadline", UtcDateTime()),
        sa.Column("settled_at", UtcDateTime()),
        sa.Column("proposal_text", sa.String(4000)),
        sa.Column("proposal_by", sa.String(120)),
        sa.Column("proposal_party", sa.String(80)),
        sa.Column("proposal_at", UtcDateTime()),
        sa.Column("accepted", sa.JSON, nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_disagreement"),
    )
    op.create_index("ix_disagreement_party_a_id", "disagreement", ["party_a", "id"])
    op.create_index("ix_disagreement_party_b_id", "disagreement", ["party_b", "id"])
    op.create_index("ix_disagreement_forum_state", "disagreement", ["forum", "state"])
    op.create_table(
        "disagreement_entry",
        sa.Column("id", sa.Integer, nullable=False),
        sa.Column("disagreement_id", sa.Integer, nullable=False),
        sa.Column("at", UtcDateTime(), nullable=False),
        sa.Column("actor", sa.String(120), nullable=False),
        sa.Column("party", sa.String(80), nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("level", sa.Integer, nullable=False),
        sa.Column("forum", sa.String(120), nullable=False),
        sa.Column("text", sa.String(4000), nullable=False),
        sa.Column("ref", sa.String(300), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_disagreement_entry"),
        sa.ForeignKeyConstraint(["disagreement_id"], ["disagreement.id"],
                                name="fk_disagreement_entry_disagreement_id_disagreement"),
    )
    op.create_index("ix_disagreement_entry_disagreement_id", "disagreement_entry", ["disagreement_id", "id"])


def downgrade() -> None:
    op.drop_table("disagreement_entry")
    op.drop_table("disagreement")
