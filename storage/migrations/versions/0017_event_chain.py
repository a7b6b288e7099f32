"""The event log as a hash chain (bot/chain.py): each event gets its place in the chain (`seq`), the hash of the
event before it and its own hash, SHA-256 over a canonical JSON of its fields and that previous hash.

How it keeps the chain: the events already stored were written before there was one, so nothing can vouch for them
but this migration. It chains them as they stand, in the order they were appended (by id, which both backends hand
out in insert order), from the genesis hash, in the same transaction that adds the columns: from this revision on
every event is in the chain, and `samverkan verify` finds any later change. The existing rows' content is read and
hashed, never altered. Processes of the previous version must be stopped while it runs (a rolling update would let
them write events past the chain, which verify would report as inserted); on PostgreSQL the chain's lock is held
too, so that a new process cannot append before the old events are chained.

Revision ID: 0017
Revises: 0016
Create Date: 2026-12-08
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from bot.chain import GENESIS, digest
from storage.types import UtcDateTime

revision = "0017"
down_revision = "0016"
branch_labels = None
depends_on = None

# The same as storage.events.CHAIN_LOCK (written out: a migration must not change when the code does).
CHAIN_LOCK = 7252012


def upgrade() -> None:
    with op.batch_alter_table("event") as batch:
        batch.add_column(sa.Column("seq", sa.Integer(), nullable=True))
        batch.add_column(sa.Column("prev_hash", sa.String(64), nullable=True))
        batch.add_column(sa.Column("hash", sa.String(64), nullable=True))
        batch.create_unique_constraint(op.f("uq_event_seq"), ["seq"])
    bind = op.get_bind()
    if bind.dialect.name == "postgresql":
        bind.exec_driver_sql(f"SELECT pg_advisory_xact_lock({CHAIN_LOCK})")
    event = sa.table("event", sa.column("id", sa.Integer()), sa.column("at", UtcDateTime()),
                     sa.column("actor", sa.String()), sa.column("kind", sa.String()),
                     sa.column("subject", sa.String()), sa.column("data", sa.JSON()),
                     sa.column("seq", sa.Integer()), sa.column("prev_hash", sa.String()),
                     sa.column("hash", sa.String()))
    prev, seq, last = GENESIS, 0, 0
    while True:
        rows = bind.execute(sa.select(event.c.id, event.c.at, event.c.actor, event.c.kind, event.c.subject,
                                      event.c.data).where(event.c.id > last).order_by(event.c.id).limit(1000)).all()
        if not rows:
            break
        updates = []
        for row in rows:
            seq += 1
            own = digest(seq, row.at, row.actor, row.kind, row.subject, dict(row.data or {}), prev)
            updates.append({"row_id": row.id, "seq": seq, "prev_hash": prev, "hash": own})
            prev, last = own, row.id
        bind.execute(event.update().where(event.c.id == sa.bindparam("row_id"))
                     .values(seq=sa.bindparam("seq"), prev_hash=sa.bindparam("prev_hash"),
                             hash=sa.bindparam("hash")), updates)


def downgrade() -> None:
    with op.batch_alter_table("event") as batch:
        batch.drop_constraint(op.f("uq_event_seq"), type_="unique")
        batch.drop_column("hash")
        batch.drop_column("prev_hash")
        batch.drop_column("seq")
