"""The event log: every step a use case takes is written down with who and when, append-only."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any


@dataclass(frozen=True)
class Event:
    at: datetime
    actor: str  # a directory key, a platform user id when unknown to the directory, or "model"/"system"
    kind: str  # e.g. "directory.person_added"
    subject: str  # what it is about, e.g. a person's key
    data: dict[str, Any] = field(default_factory=dict)
