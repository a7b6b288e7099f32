"""An authorised orderer or approver may be named for one supplier's services only (section 4.7: the City names
them for the lead supplier and for its other suppliers): held as "approver:<supplier>", so the column is widened.

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-08
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0015"
down_revision = "0014"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("person_authority") as batch:
        batch.alter_column("authority", type_=sa.String(100), existing_type=sa.String(20), existing_nullable=False)


def downgrade() -> None:
    op.execute("DELETE FROM person_authority WHERE authority LIKE '%:%'")
    with op.batch_alter_table("person_authority") as batch:
        batch.alter_column("authority", type_=sa.String(20), existing_type=sa.String(100), existing_nullable=False)
