"""Erasure (issue 22): the per-database secret that keys the stable pseudonyms (HMAC-SHA256 of a person's key), made
here once so that every process and every erasure of this database names a person the same way, and no other
database can work a pseudonym back to the key without it. It lives in the database it protects: a copy of the
database alone no longer lets anyone recompute who a pseudonym was without also guessing keys. Touches no event.

Revision ID: 0018
Revises: 0017
Create Date: 2026-12-08
"""
from __future__ import annotations

import secrets

import sqlalchemy as sa
from alembic import op

revision = "0018"
down_revision = "0017"
branch_labels = None
depends_on = None


def upgrade() -> None:
    table = op.create_table(
        "erasure_secret",
        sa.Column("name", sa.String(40), primary_key=True),
        sa.Column("value", sa.String(128), nullable=False),
    )
    op.bulk_insert(table, [{"name": "pseudonym", "value": secrets.token_hex(32)}])


def downgrade() -> None:
    op.drop_table("erasure_secret")
