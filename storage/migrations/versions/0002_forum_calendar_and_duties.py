"""The forum calendar's records and the duties (reminders and other things due exactly once).

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-26
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from storage.types import UtcDateTime

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "duty",
        sa.Column("id", sa.Integer, nullable=False),
        sa.Column("key", sa.String(300), nullable=False),
        sa.Column("kind", sa.String(80), nullable=False),
        sa.Column("due_at", UtcDateTime(), nullable=False),
        sa.Column("not_after", UtcDateTime()),
        sa.Column("payload", sa.JSON, nullable=False),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("claimed_by", sa.String(80)),
        sa.Column("claimed_at", UtcDateTime()),
        sa.Column("attempts", sa.Integer, nullable=False),
        sa.Column("finished_at", UtcDateTime()),
        sa.Column("note", sa.String(300), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_duty"),
        sa.UniqueConstraint("key", name="uq_duty_key"),
    )
    op.create_index("ix_duty_state_due", "duty", ["state", "due_at"])
    op.create_table(
        "forum_change",
        sa.Column("id", sa.Integer, nullable=False),
        sa.Column("forum", sa.String(120), nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("original", UtcDateTime()),
        sa.Column("start", UtcDateTime()),
        sa.Column("actor", sa.String(120), nullable=False),
        sa.Column("at", UtcDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_forum_change"),
    )
    op.create_index("ix_forum_change_forum", "forum_change", ["forum"])
    op.create_table(
        "agenda_item",
        sa.Column("id", sa.Integer, nullable=False),
        sa.Column("forum", sa.String(120), nullable=False),
        sa.Column("sitting", UtcDateTime(), nullable=False),
        sa.Column("text", sa.String(2000), nullable=False),
        sa.Column("added_by", sa.String(120), nullable=False),
        sa.Column("added_at", UtcDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_agenda_item"),
    )
    op.create_index("ix_agenda_item_forum_sitting", "agenda_item", ["forum", "sitting"])
    op.create_table(
        "forum_decision",
        sa.Column("id", sa.Integer, nullable=False),
        sa.Column("forum", sa.String(120), nullable=False),
        sa.Column("text", sa.String(2000), nullable=False),
        sa.Column("by", sa.String(120), nullable=False),
        sa.Column("at", UtcDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_forum_decision"),
    )
    op.create_index("ix_forum_decision_forum", "forum_decision", ["forum"])
    op.create_table(
        "forum_action",
        sa.Column("id", sa.Integer, nullable=False),
        sa.Column("forum", sa.String(120), nullable=False),
        sa.Column("owner", sa.String(80), nullable=False),
        sa.Column("due", sa.Date, nullable=False),
        sa.Column("text", sa.String(2000), nullable=False),
        sa.Column("by", sa.String(120), nullable=False),
        sa.Column("at", UtcDateTime(), nullable=False),
        sa.Column("done_at", UtcDateTime()),
        sa.PrimaryKeyConstraint("id", name="pk_forum_action"),
    )
    op.create_index("ix_forum_action_forum", "forum_action", ["forum"])
    op.create_table(
        "forum_subscription",
        sa.Column("forum", sa.String(120), nullable=False),
        sa.Column("person", sa.String(80), nullable=False),
        sa.PrimaryKeyConstraint("forum", "person", name="pk_forum_subscription"),
    )
    op.create_table(
        "deployment",
        sa.Column("id", sa.Integer, nullable=False),
        sa.Column("service", sa.String(80), nullable=False),
        sa.Column("party", sa.String(80), nullable=False),
        sa.Column("at", UtcDateTime(), nullable=False),
        sa.Column("what", sa.String(2000), nullable=False),
        sa.Column("announced_by", sa.String(120), nullable=False),
        sa.Column("announced_at", UtcDateTime(), nullable=False),
        sa.Column("cancelled_at", UtcDateTime()),
        sa.PrimaryKeyConstraint("id", name="pk_deployment"),
    )
    op.create_index("ix_deployment_service", "deployment", ["service"])
    op.create_index("ix_deployment_at", "deployment", ["at"])
    op.create_table(
        "mark",
        sa.Column("name", sa.String(80), nullable=False),
        sa.Column("value", UtcDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("name", name="pk_mark"),
    )


def downgrade() -> None:
    for table in ("mark", "deployment", "forum_subscription", "forum_action", "forum_decision", "agenda_item",
                  "forum_change", "duty"):
        op.drop_table(table)
