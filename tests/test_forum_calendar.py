"""When forums sit: a year of every forum of the shipped model, holidays, daylight saving, agreed changes."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bot.clock import STOCKHOLM
from bot.forum.calendar import Change, is_working_day, next_sitting, sittings
from bot.model import GovernanceModel

NOW = datetime(2026, 11, 26, 14, 0, tzinfo=STOCKHOLM)
YEAR = NOW + timedelta(days=365)


def local(sitting) -> str:  # type: ignore[no-untyped-def]
    return sitting.start.astimezone(STOCKHOLM).strftime("%Y-%m-%d %H:%M")


def test_every_forum_that_sits_has_the_cadence_the_contract_says(model: GovernanceModel) -> None:
    # Sittings in the coming year, per forum, as GOVERNANCE.md's cadences require.
    counts = {f.key: len([s for s in sittings(f, NOW, YEAR) if s.held]) for f in model.calendar if f.sits}
    expected = {
        "affarsforum": 2, "kontraktsforum": 4, "overgripande-tjansteforum": 4, "releaseplaner": 2,
        "innovationsmote": 2, "arbetsmiljoforum": 2, "nyckelleverantorsmote": 4, "operativt-samverkansmote": 4,
        "datakommunikation": 2, "leveransuppfoljning": 12, "verksamhetsforum": 12, "samverkansforum": 12,
        "forum-it-service": 12, "lokal-samverkan": 12,
    }
    for key, count in expected.items():
        assert counts[key] == count, key
    for weekly in ("andringshantering", "gsit-veckomote", "tjansteforum-digitala-enheter",
                   "tjansteforum-service-desk"):
        assert 51 <= counts[weekly] <= 53, weekly
    for fortnightly in ("produktionssattning", "problemmote"):
        assert 25 <= counts[fortnightly] <= 27, fortnightly
    assert 4 <= counts["arkitekturrad"] <= 6
    assert "servicedesk-samverkan" not in counts  # continuous: no fixed sittings


def test_no_sitting_is_held_on_a_weekend_or_public_holiday(model: GovernanceModel) -> None:
    for forum in model.calendar:
        if forum.sits:
            for sitting in sittings(forum, NOW, YEAR):
                if sitting.held:
                    assert is_working_day(sitting.start.astimezone(STOCKHOLM).date()), (forum.key, local(sitting))


def test_a_sitting_on_a_holiday_moves_to_the_next_working_day_and_says_why(model: GovernanceModel) -> None:
    change_meeting = model.sitting_forum("andringshantering")
    assert change_meeting
    ascension = [s for s in sittings(change_meeting, datetime(2027, 5, 1, tzinfo=STOCKHOLM),
                                     datetime(2027, 5, 10, tzinfo=STOCKHOLM))]
    assert [(local(s), s.status, s.holiday) for s in ascension] == [
        ("2027-05-07 09:00", "moved", "Kristi himmelsfärdsdag"),
    ]


def test_the_cancel_rule_cancels_instead(model: GovernanceModel) -> None:
    forum = model.sitting_forum("andringshantering").model_copy(update={"holidays": "cancel"})  # type: ignore[union-attr]
    christmas = sittings(forum, datetime(2026, 12, 20, tzinfo=STOCKHOLM), datetime(2026, 12, 27, tzinfo=STOCKHOLM))
    assert [(s.status, s.holiday) for s in christmas] == [("cancelled", "Julafton")]


def test_wall_clock_time_holds_across_daylight_saving(model: GovernanceModel) -> None:
    weekly = model.sitting_forum("andringshantering")
    assert weekly
    # Summer time begins on Sunday 28 March 2027; the Thursday meeting stays at 09:00.
    spring = sittings(weekly, datetime(2027, 3, 24, tzinfo=STOCKHOLM), datetime(2027, 4, 2, tzinfo=STOCKHOLM))
    assert [local(s) for s in spring] == ["2027-03-25 09:00", "2027-04-01 09:00"]
    assert spring[0].start.utcoffset() == timedelta(hours=1) and spring[1].start.utcoffset() == timedelta(hours=2)


def test_agreed_moves_cancellations_and_extras(model: GovernanceModel) -> None:
    forum = model.sitting_forum("kontraktsforum")
    assert forum
    first = next_sitting(forum, NOW)
    assert first and local(first) == "2027-01-19 10:00"
    moved_to = datetime(2027, 1, 21, 13, 0, tzinfo=STOCKHOLM)
    changes = [
        Change("kontraktsforum", "move", first.original, moved_to),
        Change("kontraktsforum", "extra", None, datetime(2027, 2, 2, 10, 0, tzinfo=STOCKHOLM)),
    ]
    coming = sittings(forum, NOW, datetime(2027, 5, 1, tzinfo=STOCKHOLM), changes)
    assert [(local(s), s.status) for s in coming] == [
        ("2027-01-21 13:00", "moved"), ("2027-02-02 10:00", "extra"), ("2027-04-20 10:00", "scheduled"),
    ]
    cancelled = sittings(forum, NOW, datetime(2027, 2, 1, tzinfo=STOCKHOLM),
                         [Change("kontraktsforum", "cancel", first.original)])
    assert [s.status for s in cancelled] == ["cancelled"]
    assert next_sitting(forum, NOW, [Change("kontraktsforum", "cancel", first.original)]).start == (  # type: ignore[union-attr]
        datetime(2027, 4, 20, 10, 0, tzinfo=STOCKHOLM))


@pytest.mark.parametrize("forum_key", ["affarsforum", "problemmote", "arkitekturrad"])
def test_sitting_identity_is_stable_whatever_happens_to_it(model: GovernanceModel, forum_key: str) -> None:
    forum = model.sitting_forum(forum_key)
    assert forum
    first = sittings(forum, NOW, YEAR)[0]
    moved = sittings(forum, NOW, YEAR, [Change(forum_key, "move", first.original, first.start + timedelta(days=1))])
    assert moved[0].uid == first.uid and moved[0].original == first.original


def _whole_horizon(forum, now, changes, horizon_days=400):  # type: ignore[no-untyped-def]
    # next_sitting as it was before it looked in windows: the whole horizon reckoned at once.
    return next((s for s in sittings(forum, now, now + timedelta(days=horizon_days), changes) if s.held), None)


@given(data=st.data())
@settings(max_examples=150, deadline=None, derandomize=True,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
def test_the_next_sitting_looked_for_in_windows_is_the_one_of_the_whole_horizon(model: GovernanceModel,
                                                                                data: st.DataObject) -> None:
    forum = data.draw(st.sampled_from([f for f in model.calendar if f.sits]))
    now = NOW + timedelta(minutes=data.draw(st.integers(0, 3 * 365 * 24 * 60)))
    rule = sittings(forum, now - timedelta(days=60), now + timedelta(days=460))
    changes = []
    for _ in range(data.draw(st.integers(0, 4))):
        kind = data.draw(st.sampled_from(["move", "cancel", "extra"]))
        # Moves and extras land anywhere within a year either way: across the windows' borders too.
        start = now + timedelta(hours=data.draw(st.integers(-24 * 60, 24 * 420)))
        original = data.draw(st.sampled_from(rule)).original if rule and kind != "extra" else None
        changes.append(Change(forum.key, kind, original, start if kind != "cancel" else None))
    assert next_sitting(forum, now, changes) == _whole_horizon(forum, now, changes)
