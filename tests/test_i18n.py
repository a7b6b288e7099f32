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
    return {name for form in forms for name in re.findall(r"{(\w+)}", form)}


def test_plural_forms_follow_the_count() -> None:
    assert Texts("sv").text("forum.in_minutes", count=1) == "om 1 minut"
    assert Texts("sv").text("forum.in_minutes", count=5) == "om 5 minuter"
    assert Texts("en").text("forum.in_days", count=1) == "in 1 day"


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
