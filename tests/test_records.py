"""Release on request (confidential fields masked, the release logged in the chain) and the subject export."""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path

import pytest

from bot.chain import walk
from bot.clock import STOCKHOLM, ManualClock
from samverkan.cli import main
from samverkan.records import MASK, mask


def test_mask_replaces_fields_and_entries() -> None:
    record = {"title": "t", "description": "secret", "timeline": [{"at": "x", "text": "secret"}]}
    masked, fields = mask(record, ["description", "timeline.text", "absent"])
    assert masked == {"title": "t", "description": MASK, "timeline": [{"at": "x", "text": MASK}]}
    assert fields == ["description", "timeline.text"] and record["description"] == "secret"


@pytest.fixture
def database(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    from bot.chat import Command
    from samverkan.settings import Settings
    from samverkan.wiring import build
    from tests.fakes.recording_chat import RecordingChat

    url = f"sqlite:///{tmp_path / 'x.db'}"
    clock = ManualClock(datetime(2027, 1, 11, 9, 0, tzinfo=STOCKHOLM))
    runtime = build(Settings(database_url=url, samverkan_lang="sv"), clock, lambda _: RecordingChat())
    for name, text in (("incident", 'declare "Intrång i elevregistret" wlan 1'),
                       ("incident", "update MI-1 Angriparen kom in via VPN-kontot svc-backup"),
                       ("disagreement", "open supplier Vem betalar för laddarna")):
        runtime.core.handle(Command(name=name, text=text, user_id="U01EVALIND", channel_id="C1",
                                    received_at=clock.now()))
    runtime.close()
    monkeypatch.setenv("DATABASE_URL", url)
    return url


def test_a_release_masks_the_confidential_fields_and_is_logged(database: str,
                                                               capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["export", "--case", "MI-1", "--release", "--by", "registrator"]) == 0
    copy = json.loads(capsys.readouterr().out)
    assert copy["record"]["title"] == "Intrång i elevregistret"
    assert copy["record"]["description"] == MASK
    assert all(e["text"] == MASK for e in copy["record"]["timeline"])
    assert "svc-backup" not in json.dumps(copy, ensure_ascii=False)
    assert "timeline.text" in copy["masked"] and copy["released_by"] == "registrator"
    from storage.db import make_engine, session_factory
    from storage.uow import SqlUnitOfWork

    engine = make_engine(database)
    with SqlUnitOfWork(session_factory(engine), read_only=True) as uow:
        [logged] = uow.events.history(subject="MI-1", kind_prefix="record.released")
        _, breaks = walk(uow.events.links())
    engine.dispose()
    assert logged.actor == "registrator" and "description" in logged.data["masked"] and breaks == []
    assert main(["export", "--case", "MI-99", "--release"]) == 2


def test_the_subject_export_gives_what_there_is_about_a_person(database: str,
                                                               capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["subject-export", "eva.lind"]) == 0
    found = json.loads(capsys.readouterr().out)
    assert found["person"]["name"] == "Eva Lind" and found["person"]["email"] == "eva.lind@edu.stockholm.example"
    assert {c["ref"] for c in found["cases"]} == {"MI-1", "D-1"}
    assert any("svc-backup" in e.get("text", "") for e in found["entries"])
    assert any(e["kind"] == "incident.declared" for e in found["events"])
