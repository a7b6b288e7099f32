"""The surfaces around the slash commands, as Slack meets them over signed HTTP against the fake Web API: a click
on each button does what its command does (and nothing, but an explanation, for someone without the authority),
the messages they sit on are kept current in place at most once a second, every person has a Home of their own,
forms answer a bad field beside it, the message shortcuts work, and each person reads their own language."""

from __future__ import annotations

import json
import re
import time
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any, TypeVar

import pytest

from bot.clock import STOCKHOLM
from tests.conftest import BACKENDS
from tests.fakes.slack_http import Interactions, SlackAppServer

pytestmark = [pytest.mark.slow, pytest.mark.parametrize("database_url", BACKENDS, indirect=True)]

EVA, KARIN, LARS, JOHAN, MARIA = "U01EVALIND", "U01KARINBG", "U01LARSHLM", "U02JOHANEK", "U02MARIASD"
PER, NINA, NOBODY = "U0PERSTRAND", "U0NINA", "U0NOBODY"
ADDRESSES = {PER: "per.strand@skolplattform.example", NINA: "nina.vik@devices.example"}
T = TypeVar("T")


@pytest.fixture
def slack(slack_app: SlackAppServer) -> SlackAppServer:
    slack_app.fake.users.update(ADDRESSES)
    slack_app.fake.usergroups["S02SDJOUR"] = ["U02SDJOUR1"]
    for user in ADDRESSES:  # people of other organisations are linked the first time they speak
        slack_app.ask("/samverkan", "whoami", user)
    return slack_app


@pytest.fixture
def act(slack: SlackAppServer) -> Interactions:
    return Interactions(slack)


def wait(found: Callable[[], T], what: str, timeout: float = 10.0) -> T:
    """Until `found()` is truthy (the bot works after the acknowledgement): never a fixed sleep."""
    deadline = time.monotonic() + timeout
    while True:
        value = found()
        if value:
            return value
        assert time.monotonic() < deadline, f"waited in vain for {what}"
        time.sleep(0.02)


def buttons(message: dict[str, Any]) -> list[tuple[str, str]]:
    return [(e["action_id"], e["value"]) for b in message.get("blocks") or [] if b["type"] == "actions"
            for e in b["elements"]]


def in_dm(slack: SlackAppServer, user: str, containing: str) -> list[dict[str, Any]]:
    return [m for m in slack.fake.posted(f"D{user}") if containing in (m.get("text") or "")]


def updates(slack: SlackAppServer, ts: str) -> list[Any]:
    return [c for c in slack.fake.calls_to("chat.update") if c.params.get("ts") == ts]


def message(slack: SlackAppServer, channel: str, ts: str) -> dict[str, Any]:
    return next(m for m in slack.fake.posted(channel) if m["ts"] == ts)


def opened_form(slack: SlackAppServer, count: int) -> dict[str, Any]:
    """The `count`-th form opened (views.open), as Slack was asked to show it."""
    slack.fake.wait_for("views.open", count)
    return slack.fake.views[count - 1]


def reference(answer: str, prefix: str) -> str:
    found = re.search(rf"\b{prefix}-\d+\b", answer)
    assert found, answer
    return found.group(0)


def ephemeral(slack: SlackAppServer, user: str, count: int = 1) -> str:
    """The `count`-th answer to a person without a response URL (a form, a click on a Home)."""
    def answers() -> list[str]:
        return [c.params["text"] for c in slack.fake.calls_to("chat.postEphemeral") if c.params["user"] == user]

    return wait(lambda: answers()[count - 1] if len(answers()) >= count else None, f"answer #{count} to {user}")


def pending_redraws(slack: SlackAppServer, subject: str) -> set[str]:
    with slack.runtime.core.unit_of_work() as uow:
        return uow.duties.pending_keys(f"live.refresh:{subject}:")


def next_second(slack: SlackAppServer, clock) -> None:  # type: ignore[no-untyped-def]
    """A second passes and the scheduler looks: what had to wait for it is done."""
    clock.advance(timedelta(seconds=1))
    slack.runtime.core.tick()


def quiet(slack: SlackAppServer) -> None:
    """Until no duty is being performed or waiting to be (the sweep doing what the scheduler would): the work
    after the last acknowledgement is over."""
    from sqlalchemy import text

    def idle() -> bool:
        slack.runtime.core.runner.sweep()  # as the scheduler does every second
        with slack.runtime.engine.connect() as connection:
            return not connection.execute(text(
                "SELECT count(*) FROM duty WHERE state = 'claimed' OR (state = 'pending' AND kind LIKE 'home.%')"
            )).scalar()

    wait(idle, "the work after the acknowledgement to end")


def disagreement(slack: SlackAppServer, ref: str):  # type: ignore[no-untyped-def]
    with slack.runtime.core.unit_of_work() as uow:
        return uow.disagreements.get(int(ref.split("-")[1]))


# -- a disagreement's notice -------------------------------------------------------------------------------------
def test_the_notices_buttons_settle_a_disagreement_and_the_notice_is_kept_current(slack, act, clock) -> None:  # type: ignore[no-untyped-def]
    d = reference(slack.ask("/disagreement", "open city nivå=kontraktsforum Vite för sena leveranser", JOHAN), "D")
    # The City's contract manager is told directly; the notice says whom it waits for and offers Propose.
    [notice] = wait(lambda: in_dm(slack, KARIN, d), "Karin's notice")
    ts, dm = notice["ts"], f"D{KARIN}"
    assert buttons(notice) == [("disagreement.propose", d)]
    assert "*Väntar på:* ett förslag från någon av parterna" in notice["text"]

    # Someone of another party entirely clicks it: told it does not exist (as typed), no form, nothing changes.
    token = act.click(PER, "disagreement.propose", d, channel=f"D{PER}")
    assert slack.answer(token) == slack.ask("/disagreement", f"propose {d} Något", PER)
    assert not slack.fake.calls_to("views.open")

    # Propose opens the form; what it sends is `/disagreement propose`.
    act.click(KARIN, "disagreement.propose", d, channel=dm)
    form = opened_form(slack, 1)
    assert form["callback_id"] == "disagreement.propose" and json.loads(form["private_metadata"])["words"] == d
    assert act.submit(KARIN, form, {"text": "Staden betalar halva vitet"}).text == ""  # the form closes
    assert ephemeral(slack, KARIN).startswith(f"Förslaget till lösning för {d} är registrerat")
    shown = wait(lambda: updates(slack, ts) and message(slack, dm, ts), "the notice updated")
    assert "*Förslag* från Karin Berg (Staden (Stadens Centrala Beställarorganisation)): Staden betalar halva vitet" \
        in shown["text"]
    assert "*Väntar på:* Leverantören: Kundansvarig; Staden (Stadens Centrala Beställarorganisation): " \
           "Avtalsansvarig" in shown["text"]
    assert buttons(shown) == [("disagreement.accept", d), ("disagreement.reject", d)]

    # Someone of the party without the authority at this level: an explanation to them alone, and nothing else.
    before = len(slack.fake.calls)
    token = act.click(MARIA, "disagreement.accept", d, channel=f"D{MARIA}")
    assert slack.answer(token).startswith("Du kan inte ta ställning till förslaget")
    assert disagreement(slack, d).proposal.accepted == ()
    assert {c.method for c in slack.fake.calls[before:]} <= {"respond", "users.info"}

    # Reject asks for the reason, as `/disagreement reject` does.
    act.click(JOHAN, "disagreement.reject", d, channel=f"D{JOHAN}")
    form = opened_form(slack, 2)
    assert form["callback_id"] == "disagreement.reject"
    act.submit(JOHAN, form, {"text": "Förseningen låg hos en underleverantör"})
    assert ephemeral(slack, JOHAN).startswith(f"Förslaget i {d} är avvisat")
    wait(lambda: disagreement(slack, d).proposal is None, "the proposal withdrawn")
    # The notice was updated less than a second ago: the next update waits for the next second.
    wait(lambda: pending_redraws(slack, f"disagreement:{disagreement(slack, d).id}"), "a redraw planned")
    assert len(updates(slack, ts)) == 1
    next_second(slack, clock)
    shown = wait(lambda: len(updates(slack, ts)) == 2 and message(slack, dm, ts), "the second update")
    assert "*Förslag:* inget ännu." in shown["text"] and buttons(shown) == [("disagreement.propose", d)]

    # A new proposal; both parties accept with the button, each as `/disagreement accept` would.
    next_second(slack, clock)
    slack.ask("/disagreement", f"propose {d} Staden betalar en tredjedel", JOHAN)
    token = act.click(JOHAN, "disagreement.accept", d, channel=f"D{JOHAN}")
    assert slack.answer(token) == (f"Du har godtagit förslaget i {d}. Väntar på: Staden (Stadens Centrala "
                                   "Beställarorganisation).")
    next_second(slack, clock)
    shown = wait(lambda: "Godtaget av 1 part: Leverantören." in message(slack, dm, ts)["text"]
                 and message(slack, dm, ts), "the acceptance shown")
    assert buttons(shown) == [("disagreement.accept", d), ("disagreement.reject", d)]
    next_second(slack, clock)
    token = act.click(KARIN, "disagreement.accept", d, channel=dm)
    assert slack.answer(token) == f"{d} är avgjord: Staden betalar en tredjedel"
    shown = wait(lambda: "*Avgjord*" in message(slack, dm, ts)["text"] and message(slack, dm, ts), "settled")
    assert buttons(shown) == []
    # At most one update of the notice in any second of the clock.
    stamps = [c.params.get("ts") for c in slack.fake.calls_to("chat.update")]
    assert stamps.count(ts) == len(updates(slack, ts)) == 5


# -- a war room's brief --------------------------------------------------------------------------------------------
def war_room(slack: SlackAppServer):  # type: ignore[no-untyped-def]
    def assembled():  # type: ignore[no-untyped-def]
        with slack.runtime.core.unit_of_work() as uow:
            found = [i for i in uow.incidents.open_incidents() if i.assembled_at is not None]
        return found[-1] if found else None

    return wait(assembled, "the war room assembled")


def brief_of(slack: SlackAppServer, incident) -> dict[str, Any]:  # type: ignore[no-untyped-def]
    key = f"incident.assemble:{incident.id}:brief"
    return next(m for m in slack.fake.posted(incident.channel_id)
                if (m.get("metadata") or {}).get("event_payload", {}).get("key") == key)


def test_the_briefs_buttons_run_the_war_room_and_the_brief_is_edited_in_place(slack, act, clock) -> None:  # type: ignore[no-untyped-def]
    slack.ask("/incident", 'declare "WLAN nere på Södermalm" wlan 1', EVA)
    incident = war_room(slack)
    room, ref = incident.channel_id, incident.ref
    brief = brief_of(slack, incident)
    assert brief["ts"] in slack.fake.pins[room]
    assert buttons(brief) == [("incident.update", ref), ("incident.role", ref), ("incident.severity", ref),
                              ("incident.resolve", ref)]

    # The lead supplier's account manager is in the room but leads nothing: told who may, no form, no change.
    token = act.click(JOHAN, "incident.severity", ref, channel=room)
    assert slack.answer(token).startswith(f"Bara incidentledaren för {ref}")
    # Someone whose party is not in the war room does not learn it exists.
    token = act.click(PER, "incident.update", ref, channel=room)
    assert slack.answer(token) == slack.ask("/incident", f"update {ref} x", PER)
    assert not slack.fake.calls_to("views.open")

    # Assign role: who and which role, as `/incident role`.
    act.click(EVA, "incident.role", ref, channel=room)
    form = opened_form(slack, 1)
    assert [b["element"]["type"] for b in form["blocks"]] == ["static_select", "users_select"]
    act.submit(EVA, form, {"role": "communications", "person": MARIA})
    shown = wait(lambda: updates(slack, brief["ts"]) and message(slack, room, brief["ts"]), "the brief updated")
    assert "*Kommunikation:* <@U02MARIASD>" in shown["text"]
    assert any("Kommunikationsansvarig" in m["text"] and "<@U02MARIASD>" in m["text"]
               for m in slack.fake.posted(room) if m["ts"] != brief["ts"])

    # Change severity: the brief shows it, within the second after the last update.
    act.click(EVA, "incident.severity", ref, channel=room)
    form = opened_form(slack, 2)
    assert form["blocks"][0]["element"]["initial_option"]["value"] == "1"
    act.submit(EVA, form, {"severity": "2"})
    wait(lambda: pending_redraws(slack, f"incident:{incident.id}"), "the redraw waiting for the next second")
    assert len(updates(slack, brief["ts"])) == 1
    next_second(slack, clock)
    shown = wait(lambda: len(updates(slack, brief["ts"])) == 2 and message(slack, room, brief["ts"]), "severity")
    assert "*Allvarlighetsgrad:* 2" in shown["text"] and "*Kommunikation:* <@U02MARIASD>" in shown["text"]

    # Post update: into the room and the announcement channel, as `/incident update`.
    act.click(EVA, "incident.update", ref, channel=room)
    act.submit(EVA, opened_form(slack, 3), {"text": "Switchen i Hornstull byts"})
    wait(lambda: any("Switchen i Hornstull byts" in m["text"] for m in slack.fake.posted("#storingar")), "update")

    # Resolve: the brief says so and loses its buttons.
    next_second(slack, clock)
    act.click(EVA, "incident.resolve", ref, channel=room)
    act.submit(EVA, opened_form(slack, 4), {"text": "Switchen bytt, nätet uppe"})
    shown = wait(lambda: "*Löst*" in message(slack, room, brief["ts"])["text"] and message(slack, room, brief["ts"]),
                 "the brief resolved")
    assert buttons(shown) == [] and "Switchen bytt, nätet uppe" in shown["text"]


# -- a forum's reminder, its reports and its actions ---------------------------------------------------------------
def test_a_reminders_buttons_add_an_item_and_deliver_a_report_and_an_actions_done(slack, act, clock) -> None:  # type: ignore[no-untyped-def]
    core = slack.runtime.core
    slack.ask("/forum", "subscribe kontraktsforum", JOHAN)
    core.plan()
    clock.set(datetime(2027, 1, 12, 10, 0, 30, tzinfo=STOCKHOLM))  # the week-ahead reminder of 19 January
    core.tick()
    channel = slack.fake.channel_id("#forum-kontraktsforum")
    [reminder] = [m for m in slack.fake.posted(channel) if "Kontraktsforum" in m["text"]]
    assert buttons(reminder) == [("forum.agenda", "kontraktsforum add")]
    # The subscriber of the party that owes the forum's reports can deliver them from their copy.
    [copy] = in_dm(slack, JOHAN, "Kontraktsforum")
    # (Two buttons of one action in a block are told apart by a suffix; the click handler takes it off.)
    assert buttons(copy) == [("forum.agenda", "kontraktsforum add"),
                             ("forum.report", "kontraktsforum avtalsuppfoljning"),
                             ("forum.report:2", "kontraktsforum eskalerade-fragor")]

    # Add agenda item: refused to a party that does not attend; a form for one that does.
    token = act.click(PER, "forum.agenda", "kontraktsforum add", channel=channel)
    assert slack.answer(token).startswith("Bara parter som deltar i Kontraktsforum")
    assert not slack.fake.calls_to("views.open")
    act.click(JOHAN, "forum.agenda", "kontraktsforum add", channel=channel)
    form = opened_form(slack, 1)
    assert [b["block_id"] for b in form["blocks"]] == ["text"]
    act.submit(JOHAN, form, {"text": "Vite för sena leveranser i december"})
    assert ephemeral(slack, JOHAN).startswith("Punkten är anmäld till Kontraktsforum")
    assert "Vite för sena leveranser i december" in slack.ask("/forum", "agenda kontraktsforum", JOHAN)

    # Deliver report: only the owner party; the form takes the link, as `/forum report` does.
    token = act.click(KARIN, "forum.report", "kontraktsforum avtalsuppfoljning", channel=f"D{KARIN}")
    assert slack.answer(token).startswith("Bara")
    act.click(JOHAN, "forum.report:2", "kontraktsforum eskalerade-fragor", channel=f"D{JOHAN}")
    form = opened_form(slack, 2)
    assert json.loads(form["private_metadata"])["words"] == "kontraktsforum eskalerade-fragor"
    act.submit(JOHAN, form, {"text": "https://intranat.example/avtal-dec.pdf"})
    wait(lambda: any("https://intranat.example/avtal-dec.pdf" in m["text"] for m in slack.fake.posted(channel)),
         "the report posted")

    # An action carries Done for its owner, in the forum's channel, and is kept current there.
    slack.ask("/forum", "action kontraktsforum johan.ek 2027-02-01 Ta fram tidplan", KARIN)
    posted = wait(lambda: [m for m in slack.fake.posted(channel) if "Ta fram tidplan" in m["text"]], "the action")[0]
    a = reference(posted["text"], "A")
    assert buttons(posted) == [("forum.done", a)]
    token = act.click(MARIA, "forum.done", a, channel=channel)
    assert slack.answer(token).startswith(f"Bara den ansvarige för {a}")
    token = act.click(JOHAN, "forum.done", a, channel=channel)
    assert slack.answer(token) == f"{a} är klar: Ta fram tidplan"
    shown = wait(lambda: f"*{a} är klar*" in message(slack, channel, posted["ts"])["text"]
                 and message(slack, channel, posted["ts"]), "the action shown done")
    assert buttons(shown) == []


# -- a Home for each person ----------------------------------------------------------------------------------------
def home(slack: SlackAppServer, user: str) -> list[tuple[str, list[tuple[str, list[tuple[str, str]]]]]]:
    """A published Home as its sections: (heading, [(item text, its buttons)])."""
    view = wait(lambda: slack.fake.homes.get(user), f"the Home of {user}")
    sections: list[tuple[str, list[tuple[str, list[tuple[str, str]]]]]] = []
    for block in view["blocks"]:
        match block["type"]:
            case "header":
                sections.append((block["text"]["text"], []))
            case "section":
                sections[-1][1].append((block["text"]["text"], []))
            case "actions":
                sections[-1][1][-1][1].extend((e["action_id"], e["value"]) for e in block["elements"])
            case "context":
                sections[-1][1].append((block["elements"][0]["text"], []))
    return sections


def section(found: list, heading: str) -> list[tuple[str, list[tuple[str, str]]]]:  # type: ignore[type-arg]
    return next(items for title, items in found if title == heading)


def publications(slack: SlackAppServer, user: str) -> int:
    return sum(1 for c in slack.fake.calls_to("views.publish") if c.params.get("user_id") == user)


def test_each_person_of_three_parties_sees_their_own_home(slack, act) -> None:  # type: ignore[no-untyped-def]
    d_city = reference(slack.ask("/disagreement", "open city nivå=kontraktsforum Vite för sena leveranser", JOHAN),
                       "D")
    slack.ask("/disagreement", f"propose {d_city} Halva vitet", JOHAN)
    d_suppliers = reference(slack.ask("/disagreement", "open school-platform Gränsdragning för inloggning", JOHAN),
                            "D")
    a_per = reference(slack.ask("/forum", "action produktionssattning per.strand 2027-02-01 Testa inloggningen",
                                JOHAN), "A")
    a_johan = reference(slack.ask("/forum", "action kontraktsforum johan.ek 2027-02-01 Ta fram tidplan", KARIN), "A")
    slack.ask("/incident", 'declare "Skolplattformen nere" skolplattformen 1', EVA)
    incident = war_room(slack)
    for user in (KARIN, JOHAN, PER, NOBODY):
        assert act.home_opened(user).status_code == 200

    # The City's contract manager.
    karin = home(slack, KARIN)
    assert [title for title, _ in karin] == [
        "Karin Berg · Staden (Stadens Centrala Beställarorganisation)", "Dina nästa sammanträden",
        "Rapporter din part ska lämna", "Oenigheter som väntar på dig", "Dina öppna åtgärder", "Krisrum"]
    sittings = section(karin, "Dina nästa sammanträden")
    assert ("*Tjänsteforum – tjänstekatalogshantering – Digitala Enheter* tisdag 12 januari 2027 kl. 09:00 · "
            "Utbildningsförvaltningen, Hantverkargatan 2F · du deltar som Stadens ansvarig Tjänstekatalog Digitala "
            "Enheter (ordförandepart)",
            [("forum.agenda", "tjansteforum-digitala-enheter add")]) in sittings
    assert section(karin, "Rapporter din part ska lämna") == [("Inga rapporter väntar på dig.", [])]
    assert section(karin, "Oenigheter som väntar på dig") == [
        (f"*{d_city} Vite för sena leveranser* (Leverantören – Staden (Stadens Centrala Beställarorganisation)): "
         "ta ställning till förslaget: Halva vitet",
         [("disagreement.accept", d_city), ("disagreement.reject", d_city)])]
    assert section(karin, "Dina öppna åtgärder") == [("Inga öppna åtgärder står på dig.", [])]
    [(room, room_buttons)] = section(karin, "Krisrum")
    assert room.startswith(f"*{incident.ref} Skolplattformen nere* · allvarlighetsgrad 1 · pågår · "
                           f"<#{incident.channel_id}>")
    assert room_buttons == [("incident.update", incident.ref)]

    # The lead supplier's account manager.
    johan = home(slack, JOHAN)
    sittings = section(johan, "Dina nästa sammanträden")
    assert all(text.endswith(("Kundansvarig", "Kundansvarig (ordförandepart)", "företrädare för Leverantören",
                              "företrädare för Leverantören (ordförandepart)")) for text, _ in sittings[:6])
    reports = section(johan, "Rapporter din part ska lämna")
    assert ("*Avtalsuppföljning och avvikelser* till Kontraktsforum, senast fredag 15 januari 2027 kl. 10:00 "
            "(sammanträdet tisdag 19 januari 2027 kl. 10:00)",
            [("forum.report", "kontraktsforum avtalsuppfoljning")]) in reports
    assert section(johan, "Oenigheter som väntar på dig") == [
        (f"*{d_city} Vite för sena leveranser* (Leverantören – Staden (Stadens Centrala Beställarorganisation)): "
         "ta ställning till förslaget: Halva vitet",
         [("disagreement.accept", d_city), ("disagreement.reject", d_city)]),
        (f"*{d_suppliers} Gränsdragning för inloggning* (Leverantören – Leverantör av Skolplattformen) vid "
         "Samverkansforum kring specifika tjänster: inget förslag till lösning ännu.",
         [("disagreement.propose", d_suppliers)])]
    assert section(johan, "Dina öppna åtgärder") == [
        (f"*{a_johan}* Ta fram tidplan · Kontraktsforum · senast 2027-02-01", [("forum.done", a_johan)])]
    assert [b for _, b in section(johan, "Krisrum")] == [[("incident.update", incident.ref)]]

    # The school platform's supplier: not the City's disagreement with the lead supplier.
    per = home(slack, PER)
    assert per[0][0] == "Per Strand · Leverantör av Skolplattformen"
    assert {text.split("*")[1] for text, _ in section(per, "Dina nästa sammanträden")} >= {
        "Samverkan om produktionssättningar", "Problemmöte"}
    assert section(per, "Rapporter din part ska lämna") == [("Inga rapporter väntar på dig.", [])]
    assert section(per, "Oenigheter som väntar på dig") == [
        (f"*{d_suppliers} Gränsdragning för inloggning* (Leverantören – Leverantör av Skolplattformen) vid "
         "Samverkansforum kring specifika tjänster: inget förslag till lösning ännu.",
         [("disagreement.propose", d_suppliers)])]
    assert d_city not in json.dumps(slack.fake.homes[PER])
    assert section(per, "Dina öppna åtgärder") == [
        (f"*{a_per}* Testa inloggningen · Samverkan om produktionssättningar · senast 2027-02-01",
         [("forum.done", a_per)])]
    assert [b for _, b in section(per, "Krisrum")] == [[("incident.update", incident.ref)]]

    # Someone not in the directory is told how to be added, and by whom.
    [(title, [(text, [])])] = home(slack, NOBODY)
    assert title == "Välkommen till Samverkan" and "<@U01EVALIND>" in text and "`/samverkan person add" in text

    # Published only when changed: opened again, nothing is sent; a click on the Home that changes Karin's (and only
    # hers) republishes hers alone.
    counts = {user: publications(slack, user) for user in (KARIN, JOHAN, PER)}
    act.home_opened(KARIN)
    act.click(KARIN, "disagreement.accept", d_city)  # on her Home: no channel, no response URL
    assert ephemeral(slack, KARIN).startswith(f"Du har godtagit förslaget i {d_city}")
    wait(lambda: publications(slack, KARIN) == counts[KARIN] + 1, "Karin's Home republished")
    assert section(home(slack, KARIN), "Oenigheter som väntar på dig") == [("Inga oenigheter väntar på dig.", [])]
    quiet(slack)  # the redraw after the click is over: every Home it was going to publish is published
    assert publications(slack, JOHAN) == counts[JOHAN] and publications(slack, PER) == counts[PER]
    # Slack shows nothing of ours (a reinstalled app): published whatever the hash says.
    act.home_opened(PER, shown=False)
    wait(lambda: publications(slack, PER) == counts[PER] + 1, "Per's Home published again")


# -- forms explain their errors in place ---------------------------------------------------------------------------
def test_a_form_with_a_bad_field_is_answered_beside_that_field_and_nothing_is_done(slack, act) -> None:  # type: ignore[no-untyped-def]
    slack.command("/incident", "declare", EVA, trigger_id="7.7.7")
    form = opened_form(slack, 1)
    answer = act.submit(EVA, form, {"title": "", "severity": "1"}).json()
    assert answer == {"response_action": "errors", "errors": {"title": "Fyll i det här."}}
    answer = act.submit(EVA, form, {"title": "WLAN nere", "severity": "9"}).json()
    assert set(answer["errors"]) == {"severity"} and "1, 2, 3, 4" in answer["errors"]["severity"]
    with slack.runtime.core.unit_of_work() as uow:
        assert not uow.incidents.open_incidents()

    d = reference(slack.ask("/disagreement", "open city nivå=kontraktsforum Vite", JOHAN), "D")
    act.click(JOHAN, "disagreement.propose", d, channel=f"D{JOHAN}")
    form = opened_form(slack, 2)
    answer = act.submit(JOHAN, form, {"text": "x" * 4001}).json()
    assert answer == {"response_action": "errors",
                      "errors": {"text": "Högst 4000 tecken går att spara; texten är 4001."}}
    assert disagreement(slack, d).proposal is None
    # In the language of whoever sends it.
    slack.fake.users[MARIA], slack.fake.locales[MARIA] = "maria.sund@supplier.example", "en-GB"
    slack.ask("/samverkan", "whoami", MARIA)  # Slack tells her locale, once, and it is remembered
    answer = act.submit(MARIA, form, {"text": ""}).json()
    assert answer["errors"] == {"text": "Please fill this in."}


# -- message shortcuts ---------------------------------------------------------------------------------------------
def test_raise_as_disagreement_fills_the_form_from_the_message_and_links_it(slack, act) -> None:  # type: ignore[no-untyped-def]
    ts = slack.fake.say("C0FORUM", "U0SOMEONE", "Leveranserna i december kom för sent\nTre av fem skolor väntade.")
    act.shortcut(JOHAN, "disagreement.raise", "C0FORUM", "Leveranserna i december kom för sent\nTre av fem "
                 "skolor väntade.", ts)
    form = opened_form(slack, 1)
    assert form["callback_id"] == "disagreement.open"
    fields = {b["block_id"]: b["element"] for b in form["blocks"]}
    assert fields["title"]["initial_value"] == "Leveranserna i december kom för sent"
    assert fields["description"]["initial_value"] == "Leveranserna i december kom för sent\nTre av fem skolor väntade."
    link = f"https://stockholm.slack.com/archives/C0FORUM/p{ts.replace('.', '')}"
    assert json.loads(form["private_metadata"])["link"] == link
    act.submit(JOHAN, form, {"counterparty": "city", "title": fields["title"]["initial_value"],
                             "description": fields["description"]["initial_value"], "level": "kontraktsforum"})
    d = reference(ephemeral(slack, JOHAN), "D")
    shown = slack.ask("/disagreement", f"show {d}", JOHAN)
    assert "Tre av fem skolor väntade." in shown and link in shown


def test_add_to_a_forums_agenda_from_a_message(slack, act) -> None:  # type: ignore[no-untyped-def]
    ts = slack.fake.say("C0FORUM", "U0SOMEONE", "Inloggningen tar en minut efter varje release")
    act.shortcut(PER, "forum.agenda_item", "C0FORUM", "Inloggningen tar en minut efter varje release", ts)
    form = opened_form(slack, 1)
    choices = {o["value"] for o in form["blocks"][0]["element"]["options"]}
    # The forums the school platform's supplier sits at, and no other.
    assert "produktionssattning" in choices and "problemmote" in choices and "kontraktsforum" not in choices
    answer = act.submit(PER, form, {"text": "Inloggningen tar en minut efter varje release"}).json()
    assert answer == {"response_action": "errors", "errors": {"forum": "Fyll i det här."}}
    act.submit(PER, form, {"forum": "produktionssattning", "text": "Inloggningen tar en minut efter varje release"})
    assert ephemeral(slack, PER).startswith("Punkten är anmäld till Samverkan om produktionssättningar")
    agenda = slack.ask("/forum", "agenda produktionssattning", PER)
    assert "Inloggningen tar en minut efter varje release" in agenda and f"p{ts.replace('.', '')}" in agenda


def test_add_to_the_incident_timeline_from_a_message(slack, act) -> None:  # type: ignore[no-untyped-def]
    slack.ask("/incident", 'declare "WLAN nere på Södermalm" wlan 1', EVA)
    incident = war_room(slack)
    ts = slack.fake.say(incident.channel_id, JOHAN, "Switchen i Hornstull startas om 10:40")
    act.shortcut(JOHAN, "incident.timeline", incident.channel_id, "Switchen i Hornstull startas om 10:40", ts)
    form = opened_form(slack, 1)
    assert form["blocks"][0]["element"]["initial_option"]["value"] == incident.ref  # the war room it was said in
    act.submit(JOHAN, form, {"incident": incident.ref, "text": "Switchen i Hornstull startas om 10:40"})
    assert ephemeral(slack, JOHAN) == f"Tillagt i tidslinjen för {incident.ref}."
    with slack.runtime.core.unit_of_work() as uow:
        [note] = [e for e in uow.incidents.timeline(incident.id) if e.kind == "note"]
    assert note.author == "johan.ek" and note.text.startswith("Switchen i Hornstull startas om 10:40\nhttps://")
    # Someone the directory does not know gets no form, only the explanation.
    token = act.shortcut(NOBODY, "incident.timeline", incident.channel_id, "Hej", ts)
    assert slack.answer(token).startswith("Du finns inte i Samverkans katalog")
    assert len(slack.fake.calls_to("views.open")) == 1


# -- each person's language ----------------------------------------------------------------------------------------
def test_each_person_reads_their_own_language_and_channels_the_default(slack, act) -> None:  # type: ignore[no-untyped-def]
    slack.fake.users[KARIN], slack.fake.locales[KARIN] = "karin.berg@edu.stockholm.example", "en-GB"
    assert slack.ask("/forum", "decision kontraktsforum Vitet sänks till hälften", KARIN).startswith(
        "The decision is recorded")
    posted = wait(lambda: [m for m in slack.fake.posted("#forum-kontraktsforum") if "Vitet sänks" in m["text"]],
                  "the decision posted")
    assert posted[0]["text"].startswith("*Beslut i Kontraktsforum")  # the channel reads the default language
    with slack.runtime.core.unit_of_work() as uow:
        assert uow.languages.get(KARIN).lang == "en"  # remembered: Slack is not asked every time
    d = reference(slack.ask("/disagreement", "open city nivå=kontraktsforum Vite för sena leveranser", JOHAN), "D")
    [notice] = wait(lambda: in_dm(slack, KARIN, d), "Karin's notice")
    assert "*Waiting for:* a proposal from either party" in notice["text"]
    assert buttons(notice) == [("disagreement.propose", d)] and "Propose" in json.dumps(notice["blocks"])
    act.home_opened(KARIN)
    act.home_opened(JOHAN)
    assert home(slack, KARIN)[1][0] == "Your next sittings"
    assert home(slack, JOHAN)[1][0] == "Dina nästa sammanträden"


# -- no button does anything for someone without the authority -----------------------------------------------------
def test_every_button_clicked_without_authority_is_explained_and_changes_nothing(slack, act) -> None:  # type: ignore[no-untyped-def]
    from bot.native.buttons import ACTIONS
    from tests.test_permissions import refusals, snapshot

    d = reference(slack.ask("/disagreement", "open city nivå=kontraktsforum Vite för sena leveranser", JOHAN), "D")
    slack.ask("/disagreement", f"propose {d} Halva vitet", KARIN)
    a = reference(slack.ask("/forum", "action kontraktsforum johan.ek 2027-02-01 Ta fram tidplan", KARIN), "A")
    slack.ask("/incident", 'declare "WLAN nere på Södermalm" wlan 1', EVA)
    mi = war_room(slack).ref
    tried = {  # the button, and someone it is not for: of another party, or of the party without the role
        "disagreement.accept": (d, MARIA), "disagreement.reject": (d, MARIA), "disagreement.propose": (d, PER),
        "incident.update": (mi, PER), "incident.role": (mi, JOHAN), "incident.severity": (mi, JOHAN),
        "incident.resolve": (mi, JOHAN), "forum.agenda": ("kontraktsforum add", PER),
        "forum.report": ("kontraktsforum avtalsuppfoljning", KARIN), "forum.done": (a, MARIA),
    }
    assert set(tried) == set(ACTIONS)
    slack.runtime.core.plan()  # idempotent: the planning the declaration asked for changes nothing after this
    quiet(slack)
    for action, (value, user) in tried.items():
        before, calls, refused = snapshot(slack), len(slack.fake.calls), refusals(slack, user)
        token = act.click(user, action, value, channel=f"D{user}")
        answer = slack.answer(token)
        assert refusals(slack, user) == refused + 1, f"{action} by {user} was not refused: {answer}"
        assert snapshot(slack) == before, f"{action} by {user} changed something"
        assert {c.method for c in slack.fake.calls[calls:]} <= {"respond", "users.info"}, action
        assert "gick fel" not in answer
