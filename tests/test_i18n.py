from __future__ import annotations

import re
from datetime import UTC, datetime

from bot.clock import STOCKHOLM
from bot.i18n import LANGUAGES, Texts, catalogue


def test_every_text_exists_in_both_languages_with_the_same_placeholders() -> None:
    sv, en = catalogue("sv"), catalogue("en")
    assert set(sv) == set(en)
    for key in sv:
        assert set(re.findall(r"{(\w+)}", sv[key])) == set(re.findall(r"{(\w+)}", en[key])), key


def test_dates_are_written_in_stockholm_time_across_daylight_saving() -> None:
    winter = datetime(2027, 3, 1, 9, 0, tzinfo=STOCKHOLM)
    summer = datetime(2027, 6, 1, 9, 0, tzinfo=STOCKHOLM)
    assert Texts("sv").when(winter) == "måndag 1 mars 2027 kl. 09:00"
    assert Texts("en").when(summer) == "Tuesday 1 June 2027, 09:00"
    # An instant stored in UTC is shown as Stockholm wall-clock time (CEST in June).
    assert Texts("sv").when(summer.astimezone(UTC)) == "tisdag 1 juni 2027 kl. 09:00"
    assert all(Texts(lang).date(winter) for lang in LANGUAGES)
