"""Counters that other processes read to know that something changed: `calendar` is bumped in the transaction of
every change reminders are planned from (CalendarChanged), so each process's per-second tick plans anew only when
it moved, with one read of one row. And an index by which a planner reads the pending duties of its own kind, not
every pending duty (escalations waiting for their sittings are most of them).

Revision ID: 0010
Revises: 0008
Create Date: 2026-11-27
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "counter",
        sa.Column("name", sa.String(80), nullable=False),
        sa.Column("value", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("name", name=op.f("pk_counter")),
    )
    op.create_index("ix_duty_kind_state_due", "duty", ["kind", "state", "due_at"])


def downgrade() -> None:
    op.drop_index("ix_duty_kind_state_due", table_name="duty")
    op.drop_table("counter")
