"""The contract as written: who leads a question between suppliers, the register of the City's clarifications,
and the reports delivered before sittings.

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-28
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from storage.types import UtcDateTime

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("disagreement") as batch:
        batch.add_column(sa.Column("led_by", sa.String(80), nullable=True))
    op.create_table(
        "clarification",
        sa.Column("id", sa.Integer, nullable=False),
        sa.Column("disagreement_id", sa.Integer, nullable=False),
        sa.Column("party_a", sa.String(80), nullable=False),
        sa.Column("party_b", sa.String(80), nullable=False),
        sa.Column("service", sa.String(80), nullable=True),
        sa.Column("text", sa.String(4000), nullable=False),
        sa.Column("by", sa.String(120), nullable=False),
        sa.Column("at", UtcDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_clarification"),
        sa.ForeignKeyConstraint(["disagreement_id"], ["disagreement.id"],
                                name="fk_clarification_disagreement_id_disagreement"),
        sa.UniqueConstraint("disagreement_id", name="uq_clarification_disagreement_id"),
    )
    op.create_table(
        "forum_report",
        sa.Column("id", sa.Integer, nullable=False),
        sa.Column("forum", sa.String(120), nullable=False),
        sa.Column("report", sa.String(80), nullable=False),
        sa.Column("sitting", UtcDateTime(), nullable=False),
        sa.Column("party", sa.String(80), nullable=False),
        sa.Column("text", sa.String(2000), nullable=False),
        sa.Column("by", sa.String(120), nullable=False),
        sa.Column("at", UtcDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_forum_report"),
    )
    op.create_index("ix_forum_report_forum_sitting", "forum_report", ["forum", "sitting"])


def downgrade() -> None:
    op.drop_index("ix_forum_report_forum_sitting", table_name="forum_report")
    op.drop_table("forum_report")
    op.drop_table("clarification")
    with op.batch_alter_table("disagreement") as batch:
        batch.drop_column("led_by")
