"""The benchmark's structural claim kept honest: Slack calls grow by one invite batch per 100 people, nothing per
person. (Round trips are inferred from timing, so they are reported by the benchmark, not asserted here.)"""

from __future__ import annotations

import pytest

from benchmarks.war_room import measure

pytestmark = pytest.mark.slow  # over HTTP, or real processes: the full run, not the fast tier


def test_calls_grow_by_one_invite_batch_per_hundred_invitees() -> None:
    small, large = measure(50, 6, latency=0.0), measure(400, 6, latency=0.0)
    assert small["invitees"] == 50 and large["invitees"] == 400
    assert small["by_method"]["conversations.invite"] == 1  # type: ignore[index]
    assert large["by_method"]["conversations.invite"] == 4  # type: ignore[index]  # batches of 100
    assert large["calls"] - small["calls"] == 3  # three more batches, nothing per person
