"""4.7: "Staden kommer skriftligen att meddela Leverantören vilka personer som är Behöriga Beställare respektive
Behöriga Godkännare" – and changes: each grant and revocation is told in writing to the lead supplier's Kundansvarig
and written in the log, in dialogue with the core on SQLite and PostgreSQL."""

from __future__ import annotations

from tests.conftest import Dialogue

JOHAN, MARIA = "U02JOHANEK", "U02MARIASD"


def test_an_authority_change_is_notified_in_writing_to_the_lead_suppliers_kundansvarig(dialogue: Dialogue) -> None:
    dialogue.say("eva.lind", "/samverkan authority grant lars.holm orderer")
    dialogue.say("eva.lind", "/samverkan authority revoke karin.berg approver")
    told = [text for who, text in dialogue.chat.directs if who == JOHAN and text.startswith("📜")]
    assert told == [
        "📜 Staden meddelar enligt avsnitt 4.7: *Lars Holm* är från och med nu Behörig Beställare "
        "(ändrat av Eva Lind).",
        "📜 Staden meddelar enligt avsnitt 4.7: *Karin Berg* är inte längre Behörig Godkännare (ändrat av Eva Lind)."]
    assert not [text for who, text in dialogue.chat.directs if who == MARIA and text.startswith("📜")]
    with dialogue.core.unit_of_work() as uow:
        notices = uow.events.history(kind_prefix="directory.authority_notified", limit=5)
    assert sorted(e.subject for e in notices) == ["karin.berg", "lars.holm"]
    assert all(e.data["told"] == ["johan.ek"] for e in notices)
    assert "meddelade Leverantören behörighetsändringen" in dialogue.say("eva.lind", "/samverkan history lars.holm")
    # A refused change tells nobody.
    dialogue.say("eva.lind", "/samverkan authority grant johan.ek approver")
    assert len([text for who, text in dialogue.chat.directs if who == JOHAN and text.startswith("📜")]) == 2
