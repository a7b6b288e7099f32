"""The legal clocks of a major incident: classified by its leads, deadlines from the time of awareness in elapsed
hours (across the change to summer time too) and calendar months, the City's contact reminded exactly once before
each, a missed one flagged, reports recorded, and all of it in the close report."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest

from bot.clock import STOCKHOLM, ManualClock
from bot.incident.clocks import clocks, deadline
from bot.model.schema import LegalReport
from tests.conftest import Dialogue

EVA, JOHAN = "eva.lind", "johan.ek"
EVA_USER = "U01EVALIND"


@pytest.fixture
def clock() -> ManualClock:
    # The day before the change to summer time (2027-03-28, 02:00 CET becomes 03:00 CEST).
    return ManualClock(datetime(2027, 3, 27, 10, 30, tzinfo=STOCKHOLM))


@pytest.fixture
def room(dialogue: Dialogue) -> Dialogue:
    dialogue.chat.usergroups["S02SDJOUR"] = ["U02SDJOUR1", "U02SDJOUR2"]
    return dialogue


def declared(room: Dialogue):  # type: ignore[no-untyped-def]
    room.say(EVA, '/incident declare "Intrång i elevregistret" wlan 1')
    with room.core.unit_of_work() as uow:
        return uow.incidents.open_incidents()[-1]


def at(*args: int) -> datetime:
    return datetime(*args, tzinfo=STOCKHOLM)  # type: ignore[misc]


def said(room: Dialogue, channel: str, words: str) -> list[str]:
    return [t for t in room.chat.posted_in(channel) if words in t]


def report(hours: int | None = None, months: int | None = None) -> LegalReport:
    return LegalReport.model_validate({"key": "r", "name": {"sv": "r", "en": "r"}, "recipient": {"sv": "x", "en": "x"},
                                       "hours": hours, "months": months})


def test_hours_are_elapsed_hours_across_the_change_to_summer_time() -> None:
    # 24 hours from 10:00 CET (09:00 UTC) end at 09:00 UTC the next day: 11:00 CEST on the clock, not 10:00.
    due = deadline(at(2027, 3, 27, 10, 0), report(hours=24))
    assert due == at(2027, 3, 28, 11, 0)
    assert (due - at(2027, 3, 27, 10, 0)) == timedelta(hours=24)
    # And back to winter time: 24 hours from 10:00 CEST end at 09:00 CET.
    assert deadline(at(2027, 10, 30, 10, 0), report(hours=24)) == at(2027, 10, 31, 9, 0)


@pytest.mark.parametrize(("base", "due"), [
    (at(2027, 3, 27, 10, 0), at(2027, 4, 27, 10, 0)),  # a calendar month: the same time on the clock in summer
    (at(2027, 1, 31, 12, 0), at(2027, 2, 28, 12, 0)),  # a month without the day: its last day
])
def test_months_are_calendar_months_in_stockholm(base: datetime, due: datetime) -> None:
    assert deadline(base, report(months=1)) == due


def test_only_the_leads_classify(room: Dialogue) -> None:
    found = declared(room)
    answer = room.say(JOHAN, f"/incident classify {found.ref} nis2")
    assert answer.startswith(f"Bara incidentledaren för {found.ref}")
    with room.core.unit_of_work() as uow:
        assert not clocks(room.core.model.major_incidents, uow.incidents.steps(found.id))  # type: ignore[arg-type]


def test_bad_classifications_are_explained(room: Dialogue) -> None:
    found = declared(room)
    assert "nis2, gdpr" in room.say(EVA, f"/incident classify {found.ref} nis3")
    assert "aware=ÅÅÅÅ-MM-DD TT:MM" in room.say(EVA, f"/incident classify {found.ref} nis2 aware=igår")
    assert "aware=ÅÅÅÅ-MM-DD TT:MM" in room.say(EVA, f"/incident classify {found.ref} nis2 aware=2027-03-28 10:00")
    assert "inte klassad" in room.say(EVA, f"/incident reported {found.ref} early-warning X-1")
    room.say(EVA, f"/incident classify {found.ref} gdpr")
    assert "redan klassad" in room.say(EVA, f"/incident classify {found.ref} gdpr")
    assert "Ange rapportens referens" in room.say(EVA, f"/incident reported {found.ref} imy-notification")
    assert "imy-notification" in room.say(EVA, f"/incident reported {found.ref} early-warning X-1")


def test_nis2_clocks_remind_once_before_each_deadline_flag_a_missed_one_and_go_into_the_report(
        room: Dialogue) -> None:
    core, clock = room.core, room.core.clock
    found = declared(room)
    channel = found.channel_id
    answer = room.say(EVA, f"/incident classify {found.ref} nis2 aware=2027-03-27 10:00")
    # Shown to the leads and in the war room: 24 h and 72 h in elapsed hours (11:00 summer time), the final
    # report a calendar month after the incident notification (not made yet: from its deadline).
    assert "Tidig varning till CERT-SE (nationell CSIRT): senast söndag 28 mars 2027 kl. 11:00" in answer
    assert "Incidentanmälan till CERT-SE (nationell CSIRT): senast tisdag 30 mars 2027 kl. 11:00" in answer
    assert "Slutrapport till CERT-SE (nationell CSIRT): senast fredag 30 april 2027 kl. 11:00" in answer
    assert said(room, channel, "är klassad som Betydande incident")

    def reminders() -> list[str]:
        return said(room, channel, "Tidig varning för")

    def directs() -> list[str]:
        return [t for user, t in room.chat.directs if user == EVA_USER and "Tidig varning för" in t]

    clock.set(at(2027, 3, 28, 4, 59))  # the 6-hour reminder is due at 05:00 summer time (03:00 UTC)
    core.tick()
    assert reminders() == []
    clock.set(at(2027, 3, 28, 5, 0))
    core.tick()
    core.tick()
    assert len(reminders()) == 1 and len(directs()) == 1
    assert reminders()[0].startswith("@Eva Lind") and "om 6 timmar" in reminders()[0]
    clock.set(at(2027, 3, 28, 10, 0))
    core.tick()
    core.tick()
    assert len(reminders()) == 2 and "om 1 timme" in reminders()[1]
    clock.set(at(2027, 3, 28, 11, 0))
    core.tick()
    core.tick()
    missed = said(room, channel, "har inte registrerats som lämnad")
    assert len(missed) == 1 and "Tidig varning" in missed[0]
    # Made late, and the notification in time: the final report is due a calendar month after it was made.
    room.say(EVA, f"/incident reported {found.ref} early-warning CERT-SE-2027-0042", channel=channel)
    clock.set(at(2027, 3, 29, 12, 0))
    answer = room.say(EVA, f"/incident reported {found.ref} nis2:notification CERT-SE-2027-0043", channel=channel)
    assert "Incidentanmälan för" in answer and "CERT-SE-2027-0043" in answer and "efter tidsfristen" not in answer
    with core.unit_of_work() as uow:
        final = [c for c in clocks(core.model.major_incidents, uow.incidents.steps(found.id))  # type: ignore[arg-type]
                 if c.report.key == "final-report"][0]
    assert final.deadline == at(2027, 4, 29, 12, 0)
    # The notification's reminders are not sent: it was made.
    clock.set(at(2027, 3, 30, 11, 0))
    core.tick()
    core.tick()
    assert said(room, channel, "Incidentanmälan för") == [] or all("ska lämnas" not in t
                                                                   for t in said(room, channel, "Incidentanmälan för"))
    room.say(EVA, "/incident resolve Kontot spärrat", channel=channel)
    room.say(EVA, "/incident close", channel=channel)
    closing = room.chat.posted_in(channel)[-1]
    assert "*Rapporter enligt lag:*" in closing
    assert "Tidig varning till CERT-SE (nationell CSIRT): lämnad söndag 28 mars 2027 kl. 11:00, referens " \
           "CERT-SE-2027-0042" in closing
    assert "referens CERT-SE-2027-0043" in closing
    assert "Slutrapport till CERT-SE (nationell CSIRT): senast torsdag 29 april 2027 kl. 12:00" in closing
    assert "klassad: nis2 aware=2027-03-27T10:00+01:00" in closing and "rapport missad:" in closing


def test_a_personal_data_breach_is_due_at_imy_within_72_hours(room: Dialogue) -> None:
    found = declared(room)
    answer = room.say(EVA, f"/incident classify {found.ref} gdpr")
    # Aware now (10:30 CET): 72 elapsed hours end at 11:30 summer time.
    assert "Anmälan till IMY till Integritetsskyddsmyndigheten (IMY): senast tisdag 30 mars 2027 kl. 11:30" in answer


def test_the_model_check_explains_a_clock_without_one_period(tmp_path) -> None:  # type: ignore[no-untyped-def]
    from pathlib import Path

    from bot.model import ModelError, load_model

    shipped = (Path(__file__).parents[1] / "bot" / "model" / "stockholm.yaml").read_text(encoding="utf-8")
    broken = tmp_path / "m.yaml"
    broken.write_text(shipped.replace("          hours: 24\n", "          hours: 24\n          months: 1\n", 1),
                      encoding="utf-8")
    with pytest.raises(ModelError) as raised:
        load_model(broken)
    assert "give either `hours` (elapsed) or `months`" in raised.value.explain("en")


def test_a_war_room_may_be_classified_at_its_declaration(room: Dialogue) -> None:
    answer = room.say(EVA, '/incident declare "Intrång i elevregistret" wlan 1 legal=nis2,gdpr -- Konton läckta')
    assert "är klassad som Betydande incident" in answer and "är klassad som Personuppgiftsincident" in answer
    # Aware at the declaration, 10:30 CET: 24 elapsed hours end at 11:30 summer time.
    assert "Tidig varning till CERT-SE (nationell CSIRT): senast söndag 28 mars 2027 kl. 11:30" in answer
    with room.core.unit_of_work() as uow:
        found = uow.incidents.open_incidents()[-1]
        assert found.title == "Intrång i elevregistret" and found.description == "Konton läckta"
        assert len(clocks(room.core.model.major_incidents, uow.incidents.steps(found.id))) == 4  # type: ignore[arg-type]
    assert "nis2, gdpr" in room.say(EVA, '/incident declare "Annat" wlan 1 legal=nis3')
