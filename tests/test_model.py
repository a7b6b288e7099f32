"""The governance model is data: the shipped Stockholm model is complete, and broken files are explained."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from bot.model import ModelError, load_model, load_model_text, shipped_model_path
from samverkan.cli import main

# GOVERNANCE.md's forum calendar, in its own order: the shipped model must have every one of them.
GOVERNANCE_FORUMS = [
    "Affärsforum", "Kontraktsforum", "Övergripande tjänsteforum", "Tjänsteforum – tjänstekatalogshantering",
    "Leveransuppföljning", "Ändringshanteringsmöte", "Releaseplaner", "Verksamhetsforum",
    "Samverkansforum kring specifika tjänster", "Forum it-service leverantörsmöte", "Innovationsmöte",
    "Arbetsmiljöforum", "Nyckelleverantörsmöte", "Operativt samverkansmöte", "Arkitekturråd",
    "Samverkan om produktionssättningar", "Problemmöte", "Service Desk-samverkan", "Samverkan om datakommunikation",
    # Section 8.9 names two forums GSIT 2.0 holds: the weekly coordination of changes and the problem meeting.
    "GSIT 2.0 veckovis avstämningsmöte", "GSIT 2.0 problemmöte",
]


def test_shipped_model_has_the_contracts_parties_roles_forums_and_ladder() -> None:
    model = load_model()
    assert {"city", "city-exec", "city-local", "supplier", "product-supplier", "gsit", "st-erik"} <= {
        p.key for p in model.parties
    }
    assert [r.letter for r in model.roles if r.letter] == list("ABCDEFGHIJ")
    assert {f.name.sv for f in model.forums} >= set(GOVERNANCE_FORUMS)
    assert [model.forum(r.forum).name.sv for r in model.ladder.rungs] == [  # type: ignore[union-attr]
        "Lokal samverkan", "Tjänsteforum – tjänstekatalogshantering", "Övergripande tjänsteforum",
        "Kontraktsforum", "Affärsforum",
    ]
    assert model.ladder and model.forum(model.ladder.product_supplier_forum or "").name.sv == (  # type: ignore[union-attr]
        "Forum it-service leverantörsmöte"
    )
    assert [p.key for p in model.parties if p.oversight] == ["city"]


BROKEN = """\
name: {sv: Test, en: Test}
parties:
  - key: city
    name: {sv: Staden, en: The City}
  - key: supplier
    name: {sv: Leverantören}
people:
  - key: anna
    name: Anna
    party: supplir
    slack_user: U1ANNA
    rolls: [kundansvarig]
"""


def test_errors_name_the_line_and_field_in_plain_words() -> None:
    with pytest.raises(ModelError) as caught:
        load_model_text(BROKEN, source="min-modell.yaml")
    text = caught.value.explain("sv")
    assert "min-modell.yaml, rad 6, parties[1].name.en: fältet saknas men måste finnas" in text
    assert "min-modell.yaml, rad 12, people[0].rolls: okänt fält – felstavat?" in text
    english = caught.value.explain("en")
    assert "line 6, parties[1].name.en: this field is missing and is required" in english


def test_a_reference_to_an_undefined_party_points_at_its_line() -> None:
    fixed = BROKEN.replace("    name: {sv: Leverantören}", "    name: {sv: Leverantören, en: Supplier}").replace(
        "    rolls: [kundansvarig]\n", "")
    with pytest.raises(ModelError) as caught:
        load_model_text(fixed, source="m.yaml")
    assert caught.value.explain("sv").splitlines()[1:] == [
        '  m.yaml, rad 10, people[0].party: parten "supplir" finns inte under `parties`'
    ]


def test_yaml_syntax_errors_say_where() -> None:
    with pytest.raises(ModelError) as caught:
        load_model_text("name: {sv: a, en: b\nparties: [", source="x.yaml")
    assert "x.yaml, rad 2" in caught.value.explain("sv")


def test_check_command_exits_2_and_explains(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    broken = tmp_path / "modell.yaml"
    broken.write_text(BROKEN, encoding="utf-8")
    assert main(["check", str(broken)]) == 2
    err = capsys.readouterr().err
    assert f"{broken}, rad 6, parties[1].name.en" in err


def test_check_command_accepts_the_shipped_model(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["check", str(shipped_model_path())]) == 0
    assert "styrmodellen är giltig" in capsys.readouterr().out


def test_schema_is_json_schema_an_editor_can_use() -> None:
    out = subprocess.run([sys.executable, "-m", "samverkan.cli", "schema"], capture_output=True, text=True,
                         check=True).stdout
    schema = json.loads(out)
    assert schema["type"] == "object"
    assert {"parties", "roles", "people", "forums", "ladder", "services"} <= set(schema["properties"])
