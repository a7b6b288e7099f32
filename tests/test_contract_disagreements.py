"""Disagreements as sections 5.4, 6.2 A and 8.10 have them, in dialogue with the core on SQLite and PostgreSQL: the
City leads a question between suppliers to a clarified boundary it records; its people are summoned at every
central forum; its local IT support can settle; and at Affärsforum only that forum's authority answers."""

from __future__ import annotations

import io
import json
from datetime import datetime

import pytest

from bot.clock import STOCKHOLM
from samverkan.export import export
from tests.conftest import Dialogue

PER, LENA, ANNA = "U0PERSTRAND", "U0LENA", "U01ANNASTR"
EVA, KARIN, LARS, JOHAN, ALI = "U01EVALIND", "U01KARINBG", "U01LARSHLM", "U02JOHANEK", "U02ALIHASN"


@pytest.fixture
def talk(dialogue: Dialogue) -> Dialogue:
    dialogue.chat.emails.update({PER: "per.strand@skolplattform.example", LENA: "lena.dahl@netops.example"})
    return dialogue


def opened(talk: Dialogue, who: str, line: str) -> str:
    answer = talk.say(who, f"/disagreement open {line}")
    assert "registrerad som *D-" in answer, answer
    return answer.split("*")[1]


def told(talk: Dialogue, ref: str) -> dict[str, list[str]]:
    assert not any(ref in text for _, text in talk.chat.posts), "a disagreement was posted in a channel"
    found: dict[str, list[str]] = {}
    for user, text in talk.chat.directs:
        if ref in text:
            found.setdefault(user, []).append(text)
    return found


# -- between two suppliers the City leads (8.10) ----------------------------------------------------------------
def test_a_question_between_suppliers_is_led_by_the_city_which_is_told_at_once(talk: Dialogue) -> None:
    answer = talk.say(PER, "/disagreement open network-ops Vem felsöker inloggning via WLAN")
    d = answer.split("*")[1]
    assert answer.endswith("Den är en fråga mellan leverantörer: Staden (Stadens Centrala Beställarorganisation) "
                           "leder den i Samverkansforum kring specifika tjänster (avsnitt 8.10), och den avslutas med "
                           "en ansvarsgräns som staden klargör.")
    news = told(talk, d)
    [to_eva] = news[EVA]
    assert KARIN in news and LENA in news and JOHAN not in news  # the lead supplier is no party to it
    # The City is named first and mentioned; both suppliers' people are summoned, other organisations' included.
    assert "Leder: @Eva Lind, @Karin Berg" in to_eva
    assert ("Ska delta: Leverantör av Skolplattformen: @Per Strand · Leverantör av nätdrift (WAN/LAN/WLAN): "
            "@Lena Dahl") in to_eva
    assert "ingen med de roller" not in to_eva
    assert "formell tvist" not in to_eva and "blir ingen tvist enligt huvudavtalet" in to_eva
    [mentioned] = [m for where, m in talk.chat.messages if where == f"dm:{EVA}"]
    assert {m.key for m in mentioned.mentions()} >= {"eva.lind", "karin.berg", "per.strand", "lena.dahl"}


def test_it_never_climbs_and_ends_with_the_citys_clarification(talk: Dialogue) -> None:
    d = opened(talk, "johan.ek", "school-platform Gränsdragning för inloggning")
    assert talk.say("johan.ek", f"/disagreement escalate {d} Vi kommer inte överens").startswith(
        f"{d} är en fråga mellan leverantörer som Staden (Stadens Centrala Beställarorganisation) leder")
    # The sitting passes unsettled: the City is told its clarification is awaited; nothing climbs.
    talk.core.clock.set(datetime(2027, 1, 22, 15, 0, tzinfo=STOCKHOLM))  # type: ignore[attr-defined]
    talk.core.tick()
    [awaiting] = [t for t in told(talk, d)[EVA] if "har passerat" in t]
    # The notice, then where the question stands now (kept current in place).
    assert (f"Staden (Stadens Centrala Beställarorganisation) avgör ansvarsgränsen: "
            f"`/disagreement clarify {d} <ansvarsgräns>`.\n*Läge:*") in awaiting
    shown = talk.say("eva.lind", f"/disagreement show {d}")
    assert "Leds av Staden (Stadens Centrala Beställarorganisation) i *Samverkansforum" in shown
    assert "väntar på stadens klargörande" in shown and "eskalerad" not in shown
    with talk.core.unit_of_work() as uow:
        assert uow.duties.pending_keys("disagreement.escalate:") == set()
    # Only the City clarifies; the suppliers are refused, and it is not a settlement of theirs.
    assert talk.say(PER, f"/disagreement clarify {d} Vi äger inloggningen").startswith(
        "Bara Stadens Centrala Beställarorganisation klargör")
    answer = talk.say("karin.berg", f"/disagreement clarify {d} Skolplattformens leverantör äger inloggningen; "
                                    "Leverantören äger klienten")
    ref = answer.split("(")[1].split(")")[0]
    assert answer == (f"{d} är klargjord ({ref}): Skolplattformens leverantör äger inloggningen; Leverantören äger "
                      "klienten. Ansvarsgränsen står i registret över klargöranden.")
    assert any(ref in t and "är klargjord av Staden" in t for t in told(talk, d)[PER])
    shown = talk.say("johan.ek", f"/disagreement show {d}")
    assert "Klargjord av staden (efter Samverkansforum kring specifika tjänster)" in shown
    assert talk.say("johan.ek", f"/disagreement propose {d} Annat").startswith(f"{d} är klargjord av staden")
    with talk.core.unit_of_work() as uow:
        [register] = [c for c in uow.disagreements.clarifications() if c.ref == ref]
    assert register.parties == ("supplier", "school-platform") and register.by == "karin.berg"


def test_the_register_of_clarifications_is_exported(talk: Dialogue) -> None:
    d = opened(talk, PER, "supplier Gränsdragning")
    talk.say("eva.lind", f"/disagreement clarify {d} Leverantören äger klienten")
    out = io.StringIO()
    with talk.core.unit_of_work() as uow:
        export(uow, talk.core.model, "json", out)
    data = json.loads(out.getvalue())
    [clarified] = [c for c in data["clarifications"] if c["disagreement"] == d]
    assert clarified["boundary"] == "Leverantören äger klienten" and clarified["parties"] == [
        "school-platform", "supplier"] and clarified["by"] == "eva.lind"
    [record] = [r for r in data["disagreements"] if r["ref"] == d]
    assert record["state"] == "clarified" and record["led_by"] == "city"
    out = io.StringIO()
    with talk.core.unit_of_work() as uow:
        export(uow, talk.core.model, "csv", out)
    rows = out.getvalue().splitlines()
    assert any(r.startswith(f"clarification,{clarified['ref']},") and "Leverantören äger klienten" in r for r in rows)


def test_suppliers_that_agree_settle_and_the_city_records_the_boundary(talk: Dialogue) -> None:
    talk.say("eva.lind", "/samverkan role add noc kundansvarig")  # network operations' NOC may answer too
    d = opened(talk, PER, "network-ops Felanmälan via WLAN")
    talk.say(PER, f"/disagreement propose {d} Nätdriften tar första linjen")
    assert talk.say("eva.lind", f"/disagreement accept {d}").startswith("Du kan inte ta ställning")  # not a party
    assert talk.say(PER, f"/disagreement accept {d}").startswith("Du har godtagit")
    assert talk.say(LENA, f"/disagreement accept {d}").startswith(f"{d} är avgjord")
    answer = talk.say("eva.lind", f"/disagreement clarify {d} Nätdriften tar första linjen vid WLAN-fel")
    assert answer.startswith(f"{d} är klargjord (K-")


def test_a_question_on_the_ladder_is_not_clarified(talk: Dialogue) -> None:
    d = opened(talk, "eva.lind", "supplier Vem betalar laddarna")
    assert talk.say("eva.lind", f"/disagreement clarify {d} Staden").startswith(
        f"{d} står mellan staden och en leverantör")


# -- the City's people are summoned at every central forum -------------------------------------------------------
@pytest.mark.parametrize(("level", "city", "supplier"), [
    ("tjansteforum", "@Karin Berg", "ingen med de roller"),  # nobody holds the supplier's catalogue owner role yet
    ("overgripande-tjansteforum", "@Karin Berg", "@Ali Hassan, @Johan Ek"),
    ("kontraktsforum", "@Karin Berg", "@Johan Ek"),
    ("affarsforum", "@Lars Holm", "@Johan Ek"),
])
def test_at_every_central_forum_both_sides_are_summoned(talk: Dialogue, level: str, city: str,
                                                      supplier: str) -> None:
    d = opened(talk, "johan.ek", f"city nivå={level} Tolkning av avtalet")
    [notice] = told(talk, d)[KARIN if level != "affarsforum" else LARS]
    summoned = notice.split("Ska delta: ")[1].split("\n")[0]  # then where it stands, kept current
    assert summoned.startswith("Leverantören: ") and supplier in summoned.split(" · ")[0]
    assert summoned.endswith(f" · Staden (Stadens Centrala Beställarorganisation): {city}")


# -- the City's local IT support can settle -----------------------------------------------------------------------
def test_a_disagreement_raised_by_local_it_support_can_be_settled(talk: Dialogue) -> None:
    talk.say("eva.lind", "/samverkan role add maria.sund lokalt-kundansvarig")
    d = opened(talk, "anna.strom", "supplier Laddare på Västberga skola")
    notice = told(talk, d)["U02MARIASD"][0]
    assert "nivå 1 av 5: *Lokal samverkan*" in notice
    assert "Stadens Lokala It-stöd: @Anna Ström · Leverantören: @Maria Sund" in notice
    talk.say("maria.sund", f"/disagreement propose {d} Leverantören byter laddarna")
    assert talk.say("anna.strom", f"/disagreement accept {d}").startswith("Du har godtagit förslaget")
    assert talk.say("maria.sund", f"/disagreement accept {d}").startswith(f"{d} är avgjord")


def test_above_the_local_level_the_citys_ordering_organisation_answers_for_its_local_it_support(
        talk: Dialogue) -> None:
    talk.say("eva.lind", "/samverkan role add maria.sund G")
    d = opened(talk, "anna.strom", "supplier Laddare på Västberga skola")
    talk.say("anna.strom", f"/disagreement escalate {d} Ingen enighet lokalt")
    notice = told(talk, d)[KARIN][-1]
    assert "nivå 2 av 5: *Tjänsteforum – tjänstekatalogshantering – Digitala Enheter*" in notice
    assert ("Stadens Lokala It-stöd genom Staden (Stadens Centrala Beställarorganisation): @Karin Berg · "
            "Leverantören: @Maria Sund") in notice
    talk.say("maria.sund", f"/disagreement propose {d} Staden betalar i år")
    # The local IT support has no seat at the service forum: there it is the City's catalogue owner who answers.
    assert talk.say("anna.strom", f"/disagreement accept {d}").startswith("Du kan inte ta ställning")
    assert talk.say("karin.berg", f"/disagreement accept {d}") == (
        f"Du har godtagit förslaget i {d}. Väntar på: Leverantören.")
    assert talk.say("maria.sund", f"/disagreement accept {d}") == f"{d} är avgjord: Staden betalar i år"


# -- at Affärsforum, that forum's authority -------------------------------------------------------------------------
def test_at_the_business_forum_the_signatory_and_the_authorised_representative_answer(talk: Dialogue) -> None:
    d = opened(talk, "eva.lind", "supplier nivå=affarsforum Vite för tillgänglighet")
    talk.say("eva.lind", f"/disagreement propose {d} Halva vitet")
    # Neither an authorised approver nor the contract manager: the Director of Education signs for the City.
    for who in ("eva.lind", "karin.berg"):
        assert talk.say(who, f"/disagreement accept {d}").startswith("Du kan inte ta ställning"), who
    # The supplier's Kundansvarig represents it in matters of the agreement (6.2 A); its other people do not.
    assert talk.say("maria.sund", f"/disagreement accept {d}").startswith("Du kan inte ta ställning")
    assert talk.say("johan.ek", f"/disagreement accept {d}").startswith("Du har godtagit")
    assert talk.say("lars.holm", f"/disagreement accept {d}") == f"{d} är avgjord: Halva vitet"
