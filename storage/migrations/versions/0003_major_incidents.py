"""Major incidents: the incident, its war room's members, the steps of its assembly, its timeline.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-26
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from storage.types import UtcDateTime

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "major_incident",
        sa.Column("id", sa.Integer, nullable=False),
        sa.Column("title", sa.String(300), nullable=False),
        sa.Column("services", sa.JSON, nullable=False),
        sa.Column("severity", sa.Integer, nullable=False),
        sa.Column("description", sa.String(4000), nullable=False),
        sa.Column("declared_by", sa.String(120), nullable=False),
        sa.Column("declared_at", UtcDateTime(), nullable=False),
        sa.Column("last_update_at", UtcDateTime(), nullable=False),
        sa.Column("channel_name", sa.String(80)),
        sa.Column("channel_id", sa.String(40)),
        sa.Column("commander", sa.String(120)),
        sa.Column("communications", sa.String(120)),
        sa.Column("scribe", sa.String(120)),
        sa.Column("assembled_at", UtcDateTime()),
        sa.Column("resolved_at", UtcDateTime()),
        sa.Column("summary", sa.String(4000), nullable=False),
        sa.Column("closed_at", UtcDateTime()),
        sa.PrimaryKeyConstraint("id", name="pk_major_incident"),
    )
    op.create_index("ix_major_incident_declared_at", "major_incident", ["declared_at"])
    op.create_index("ix_major_incident_channel_id", "major_incident", ["channel_id"])
    op.create_table(
        "incident_member",
        sa.Column("incident_id", sa.Integer, nullable=False),
        sa.Column("key", sa.String(120), nullable=False),
        sa.Column("party", sa.String(80), nullable=False),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("slack_user", sa.String(100)),
        sa.Column("slack_usergroup", sa.String(32)),
        sa.Column("email", sa.String(254)),
        sa.Column("external", sa.Boolean, nullable=False),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("reason", sa.String(500), nullable=False),
        sa.Column("asked_at", UtcDateTime()),
        sa.Column("joined_at", UtcDateTime()),
        sa.ForeignKeyConstraint(["incident_id"], ["major_incident.id"], ondelete="CASCADE",
                                name="fk_incident_member_incident_id_major_incident"),
        sa.PrimaryKeyConstraint("incident_id", "key", name="pk_incident_member"),
    )
    op.create_table(
        "incident_step",
        sa.Column("incident_id", sa.Integer, nullable=False),
        sa.Column("name", sa.String(80), nullable=False),
        sa.Column("result", sa.JSON, nullable=False),
        sa.Column("at", UtcDateTime(), nullable=False),
        sa.ForeignKeyConstraint(["incident_id"], ["major_incident.id"], ondelete="CASCADE",
                                name="fk_incident_step_incident_id_major_incident"),
        sa.PrimaryKeyConstraint("incident_id", "name", name="pk_incident_step"),
    )
    op.create_table(
        "incident_timeline",
        sa.Column("id", sa.Integer, nullable=False),
        sa.Column("incident_id", sa.Integer, nullable=False),
        sa.Column("key", sa.String(300), nullable=False),
        sa.Column("at", UtcDateTime(), nullable=False),
        sa.Column("author", sa.String(120), nullable=False),
        sa.Column("kind", sa.String(40), nullable=False),
        sa.Column("text", sa.String(4000), nullable=False),
        sa.ForeignKeyConstraint(["incident_id"], ["major_incident.id"], ondelete="CASCADE",
                                name="fk_incident_timeline_incident_id_major_incident"),
        sa.PrimaryKeyConstraint("id", name="pk_incident_timeline"),
        sa.UniqueConstraint("key", name="uq_incident_timeline_key"),
    )
    op.create_index("ix_incident_timeline_incident_at", "incident_timeline", ["incident_id", "at"])


def downgrade() -> None:
    op.drop_table("incident_timeline")
    op.drop_table("incident_step")
    op.drop_table("incident_member")
    op.drop_table("major_incident")
