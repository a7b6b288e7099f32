"""The forum calendar in use: commands, agendas, reminders and deployment notices, as dialogues with the core."""

from __future__ import annotations

import re
from datetime import datetime, timedelta

from bot.app import Samverkan
from bot.clock import STOCKHOLM, ManualClock
from tests.conftest import Dialogue
from tests.fakes.recording_chat import RecordingChat

KONTRAKT = "#forum-kontraktsforum"


def posts(chat: RecordingChat, channel: str) -> list[str]:
    return [text for where, text in chat.posts if where == channel]


def go(core: Samverkan, chat: RecordingChat, clock: ManualClock, when: datetime) -> None:
    clock.set(when)
    core.tick()


def test_list_and_next_show_every_forum_with_its_next_sitting(dialogue: Dialogue) -> None:
    listing = dialogue.say("johan.ek", "/forum list")
    assert "*Kontraktsforum* (`kontraktsforum`) – kvartalsvis – #forum-kontraktsforum – nästa: tisdag 19 januari" \
        in listing
    assert "*Service Desk-samverkan* (`servicedesk-samverkan`) – löpande" in listing
    upcoming = dialogue.say("johan.ek", "/forum next")
    assert upcoming.index("*GSIT 2.0 veckovis avstämningsmöte* måndag 11 januari 2027 kl. 10:00") < upcoming.index(
        "*Kontraktsforum* tisdag 19 januari 2027 kl. 10:00")
    one = dialogue.say("johan.ek", "/forum next Ändringshanteringsmöte").splitlines()
    assert one[1] == "• *Ändringshanteringsmöte* torsdag 14 januari 2027 kl. 09:00" and len(one) == 13


def test_a_forum_held_per_catalogue_asks_which(dialogue: Dialogue) -> None:
    assert dialogue.say("johan.ek", "/forum next tjansteforum") == (
        "tjansteforum hålls per tjänstekatalog: ange ett av tjansteforum-digitala-enheter, "
        "tjansteforum-service-desk.")


def test_agenda_items_from_attending_parties_only(dialogue: Dialogue, chat: RecordingChat) -> None:
    assert dialogue.say("johan.ek", '/forum agenda kontraktsforum add "Vite för sena leveranser"') == (
        "Punkten är anmäld till Kontraktsforum tisdag 19 januari 2027 kl. 10:00: Vite för sena leveranser")
    chat.emails["U0PERSTRAND"] = "per.strand@skolplattform.example"
    assert dialogue.say("U0PERSTRAND", "/forum agenda kontraktsforum add Vår fråga") == (
        "Bara parter som deltar i Kontraktsforum kan göra det.")
    agenda = dialogue.say("eva.lind", "/forum agenda kontraktsforum")
    assert "1. Vite för sena leveranser (anmäld av johan.ek)" in agenda and "Vår fråga" not in agenda
    assert dialogue.say("U0PERSTRAND", "/forum agenda kontraktsforum") == (
        "Bara parter som deltar i Kontraktsforum kan göra det.")
    assert "Avtalsansvarig, Stadens Centrala Beställarorganisation: @Karin Berg" in agenda
    assert "Kundansvarig: @Johan Ek" in agenda


def test_the_chair_moves_cancels_and_adds_sittings(dialogue: Dialogue, chat: RecordingChat) -> None:
    assert dialogue.say("johan.ek", "/forum move kontraktsforum 2027-01-19 2027-01-21 13:00").startswith(
        "Bara ordförandepartens personer (Staden (Stadens Centrala Beställarorganisation))")
    moved = dialogue.say("eva.lind", "/forum move kontraktsforum 2027-01-19 2027-01-21 13:00")
    assert moved == ("Kontraktsforum: sammanträdet tisdag 19 januari 2027 kl. 10:00 är flyttat till torsdag 21 "
                     "januari 2027 kl. 13:00 (av Eva Lind).")
    assert posts(chat, KONTRAKT) == [moved]
    assert "(flyttat från 19 januari 2027)" in dialogue.say("eva.lind", "/forum next kontraktsforum")
    # The moved sitting is still found by its old date, and may move again.
    dialogue.say("eva.lind", "/forum move kontraktsforum 2027-01-19 2027-01-22")
    assert dialogue.say("eva.lind", "/forum cancel kontraktsforum 2027-04-20").endswith("är inställt (av Eva Lind).")
    assert dialogue.say("eva.lind", "/forum extra kontraktsforum 2027-02-02 10:00").startswith(
        "Kontraktsforum: extra sammanträde tisdag 2 februari 2027 kl. 10:00")
    coming = dialogue.say("eva.lind", "/forum next kontraktsforum").splitlines()
    assert coming[1:4] == [
        "• *Kontraktsforum* fredag 22 januari 2027 kl. 10:00 (flyttat från 19 januari 2027)",
        "• *Kontraktsforum* tisdag 2 februari 2027 kl. 10:00 (extra sammanträde)",
        "• *Kontraktsforum* tisdag 20 april 2027 kl. 10:00 – INSTÄLLT ",
    ]


def test_bad_dates_are_explained_and_nothing_is_saved(dialogue: Dialogue, chat: RecordingChat,
                                                      core: Samverkan) -> None:
    cases = {
        "/forum move kontraktsforum 2027-01-18 2027-01-21": "Kontraktsforum har inget sammanträde 2027-01-18.",
        "/forum move kontraktsforum 19/1 2027-01-21": '"19/1" är inget datum. Skriv datum som 2027-03-15.',
        "/forum move kontraktsforum 2027-01-19 2027-01-21 25:00": '"25:00" är ingen tid. Skriv tid som 09:30.',
        "/forum move kontraktsforum 2027-01-19 2026-12-01": "tisdag 1 december 2026 kl. 10:00 har redan varit.",
        "/forum extra kontraktsforum 2027-01-01": "Skriv `/forum extra <forum> <datum> <tid>`",
        "/forum cancel kontraktsforom 2027-01-19": 'Forumet "kontraktsforom" finns inte.',
        "/forum action kontraktsforum nobody 2027-02-01 Gör något": 'Hittar ingen i katalogen som heter eller nås via',
        "/forum done A-99": 'Åtgärden "A-99" finns inte.',
    }
    for line, answer in cases.items():
        assert answer in dialogue.say("eva.lind", line), line
    with core.unit_of_work() as uow:
        assert uow.forum.changes() == [] and uow.forum.open_actions() == []
    assert chat.posts == []


def test_reminders_come_once_at_each_offset_with_the_agenda(core: Samverkan, chat: RecordingChat,
                                                             clock: ManualClock, dialogue: Dialogue) -> None:
    core.tick()
    dialogue.say("johan.ek", '/forum agenda kontraktsforum add "Vite för sena leveranser"')
    dialogue.say("eva.lind", "/forum subscribe kontraktsforum")
    go(core, chat, clock, datetime(2027, 1, 12, 10, 0, tzinfo=STOCKHOLM))
    go(core, chat, clock, datetime(2027, 1, 12, 10, 0, 30, tzinfo=STOCKHOLM))  # a second sweep adds nothing
    week = posts(chat, KONTRAKT)
    assert len(week) == 1
    assert week[0].splitlines()[0] == (
        "📅 *Kontraktsforum* – tisdag 19 januari 2027 kl. 10:00–12:00 (om 7 dagar)")
    assert "1. Vite för sena leveranser (anmäld av johan.ek)" in week[0]
    # The reports owed before the sitting are on its agenda, with when they are due (two working days before).
    assert ("Rapport: Avtalsuppföljning och avvikelser (Leverantören) – lämnas senast fredag 15 januari 2027 "
            "kl. 10:00") in week[0]
    # Reminders go to subscribers; reports falling due go to their owners directly, and are not reminders.
    assert [d for d in chat.directs if d[1].startswith("📅")] == [("U01EVALIND", week[0])]
    go(core, chat, clock, datetime(2027, 1, 18, 10, 0, tzinfo=STOCKHOLM))
    go(core, chat, clock, datetime(2027, 1, 19, 9, 45, tzinfo=STOCKHOLM))
    go(core, chat, clock, datetime(2027, 1, 19, 11, 0, tzinfo=STOCKHOLM))
    firsts = [p.splitlines()[0] for p in posts(chat, KONTRAKT)]
    assert [f.rsplit("(", 1)[1] for f in firsts] == ["om 7 dagar)", "om 24 timmar)", "om 15 minuter)"]


def test_after_downtime_only_the_latest_missed_reminder_is_posted_late(core: Samverkan, chat: RecordingChat,
                                                                       clock: ManualClock) -> None:
    core.tick()
    go(core, chat, clock, datetime(2027, 1, 18, 12, 0, tzinfo=STOCKHOLM))  # down over the 7d and 1d reminders
    late = posts(chat, KONTRAKT)
    assert len(late) == 1
    assert late[0].startswith("⏳ Sen påminnelse")
    assert "(om 22 timmar)" in late[0]
    go(core, chat, clock, datetime(2027, 1, 19, 10, 5, tzinfo=STOCKHOLM))  # down over the 15m one: it has begun
    assert len(posts(chat, KONTRAKT)) == 1


def test_a_moved_sitting_is_reminded_on_its_new_date(core: Samverkan, chat: RecordingChat, clock: ManualClock,
                                                     dialogue: Dialogue) -> None:
    core.tick()
    dialogue.say("eva.lind", "/forum move kontraktsforum 2027-01-19 2027-01-26 13:00")
    chat.posts.clear()
    go(core, chat, clock, datetime(2027, 1, 12, 10, 30, tzinfo=STOCKHOLM))  # the old 7d moment: nothing
    assert posts(chat, KONTRAKT) == []
    go(core, chat, clock, datetime(2027, 1, 19, 13, 0, tzinfo=STOCKHOLM))
    [reminder] = posts(chat, KONTRAKT)
    assert "tisdag 26 januari 2027 kl. 13:00" in reminder
    assert "Flyttat från tisdag 19 januari 2027 kl. 10:00 enligt överenskommelse." in reminder


def test_a_required_role_nobody_holds_is_warned_about(dialogue: Dialogue) -> None:
    dialogue.say("eva.lind", "/samverkan role remove johan.ek kundansvarig")
    agenda = dialogue.say("eva.lind", "/forum agenda kontraktsforum")
    assert "⚠️ ingen i katalogen är Kundansvarig hos Leverantören" in agenda


def test_actions_are_reminded_when_due_and_stay_on_the_agenda_until_done(core: Samverkan, chat: RecordingChat,
                                                                          clock: ManualClock,
                                                                          dialogue: Dialogue) -> None:
    core.tick()
    answer = dialogue.say("eva.lind", "/forum action kontraktsforum @user:U02JOHANEK 2027-01-14 Ta fram vitesunderlag")
    found = re.match(r"Åtgärden (A-\d+) är registrerad: Johan Ek, klart 2027-01-14\.", answer)
    assert found, answer
    ref = found[1]  # PostgreSQL does not roll its sequences back with a test
    go(core, chat, clock, datetime(2027, 1, 14, 9, 0, tzinfo=STOCKHOLM))
    go(core, chat, clock, datetime(2027, 1, 14, 9, 5, tzinfo=STOCKHOLM))
    assert [d for d in chat.directs if f"åtgärd {ref} " in d[1]] == [(
        "U02JOHANEK", f"Påminnelse: åtgärd {ref} från Kontraktsforum ska vara klar 2027-01-14: Ta fram vitesunderlag. "
        f"Skriv `/forum done {ref}` när den är klar.")]
    assert f"Åtgärd {ref}: Ta fram vitesunderlag – Johan Ek, klart 2027-01-14 – *försenad*" in dialogue.say(
        "eva.lind", "/forum agenda kontraktsforum")
    assert dialogue.say("johan.ek", f"/forum done {ref}") == f"{ref} är klar: Ta fram vitesunderlag"
    assert f"{ref}:" not in dialogue.say("eva.lind", "/forum agenda kontraktsforum")
    assert dialogue.say("johan.ek", f"/forum done {ref}") == f"{ref} är redan klar."


def test_decisions_are_posted_in_the_forum_channel(dialogue: Dialogue, chat: RecordingChat) -> None:
    # PostgreSQL does not roll its sequences back with a test: the number is whatever comes next.
    assert re.fullmatch(r"Beslutet är antecknat \(B-\d+\)\.",
                        dialogue.say("eva.lind", "/forum decision kontraktsforum Avtalsbilaga 3 revideras"))
    assert posts(chat, KONTRAKT) == ["*Beslut i Kontraktsforum:* Avtalsbilaga 3 revideras (antecknat av Eva Lind)"]


def test_deployments_are_announced_before_their_coordination_sitting(dialogue: Dialogue, chat: RecordingChat,
                                                                     clock: ManualClock) -> None:
    # Coordination sits every other Wednesday at 14:00: 20 January and 3 February 2027.
    in_time = dialogue.say("johan.ek", "/deploy announce wlan 2027-01-25 18:00 Ny firmware i accesspunkterna")
    first = in_time.split()[1]  # ids come from the database, which PostgreSQL does not roll back
    assert in_time == (f"Produktionssättningen {first} är anmäld. Den står på dagordningen för Samverkan om "
                       "produktionssättningar onsdag 20 januari 2027 kl. 14:00.")
    clock.set(datetime(2027, 1, 21, 9, 0, tzinfo=STOCKHOLM))
    late = dialogue.say("johan.ek", "/deploy announce wlan 2027-01-26 18:00 Byte av brandvägg")
    second = late.split()[1]
    assert late.startswith(f"Produktionssättningen {second} är anmäld. Den står på dagordningen för Samverkan om "
                           "produktionssättningar onsdag 3 februari 2027 kl. 14:00. ⚠️")
    listing = dialogue.say("eva.lind", "/deploy list").splitlines()
    assert listing[1].startswith(f"• {first} måndag 25 januari 2027 kl. 18:00 – WLAN/LAN/WAN: Ny firmware")
    assert "anmäld för sent" not in listing[1] and "anmäld för sent" in listing[2]
    agenda = dialogue.say("eva.lind", "/forum agenda produktionssattning")
    assert f"Produktionssättning {second} " in agenda and "anmäld för sent" in agenda
    assert f"Produktionssättning {first} " not in agenda
    chat.emails["U0PERSTRAND"] = "per.strand@skolplattform.example"
    assert dialogue.say("U0PERSTRAND", "/deploy announce wlan 2027-02-01 18:00 X").startswith(
        "Bara en leverantör som ansvarar för WLAN/LAN/WAN")
    assert dialogue.say("johan.ek", "/deploy announce wifi 2027-02-01 18:00 X").startswith(
        'Tjänsten "wifi" finns inte i tjänstekatalogen.')
    assert dialogue.say("johan.ek", f"/deploy cancel {second}") == f"{second} är återkallad."
    assert f"{second} " not in dialogue.say("eva.lind", "/deploy list")
    assert dialogue.say("johan.ek", f"/deploy cancel {second}").startswith(f'Det finns ingen aktiv anmälan "{second}"')


def test_english_reminder(core: Samverkan, chat: RecordingChat, clock: ManualClock) -> None:
    english = Samverkan(core.model, core.unit_of_work, clock, chat, lang="en")
    english.tick()
    clock.set(datetime(2027, 1, 12, 10, 0, tzinfo=STOCKHOLM))
    english.tick()
    [reminder] = posts(chat, KONTRAKT)
    assert reminder.startswith("📅 *Contract forum* – Tuesday 19 January 2027, 10:00–12:00 (in 7 days)")
    assert clock.now() - timedelta(days=1) < clock.now()
