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


def test_an_authority_may_be_limited_to_another_suppliers_services_and_that_supplier_is_told(
        dialogue: Dialogue) -> None:
    per = "U0PERSTRAND"
    dialogue.chat.emails[per] = "per.strand@skolplattform.example"
    answer = dialogue.say("eva.lind", "/samverkan authority grant lars.holm approver leverantör=school-platform")
    assert "Behörig Godkännare för Leverantör av Skolplattformens tjänster" in answer
    # The school platform's supplier is told, not the lead supplier: it concerns the other supplier's services.
    [told] = [text for who, text in dialogue.chat.directs if who == per and text.startswith("📜")]
    assert told == ("📜 Staden meddelar enligt avsnitt 4.7: *Lars Holm* är från och med nu Behörig Godkännare för "
                    "Leverantör av Skolplattformens tjänster (ändrat av Eva Lind).")
    assert not [text for who, text in dialogue.chat.directs if who == JOHAN and text.startswith("📜")]
    # Limited to the school platform, it is no authority under this contract: Leveransuppföljning's decision is not his.
    assert dialogue.say("lars.holm", "/forum sla 2026-12 godkänn Ok").startswith("Bara Staden")
    # Not for the lead supplier (the unscoped authority is its) nor for the City's own units; bad words explained.
    assert dialogue.say("eva.lind", "/samverkan authority grant lars.holm approver leverantör=supplier").startswith(
        "Leverantören är ingen av stadens övriga leverantörer")
    assert dialogue.say("eva.lind", "/samverkan authority grant lars.holm approver leverantör=nobody").startswith(
        'Parten "nobody" finns inte')
    assert dialogue.say("eva.lind", "/samverkan authority grant lars.holm approver skola=x").startswith(
        "Skriv `/samverkan authority grant")
    assert dialogue.say("eva.lind", "/samverkan authority revoke lars.holm approver leverantör=school-platform"
                        ).startswith("Behörigheten är ändrad: *Lars Holm*")
    with dialogue.core.unit_of_work() as uow:
        lars = uow.directory.by_key("lars.holm")
    assert lars is not None and lars.authority == frozenset()
