"""The contract as written: the reports delivered before sittings.

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
