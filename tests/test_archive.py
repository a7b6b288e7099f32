"""Archive packages: one per closed case (a closed war room, a settled disagreement), with the records, the
timeline, a transcript, the people, a SHA-256 manifest and a CSIP-style METS document; `samverkan archive
--verify` finds a byte altered."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from datetime import UTC, datetime
from pathlib import Path

import pytest

from samverkan.archive import MANIFEST, METS, NS, RECORD, TRANSCRIPT, closed_cases, verify_package, write_package
from samverkan.cli import main
from tests.conftest import Dialogue

EVA = "eva.lind"


@pytest.fixture
def talk(dialogue: Dialogue) -> Dialogue:
    dialogue.chat.usergroups["S02SDJOUR"] = ["U02SDJOUR1", "U02SDJOUR2"]
    dialogue.chat.emails["U0PERSTRAND"] = "per.strand@skolplattform.example"
    return dialogue


def closed(talk: Dialogue) -> tuple[str, str]:
    talk.say(EVA, '/incident declare "WLAN nere" wlan 1')
    with talk.core.unit_of_work() as uow:
        found = uow.incidents.open_incidents()[-1]
    talk.say(EVA, f"/incident classify {found.ref} gdpr")
    talk.say(EVA, f"/incident reported {found.ref} imy-notification IMY-2027-7")
    talk.say(EVA, f"/incident resolve {found.ref} Switchen bytt")
    talk.say(EVA, f"/incident close {found.ref}")
    answer = talk.say(EVA, "/disagreement open supplier Vem betalar för utbytta laddare")
    d = answer.split("*")[1]
    talk.say("johan.ek", f"/disagreement propose {d} Staden betalar laddarna i år")
    talk.say(EVA, "/samverkan role add maria.sund G")
    talk.say("maria.sund", f"/disagreement accept {d}")
    talk.say("karin.berg", f"/disagreement accept {d}")
    talk.say(EVA, "/disagreement open supplier Fortfarande öppen")  # not archived
    return found.ref, d


def test_closed_cases_round_trip_and_a_byte_altered_is_named(talk: Dialogue, tmp_path: Path,
                                                             capsys: pytest.CaptureFixture[str]) -> None:
    mi, d = closed(talk)
    with talk.core.unit_of_work() as uow:
        cases = closed_cases(uow, talk.core.model)
    assert sorted(c.ref for c in cases) == sorted([mi, d])
    now = datetime(2027, 1, 12, 8, 0, tzinfo=UTC)
    roots = {c.ref: write_package(c, tmp_path, now) for c in cases}
    for root in roots.values():
        assert verify_package(root) == []
    incident = roots[mi]
    record = json.loads((incident / RECORD).read_text(encoding="utf-8"))
    assert record["state"] == "closed" and [e["kind"] for e in record["timeline"]][0] == "declared"
    assert record["legal"]["legal:gdpr:imy-notification"]["reference"] == "IMY-2027-7"
    transcript = (incident / TRANSCRIPT).read_text(encoding="utf-8")
    assert f"# {mi}: WLAN nere" in transcript and "Eva Lind (Staden" in transcript
    settled = json.loads((roots[d] / RECORD).read_text(encoding="utf-8"))
    assert settled["state"] == "settled" and settled["proposal"]["text"] == "Staden betalar laddarna i år"
    # The METS document: CSIP's root, header, every other file with its SHA-256, the CSIP structural map.
    mets = ET.parse(incident / METS).getroot()  # noqa: S314 - written by the test
    m = f"{{{NS['mets']}}}"
    assert mets.get("OBJID") == mi and mets.find(f"{m}metsHdr") is not None
    files = list(mets.iter(f"{m}file"))
    assert {f.get("CHECKSUMTYPE") for f in files} == {"SHA-256"} and len(files) == 4
    assert mets.find(f"{m}structMap").get("LABEL") == "CSIP"  # type: ignore[union-attr]
    listed = [line.split("  ")[1] for line in (incident / MANIFEST).read_text(encoding="utf-8").splitlines()]
    assert METS in listed and RECORD in listed
    # One byte altered in the transcript: the package is no longer intact, and the file is named.
    path = incident / TRANSCRIPT
    data = bytearray(path.read_bytes())
    data[5] ^= 1
    path.write_bytes(bytes(data))
    assert main(["archive", "--verify", str(incident)]) == 1
    assert f"{TRANSCRIPT}: altered" in capsys.readouterr().err
    assert main(["archive", "--verify", str(roots[d])]) == 0
    # A file slipped in is named too.
    (roots[d] / "extra.txt").write_text("x", encoding="utf-8")
    assert verify_package(roots[d]) == ["extra.txt: not in the manifest"]


def test_the_archive_command_writes_a_package_per_closed_case(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                              capsys: pytest.CaptureFixture[str]) -> None:
    from bot.chat import Command
    from bot.clock import STOCKHOLM, ManualClock
    from samverkan.settings import Settings
    from samverkan.wiring import build
    from tests.fakes.recording_chat import RecordingChat

    url = f"sqlite:///{tmp_path / 'x.db'}"
    clock = ManualClock(datetime(2027, 1, 11, 9, 0, tzinfo=STOCKHOLM))
    runtime = build(Settings(database_url=url, samverkan_lang="sv"), clock, lambda _: RecordingChat())
    for text in ('declare "WLAN nere" wlan 1', "resolve MI-1 Klart", "close MI-1"):
        runtime.core.handle(Command(name="incident", text=text, user_id="U01EVALIND", channel_id="C1",
                                    received_at=clock.now()))
    runtime.close()
    monkeypatch.setenv("DATABASE_URL", url)
    out = tmp_path / "arkiv"
    assert main(["archive", "--out", str(out)]) == 0
    assert [p.name for p in out.iterdir()] == ["MI-1"]
    assert main(["archive", "--verify", str(out / "MI-1")]) == 0
    assert "paketet är oförändrat" in capsys.readouterr().out


def test_a_forums_decisions_and_actions_for_a_period_are_one_package(talk: Dialogue, tmp_path: Path) -> None:
    from samverkan.archive import forum_cases, period_of

    talk.say(EVA, "/forum decision kontraktsforum Vitet för sena leveranser sänks till 2 %")
    talk.say(EVA, "/forum action kontraktsforum johan.ek 2027-02-01 Underlag om vitet")
    since, until = period_of("2027-01")
    with talk.core.unit_of_work() as uow:
        [case] = [c for c in forum_cases(uow, talk.core.model, since, until, "2027-01")]
        assert forum_cases(uow, talk.core.model, *period_of("2026"), "2026") == []  # nothing then
    assert case.ref == "kontraktsforum-2027-01" and case.kind == "forum"
    assert [d["text"] for d in case.record["decisions"]] == ["Vitet för sena leveranser sänks till 2 %"]
    [action] = case.record["actions"]
    assert action["owner"] == "johan.ek" and action["due"] == "2027-02-01" and action["done_at"] is None
    assert {p["key"] for p in case.people} >= {EVA, "johan.ek"}
    root = write_package(case, tmp_path, datetime(2027, 2, 2, tzinfo=UTC))
    assert verify_package(root) == []
    assert "Vitet för sena leveranser" in (root / TRANSCRIPT).read_text(encoding="utf-8")
    (root / RECORD).write_bytes((root / RECORD).read_bytes().replace(b"2 %", b"9 %"))
    assert verify_package(root)


def test_an_open_or_unreadable_period_is_refused(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["archive", "--out", str(tmp_path), "--period", "3000"]) == 2
    assert main(["archive", "--out", str(tmp_path), "--period", "2026-13"]) == 2
