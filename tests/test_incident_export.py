"""`samverkan export` carries the major incidents: members, timeline, and a CSV row per timeline entry."""

from __future__ import annotations

import csv
import io
import json

from samverkan.export import export
from tests.conftest import Dialogue


def test_an_incident_is_exported_with_its_members_and_timeline(dialogue: Dialogue) -> None:
    dialogue.chat.usergroups["S02SDJOUR"] = ["U02SDJOUR1"]
    dialogue.say("eva.lind", '/incident declare "WLAN nere" wlan 1')
    dialogue.say("eva.lind", "/incident update Felsökning pågår")
    with dialogue.core.unit_of_work() as uow:
        as_json, as_csv = io.StringIO(), io.StringIO()
        export(uow, dialogue.core.model, "json", as_json)
        export(uow, dialogue.core.model, "csv", as_csv)
    [incident] = json.loads(as_json.getvalue())["incidents"]
    assert incident["title"] == "WLAN nere" and incident["services"] == ["wlan"] and incident["state"] == "open"
    assert {m["key"] for m in incident["members"]} == {"eva.lind", "servicedesk-jour", "noc", "sterik-drift"}
    assert [e["kind"] for e in incident["timeline"]] == ["declared", "update"]
    rows = [r for r in csv.DictReader(io.StringIO(as_csv.getvalue())) if r["record"] == "incident"]
    assert [(r["kind"], r["text"]) for r in rows][1] == ("update", "Felsökning pågår")
