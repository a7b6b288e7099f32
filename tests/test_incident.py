"""Major incidents in dialogue with the core: the rules, the war room's assembly, bad input, close and report."""

from __future__ import annotations

from datetime import timedelta

import pytest

from bot.incident.assembly import channel_name
from bot.message import text
from tests.conftest import Dialogue

EVA, JOHAN = "eva.lind", "johan.ek"
SD_GROUP = ["U02SDJOUR1", "U02SDJOUR2"]


@pytest.fixture
def room(dialogue: Dialogue) -> Dialogue:
    dialogue.chat.usergroups["S02SDJOUR"] = list(SD_GROUP)
    return dialogue


def incidents(dialogue: Dialogue) -> list:  # type: ignore[type-arg]
    # Ids come from the database (PostgreSQL's sequences are not rolled back), so tests find incidents, not MI-1.
    from datetime import datetime

    from bot.clock import STOCKHOLM

    with dialogue.core.unit_of_work() as uow:
        # In the order they were declared: the clock stands still in these tests, so their times tie.
        return sorted(uow.incidents.declared_between(datetime(2000, 1, 1, tzinfo=STOCKHOLM)), key=lambda i: i.id)


def incident(dialogue: Dialogue, number: int = 1):  # type: ignore[no-untyped-def]
    found = incidents(dialogue)
    return found[number - 1] if len(found) >= number else None


def declare_wlan(room: Dialogue, who: str = EVA) -> str:
    return room.say(who, '/incident declare "WLAN nere på Södermalms skolor" wlan 1')


def test_declaring_on_wlan_opens_one_war_room_with_exactly_the_catalogues_people(room: Dialogue) -> None:
    answer = declare_wlan(room)
    assert f"{incident(room).ref} \"WLAN nere" in answer and "allvarlighetsgrad 1" in answer
    chat = room.chat
    [(name, channel)] = chat.channels.items()
    assert name == "mi-20270111-wlan-nere-pa-sodermalms-skolor"
    assert chat.private[channel] is True
    # The on-duty incident managers (a user group, expanded), the City's contact; NOC and S:t Erik by Slack Connect.
    assert chat.members[channel] == {*SD_GROUP, "U01EVALIND"}
    assert chat.shared[channel] == {"noc@netops.example", "drift@sterik.example"}
    brief = chat.posted_in(channel)[0]
    assert f"Större incident {incident(room).ref}" in brief and "WLAN/LAN/WAN" in brief
    assert "@Service Desk jour" in brief
    assert any(m.group == "S02SDJOUR" for m in chat.said_to(channel)[0].mentions())  # the group is notified
    assert chat.pins[channel] == ["1"]
    assert incident(room).ref in chat.topics[channel]
    [announcement] = chat.posted_in("#storingar")
    assert f"#{channel}" in announcement
    assert [user for user, _ in chat.directs] == ["U01EVALIND"]
    found = incident(room)
    assert found.assembled_at is not None and found.commander == "servicedesk-jour"


def test_the_administrative_side_brings_gsit_and_nobody_else_is_asked(room: Dialogue) -> None:
    room.say(EVA, '/incident declare "Ingen e-post" e-post 2')
    channel = next(iter(room.chat.channels.values()))
    assert room.chat.shared[channel] == {"servicedesk@gsit.example"}
    assert "noc@netops.example" not in room.chat.shared[channel]


@pytest.mark.parametrize(("line", "text"), [
    ('/incident declare "WLAN nere" wlann 1', "Tjänsten \"wlann\" finns inte"),
    ('/incident declare "" wlan 1', "behöver en rubrik"),
    ("/incident declare wlan 1", "behöver en rubrik"),
    ('/incident declare "WLAN nere" wlan 7', "\"7\" är ingen allvarlighetsgrad"),
    ('/incident declare "WLAN nere" wlan,posten 2', "Tjänsten \"posten\" finns inte"),
    (f'/incident declare "{"x" * 151}" wlan 2', "Rubriken är 151 tecken"),
])
def test_bad_input_is_explained_and_nothing_is_created(room: Dialogue, line: str, text: str) -> None:
    assert text in room.say(EVA, line)
    assert room.chat.channels == {} and room.chat.posts == []
    assert incident(room) is None


def test_the_same_declaration_twice_within_the_window_gives_the_same_incident(room: Dialogue) -> None:
    declare_wlan(room)
    first = incident(room).ref
    room.core.clock.advance(timedelta(minutes=2))
    again = declare_wlan(room)
    assert first in again and "redan deklarerad" in again
    assert len(room.chat.channels) == 1 and incident(room, 2) is None
    room.core.clock.advance(timedelta(minutes=15))
    assert "är deklarerad" in declare_wlan(room)
    assert incident(room, 2) is not None and len(room.chat.channels) == 2


def test_a_taken_name_gets_a_suffix(room: Dialogue) -> None:
    room.chat.channels["mi-20270111-wlan-nere-pa-sodermalms-skolor"] = "C0THEIRS"
    declare_wlan(room)
    assert "mi-20270111-wlan-nere-pa-sodermalms-skolor-2" in room.chat.channels
    assert incident(room).channel_id != "C0THEIRS"


def test_channel_names_are_slugs_of_at_most_80_characters() -> None:
    from datetime import datetime

    from bot.clock import STOCKHOLM

    at = datetime(2027, 1, 11, 23, 30, tzinfo=STOCKHOLM)
    assert channel_name("mi", at, "Skolplattformen: ÅÄÖ går inte!") == "mi-20270111-skolplattformen-aao-gar-inte"
    long = channel_name("mi", at, "x" * 200, attempt=12)
    assert len(long) == 80 and long.endswith("-12")


def test_whoever_cannot_be_reached_is_listed_in_the_war_room(room: Dialogue) -> None:
    room.chat.refused["drift@sterik.example"] = "not_allowed"
    room.chat.refused["U02SDJOUR2"] = "user_not_found"
    declare_wlan(room)
    channel = next(iter(room.chat.channels.values()))
    unreached = room.chat.posted_in(channel)[-1]
    assert "Kunde inte bjudas in" in unreached
    assert "S:t Erik nätdrift" in unreached and "Slack Connect-inbjudan inte tillåten" in unreached
    assert "Service Desk jour" in unreached and "användaren finns inte" in unreached


def test_an_assembly_that_died_half_way_is_finished_once_by_a_sweep(room: Dialogue) -> None:
    class Dying(Exception):
        pass

    chat = room.chat
    original = chat.invite

    def dies(channel: str, users: list[str]) -> dict[str, str]:
        raise Dying("killed between the brief and the invitations")

    chat.invite = dies  # type: ignore[method-assign]
    declare_wlan(room)
    channel = next(iter(chat.channels.values()))
    assert incident(room).assembled_at is None and len(chat.posted_in(channel)) == 1
    chat.invite = original  # type: ignore[method-assign]
    # A restart: another worker finds the duty claimed by the dead one after its lease and finishes it.
    room.core.clock.advance(timedelta(minutes=3))
    room.core.tick()
    assert len(chat.channels) == 1 and len(chat.posted_in(channel)) == 1
    assert chat.members[channel] == {*SD_GROUP, "U01EVALIND"}
    assert len(chat.posted_in("#storingar")) == 1 and chat.pins[channel] == ["1"]
    assert incident(room).assembled_at is not None


def test_a_lost_create_answer_finds_the_channel_by_name(room: Dialogue) -> None:
    chat = room.chat
    original = chat.create_channel

    def created_but_lost(name: str, private: bool) -> str:
        original(name, private)
        raise ConnectionError("the answer never came")

    chat.create_channel = created_but_lost  # type: ignore[method-assign]
    declare_wlan(room)
    chat.create_channel = original  # type: ignore[method-assign]
    room.core.clock.advance(timedelta(minutes=3))
    room.core.tick()
    assert list(chat.channels) == ["mi-20270111-wlan-nere-pa-sodermalms-skolor"]
    assert incident(room).channel_id == chat.channels["mi-20270111-wlan-nere-pa-sodermalms-skolor"]
    assert incident(room).assembled_at is not None


def test_during_the_incident_roles_updates_severity_and_invitations(room: Dialogue) -> None:
    declare_wlan(room)
    channel = incident(room).channel_id
    say = lambda line: room.say(EVA, line, channel=channel)  # noqa: E731 - typed in the war room
    assert "Incidentledare är nu @Johan Ek" in say("/incident role incidentledare @user:U02JOHANEK")
    assert "Kommunikationsansvarig är nu @Maria Sund" in say("/incident role kommunikation @maria.sund")
    assert "publicerad" in say("/incident update Felsökning pågår i core-switchen")
    assert any("Felsökning pågår" in text for text in room.chat.posted_in("#storingar"))
    assert "från 1 till 2" in say("/incident severity 2")
    assert "ingen allvarlighetsgrad" in say("/incident severity 9")
    assert "Per Strand" in say("/incident invite skolplattformen")
    assert "per.strand@skolplattform.example" in room.chat.shared[channel]
    assert "redan inbjudna" in say("/incident invite skolplattformen")
    assert "U02JOHANEK" in room.chat.members[channel]
    assert "U0NEWPERS" in say("/incident invite @user:U0NEWPERS")  # not in the directory, invited all the same
    assert "U0NEWPERS" in room.chat.members[channel]
    assert "varken en tjänst" in say("/incident invite okand-sak")
    assert incident(room).ref in room.say(JOHAN, "/incident list")


def test_silence_reminds_the_commander_once_per_interval(room: Dialogue) -> None:
    declare_wlan(room)
    channel = incident(room).channel_id
    chat = room.chat
    room.core.tick()
    room.core.clock.advance(timedelta(minutes=29))
    room.core.tick()
    assert not any("ingen lägesrapport" in t for t in chat.posted_in(channel))
    room.core.clock.advance(timedelta(minutes=2))
    room.core.tick()
    room.core.tick()
    reminders = [t for t in chat.posted_in(channel) if "ingen lägesrapport" in t]
    assert len(reminders) == 1 and reminders[0].startswith("@Service Desk jour")
    room.say(EVA, "/incident update Läget oförändrat", channel=channel)
    room.core.clock.advance(timedelta(minutes=20))
    room.core.tick()
    assert len([t for t in chat.posted_in(channel) if "ingen lägesrapport" in t]) == 1
    room.core.clock.advance(timedelta(minutes=11))
    room.core.tick()
    assert len([t for t in chat.posted_in(channel) if "ingen lägesrapport" in t]) == 2


def test_the_declaration_and_a_new_severity_plan_the_reminder_to_post_an_update(room: Dialogue) -> None:
    """No planner runs here: the sweep alone finds the reminders due."""
    declare_wlan(room)
    channel = incident(room).channel_id
    room.core.clock.advance(timedelta(minutes=31))
    room.core.runner.sweep()
    assert len([t for t in room.chat.posted_in(channel) if "ingen lägesrapport" in t]) == 1
    room.say(EVA, "/incident severity 2", channel=channel)  # a new severity plans the reminder of its interval
    room.core.clock.advance(timedelta(hours=4))
    room.core.runner.sweep()
    assert len([t for t in room.chat.posted_in(channel) if "ingen lägesrapport" in t]) == 2


def test_marked_messages_enter_the_timeline_once(room: Dialogue) -> None:
    from bot.incident.timeline import mark

    declare_wlan(room)
    channel = incident(room).channel_id
    ref = room.chat.post(channel, text("Switchen i Hornstull startad om"))
    assert mark(room.core, channel, ref, "U02JOHANEK", "pushpin") is True
    assert mark(room.core, channel, ref, "U02JOHANEK", "pushpin") is False
    assert mark(room.core, channel, ref, "U02JOHANEK", "thumbsup") is False
    with room.core.unit_of_work() as uow:
        pinned = [e for e in uow.incidents.timeline(incident(room).id) if e.kind == "pinned"]
    assert [(e.author, e.text) for e in pinned] == [("johan.ek", "Switchen i Hornstull startad om")]


def test_resolve_then_close_posts_the_report_and_a_problem_item(room: Dialogue) -> None:
    declare_wlan(room)
    channel = incident(room).channel_id
    assert "inte löst än" in room.say(EVA, "/incident close", channel=channel)
    # The network operator accepts the Slack Connect invitation ten minutes in; Slack says so once or twice.
    from bot.incident.timeline import joined

    room.chat.emails["U0NOCEXT"] = "noc@netops.example"
    room.core.clock.advance(timedelta(minutes=10))
    assert joined(room.core, channel, "U0NOCEXT") is True
    assert joined(room.core, channel, "U0NOCEXT") is False
    room.core.clock.advance(timedelta(minutes=35))
    room.say(EVA, "/incident resolve Trasig switch i Hornstull bytt", channel=channel)
    answer = room.say(EVA, "/incident close arkivera", channel=channel)
    assert "Problemmöte" in answer and "torsdag 21 januari 2027" in answer
    report = room.chat.posted_in(channel)[-1]
    ref = incident(room).ref
    assert report.startswith(f"*Incidentrapport {ref}: WLAN nere på Södermalms skolor*")
    assert "*Tid till lösning:* 45 min 0 s" in report and "Eva Lind – anslöt 2027-01-11 09:00:00" in report
    assert "S:t Erik nätdrift – inbjuden via Slack Connect, har inte anslutit" in report
    assert "Nätdrift NOC – anslöt 2027-01-11 09:10:00" in report and "anslöt: Nätdrift NOC" in report
    assert "*Tidslinje*" in report and "löst: Trasig switch" in report
    assert channel in room.chat.archived
    with room.core.unit_of_work() as uow:
        items = [i.text for i in uow.forum.agenda_items("problemmote", _next_problem_sitting(room))]
    assert any(f"Problem från {ref}" in text for text in items)
    assert "Inga öppna" in room.say(EVA, "/incident list")


def _next_problem_sitting(room: Dialogue):  # type: ignore[no-untyped-def]
    from bot.forum.calendar import next_sitting

    forum = room.core.model.sitting_forum("problemmote")
    return next_sitting(forum, room.core.clock.now()).original


def test_major_incidents_are_on_the_problem_meetings_agenda(room: Dialogue) -> None:
    from bot.forum.reminders import compose

    declare_wlan(room)
    forum = room.core.model.sitting_forum("problemmote")
    from bot.forum.calendar import next_sitting

    sitting = next_sitting(forum, room.core.clock.now())

    def agenda_of(key: str) -> str:
        forum = room.core.model.sitting_forum(key)
        with room.core.unit_of_work() as uow:
            return compose(room.core.agenda_sources, room.core.model, uow, forum,
                           next_sitting(forum, room.core.clock.now()), room.core.clock.now(), room.core.texts).plain()

    ref = incident(room).ref
    assert f"Större incident {ref}: WLAN nere på Södermalms skolor" in agenda_of("problemmote")
    assert ref not in agenda_of("kontraktsforum")
    assert sitting is not None
    # The service forums are held per catalogue: each lists the incidents on a service of its catalogue.
    room.say(EVA, '/incident declare "Datorerna startar inte" digitala-enheter 2')
    devices = incidents(room)[-1].ref
    assert devices in agenda_of("tjansteforum-digitala-enheter") and ref not in agenda_of(
        "tjansteforum-digitala-enheter")
    assert devices not in agenda_of("tjansteforum-service-desk")


def test_declare_without_arguments_opens_the_form(room: Dialogue) -> None:
    from bot.chat import Command

    # The platform shows a form instead of answering.
    room.core.handle(Command(name="incident", text="declare", user_id="U01EVALIND", channel_id="C0",
                             trigger_id="1.2", received_at=room.core.clock.now()))
    assert len(room.chat.forms) == 1 and room.chat.channels == {} and room.chat.replies == []
