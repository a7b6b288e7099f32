"""The lead supplier's own meetings with the other suppliers the contract singles out (8.2 with the product supplier,
8.3 with GSIT 2.0's supplier), in dialogue with the core on SQLite and PostgreSQL: forums of their own, convened and
chaired by the lead supplier, the other supplier seated and reminded, the City following them without a seat."""

from __future__ import annotations

from datetime import datetime

import pytest

from bot.clock import STOCKHOLM
from bot.model import parties
from tests.conftest import Dialogue

PER, NINA = "U0PERSTRAND", "U0NINA"
PRODUCT, GSIT = "produktleverantorsmote", "gsit-samverkan"


@pytest.fixture
def talk(dialogue: Dialogue) -> Dialogue:
    dialogue.chat.emails.update({PER: "per.strand@skolplattform.example", NINA: "nina.vik@devices.example"})
    return dialogue


def test_the_model_gives_8_2_and_8_3_forums_of_their_own_chaired_by_the_lead_supplier(talk: Dialogue) -> None:
    model = talk.core.model
    product, gsit = model.forum(PRODUCT), model.forum(GSIT)
    assert product is not None and gsit is not None
    for found, other in ((product, "product-supplier"), (gsit, "gsit")):
        assert found.chair == ["supplier"] and found.sits  # the lead supplier convenes, regularly
        assert parties.seated(model, found) == ["supplier", other]  # the two suppliers, the City without a seat
        assert found.followers == ["city"] and parties.follows(model, found, "city")
    # 8.2's subjects: forecasts, routines, orders, deliveries, invoicing; the product supplier's Kundansvarig.
    assert "prognoser" in product.name.sv and "fakturering" in product.name.sv
    assert parties.required_roles(model, product, "product-supplier") == {"kundansvarig"}
    # 8.3's meeting is the lead supplier's own, apart from GSIT's weekly and problem meetings (8.9).
    assert model.forum("gsit-veckomote").chair == ["gsit"]  # type: ignore[union-attr]


def test_the_product_supplier_is_reminded_of_the_8_2_meeting(talk: Dialogue) -> None:
    talk.core.tick()
    # It sits the first Thursday of the month: 4 February 2027 13:00; a week before, the reminder.
    talk.core.clock.set(datetime(2027, 1, 28, 13, 0, tzinfo=STOCKHOLM))  # type: ignore[attr-defined]
    talk.core.tick()
    [reminder] = talk.chat.posted_in("#forum-produktleverantor")
    assert "Möte med Produktleverantör" in reminder and "torsdag 4 februari 2027 kl. 13:00" in reminder
    assert "Produktleverantör" in reminder and "@Nina Vik" in reminder
    assert "Leverantören" in reminder and "@Johan Ek" in reminder


def test_the_lead_supplier_chairs_and_the_city_follows(talk: Dialogue) -> None:
    # The chair party moves a sitting; the City, which follows without a seat, does not.
    assert talk.say("johan.ek", f"/forum move {PRODUCT} 2027-02-04 2027-02-05 13:00").startswith(
        "Möte med Produktleverantör (prognoser, beställningar, leveranser, fakturering): sammanträdet torsdag 4 "
        "februari 2027 kl. 13:00 är flyttat till fredag 5 februari 2027 kl. 13:00")
    assert talk.say("eva.lind", f"/forum move {GSIT} 2027-01-21 2027-01-22 13:00").startswith(
        "Bara ordförandepartens personer (Leverantören)")
    # The City follows: it subscribes to the reminders and proposes items; the product supplier proposes items at
    # its own meeting; a supplier with no part in it is refused.
    assert talk.say("karin.berg", f"/forum subscribe {PRODUCT}").startswith("Du får nu påminnelserna")
    assert talk.say("karin.berg", f"/forum agenda {GSIT} add E-post för nya elever").startswith("Punkten är anmäld")
    assert talk.say(NINA, f"/forum agenda {PRODUCT} add Prognos för vårens beställningar").startswith(
        "Punkten är anmäld")
    assert talk.say(PER, f"/forum agenda {PRODUCT} add X").startswith("Bara parter som deltar")
    assert talk.say(PER, f"/forum subscribe {GSIT}").startswith("Bara parter som deltar")


# -- 8.10: short of a major incident ------------------------------------------------------------------------------
def test_a_supplier_alerts_the_city_directly_when_users_cannot_be_shielded(talk: Dialogue) -> None:
    talk.chat.emails["U0NOC"] = "noc@netops.example"
    answer = talk.say("U0NOC", "/incident alert wlan Omstart av kärnan krävs, skolorna i Farsta tappar nätet 10 min")
    assert answer.startswith("Staden är kontaktad om WLAN/LAN/WAN: Eva Lind.")
    [alert] = [text for who, text in talk.chat.directs if who == "U01EVALIND" and text.startswith("🚨")]
    assert alert == ("🚨 *Leverantör av nätdrift (WAN/LAN/WLAN)* (Nätdrift NOC) kan inte hindra att användarna av "
                     "*WLAN/LAN/WAN* påverkas och behöver stadens anvisningar (avsnitt 8.10): Omstart av kärnan krävs, "
                     "skolorna i Farsta tappar nätet 10 min")
    with talk.core.unit_of_work() as uow:
        assert [e.subject for e in uow.events.history(kind_prefix="incident.alert", limit=5)] == ["wlan"]
        assert list(uow.incidents.declared_between(datetime(2027, 1, 1, tzinfo=STOCKHOLM))) == []  # no war room
    # A supplier not responsible for the service does not; bad input is explained.
    assert talk.say(PER, "/incident alert wlan X").startswith("Bara en leverantör som ansvarar för WLAN/LAN/WAN")
    assert talk.say("johan.ek", "/incident alert wlan").startswith("Skriv `/incident alert <tjänst>")
    assert talk.say("johan.ek", "/incident alert tvätt X").startswith('Tjänsten "tvätt" finns inte')
