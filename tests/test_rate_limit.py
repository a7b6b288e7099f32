"""Issue 18, item 6: a limit per person on the commands that write or notify. A flood by one person is refused
with an explanation in their language, nothing of a refused command is saved, and others are not affected; reading
is never limited, and the City's oversight is not limited in incident commands."""

from __future__ import annotations

from datetime import timedelta

import pytest

from bot.app import Samverkan
from bot.clock import ManualClock
from bot.rate import Bucket, RateLimit
from tests.conftest import Dialogue
from tests.fakes.recording_chat import RecordingChat

LIMIT = RateLimit(Bucket(20, 6.0), Bucket(60, 1.0))


@pytest.fixture
def limited(core: Samverkan, chat: RecordingChat) -> Dialogue:
    core.rate_limit = LIMIT
    return Dialogue(core, chat)


def test_a_flood_by_one_person_is_limited_with_an_explanation(limited: Dialogue, clock: ManualClock) -> None:
    answers = [limited.say("johan.ek", f"/disagreement open city Fråga {n}") for n in range(60)]
    done = [a for a in answers if a.startswith("Oenigheten är registrerad")]
    refused = [a for a in answers if a.startswith("Du skickar kommandon")]
    assert len(done) == 20 and len(refused) == 40, answers[20]
    assert "högst 20 i följd, sedan ett var 6:e sekund" in refused[0] and "ingenting är sparat" in refused[0]
    # Nothing of a refused command was saved: twenty disagreements, numbered one after the other.
    refs = [int(a.split("*")[1][2:]) for a in done]
    assert refs == list(range(refs[0], refs[0] + 20))
    after = f"D-{refs[-1] + 1}"
    assert limited.say("eva.lind", f"/disagreement show {after}").startswith(f'Oenigheten "{after}" finns inte')
    told = {text.split("*")[1].split()[0] for _, text in limited.chat.directs if text.startswith("*D-")}
    assert told == {f"D-{n}" for n in refs}
    # Reading is never limited.
    assert f"D-{refs[0]}" in limited.say("johan.ek", "/disagreement list")
    assert limited.say("johan.ek", "/samverkan whoami").startswith("Du är *Johan Ek*")
    # Another person is not affected.
    assert limited.say("karin.berg", "/disagreement open supplier Karins fråga").startswith(
        f"Oenigheten är registrerad som *{after}*")
    # The bucket fills again: one more every six seconds.
    clock.advance(timedelta(seconds=6))
    assert limited.say("johan.ek", "/disagreement open city Efter en stund").startswith("Oenigheten är registrerad")
    assert limited.say("johan.ek", "/disagreement open city Genast igen").startswith("Du skickar kommandon")


def test_the_explanation_is_in_the_persons_language(limited: Dialogue) -> None:
    limited.chat.locales["U02MARIASD"] = "en-GB"
    answers = [limited.say("maria.sund", f"/forum agenda kontraktsforum add Punkt {n}") for n in range(21)]
    assert answers[-1].startswith("You are sending commands that save or notify others faster"), answers[-1]
    assert "Punkt 20" not in limited.say("eva.lind", "/forum agenda kontraktsforum")


def test_the_citys_oversight_is_not_limited_in_an_incident(limited: Dialogue) -> None:
    declared = limited.say("eva.lind", '/incident declare "WLAN nere" wlan 1')
    ref = next(word for word in declared.replace("*", " ").split() if word.startswith("MI-"))
    for n in range(80):
        answer = limited.say("eva.lind", f"/incident update {ref} Läget {n}")
        assert answer.startswith(f"Lägesrapporten för {ref} är publicerad"), (n, answer)


def test_the_setting_reads_burst_and_pace_or_off() -> None:
    from pydantic import ValidationError

    from bot.rate import NO_LIMIT
    from samverkan.settings import Settings

    assert RateLimit.parse("20/6") == RateLimit(Bucket(20, 6.0), Bucket(60, 1.0))
    assert RateLimit.parse("off") is NO_LIMIT and RateLimit.parse("lots") is None
    assert Settings(samverkan_rate_limit="5/2").rate_limit.write == Bucket(5, 2.0)
    assert Settings().rate_limit == RateLimit()
    with pytest.raises(ValidationError):
        Settings(samverkan_rate_limit="fast")


def test_the_bucket_is_shared_by_every_process(core: Samverkan, clock: ManualClock) -> None:
    """Two units of work (two processes' transactions) spend from the same row: twenty in all, not twenty each."""
    from bot.rate import key

    spent = 0
    for _ in range(40):
        with core.unit_of_work() as uow:
            if uow.rates.take(key("write", "U1"), clock.now(), 6.0, 20) is None:
                spent += 1
            uow.commit()
    assert spent == 20
    with core.unit_of_work() as uow:
        wait = uow.rates.take(key("write", "U1"), clock.now(), 6.0, 20)
    assert wait is not None and 5.9 < wait <= 6.0


@pytest.mark.slow
@pytest.mark.parametrize("database_url", ["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)],
                         indirect=True)
def test_a_flood_over_signed_http_is_limited_and_others_are_acknowledged_at_once(slack_app) -> None:  # type: ignore[no-untyped-def]
    """300 `/disagreement open` by one supplier, acknowledged as Slack sends them: twenty are opened, the rest are
    explained to him; the City's people are messaged about twenty, and another person's command is acknowledged
    within Slack's three seconds meanwhile and done."""
    import time

    johan, karin = "U02JOHANEK", "U01KARINBG"
    tokens = []
    for n in range(300):
        token = f"flood-{n}"
        assert slack_app.command("/disagreement", f"open city Fråga {n}", johan, token=token).status_code == 200
        tokens.append(token)
        if n == 150:
            started = time.monotonic()
            response = slack_app.command("/disagreement", "open supplier Karins fråga", karin, token="karin")
            assert response.status_code == 200 and time.monotonic() - started < 1.0
    answers = [slack_app.answer(token) for token in tokens]
    assert sum(a.startswith("Oenigheten är registrerad") for a in answers) == 20
    assert sum(a.startswith("Du skickar kommandon") for a in answers) == 280
    assert slack_app.answer("karin").startswith("Oenigheten är registrerad")
    opened_by_johan = {t.split("*")[1] for a in answers if a.startswith("Oenigheten") for t in [a]}
    told_karin = [m for m in slack_app.fake.posted(f"D{karin}") if any(d in (m.get("text") or "")
                                                                       for d in opened_by_johan)]
    assert len(told_karin) == 20  # twenty notices, not three hundred
