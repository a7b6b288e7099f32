"""The console: the same commands and rules as Slack, typed as directory people, with a clock to move."""

from __future__ import annotations

import pytest

from tests.conftest import transcript

pytestmark = pytest.mark.parametrize("database_url", ["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)],
                                     indirect=True)


def test_two_people_of_two_parties_see_the_directory(console) -> None:  # type: ignore[no-untyped-def]
    said = transcript(console, "/samverkan whoami", "/as johan.ek", "/samverkan whoami", "/as Per Strand",
                      "/samverkan whoami", "/samverkan directory school-platform")
    assert "Välj först vem du är" in said
    assert "Du är nu Johan Ek (Leverantören)." in said
    assert "[endast för dig] Samverkan: Du är *Johan Ek* · Leverantören · Kundansvarig (A)" in said
    # Per has no Slack account: the console gives him a stable identity and the directory remembers it.
    assert "Samverkan: Du är *Per Strand* · Leverantör av Skolplattformen" in said
    assert "*Katalogen* (1 person)" in said


def test_an_administrator_keeps_the_directory_current(console) -> None:  # type: ignore[no-untyped-def]
    said = transcript(console, "/as eva.lind", "/samverkan person add supplier anna@supplier.example Anna Berg",
                      "/samverkan role add anna.berg Uppdragsledare", "/as anna@supplier.example",
                      "/samverkan whoami")
    assert "Tillagd i katalogen: *Anna Berg*" in said
    assert "Du är *Anna Berg* · Leverantören · Uppdragsledare (B)" in said


def test_the_clock_moves_forward_only(console) -> None:  # type: ignore[no-untyped-def]
    said = transcript(console, "/clock", "/clock +2d", "/clock 2027-03-01 09:00", "/clock 2020-01-01 09:00",
                      "/clock sometime")
    assert "Klockan är måndag 11 januari 2027 kl. 09:00." in said
    assert "Klockan är onsdag 13 januari 2027 kl. 09:00." in said
    assert "Klockan är måndag 1 mars 2027 kl. 09:00." in said
    assert said.count("Skriv /clock +2d") == 2


def test_unknown_people_and_commands(console) -> None:  # type: ignore[no-untyped-def]
    said = transcript(console, "/as nobody", "/dance")
    assert 'Det finns ingen "nobody" i katalogen.' in said and "Okänt kommando." in said



def test_moving_the_clock_posts_what_fell_due_and_is_remembered(console, database_url: str) -> None:  # type: ignore[no-untyped-def]
    said = transcript(console, "/as eva.lind", '/forum agenda kontraktsforum add "Vite"', "/clock 2027-01-12 10:00")
    assert "[#forum-kontraktsforum] Samverkan: 📅 *Kontraktsforum* – tisdag 19 januari 2027" in said
    assert "1. Vite (anmäld av eva.lind)" in said
    bot, _ = console
    from samverkan.console import remembered_clock

    assert remembered_clock(bot.runtime, bot.clock.now().replace(year=2026)).now() == bot.clock.now()
