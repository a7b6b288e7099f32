"""Rotas from Entra ID groups: a directory entry may name an Entra ID group (its object id) beside its Slack user
group, each kept in its own column as a person's accounts are, so that a deployment on Teams reads the Teams group
and one on Slack the Slack one. A war room's member keeps the group it was asked in through on the same terms.

Revision ID: 0016
Revises: 0015
Create Date: 2026-12-08
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0016"
down_revision = "0015"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("person") as batch:
        batch.add_column(sa.Column("teams_usergroup", sa.String(64), nullable=True))
        batch.create_unique_constraint(op.f("uq_person_teams_usergroup"), ["teams_usergroup"])
    with op.batch_alter_table("incident_member") as batch:
        batch.add_column(sa.Column("teams_usergroup", sa.String(64), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("incident_member") as batch:
        batch.drop_column("teams_usergroup")
    with op.batch_alter_table("person") as batch:
        batch.drop_constraint(op.f("uq_person_teams_usergroup"), type_="unique")
        batch.drop_column("teams_usergroup")
