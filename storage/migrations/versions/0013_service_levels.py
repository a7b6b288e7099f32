"""The register of Leveransuppföljning's decisions (section 5.2): each month the City's central ordering organisation
formally approves or rejects the previous month's service levels and KPIs and settles any service credit. One row a
month (a unique month), so two decisions on one month cannot both be recorded.

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-08
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from storage.types import UtcDateTime

revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "service_level_decision",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("month", sa.String(7), nullable=False),
        sa.Column("forum", sa.String(120), nullable=False),
        sa.Column("approved", sa.Boolean(), nullable=False),
        sa.Column("credit_sek", sa.BigInteger(), nullable=True),
        sa.Column("reason", sa.String(2000), nullable=False),
        sa.Column("party", sa.String(80), nullable=False),
        sa.Column("by", sa.String(120), nullable=False),
        sa.Column("at", UtcDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_service_level_decision")),
        sa.UniqueConstraint("month", name=op.f("uq_service_level_decision_month")),
    )


def downgrade() -> None:
    op.drop_table("service_level_decision")
