"""Retention, legal holds and erasure (issue 22), on both backends: `samverkan erase` leaves no personal data of the
person outside what retention or a hold keeps, `samverkan verify` still passes and still catches an edit, and the
daily duty pseudonymises a person removed from the directory past its retention exactly once."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta

import pytest
from sqlalchemy import JSON, Engine, String, select, text, update

from bot import retention
from bot.chain import ERASED
from bot.clock import STOCKHOLM, ManualClock
from bot.events import Event
from samverkan.cli import main
from samverkan.wiring import Runtime
from storage.db import make_engine, session_factory
from storage.erasure import REMOVED
from storage.models import Base, IncidentRow
from storage.uow import SqlUnitOfWork
from tests.conftest import BACKENDS
from tests.fakes.recording_chat import RecordingChat

EVA = ("Eva Lind", "eva.lind@edu.stockholm.example", "U01EVALIND", "eva.lind")
LONG_AGO = datetime(2001, 1, 1, tzinfo=STOCKHOLM)  # past the shipped ten years


@dataclass
class Seeded:
    url: str
    engine: Engine
    runtime: Runtime
    clock: ManualClock


@pytest.fixture
def seeded(database_url: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[Seeded]:
    from bot.chat import Command
    from samverkan.settings import Settings
    from samverkan.wiring import build

    clock = ManualClock(datetime(2027, 1, 11, 9, 0, tzinfo=STOCKHOLM))
    runtime = build(Settings(database_url=database_url, samverkan_lang="sv"), clock, lambda _: RecordingChat())
    for name, words in (("incident", 'declare "Intrång i elevregistret" wlan 1'),
                        ("incident", "update MI-1 Eva Lind såg det först; VPN-kontot svc-backup"),
                        ("disagreement", "open supplier Vem betalar för laddarna")):
        runtime.core.handle(Command(name=name, text=words, user_id="U01EVALIND", channel_id="C1",
                                    received_at=clock.now()))
    monkeypatch.setenv("DATABASE_URL", database_url)
    monkeypatch.setenv("SAMVERKAN_LANG", "en")
    engine = make_engine(database_url)
    yield Seeded(database_url, engine, runtime, clock)
    engine.dispose()
    runtime.close()


def close_long_ago(engine: Engine) -> None:
    """MI-1 closed (and so its retention ran) long ago: how an old war room stands, set directly."""
    with engine.begin() as connection:
        connection.execute(update(IncidentRow).where(IncidentRow.id == 1)
                           .values(resolved_at=LONG_AGO, closed_at=LONG_AGO))


def mentions(engine: Engine, needles: tuple[str, ...]) -> list[tuple[str, dict[str, object]]]:
    """Every row of every table with a text or JSON column naming any of the needles (case-insensitively)."""
    found = []
    with engine.connect() as connection:
        for table in Base.metadata.sorted_tables:
            columns = [c for c in table.columns if isinstance(c.type, String | JSON)]
            if not columns:
                continue
            for row in connection.execute(select(table)).mappings():
                blob = json.dumps([row[c.name] for c in columns], ensure_ascii=False, default=str).lower()
                if any(n.lower() in blob for n in needles):
                    found.append((table.name, dict(row)))
    return found


def in_case(table: str, row: dict[str, object], ref: str) -> bool:
    kind, number = ref.split("-")
    if kind == "D":
        return ((table == "disagreement" and row["id"] == int(number))
                or (table in ("disagreement_entry", "clarification") and row["disagreement_id"] == int(number))
                or (table == "event" and row["subject"] == ref))
    return ((table == "major_incident" and row["id"] == int(number))
            or (table in ("incident_member", "incident_step", "incident_timeline")
                and row["incident_id"] == int(number))
            or (table == "event" and row["subject"] == ref))


def cli(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str]:
    code = main(list(args))
    out = capsys.readouterr()
    return code, out.out + out.err


@pytest.mark.parametrize("database_url", BACKENDS, indirect=True)
def test_erase_leaves_nothing_of_the_person_but_what_retention_keeps_and_the_chain_verifies(
        seeded: Seeded, capsys: pytest.CaptureFixture[str]) -> None:
    close_long_ago(seeded.engine)
    assert mentions(seeded.engine, EVA)
    code, out = cli(capsys, "erase", "eva.lind", "--by", "registrator")
    assert code == 0, out
    done = json.loads(out)
    assert done["person"].startswith("person-") and done["events"]
    # D-1 is open: the City keeps it whole. MI-1 closed past its retention: pseudonymised with everything else.
    assert done["kept"] == [{"ref": "D-1", "why": "open"}]
    left = [(table, row) for table, row in mentions(seeded.engine, EVA) if not in_case(table, row, "D-1")]
    assert left == []
    # The records keep their sense: the war room and its timeline are there, by the pseudonym.
    with seeded.engine.connect() as connection:
        title, declared_by = connection.execute(text("SELECT title, declared_by FROM major_incident")).one()
        authors = set(connection.execute(text("SELECT author FROM incident_timeline")).scalars())
        erasures = connection.execute(text("SELECT data FROM event WHERE kind = :k"), {"k": ERASED}).scalars().all()
    assert title == "Intrång i elevregistret" and declared_by == done["person"] and authors == {done["person"]}
    [logged] = [json.loads(e) if isinstance(e, str) else e for e in erasures]
    assert "Eva" not in json.dumps(logged) and {s["event"] for s in logged["sealed"]} == set(done["events"])
    assert cli(capsys, "verify")[0] == 0
    # Nothing outside D-1 names the key any more: a second erasure finds nobody.
    assert cli(capsys, "erase", "eva.lind")[0] == 2
    # An edit of a pseudonymised field still shows, and so does one of a field never erased.
    with seeded.engine.begin() as connection:
        connection.execute(text("UPDATE event SET actor = 'someone-else' WHERE id = :id"), {"id": done["events"][0]})
    code, out = cli(capsys, "verify")
    assert code == 1 and "changed" in out


@pytest.mark.parametrize("database_url", BACKENDS, indirect=True)
def test_verify_after_erasure_catches_an_edit_of_an_event_never_erased(seeded: Seeded,
                                                                      capsys: pytest.CaptureFixture[str]) -> None:
    assert cli(capsys, "erase", "eva.lind")[0] == 0
    assert cli(capsys, "verify")[0] == 0
    with seeded.engine.begin() as connection:
        kept = connection.execute(text("SELECT id FROM event WHERE subject = 'D-1' ORDER BY id")).scalars().first()
        connection.execute(text("UPDATE event SET subject = 'D-2' WHERE id = :id"), {"id": kept})
    assert cli(capsys, "verify")[0] == 1


@pytest.mark.parametrize("database_url", BACKENDS, indirect=True)
def test_a_case_under_hold_keeps_the_data(seeded: Seeded, capsys: pytest.CaptureFixture[str]) -> None:
    close_long_ago(seeded.engine)
    code, out = cli(capsys, "hold", "mi-1", "--by", "registrator")
    assert code == 0 and json.loads(out) == {"held": ["MI-1"]}
    assert cli(capsys, "hold", "MI-99")[0] == 2
    code, out = cli(capsys, "erase", "eva.lind")
    assert code == 0
    assert {"ref": "MI-1", "why": "hold"} in json.loads(out)["kept"]
    names = [row["name"] for table, row in mentions(seeded.engine, EVA) if table == "incident_member"]
    assert names == ["Eva Lind"]
    assert all(in_case(table, row, "MI-1") or in_case(table, row, "D-1")
               for table, row in mentions(seeded.engine, EVA))
    assert cli(capsys, "verify")[0] == 0
    # Released, the hold no longer keeps it.
    code, out = cli(capsys, "hold", "MI-1", "--release")
    assert code == 0 and json.loads(out) == {"held": []}


@pytest.mark.parametrize("database_url", BACKENDS, indirect=True)
def test_the_duty_pseudonymises_a_removed_person_past_retention_exactly_once(
        seeded: Seeded, capsys: pytest.CaptureFixture[str]) -> None:
    core, clock = seeded.runtime.core, seeded.clock
    with SqlUnitOfWork(session_factory(seeded.engine)) as uow:
        # What `/person remove lars.holm` does.
        uow.directory.remove("lars.holm")
        uow.events.record(Event(clock.now(), "eva.lind", REMOVED, "lars.holm", {"name": "Lars Holm", "party": "city"}))
        uow.commit()
    assert retention.sweep(core, clock.now() + timedelta(days=89)) == []
    later = clock.now() + timedelta(days=91)
    clock.set(later)
    core.plan(later)  # the night's duty, due at 03:00 Stockholm time
    later = retention.next_run(later)
    clock.set(later)
    assert core.tick() >= 1  # performed through the ordinary sweep
    assert retention.sweep(core, later) == [] and retention.sweep(core, later + timedelta(days=1)) == []
    with seeded.engine.connect() as connection:
        erasures = connection.execute(text("SELECT data FROM event WHERE kind = :k"), {"k": ERASED}).scalars().all()
    assert len(erasures) == 1
    assert mentions(seeded.engine, ("Lars Holm", "lars.holm", "U01LARSHLM")) == []
    # Eva, still in the directory, is untouched.
    assert mentions(seeded.engine, ("eva.lind@edu.stockholm.example",))
    assert cli(capsys, "verify")[0] == 0


@pytest.mark.parametrize("database_url", BACKENDS, indirect=True)
def test_the_duty_pseudonymises_a_case_past_retention_once_unless_held(seeded: Seeded,
                                                                       capsys: pytest.CaptureFixture[str]) -> None:
    core, now = seeded.runtime.core, seeded.clock.now()
    close_long_ago(seeded.engine)
    assert cli(capsys, "hold", "MI-1")[0] == 0
    assert retention.sweep(core, now) == []
    assert cli(capsys, "hold", "MI-1", "--release")[0] == 0
    assert retention.sweep(core, now) == ["MI-1"]
    assert retention.sweep(core, now) == []
    assert [table for table, row in mentions(seeded.engine, EVA) if in_case(table, row, "MI-1")] == []
    with seeded.engine.connect() as connection:
        title = connection.execute(text("SELECT title FROM major_incident")).scalar_one()
    assert title == "Intrång i elevregistret"
    # Eva is still in the directory, and D-1 (open) still names her: only the case was due.
    assert any(table == "person" for table, _ in mentions(seeded.engine, EVA))
    assert any(in_case(table, row, "D-1") for table, row in mentions(seeded.engine, EVA))
    assert cli(capsys, "verify")[0] == 0


def test_the_model_validates_retention() -> None:
    from bot.model import ModelError, load_model_text, shipped_model_path

    shipped = shipped_model_path().read_text(encoding="utf-8")
    assert load_model_text(shipped).records.retention.directory_person == 90
    for wrong in ("incident: -1", "incident: ten", "incident: 10, forums: 3"):
        with pytest.raises(ModelError):
            load_model_text(shipped.replace("retention: {incident: 10,", f"retention: {{{wrong},"))


def test_a_field_erased_twice_keeps_the_original_commitment_and_an_edit_still_shows() -> None:
    from bot.chain import GENESIS, Link, commitment, digest, seals, walk

    at = datetime(2027, 1, 11, 8, 0, tzinfo=STOCKHOLM)
    original = {"name": "Eva Lind", "also": "Lars Holm"}
    own = digest(1, at, "eva.lind", "x", "s", original, GENESIS)
    once = {"name": "person-1", "also": "Lars Holm"}
    twice = {"name": "person-1", "also": "person-2"}
    sealed = seals([{"sealed": [{"event": 1, "fields": {"data": [commitment(original), commitment(once)]}}]},
                    {"sealed": [{"event": 1, "fields": {"data": [commitment(once), commitment(twice)]}}]}])

    def link(data: dict[str, str]) -> Link:
        return Link(1, 1, at, "eva.lind", "x", "s", data, GENESIS, own)

    assert walk([link(twice)], sealed=sealed)[1] == []
    assert walk([link(twice)])[1] != []  # without the erasure events it reads as changed
    assert [b.finding for b in walk([link({"name": "person-1", "also": "x"})], sealed=sealed)[1]] == ["changed"]
