"""Input the supplier owes the City (section 4.6): underlag for the City's IT reporting per tertial and for the
annual IT accounts (one row per due time of a model entry, unique by its key and due time), and reports the City's
central ordering organisation asks for at short notice (no key, who asked).

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-08
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from storage.types import UtcDateTime

revision = "0014"
down_revision = "0013"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "underlag",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("key", sa.String(80), nullable=True),
        sa.Column("title", sa.String(2000), nullable=False),
        sa.Column("owner", sa.String(80), nullable=False),
        sa.Column("due", UtcDateTime(), nullable=False),
        sa.Column("requested_by", sa.String(120), nullable=True),
        sa.Column("requested_at", UtcDateTime(), nullable=False),
        sa.Column("text", sa.String(2000), nullable=True),
        sa.Column("delivered_by", sa.String(120), nullable=True),
        sa.Column("delivered_at", UtcDateTime(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_underlag")),
        sa.UniqueConstraint("key", "due", name="uq_underlag_key_due"),
    )


def downgrade() -> None:
    op.drop_table("underlag")
