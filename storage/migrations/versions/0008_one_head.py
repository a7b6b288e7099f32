"""Joins the contract's tables (0006) and the inbox's deliveries (0007), made side by side, into one head: the
schema a running bot expects is one revision, which /readyz compares with.

Revision ID: 0008
Revises: 0006, 0007
Create Date: 2026-11-27
"""
from __future__ import annotations

revision = "0008"
down_revision = ("0006", "0007")
branch_labels = None
depends_on = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
