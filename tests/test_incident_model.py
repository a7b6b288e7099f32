"""The major-incident part of the governance model: the shipped catalogue, and mistakes explained where they are."""

from __future__ import annotations

import pytest

from bot.model import ModelError, load_model, load_model_text, shipped_model_path


def test_the_shipped_model_says_who_joins_a_war_room() -> None:
    model = load_model()
    mi = model.major_incidents
    assert mi is not None and mi.private and mi.announcement_channel == "#storingar"
    assert mi.update_minutes[1] == 30 and mi.severities == [1, 2, 3, 4]
    assert {(r.party, tuple(r.roles)) for r in mi.always} == {("supplier", ("incidentansvarig-i-tjanst",)),
                                                              ("city", ("stadens-incidentkontakt",))}
    wlan = model.service("wlan")
    assert wlan and wlan.responsible == ["network-ops", "st-erik"] and wlan.contacts == ["noc", "sterik-drift"]
    assert model.service("e-post").administrative  # type: ignore[union-attr]


@pytest.mark.parametrize(("old", "new", "field", "says"), [
    ("contacts: [noc, sterik-drift]", "contacts: [noc, nobody]", "services[1].contacts[1]",
     'personen "nobody" finns inte under `people`'),
    ("responsible: [network-ops, st-erik]", "responsible: [network-ops, st-eric]", "services[1].responsible[1]",
     'parten "st-eric" finns inte'),
    ("  commander: {party: supplier, roles: [incidentansvarig-i-tjanst]}",
     "  commander: {party: supplier, roles: [jourhavande]}", "major_incidents.commander.roles[0]",
     'rollen "jourhavande" finns inte'),
    ("    - {party: gsit, roles: [servicedesk]}", "    - {party: gsit2, roles: [servicedesk]}",
     "major_incidents.administrative[0].party", 'parten "gsit2" finns inte'),
    ("report_forums: [problemmote, tjansteforum]", "report_forums: [problemmote, tjanste-forum]",
     "major_incidents.report_forums[1]", 'forumet "tjanste-forum" finns inte'),
])
def test_a_wrong_reference_in_the_incident_model_points_at_its_line(old: str, new: str, field: str,
                                                                     says: str) -> None:
    text = shipped_model_path().read_text(encoding="utf-8")
    assert old in text
    line = text[: text.index(old)].count("\n") + 1
    with pytest.raises(ModelError) as caught:
        load_model_text(text.replace(old, new), source="m.yaml")
    explained = caught.value.explain("sv")
    assert f"m.yaml, rad {line}, {field}: " in explained and says in explained, explained
