"""Major incidents as Slack meets them: signed requests to the real bolt app, war rooms assembled through the fake
Web API over HTTP, faults included."""

from __future__ import annotations

import json
import time
from datetime import timedelta
from urllib.parse import urlencode

import pytest

from tests.conftest import BACKENDS
from tests.fakes.slack_api import Fault
from tests.fakes.slack_http import signed_headers

pytestmark = [pytest.mark.slow, pytest.mark.parametrize("database_url", BACKENDS, indirect=True)]

EVA, JOHAN = "U01EVALIND", "U02JOHANEK"
SD_GROUP = ["U02SDJOUR1", "U02SDJOUR2"]
NAME = "mi-20270111-wlan-nere-pa-sodermalm"
DECLARE = '"WLAN nere på Södermalm" wlan 1'


@pytest.fixture
def slack(slack_app):  # type: ignore[no-untyped-def]
    slack_app.fake.usergroups["S02SDJOUR"] = list(SD_GROUP)
    return slack_app


def incidents(slack) -> list:  # type: ignore[no-untyped-def,type-arg]
    from datetime import datetime

    from bot.clock import STOCKHOLM

    with slack.runtime.core.unit_of_work() as uow:
        return list(uow.incidents.declared_between(datetime(2000, 1, 1, tzinfo=STOCKHOLM)))


def ready(slack, timeout: float = 10.0):  # type: ignore[no-untyped-def]
    """Waits until the war room is assembled (the work runs after the ack)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        found = incidents(slack)
        if found and found[-1].assembled_at is not None:
            return found[-1]
        time.sleep(0.02)
    raise AssertionError(f"no war room assembled; Slack saw {sorted({c.method for c in slack.fake.calls})}")


def posts_in(fake, channel: str) -> list[str]:  # type: ignore[no-untyped-def]
    return [m["text"] for m in fake.posted(channel)]


def test_declaring_on_wlan_opens_one_war_room_with_exactly_the_catalogues_people(slack) -> None:  # type: ignore[no-untyped-def]
    fake = slack.fake
    assert "är deklarerad" in slack.ask("/incident", f"declare {DECLARE}", EVA)
    incident = ready(slack)
    [create] = fake.calls_to("conversations.create")
    assert create.params["name"] == NAME and fake.private[incident.channel_id]
    room = incident.channel_id
    assert fake.members[room] == {"UBOT", EVA, *SD_GROUP}
    assert fake.shared[room] == {"noc@netops.example", "drift@sterik.example"}
    assert incident.ref in fake.topics[room] and incident.ref in fake.purposes[room]
    [brief] = fake.posted(room)
    assert "Större incident" in brief["text"] and fake.pins[room] == [brief["ts"]]
    [announcement] = posts_in(fake, "#storingar")
    assert f"<#{room}>" in announcement
    assert any(incident.ref in t for t in posts_in(fake, f"D{EVA}"))  # the City's contact, directly
    # One batch for the members: the invitations do not go one by one.
    assert len(fake.calls_to("conversations.invite")) == 1


def test_the_modal_declares_with_the_chosen_services_and_severity(slack) -> None:  # type: ignore[no-untyped-def]
    fake = slack.fake
    assert slack.command("/incident", "declare", EVA, trigger_id="1.2.3").status_code == 200
    [opened] = fake.wait_for("views.open")
    assert opened.params["trigger_id"] == "1.2.3"
    view = fake.views[0]
    assert [o["value"] for o in view["blocks"][1]["element"]["options"]][:2] == ["skolplattformen", "wlan"]
    submission = {
        "type": "view_submission", "team": {"id": "T1"}, "user": {"id": EVA}, "api_app_id": "A1",
        "view": {"id": "V1", "type": "modal", "callback_id": "incident.declare",
                 "private_metadata": json.dumps({"channel": "C0FORUM"}),
                 "state": {"values": {
            "title": {"value": {"type": "plain_text_input", "value": "Ingen e-post i skolorna"}},
            "services": {"value": {"type": "multi_static_select", "selected_options": [{"value": "e-post"}]}},
            "severity": {"value": {"type": "static_select", "selected_option": {"value": "2"}}},
            "description": {"value": {"type": "plain_text_input", "value": "Outlook når inte servern"}},
        }}},
    }
    body = urlencode({"payload": json.dumps(submission)})
    assert slack.http.post("/slack/events", content=body, headers=signed_headers(body)).status_code == 200
    incident = ready(slack)
    assert (incident.title, incident.services, incident.severity) == ("Ingen e-post i skolorna", ("e-post",), 2)
    assert incident.description == "Outlook når inte servern"
    assert fake.shared[incident.channel_id] == {"servicedesk@gsit.example"}


def reaction(slack, channel: str, ts: str, event_id: str, name: str = "pushpin"):  # type: ignore[no-untyped-def]
    body = json.dumps({"token": "legacy", "team_id": "T1", "api_app_id": "A1", "type": "event_callback",
                       "event_id": event_id, "event_time": int(time.time()),
                       "event": {"type": "reaction_added", "user": JOHAN, "reaction": name,
                                 "item": {"type": "message", "channel": channel, "ts": ts},
                                 "event_ts": f"{time.time():.6f}"}})
    headers = {**signed_headers(body), "Content-Type": "application/json"}
    return slack.http.post("/slack/events", content=body, headers=headers)


def test_a_message_marked_twice_by_slack_enters_the_timeline_once(slack) -> None:  # type: ignore[no-untyped-def]
    slack.ask("/incident", f"declare {DECLARE}", EVA)
    incident = ready(slack)
    ts = slack.fake.say(incident.channel_id, JOHAN, "Switchen i Hornstull startas om")
    for _ in range(2):  # Slack delivers again when it missed our answer
        assert reaction(slack, incident.channel_id, ts, "Ev1").status_code == 200
    assert reaction(slack, incident.channel_id, ts, "Ev2", name="eyes").status_code == 200
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline:
        with slack.runtime.core.unit_of_work() as uow:
            pinned = [e for e in uow.incidents.timeline(incident.id) if e.kind == "pinned"]
        if pinned:
            break
        time.sleep(0.02)
    time.sleep(0.3)  # time for a wrong second entry to appear
    with slack.runtime.core.unit_of_work() as uow:
        pinned = [e for e in uow.incidents.timeline(incident.id) if e.kind == "pinned"]
    assert [(e.author, e.text) for e in pinned] == [("johan.ek", "Switchen i Hornstull startas om")]


def test_a_rate_limit_is_waited_out_and_retried(slack) -> None:  # type: ignore[no-untyped-def]
    slack.fake.fail("conversations.create", Fault(429, {"Retry-After": "1"}))
    slack.fake.fail("conversations.invite", Fault(429, {"Retry-After": "1"}))
    slack.ask("/incident", f"declare {DECLARE}", EVA)
    incident = ready(slack)
    assert [c.status for c in slack.fake.calls_to("conversations.create")] == [429, 200]
    assert [c.status for c in slack.fake.calls_to("conversations.invite")] == [429, 200]
    assert list(slack.fake.channels).count(NAME) == 1 and slack.fake.members[incident.channel_id] >= {EVA}


@pytest.mark.parametrize(("method", "faults"), [
    ("conversations.create", [Fault(500, {})]),
    ("conversations.invite", [Fault(500, {})] * 3),
    ("chat.postMessage", [Fault(500, {})] * 9),  # the brief, the announcement, the DM: three tries each
    ("conversations.create", [Fault(429, {"Retry-After": "1"})] * 7),
], ids=["one-500-on-create", "500s-on-invite", "500s-on-post", "seven-429s"])
def test_a_passing_slack_failure_heals_in_seconds(slack, clock, method: str, faults: list[Fault]) -> None:  # type: ignore[no-untyped-def]
    """Slack's own retries take one failure; past them the assembly is tried again within seconds, not after a
    claim's lease, and whoever declared is told that it is Slack that is slow, once."""
    slack.fake.fail(method, *faults)
    slack.ask("/incident", f"declare {DECLARE}", EVA)
    started = clock.now()
    runner = slack.runtime.core.runner
    while not (incidents(slack) and incidents(slack)[-1].assembled_at):
        # The scheduler's sweep, second by second on the bot's clock: the war room is retried as soon as due.
        assert clock.now() - started < timedelta(seconds=10), "not healed within ten seconds"
        clock.advance(timedelta(seconds=1))
        runner.sweep()
    incident = ready(slack)
    assert len(slack.fake.calls_to("conversations.create")) - sum(
        c.status != 200 for c in slack.fake.calls_to("conversations.create")) == 1
    assert len([m for m in slack.fake.posted(incident.channel_id) if "Större incident" in m["text"]]) == 1
    told = [m for m in slack.fake.posted(f"D{EVA}") if "Slack svarar långsamt" in m["text"]]
    assert len(told) == (1 if len(faults) > 2 else 0), told


def test_a_taken_name_gets_a_suffix(slack) -> None:  # type: ignore[no-untyped-def]
    slack.fake.channels[NAME] = "C0THEIRS"
    slack.ask("/incident", f"declare {DECLARE}", EVA)
    incident = ready(slack)
    assert incident.channel_name == f"{NAME}-2" and incident.channel_id != "C0THEIRS"
    assert [c.params["name"] for c in slack.fake.calls_to("conversations.create")] == [NAME, f"{NAME}-2"]


def test_whoever_cannot_be_invited_is_listed_and_not_retried(slack) -> None:  # type: ignore[no-untyped-def]
    fake = slack.fake
    fake.refuse["U02SDJOUR2"] = "user_not_found"
    fake.refuse["drift@sterik.example"] = "not_allowed"
    slack.ask("/incident", f"declare {DECLARE}", EVA)
    incident = ready(slack)
    assert len(fake.calls_to("conversations.invite")) == 1
    assert len(fake.calls_to("conversations.inviteShared")) == 2
    unreached = posts_in(fake, incident.channel_id)[-1]
    assert "Kunde inte bjudas in" in unreached
    assert "Service Desk jour (Leverantören): användaren finns inte i Slack" in unreached
    assert "S:t Erik nätdrift (S:t Erik Kommunikation AB): Slack Connect-inbjudan inte tillåten" in unreached
    assert fake.members[incident.channel_id] == {"UBOT", EVA, "U02SDJOUR1"}


def test_the_same_declaration_pressed_twice_gives_the_same_incident(slack) -> None:  # type: ignore[no-untyped-def]
    slack.ask("/incident", f"declare {DECLARE}", EVA)
    ready(slack)
    again = slack.ask("/incident", f"declare {DECLARE}", EVA)
    assert "redan deklarerad" in again and len(incidents(slack)) == 1
    assert len(slack.fake.calls_to("conversations.create")) == 1


def test_two_presses_arriving_together_give_one_incident(slack) -> None:  # type: ignore[no-untyped-def]
    import threading

    slack.fake.delay = 0.05  # the answers are slow, so the person presses again
    tokens = ["first", "second"]
    threads = [threading.Thread(target=slack.command, args=("/incident", f"declare {DECLARE}", EVA, token))
               for token in tokens]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    answers = sorted(slack.answer(token) for token in tokens)
    assert len(incidents(slack)) == 1
    assert "är deklarerad" in answers[0] + answers[1] and "redan deklarerad" in answers[0] + answers[1]
    ready(slack)
    assert len(slack.fake.calls_to("conversations.create")) == 1


def test_a_bot_killed_mid_assembly_finishes_the_same_war_room_after_a_restart(slack, database_url,  # type: ignore[no-untyped-def]
                                                                              clock) -> None:
    from datetime import timedelta

    from samverkan.wiring import build

    fake = slack.fake
    # The invitations never get through (the connection drops more often than the client retries): the assembly
    # stops after the channel, the brief and the announcement, its duty left claimed as a dead process leaves it.
    fake.fail("conversations.invite", *[Fault(drop_connection=True)] * 4)
    fake.fail("pins.add", *[Fault(drop_connection=True)] * 4)
    slack.ask("/incident", f"declare {DECLARE}", EVA)
    fake.wait_for("conversations.invite", 4)
    time.sleep(0.3)
    [incident] = incidents(slack)
    assert incident.assembled_at is None and incident.channel_id
    # A fresh process on the same database, after the dead one's lease.
    clock.advance(timedelta(minutes=3))
    restarted = build(slack.settings, clock)
    try:
        restarted.core.tick()
    finally:
        restarted.close()
    [incident] = incidents(slack)
    assert incident.assembled_at is not None
    assert len(fake.calls_to("conversations.create")) == 1
    assert len(fake.posted(incident.channel_id)) == 1  # one brief
    assert len(posts_in(fake, "#storingar")) == 1
    # The City's contact is told of the incident once (and, this time, once that Slack was slow).
    assert len([t for t in posts_in(fake, f"D{EVA}") if "Slack svarar långsamt" not in t]) == 1
    assert fake.members[incident.channel_id] == {"UBOT", EVA, *SD_GROUP}
    assert fake.pins[incident.channel_id] == [fake.posted(incident.channel_id)[0]["ts"]]


def test_bad_input_gets_an_explanation_and_creates_nothing(slack) -> None:  # type: ignore[no-untyped-def]
    assert "Tjänsten \"wifi\" finns inte" in slack.ask("/incident", 'declare "WLAN nere" wifi 1', EVA)
    assert "ingen allvarlighetsgrad" in slack.ask("/incident", 'declare "WLAN nere" wlan 0', EVA)
    assert "behöver en rubrik" in slack.ask("/incident", 'declare "" wlan', EVA)
    assert slack.fake.calls_to("conversations.create") == [] and incidents(slack) == []


def members(slack, incident_id: int) -> list:  # type: ignore[no-untyped-def,type-arg]
    with slack.runtime.core.unit_of_work() as uow:
        return list(uow.incidents.members(incident_id))


def event(slack, payload: dict, event_id: str):  # type: ignore[no-untyped-def]
    body = json.dumps({"token": "legacy", "team_id": "T1", "api_app_id": "A1", "type": "event_callback",
                       "event_id": event_id, "event_time": int(time.time()), "event": payload})
    return slack.http.post("/slack/events", content=body,
                           headers={**signed_headers(body), "Content-Type": "application/json"})


def test_the_war_room_is_run_and_closed_with_a_report(slack) -> None:  # type: ignore[no-untyped-def]
    fake = slack.fake
    slack.ask("/incident", f"declare {DECLARE}", EVA)
    incident = ready(slack)
    room = incident.channel_id
    # The network operator accepts the Slack Connect invitation: Slack tells, and tells again.
    fake.users["U0NOCEXT"] = "noc@netops.example"
    for _ in range(2):
        joined = {"type": "member_joined_channel", "user": "U0NOCEXT", "channel": room, "channel_type": "G"}
        assert event(slack, joined, "Ev9").status_code == 200
    deadline = time.monotonic() + 5
    while not any(m.key == "noc" and m.joined_at for m in members(slack, incident.id)):
        assert time.monotonic() < deadline, "the join was not recorded"
        time.sleep(0.02)
    slack.ask("/incident", f"update {incident.ref} Switch i Hornstull felsöks", JOHAN)
    assert any("Switch i Hornstull felsöks" in t for t in posts_in(fake, "#storingar"))
    # The Service Desk's on-duty incident manager leads the war room: a member of its user group resolves it.
    on_duty = SD_GROUP[0]
    slack.ask("/incident", f"resolve {incident.ref} Switchen bytt", on_duty)
    answer = slack.ask("/incident", f"close {incident.ref} arkivera", on_duty)
    assert "Problemmöte" in answer
    report = posts_in(fake, room)[-1]
    assert report.startswith(f"*Incidentrapport {incident.ref}: WLAN nere på Södermalm*")
    assert "Nätdrift NOC – anslöt" in report and report.count("anslöt: Nätdrift NOC") == 1
    assert "S:t Erik nätdrift – inbjuden via Slack Connect, har inte anslutit" in report
    assert "lägesrapport: Switch i Hornstull felsöks" in report
    fake.wait_for("conversations.archive")
    assert room in fake.archived
    assert "Inga öppna" in slack.ask("/incident", "list", EVA)


def test_a_war_room_invites_the_rota_on_duty_now_not_the_cached_one(slack) -> None:  # type: ignore[no-untyped-def]
    """Issue 18, item 8: the rota's user group changes at a shift handover just before the declaration. Speaking
    fills the directory cache with the old shift; the war room still invites the current one."""
    fake = slack.fake
    assert slack.ask("/samverkan", "whoami", SD_GROUP[0]).startswith("Du är *Service Desk jour*")
    assert len(fake.calls_to("usergroups.users.list")) == 1
    fake.usergroups["S02SDJOUR"] = ["U02SDNEW1", "U02SDNEW2"]  # the handover
    slack.ask("/incident", f"declare {DECLARE}", EVA)
    incident = ready(slack)
    assert fake.members[incident.channel_id] == {"UBOT", EVA, "U02SDNEW1", "U02SDNEW2"}
    assert len(fake.calls_to("usergroups.users.list")) == 2  # the assembly asked Slack itself
