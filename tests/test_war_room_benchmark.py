"""The benchmark's claim kept honest: sequential round trips do not grow with the number of invitees."""

from __future__ import annotations

from benchmarks.war_room import measure


def test_round_trips_stay_flat_from_50_to_400_invitees() -> None:
    small = measure(50, 6, latency=0.05)
    large = measure(400, 6, latency=0.05)
    assert small["invitees"] == 50 and large["invitees"] == 400
    assert large["round_trips"] == small["round_trips"] <= 4
    assert large["by_method"]["conversations.invite"] == 4  # type: ignore[index]  # batches of 100
    assert large["calls"] - small["calls"] == 3  # three more batches, nothing per person
