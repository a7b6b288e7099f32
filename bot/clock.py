"""Time as a dependency: every rule asks a clock, so tests and the console can move it."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta
from typing import Protocol
from zoneinfo import ZoneInfo

STOCKHOLM = ZoneInfo("Europe/Stockholm")


class Clock(Protocol):
    def now(self) -> datetime:
        """The current instant, always timezone-aware."""
        ...


class SystemClock:
    def now(self) -> datetime:
        return datetime.now(UTC)


class ManualClock:
    """A clock that only moves when told to: the console's `/clock` and the tests."""

    def __init__(self, start: datetime) -> None:
        _require_aware(start)
        self._now = start
        self._lock = threading.Lock()

    def now(self) -> datetime:
        with self._lock:
            return self._now

    def advance(self, delta: timedelta) -> datetime:
        if delta < timedelta(0):
            raise ValueError("the clock only moves forward")
        with self._lock:
            self._now += delta
            return self._now

    def set(self, when: datetime) -> datetime:
        _require_aware(when)
        with self._lock:
            if when < self._now:
                raise ValueError("the clock only moves forward")
            self._now = when
            return self._now


def _require_aware(when: datetime) -> None:
    if when.tzinfo is None or when.utcoffset() is None:
        raise ValueError("naive datetimes are not allowed: give a time zone")


def local(when: datetime) -> datetime:
    """The instant as Stockholm wall-clock time, which is how every user reads it."""
    _require_aware(when)
    return when.astimezone(STOCKHOLM)
