"""5.2: "Leverantören ska inför möten tillhandahålla adekvat rapportering" – the four forums that owed no report now
owe one (the model's choice of what): Verksamhetsforum, Samverkansforum kring specifika tjänster, Forum it-service
leverantörsmöte and Innovationsmöte, each by the lead supplier, on the agenda and flagged when missing."""

from __future__ import annotations

from datetime import datetime

import pytest

from bot.clock import STOCKHOLM
from tests.conftest import Dialogue

KARIN = "U01KARINBG"
FOUR = {"verksamhetsforum": "lokal-leveransstatus", "samverkansforum": "tjanstestatus",
        "forum-it-service": "leveransstatus-enheter", "innovationsmote": "trender-och-forslag"}


@pytest.mark.parametrize(("forum", "report"), sorted(FOUR.items()))
def test_the_four_forums_owe_the_lead_suppliers_report_before_each_sitting(dialogue: Dialogue, forum: str,
                                                                           report: str) -> None:
    found = dialogue.core.model.forum(forum)
    assert found is not None
    [owed] = found.reports
    assert owed.key == report and owed.owner == "supplier"
    agenda = dialogue.say("eva.lind", f"/forum agenda {forum}")
    assert f"Rapport: {owed.name.sv} (Leverantören) – lämnas senast" in agenda


def test_a_missing_operations_forum_report_is_flagged_to_the_city_which_chairs_it(dialogue: Dialogue) -> None:
    dialogue.core.tick()
    # Verksamhetsforum sits the last Thursday of January (28th) 13:00; due two working days before, Tuesday 26th.
    dialogue.core.clock.set(datetime(2027, 1, 26, 13, 0, tzinfo=STOCKHOLM))  # type: ignore[attr-defined]
    dialogue.core.tick()
    flags = [text for who, text in dialogue.chat.directs if who == KARIN and "Lokal leveransstatus" in text]
    assert flags and flags[-1].startswith("⚠️ *Lokal leveransstatus per verksamhetsställe* (Leverantören) till "
                                          "Verksamhetsforum")
