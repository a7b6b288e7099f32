"""The inbox knows each delivery: Socket Mode redelivers an envelope whose acknowledgement was lost, and the
trigger a command or a form arrives with is unique to it, so a redelivery is recognised and not done twice.

Revision ID: 0007
Revises: 0005
Create Date: 2026-11-27
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("inbox") as batch:
        batch.add_column(sa.Column("delivery", sa.String(200), nullable=True))
        batch.create_unique_constraint("uq_inbox_delivery", ["delivery"])


def downgrade() -> None:
    with op.batch_alter_table("inbox") as batch:
        batch.drop_constraint("uq_inbox_delivery", type_="unique")
        batch.drop_column("delivery")
