"""The inbox: commands written down as they are received. Also joins the capabilities' branches into one line of
migrations, so that "at the head" means one revision from here on.

Revision ID: 0005
Revises: 0003, 0004
Create Date: 2026-11-27
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from storage.types import UtcDateTime

revision = "0005"
down_revision = ("0003", "0004")
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "inbox",
        sa.Column("id", sa.Integer, nullable=False),
        sa.Column("command", sa.JSON, nullable=False),
        sa.Column("received_at", UtcDateTime(), nullable=False),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("processed_at", UtcDateTime(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_inbox")),
    )
    op.create_index("ix_inbox_state_received_at", "inbox", ["state", "received_at"])


def downgrade() -> None:
    op.drop_index("ix_inbox_state_received_at", table_name="inbox")
    op.drop_table("inbox")
