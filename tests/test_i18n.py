from __future__ import annotations

import re
from datetime import UTC, datetime

from bot.clock import STOCKHOLM
from bot.i18n import LANGUAGES, Texts, catalogue


def test_every_text_exists_in_both_languages_with_the_same_placeholders() -> None:
    sv, en = catalogue("sv"), catalogue("en")
    assert set(sv) == set(en)
    for key in sv:
        assert _placeholders(sv[key]) == _placeholders(en[key]), key


def _placeholders(entry: str | dict[str, str]) -> set[str]:
    forms = entry.values() if isinstance(entry, dict) else [entry]
    # `{name}`, and the number of a plural choice: `{name, plural, one {# dag} other {# dagar}}` (whose words
    # are in braces too, and are no placeholders).
    choice = re.compile(r"\{(\w+), plural,(?:\s*\w+\s*\{[^{}]*\})+\s*\}")
    return {name for form in forms
            for name in [*choice.findall(form), *re.findall(r"{(\w+)}", choice.sub("", form))]}


def test_plural_forms_follow_the_count() -> None:
    assert Texts("sv").text("forum.in_minutes", count=1) == "om 1 minut"
    assert Texts("sv").text("forum.in_minutes", count=5) == "om 5 minuter"
    assert Texts("en").text("forum.in_days", count=1) == "in 1 day"


def test_a_text_with_several_numbers_chooses_each_ones_words() -> None:
    sv, en = Texts("sv"), Texts("en")
    assert sv.text("disagreement.stats.settle_line", forum="Kontraktsforum", days=1, count=1) == (
        "• Kontraktsforum: 1 dag (1 avgjord)")
    assert sv.text("disagreement.stats.settle_line", forum="Kontraktsforum", days="2.5", count=3) == (
        "• Kontraktsforum: 2.5 dagar (3 avgjorda)")
    assert en.text("model.valid", file="f", parties=1, roles=2, people=1, forums=1, services=3) == (
        "f: the governance model is valid (1 party, 2 roles, 1 person, 1 forum, 3 services).")
    assert sv.text("model.valid", file="f", parties=1, roles=1, people=2, forums=2, services=1) == (
        "f: styrmodellen är giltig (1 part, 1 roll, 2 personer, 2 forum, 1 tjänst).")
    assert en.text("model.invalid", file="f", count=1) == "The governance model f has 1 error:"
    assert "minst varje minut" in sv.text("incident.brief", ref="MI-1", title="t", services="s", severity=1,
                                          description="d", commander="c", communications="c", scribe="s",
                                          parties="p", reaction="pushpin", minutes=1)


def test_no_count_is_shown_without_its_plural_forms() -> None:
    """A number placeholder followed by a counted word must choose its form: "1 personer" is never written."""
    counted = re.compile(r"\{\w+\} (dagar|minuter|personer|punkter|parter|roller|tjänster|timmar|days|minutes|"
                         r"people|items|parties|roles|services|hours|errors)\b")
    for lang in LANGUAGES:
        for key, entry in catalogue(lang).items():
            if isinstance(entry, dict) and "count" in _placeholders(entry):
                continue  # chosen by its count
            for form in entry.values() if isinstance(entry, dict) else [entry]:
                assert not counted.search(form), f"{lang} {key}: {form}"


def test_a_value_is_never_read_as_markup() -> None:
    message = Texts("sv")("forum.sitting_line", forum="*fet* `kod` {when}", when="x")
    assert message.plain() == "**fet* `kod` {when}* x"
    assert [type(part).__name__ for part in message.lines[0].parts] == ["Strong", "Text", "Text"]


def test_dates_are_written_in_stockholm_time_across_daylight_saving() -> None:
    winter = datetime(2027, 3, 1, 9, 0, tzinfo=STOCKHOLM)
    summer = datetime(2027, 6, 1, 9, 0, tzinfo=STOCKHOLM)
    assert Texts("sv").when(winter) == "måndag 1 mars 2027 kl. 09:00"
    assert Texts("en").when(summer) == "Tuesday 1 June 2027, 09:00"
    # An instant stored in UTC is shown as Stockholm wall-clock time (CEST in June).
    assert Texts("sv").when(summer.astimezone(UTC)) == "tisdag 1 juni 2027 kl. 09:00"
    assert all(Texts(lang).date(winter) for lang in LANGUAGES)
