"""The iCalendar feed parses, and expanding its recurrence gives exactly the sittings the bot reminds of."""

from __future__ import annotations

import re
from datetime import datetime, timedelta

import icalendar
import pytest
import recurring_ical_events

from bot.clock import STOCKHOLM
from bot.forum.calendar import Change, sittings
from bot.forum.ical import feed
from bot.i18n import Texts
from bot.model import GovernanceModel
from tests.fakes.slack_http import SlackAppServer

NOW = datetime(2026, 11, 26, 14, 0, tzinfo=STOCKHOLM)
END = NOW + timedelta(days=365)


def expanded(data: bytes, start: datetime = NOW, end: datetime = END) -> dict[str, list[datetime]]:
    found: dict[str, list[datetime]] = {}
    for event in recurring_ical_events.of(icalendar.Calendar.from_ical(data)).between(start, end):
        # A recurring forum's UID is its key; a single sitting's is the key and the sitting's instant.
        forum = re.sub(r"-\d{8}T\d{4}Z(-extra)?$", "", str(event["UID"]).split("@")[0])
        if event.decoded("DTSTART") >= start:  # between() also gives events already under way at `start`
            found.setdefault(forum, []).append(event.decoded("DTSTART"))
    return {k: sorted(v) for k, v in found.items()}


def test_a_year_of_the_feed_is_the_bots_own_calendar(model: GovernanceModel) -> None:
    moved = datetime(2027, 1, 21, 13, 0, tzinfo=STOCKHOLM)
    first = sittings(model.sitting_forum("kontraktsforum"), NOW, END)[0]  # type: ignore[arg-type]
    changes = {"kontraktsforum": [Change("kontraktsforum", "move", first.original, moved),
                                  Change("kontraktsforum", "extra", None, datetime(2027, 2, 2, 10, tzinfo=STOCKHOLM))]}
    data = feed(model, changes, NOW, Texts("sv"))
    calendar = icalendar.Calendar.from_ical(data)
    assert calendar.walk("VTIMEZONE")[0]["TZID"] == "Europe/Stockholm"
    events = expanded(data)
    for forum in model.calendar:
        if not forum.sits:
            continue
        ours = [s.start for s in sittings(forum, NOW, END, changes.get(forum.key, [])) if s.held]
        assert events.get(forum.key, []) == ours, forum.key
    assert moved in events["kontraktsforum"]


def test_uids_are_stable_between_feeds(model: GovernanceModel) -> None:
    def uids(data: bytes) -> set[str]:
        return {str(e["UID"]) for e in icalendar.Calendar.from_ical(data).walk("VEVENT")}

    assert uids(feed(model, {}, NOW, Texts("sv"))) == uids(feed(model, {}, NOW + timedelta(hours=5), Texts("en")))


def test_holiday_moves_are_overrides_of_the_recurring_event(model: GovernanceModel) -> None:
    data = feed(model, {}, NOW, Texts("sv"), "andringshantering")
    events = icalendar.Calendar.from_ical(data).walk("VEVENT")
    overrides = [e for e in events if "RECURRENCE-ID" in e]
    christmas = next(e for e in overrides if e.decoded("RECURRENCE-ID").date().isoformat() == "2026-12-24")
    assert christmas.decoded("DTSTART") == datetime(2026, 12, 28, 9, 0, tzinfo=STOCKHOLM)
    assert "Julafton" in str(christmas["DESCRIPTION"])
    assert {str(e["UID"]) for e in events} == {"andringshantering@samverkan"}


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_the_feed_is_served_over_http(slack_app: SlackAppServer) -> None:
    whole = slack_app.http.get("/calendar.ics")
    assert whole.status_code == 200 and whole.headers["content-type"].startswith("text/calendar")
    one = slack_app.http.get("/calendar/kontraktsforum.ics")
    assert {str(e["SUMMARY"]) for e in icalendar.Calendar.from_ical(one.content).walk("VEVENT")} == {"Kontraktsforum"}
    assert slack_app.http.get("/calendar/nowhere.ics").status_code == 404
