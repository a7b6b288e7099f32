"""The ladder's scope and its end (sections 5.4 and 8.10), in dialogue with the core on SQLite and PostgreSQL: a
question between the City and another supplier is led by the City where both sit and never climbs this contract's
ladder; past the top rung informal dispute resolution is exhausted, and only a party's authority at the top level
invokes formal dispute resolution: nothing turns formal by itself."""

from __future__ import annotations

import io
import json
from datetime import timedelta

import pytest

from bot.disagreement import ladder
from samverkan.export import export
from tests.conftest import Dialogue

PER, EVA, KARIN, LARS, JOHAN = "U0PERSTRAND", "U01EVALIND", "U01KARINBG", "U01LARSHLM", "U02JOHANEK"


@pytest.fixture
def talk(dialogue: Dialogue) -> Dialogue:
    dialogue.chat.emails.update({PER: "per.strand@skolplattform.example"})
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


def stored(talk: Dialogue, ref: str):  # type: ignore[no-untyped-def]
    with talk.core.unit_of_work() as uow:
        found = uow.disagreements.get(int(ref[2:]))
        history = list(uow.disagreements.history(int(ref[2:])))
    assert found is not None
    return found, history


def sweep_for(talk: Dialogue, days: int) -> None:
    """Time passes a quarter at a time, the sweep running after each."""
    for _ in range(days // 91):
        talk.core.clock.advance(timedelta(days=91))  # type: ignore[attr-defined]
        talk.core.tick()


# -- 5.4 is the City's and the lead supplier's ---------------------------------------------------------------------
def test_the_model_says_where_questions_with_the_citys_other_suppliers_go(talk: Dialogue) -> None:
    model = talk.core.model
    assert model.ladder is not None
    assert model.ladder.city_and_other_supplier == ["forum-it-service", "samverkansforum", "operativt-samverkansmote"]
    # Each goes to the first forum where the City and that supplier both sit, the City leading; only that level.
    for party, forum in [("school-platform", "samverkansforum"), ("network-ops", "samverkansforum"),
                         ("product-supplier", "forum-it-service"), ("gsit", "operativt-samverkansmote"),
                         ("central-systems", "operativt-samverkansmote")]:
        for city in ("city", "city-local", "city-exec"):
            path, start, led_by = ladder.path_for(model, (city, party))
            assert [level.forum for level in path] == [forum] and start == 0 and led_by == "city", (city, party)
    # Between the City and the lead supplier the whole ladder stands.
    path, _, led_by = ladder.path_for(model, ("city", "supplier"))
    assert [level.forum for level in path][-2:] == ["kontraktsforum", "affarsforum"] and led_by is None


def test_a_question_with_the_school_platform_left_open_two_years_never_reaches_the_top_or_turns_formal(
        talk: Dialogue) -> None:
    answer = talk.say("eva.lind", "/disagreement open school-platform Inloggningen i Skolplattformen")
    d = answer.split("*")[1]
    assert ("Den står mellan staden och en leverantör med ett eget avtal: Staden (Stadens Centrala "
            "Beställarorganisation) leder den i Samverkansforum kring specifika tjänster.") in answer
    assert "går inte vidare i detta avtals eskaleringstrappa" in answer
    news = told(talk, d)
    # Its parties (the school platform's Kundansvarig) and the City's oversight are told; the lead supplier is not.
    assert PER in news and KARIN in news and JOHAN not in news
    assert "når aldrig detta avtals Kontraktsforum eller Affärsforum" in news[PER][0]
    # A party cannot move it up, nor choose a higher level.
    assert "går inte vidare i detta avtals eskaleringstrappa" in talk.say(PER, f"/disagreement escalate {d} Nej")
    assert talk.say("eva.lind", "/disagreement open school-platform nivå=kontraktsforum X").startswith(
        "kontraktsforum är ingen nivå")
    sweep_for(talk, 2 * 365)
    found, history = stored(talk, d)
    assert found.state == "open" and [level.forum for level in found.path] == ["samverkansforum"]
    assert found.forum == "samverkansforum"
    assert not any(e.kind in ("escalated", "exhausted", "formal") for e in history)
    assert sum(e.kind == "awaiting" for e in history) == 1  # the City is told once that the outcome is its to lead
    shown = talk.say("eva.lind", f"/disagreement show {d}")
    assert "Kontraktsforum" not in shown and "Affärsforum" not in shown and "formell" not in shown
    assert "utanför detta avtals eskaleringstrappa" in shown
    # Nor can it be made a formal dispute under this contract.
    assert talk.say("eva.lind", f"/disagreement formal {d} Vi vill gå vidare").startswith(
        f"{d} går inte i detta avtals eskaleringstrappa")
    # The City records how it ended.
    assert talk.say("karin.berg", f"/disagreement clarify {d} Skolplattformen äger inloggningen").startswith(
        f"{d} är klargjord")


def test_a_question_with_the_product_supplier_is_led_at_its_forum_only(talk: Dialogue) -> None:
    d = opened(talk, "karin.berg", "product-supplier Leveranstider för laddare")
    found, _ = stored(talk, d)
    assert [level.forum for level in found.path] == ["forum-it-service"] and found.led_by == "city"
    assert "U01NINAVIK" not in told(talk, d)  # Nina has no Slack account: she is reached by e-mail when linked


# -- formal dispute resolution is invoked, not timed ----------------------------------------------------------------
def test_past_the_top_rung_informal_resolution_is_exhausted_and_nothing_turns_formal_by_itself(
        talk: Dialogue) -> None:
    d = opened(talk, "eva.lind", "supplier nivå=affarsforum Sanktion för tillgänglighet")
    found, _ = stored(talk, d)
    assert found.deadline is not None
    talk.core.clock.set(found.deadline + timedelta(minutes=1))  # type: ignore[attr-defined]
    talk.core.tick()
    found, history = stored(talk, d)
    assert found.state == "exhausted" and found.deadline is None and history[-1].kind == "exhausted"
    # Both parties (their authority at Affärsforum) and the City's oversight are told that it may now be invoked.
    for user in (LARS, JOHAN, EVA):
        assert any("den informella tvistlösningen är *uttömd*" in t and f"`/disagreement formal {d} <skäl>`" in t
                   for t in told(talk, d)[user]), user
    shown = talk.say("eva.lind", f"/disagreement show {d}")
    assert "Informell tvistlösning uttömd efter *Affärsforum*" in shown
    sweep_for(talk, 365)
    found, history = stored(talk, d)
    assert found.state == "exhausted" and not any(e.kind == "formal" for e in history)
    with talk.core.unit_of_work() as uow:
        assert uow.duties.pending_keys("disagreement.escalate:") == set()


def test_a_person_moving_it_past_the_top_exhausts_it_and_only_the_top_levels_authority_invokes_formal(
        talk: Dialogue) -> None:
    d = opened(talk, "eva.lind", "supplier nivå=affarsforum Vite för sena leveranser")
    # Not yet exhausted: nobody invokes formal dispute resolution while the informal one runs.
    assert talk.say("lars.holm", f"/disagreement formal {d} För tidigt").startswith(
        f"{d} är ännu i den informella tvistlösningen (Affärsforum)")
    assert talk.say("karin.berg", f"/disagreement escalate {d} Ingen enighet").startswith(
        f"{d}: den informella tvistlösningen är uttömd efter Affärsforum")
    # A non-party who may not see it is told it does not exist, in the words for a missing record.
    missing = talk.say(PER, "/disagreement formal D-999 Vi vill").replace("D-999", d)
    assert talk.say(PER, f"/disagreement formal {d} Vi vill") == missing
    # Parties' people without authority at Affärsforum are refused: only the signatory and the representative.
    for who in ("karin.berg", "eva.lind", "maria.sund"):
        assert talk.say(who, f"/disagreement formal {d} Vi vill").startswith(
            "Bara den som får svara för en part i Affärsforum"), who
    assert talk.say("lars.holm", f"/disagreement formal {d}").startswith("Skriv `/disagreement formal")
    found, _ = stored(talk, d)
    assert found.state == "exhausted"  # nothing half-saved
    assert talk.say("lars.holm", f"/disagreement formal {d} Avtalsbrott kvarstår") == (
        f"Registrerat: Staden (Stadens Centrala Beställarorganisation) påkallar formell tvistlösning i {d}. "
        "Den andra parten och Stadens Centrala Beställarorganisation är underrättade.")
    found, history = stored(talk, d)
    assert found.state == "formal" and history[-1].kind == "formal" and history[-1].actor == "lars.holm"
    # The other party and the City's oversight are told.
    for user in (JOHAN, EVA):
        assert any("har *påkallat formell tvistlösning*" in t and "Avtalsbrott kvarstår" in t
                   for t in told(talk, d)[user]), user
    assert talk.say("johan.ek", f"/disagreement formal {d} Också").startswith(f"{d}: formell tvistlösning")
    # In the event log, the export and the stats.
    with talk.core.unit_of_work() as uow:
        assert [e.subject for e in uow.events.history(kind_prefix="disagreement.formal", limit=10)] == [d]
    out = io.StringIO()
    with talk.core.unit_of_work() as uow:
        export(uow, talk.core.model, "json", out)
    [record] = [r for r in json.loads(out.getvalue())["disagreements"] if r["ref"] == d]
    assert record["state"] == "formal"
    assert [h["kind"] for h in record["history"]][-2:] == ["exhausted", "formal"]
    figures = talk.say("eva.lind", "/disagreement stats")
    assert "*Påkallad formell tvistlösning* (1)" in figures
    assert f"• {d} Vite för sena leveranser: Staden (Stadens Centrala Beställarorganisation)" in figures


def test_a_supplier_invokes_it_in_english_too(talk: Dialogue) -> None:
    from bot.app import Samverkan

    core = talk.core
    english = Dialogue(Samverkan(core.model, core.unit_of_work, core.clock, talk.chat, lang="en"), talk.chat)
    d = english.say("eva.lind", "/disagreement open supplier level=affarsforum Availability").split("*")[1]
    assert english.say("johan.ek", f"/disagreement formal {d} Breach").startswith(
        f"{d} is still in informal dispute resolution (Business forum)")
    assert english.say("johan.ek", f"/disagreement escalate {d} No agreement").startswith(
        f"{d}: informal dispute resolution is exhausted after Business forum")
    assert english.say("johan.ek", f"/disagreement formal {d} Breach") == (
        f"Recorded: Lead supplier invokes formal dispute resolution in {d}. The other party and the City's central "
        "ordering organisation are told.")
    assert any("has *invoked formal dispute resolution*" in t for t in told(english, d)[LARS])
