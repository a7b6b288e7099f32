"""Writing many rows in one statement: the per-row look-and-savepoint costs a flush and a round trip to the database
for each row, which a war room of hundreds of people or a calendar of hundreds of reminders cannot afford."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Any, TypeVar

from sqlalchemy import Table
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

T = TypeVar("T")

# Bound parameters per statement: well under SQLite's limit (32,766) and PostgreSQL's (65,535).
CHUNK = 500


def chunks(items: Sequence[T], size: int = CHUNK) -> Iterator[Sequence[T]]:
    for start in range(0, len(items), size):
        yield items[start:start + size]


def insert_missing(session: Session, table: Table, rows: list[dict[str, Any]], unique: list[str]) -> None:
    """Inserts the rows, skipping any whose `unique` columns another transaction inserted meanwhile (what a
    savepoint per row did, in one statement)."""
    if not rows:
        return
    insert = postgresql.insert if session.get_bind().dialect.name == "postgresql" else sqlite.insert
    session.execute(insert(table).on_conflict_do_nothing(index_elements=unique), rows)
