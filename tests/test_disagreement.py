"""Disagreements in dialogue with the core, on SQLite and PostgreSQL: every rule, and every refusal leaves the
record as it was."""

from __future__ import annotations

from datetime import datetime

import pytest

from bot.clock import STOCKHOLM, ManualClock
from bot.disagreement.escalation import duty_key
from tests.conftest import Dialogue

PER = "U0PERSTRAND"  # Per Strand (school platform supplier) is in the directory by e-mail only


@pytest.fixture
def talk(dialogue: Dialogue) -> Dialogue:
    dialogue.chat.emails[PER] = "per.strand@skolplattform.example"
    return dialogue


def record(talk: Dialogue, ref: str) -> str:
    """Everything the City's oversight can see about a disagreement: the record, its history and its proposal."""
    return talk.say("eva.lind", f"/disagreement show {ref}")


def pending(talk: Dialogue, prefix: str = "disagreement.escalate:") -> set[str]:
    with talk.core.unit_of_work() as uow:
        return uow.duties.pending_keys(prefix)


def told(talk: Dialogue, ref: str) -> dict[str, list[str]]:
    """What people were told about a disagreement, by user: always directly. Nothing about it is ever posted in a
    channel, which whoever is in it reads."""
    assert not any(ref in text for _, text in talk.chat.posts), "a disagreement was posted in a channel"
    found: dict[str, list[str]] = {}
    for user, text in talk.chat.directs:
        if ref in text:
            found.setdefault(user, []).append(text)
    return found


def opened(talk: Dialogue, who: str = "eva.lind", line: str = "supplier Vem betalar för utbytta laddare") -> str:
    answer = talk.say(who, f"/disagreement open {line}")
    assert "registrerad som *D-" in answer, answer
    return answer.split("*")[1]


def test_the_city_and_the_lead_supplier_start_at_the_service_forum(talk: Dialogue) -> None:
    answer = talk.say("eva.lind", "/disagreement open supplier Vem betalar för utbytta laddare")
    d = answer.split("*")[1]
    assert answer.startswith(f"Oenigheten är registrerad som *{d}*: Vem betalar för utbytta laddare.")
    assert "Tjänsteforum – tjänstekatalogshantering – Digitala Enheter" in answer
    assert "torsdag 14 januari 2027 kl. 10:00" in answer  # Tuesday's sitting ends 10:00, plus two days' grace
    # Karin owns the catalogue for the City and must attend; nobody holds the supplier's owner role yet.
    [text] = told(talk, d)["U01KARINBG"]
    assert f"*{d} Vem betalar för utbytta laddare*" in text and "@Karin Berg" in text
    assert "Leverantören: ingen med de roller forumet kräver" in text
    assert pending(talk) == {duty_key(int(d[2:]), 1)}
    assert "registrerad av eva.lind" in record(talk, d)


def test_the_service_decides_the_catalogue_and_a_level_can_be_chosen(talk: Dialogue) -> None:
    d = opened(talk, "johan.ek", "city tjänst=service-desk Ärendekön växer")
    assert "nivå 2 av 5: *Tjänsteforum – tjänstekatalogshantering – Service Desk*" in told(talk, d)["U01KARINBG"][0]
    d2 = opened(talk, "johan.ek", "city nivå=kontraktsforum Vite för sena leveranser")
    assert "nivå 4 av 5: *Kontraktsforum*" in told(talk, d2)["U01KARINBG"][0]
    assert "Tjänst: Service Desk" in record(talk, d)


def test_suppliers_without_the_city_meet_where_the_model_says(talk: Dialogue) -> None:
    d = opened(talk, "johan.ek", "school-platform Gränsdragning för inloggning")
    assert "Samverkansforum kring specifika tjänster" in record(talk, d)
    d2 = opened(talk, "johan.ek", "product-supplier Garantiärenden för laddare")
    assert "*Forum it-service leverantörsmöte*" in record(talk, d2)
    # The City leads the suppliers' question: it sees and follows it, though it is not a party.
    assert "Samverkansforum kring specifika tjänster" in record(talk, d)
    # The forum names no roles for the school platform supplier: it is held to what the lead supplier must send.
    talk.say("johan.ek", f"/disagreement propose {d} Leverantören äger inloggningen")
    assert talk.say("eva.lind", f"/disagreement accept {d}").startswith("Du kan inte ta ställning")  # not a party
    assert talk.say(PER, f"/disagreement accept {d}").startswith("Du har godtagit")
    assert talk.say("johan.ek", f"/disagreement accept {d}").startswith(f"{d} är avgjord")


def test_only_the_parties_and_the_citys_oversight_see_a_disagreement(talk: Dialogue) -> None:
    d = opened(talk)
    hidden = talk.say(PER, f"/disagreement show {d}")
    missing = talk.say(PER, "/disagreement show D-999999")
    assert hidden.replace(f"{d}", "X") == missing.replace("D-999999", "X")
    assert hidden.startswith(f'Oenigheten "{d}" finns inte')
    for act in (f"comment {d} hej", f"escalate {d} nu", f"propose {d} x", f"accept {d}", f"reject {d} nej"):
        assert talk.say(PER, f"/disagreement {act}") == hidden
    assert talk.say(PER, "/disagreement list all") == "Inga oenigheter i det urvalet."
    assert f"{d}" in talk.say("johan.ek", "/disagreement list")
    assert "Vem betalar" in talk.say("karin.berg", f"/disagreement show {d}")
    assert record(talk, d).count("•") == 1  # nothing was added by the refused acts


def test_comments_and_history_are_kept(talk: Dialogue) -> None:
    d = opened(talk)
    assert talk.say("johan.ek", f"/disagreement comment {d} Avtalet säger inget om laddare") == (
        f"Kommentaren är tillagd i historiken för {d}.")
    shown = record(talk, d)
    assert "johan.ek: Avtalet säger inget om laddare" in shown
    assert shown.index("registrerad av") < shown.index("Avtalet säger")


def test_a_settlement_needs_every_party_through_someone_with_authority(talk: Dialogue) -> None:
    d = opened(talk)
    assert talk.say("johan.ek", f"/disagreement propose {d} Staden betalar laddarna i år").startswith(
        f"Förslaget till lösning för {d} är registrerat")
    before = record(talk, d)
    assert talk.say("johan.ek", f"/disagreement propose {d} Igen").startswith(f"{d} har redan ett förslag")
    # The service forum requires the supplier's owner of the catalogue: its account manager is not that.
    assert talk.say("johan.ek", f"/disagreement accept {d}").startswith(
        f"Du kan inte ta ställning till förslaget i {d} för din part")
    # Lars is the City's director of education, but neither an authorised approver nor its catalogue owner.
    assert talk.say("lars.holm", f"/disagreement accept {d}").startswith("Du kan inte ta ställning")
    assert record(talk, d) == before
    assert talk.say("eva.lind", "/samverkan role add maria.sund G").startswith("Maria Sund har nu rollen")
    assert talk.say("maria.sund", f"/disagreement accept {d}") == (
        f"Du har godtagit förslaget i {d}. Väntar på: Staden (Stadens Centrala Beställarorganisation).")
    assert talk.say("maria.sund", f"/disagreement accept {d}").startswith("Leverantören har redan godtagit")
    assert talk.say("karin.berg", f"/disagreement accept {d}") == f"{d} är avgjord: Staden betalar laddarna i år"
    assert told(talk, d)["U02MARIASD"][-1] == (f"*{d} Vem betalar för utbytta laddare är avgjord* – Staden "
                                               "(Stadens Centrala Beställarorganisation) – Leverantören har "
                                               "godtagit: Staden betalar laddarna i år")
    assert pending(talk) == set()  # no escalation will follow
    settled = record(talk, d)
    assert "Avgjord vid" in settled and "godtaget av maria.sund" in settled and "godtaget av karin.berg" in settled
    for act in (f"comment {d} x", f"escalate {d} x", f"propose {d} x", f"accept {d}", f"reject {d} x"):
        assert talk.say("johan.ek", f"/disagreement {act}") == f"{d} är redan avgjord; den kan inte ändras."
    assert record(talk, d) == settled


def test_a_rejected_proposal_keeps_it_open_and_makes_room_for_another(talk: Dialogue) -> None:
    d = opened(talk)
    assert talk.say("karin.berg", f"/disagreement reject {d} x").startswith(f"{d} har inget förslag")
    # Rejecting takes the same authority as accepting: the supplier's account manager has none at this level.
    assert talk.say("johan.ek", f"/disagreement reject {d} x").startswith("Du kan inte ta ställning")
    talk.say("johan.ek", f"/disagreement propose {d} Delad kostnad")
    assert talk.say("karin.berg", f"/disagreement reject {d} Inte i år") == (
        f"Förslaget i {d} är avvisat; oenigheten är fortfarande öppen.")
    assert talk.say("karin.berg", f"/disagreement accept {d}").startswith(f"{d} har inget förslag")
    assert talk.say("karin.berg", f"/disagreement propose {d} Staden betalar").startswith("Förslaget till lösning")
    shown = record(talk, d)
    assert "förslag avvisat av karin.berg: Inte i år" in shown and "Förslag: Staden betalar" in shown


def test_any_party_may_move_it_up_at_once(talk: Dialogue) -> None:
    d = opened(talk)
    talk.say("johan.ek", f"/disagreement propose {d} Delad kostnad")
    before = len(talk.chat.directs)
    assert talk.say("johan.ek", f"/disagreement escalate {d} Vi kommer inte överens") == (
        f"{d} är flyttad upp till Övergripande tjänsteforum.")
    text = told(talk, d)["U02ALIHASN"][-1]
    assert "nivå 3 av 5: *Övergripande tjänsteforum*" in text
    assert "Eskalerad av Johan Ek: Vi kommer inte överens" in text
    assert "@Johan Ek" in text and "@Ali Hassan" in text and "@Karin Berg" in text
    escalation = {user for user, text in talk.chat.directs[before:] if d in text}
    assert "U01KARINBG" in escalation and "U02JOHANEK" not in escalation  # not the one who escalated
    # The sweep's step for the old level is withdrawn and the new level's is planned.
    assert pending(talk) == {duty_key(int(d[2:]), 2)}
    shown = record(talk, d)
    assert "eskalerad till Övergripande tjänsteforum av johan.ek" in shown
    assert "Förslag:" not in shown  # a proposal belongs to the level it was made at


def test_at_the_top_informal_resolution_is_exhausted(talk: Dialogue) -> None:
    d = opened(talk, "eva.lind", "supplier nivå=affarsforum Sanktion för tillgänglighet")
    assert talk.say("karin.berg", f"/disagreement escalate {d} Ingen enighet").startswith(
        f"{d}: den informella tvistlösningen är uttömd")
    assert "påkalla formell tvistlösning" in told(talk, d)["U02JOHANEK"][-1]
    assert pending(talk) == set()
    assert talk.say("johan.ek", f"/disagreement escalate {d} x").startswith(
        f"{d}: den informella tvistlösningen är uttömd; parterna kan påkalla")


def test_bad_input_is_explained_and_changes_nothing(talk: Dialogue) -> None:
    assert talk.say("eva.lind", "/disagreement open nobody Rubrik").startswith('Parten "nobody" finns inte')
    assert talk.say("eva.lind", "/disagreement open city Rubrik").startswith("Du tillhör själv")
    assert talk.say("eva.lind", "/disagreement open supplier").startswith("Skriv `/disagreement open")
    assert talk.say("eva.lind", "/disagreement open supplier tjänst=tvätt X").startswith('Tjänsten "tvätt"')
    assert talk.say("eva.lind", "/disagreement open supplier nivå=lokal-samverkan X").startswith(
        "lokal-samverkan är ingen nivå")
    assert talk.say("eva.lind", "/disagreement open supplier nivå=nio X").startswith('Nivån "nio" finns inte')
    assert talk.say("eva.lind", "/disagreement show D-x").startswith('Oenigheten "D-x" finns inte')
    assert talk.say("eva.lind", "/disagreement comment").startswith("Skriv `/disagreement comment")
    assert talk.say("eva.lind", "/disagreement list all") == "Inga oenigheter i det urvalet."
    assert talk.chat.posts == [] and pending(talk) == set()


def test_lists_are_paginated_and_filtered_by_level(talk: Dialogue) -> None:
    refs = [opened(talk, "johan.ek", f"city Fråga {n}") for n in range(25)]
    opened(talk, "johan.ek", "city nivå=kontraktsforum Vite")
    first = talk.say("johan.ek", "/disagreement list")
    assert first.startswith("*Oenigheter* (26 st, sida 1 av 2)") and "Fler: lägg till `sida=2`" in first
    assert f"*{refs[-1]}*" in first and f"*{refs[0]}*" not in first
    assert f"*{refs[0]}*" in talk.say("johan.ek", "/disagreement list sida=2")
    assert talk.say("johan.ek", "/disagreement list kontraktsforum").startswith("*Oenigheter* (1 st")
    assert talk.say("johan.ek", "/disagreement list 4").startswith("*Oenigheter* (1 st")


def test_stats_follow_up_what_climbed(talk: Dialogue) -> None:
    d = opened(talk, "eva.lind", "supplier nivå=overgripande-tjansteforum Första frågan")
    d2 = opened(talk, "johan.ek", "city Andra frågan")
    talk.say("johan.ek", f"/disagreement escalate {d2} Omöjligt")
    talk.say("johan.ek", f"/disagreement propose {d} Ok")
    talk.say("johan.ek", f"/disagreement accept {d}")
    talk.say("karin.berg", f"/disagreement accept {d}")  # the City's owner of the catalogues sits there
    figures = talk.say("eva.lind", "/disagreement stats")
    assert "2 totalt, 1 öppna" in figures
    assert "• Övergripande tjänsteforum: Leverantören 1, Staden (Stadens Centrala Beställarorganisation) 1" in figures
    assert "• Övergripande tjänsteforum: 0.0 dagar (1 avgjord)" in figures  # not "1 avgjorda"
    assert "• Leverantören: 1 (varav 1 begärd av parten)" in figures
    assert "*Uppföljning i Kontraktsforum: eskalerade frågor* (1)" in figures and f"{d2} Andra frågan" in figures
    assert talk.say(PER, "/disagreement stats") == "Inga oenigheter att räkna på."


def test_english_texts(talk: Dialogue, clock: ManualClock) -> None:
    from bot.app import Samverkan

    english = Dialogue(Samverkan(talk.core.model, talk.core.unit_of_work, clock, talk.chat, lang="en"), talk.chat)
    assert english.say("eva.lind", "/disagreement open supplier Chargers").startswith(
        "The disagreement is recorded as *D-")
    assert clock.now() == datetime(2027, 1, 11, 9, 0, tzinfo=STOCKHOLM)


def test_a_model_without_a_ladder_says_so(talk: Dialogue, clock: ManualClock) -> None:
    from bot.app import Samverkan

    bare = talk.core.model.model_copy(update={"ladder": None})
    without = Dialogue(Samverkan(bare, talk.core.unit_of_work, clock, talk.chat, lang="sv"), talk.chat)
    assert without.say("eva.lind", "/disagreement open supplier X").startswith("Styrmodellen har ingen")
    assert without.say("eva.lind", "/disagreement list 2").startswith("Styrmodellen har ingen")
