from __future__ import annotations

from datetime import datetime, timedelta

import pytest

from bot.clock import STOCKHOLM, ManualClock, SystemClock


def test_system_clock_is_timezone_aware() -> None:
    assert SystemClock().now().utcoffset() == timedelta(0)


def test_manual_clock_moves_forward_only_and_refuses_naive_times() -> None:
    clock = ManualClock(datetime(2027, 1, 1, 9, tzinfo=STOCKHOLM))
    assert clock.advance(timedelta(days=2)) == datetime(2027, 1, 3, 9, tzinfo=STOCKHOLM)
    with pytest.raises(ValueError):
        clock.set(datetime(2027, 1, 2, 9, tzinfo=STOCKHOLM))
    with pytest.raises(ValueError):
        clock.set(datetime(2027, 1, 5, 9))  # noqa: DTZ001 - the naive time is the point
