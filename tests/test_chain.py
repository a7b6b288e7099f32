"""The event log's hash chain: one intact chain whatever the number of writers, and `samverkan verify` naming the
event that was changed, removed or inserted behind the log's back, on both backends."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import Engine, text

from bot.chain import GENESIS, ChainHead, walk
from bot.chain_head import HEAD, HeadTarget, last_head
from bot.clock import STOCKHOLM, ManualClock
from bot.events import Event
from samverkan.cli import main
from storage.db import make_engine, migrate, session_factory
from storage.uow import SqlUnitOfWork
from tests.conftest import BACKENDS
from tests.fakes.recording_chat import RecordingChat

T0 = datetime(2027, 1, 11, 9, 0, tzinfo=STOCKHOLM)


@pytest.fixture
def engine(database_url: str) -> Iterator[Engine]:
    engine = make_engine(database_url)
    migrate(engine)
    yield engine
    engine.dispose()


def append(engine: Engine, *subjects: str, actor: str = "system") -> None:
    with SqlUnitOfWork(session_factory(engine)) as uow:
        uow.events.record_many([Event(T0 + timedelta(seconds=i), actor, "test.written", s, {"n": i, "text": s})
                                for i, s in enumerate(subjects)])
        uow.commit()


def check(engine: Engine, expected: ChainHead | None = None):  # type: ignore[no-untyped-def]
    with SqlUnitOfWork(session_factory(engine), read_only=True) as uow:
        return walk(uow.events.links(), expected)


def verify(database_url: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str],
           *args: str) -> tuple[int, str]:
    monkeypatch.setenv("DATABASE_URL", database_url)
    monkeypatch.setenv("SAMVERKAN_LANG", "en")
    code = main(["verify", *args])
    out = capsys.readouterr()
    return code, out.out + out.err


def ids(engine: Engine) -> list[tuple[int, int]]:
    with engine.connect() as connection:
        return [tuple(r) for r in connection.execute(text("SELECT id, seq FROM event ORDER BY seq"))]  # type: ignore[misc]


@pytest.mark.parametrize("database_url", BACKENDS, indirect=True)
def test_concurrent_writers_make_one_intact_chain(engine: Engine) -> None:
    writers, rounds = 4, 15
    start = threading.Barrier(writers)
    failures: list[BaseException] = []
    sessions = session_factory(engine)

    def write(w: int) -> None:
        try:
            start.wait()
            for r in range(rounds):
                with SqlUnitOfWork(sessions) as uow:
                    uow.events.record(Event(T0, f"writer-{w}", "test.first", f"{w}/{r}"))
                    # A second append in the same transaction, after other work: still one run of the chain.
                    uow.duties.get("nothing")
                    uow.events.record_many([Event(T0, f"writer-{w}", "test.more", f"{w}/{r}/{i}") for i in range(2)])
                    uow.commit()
        except BaseException as error:  # noqa: BLE001 - reported by the test
            failures.append(error)

    threads = [threading.Thread(target=write, args=(w,)) for w in range(writers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert failures == []
    head, breaks = check(engine)
    assert breaks == []
    assert head.seq == writers * rounds * 3
    # Each transaction's three events lie together in the chain: commit order, not interleaved.
    with engine.connect() as connection:
        subjects = list(connection.execute(text("SELECT subject FROM event ORDER BY seq")).scalars())
    for i in range(0, len(subjects), 3):
        assert subjects[i + 1] == subjects[i] + "/0" and subjects[i + 2] == subjects[i] + "/1"


@pytest.mark.parametrize("database_url", BACKENDS, indirect=True)
def test_verify_says_an_untouched_chain_is_intact(engine: Engine, database_url: str,
                                                  monkeypatch: pytest.MonkeyPatch,
                                                  capsys: pytest.CaptureFixture[str]) -> None:
    append(engine, "a", "b", "c")
    code, said = verify(database_url, monkeypatch, capsys)
    assert code == 0, said
    assert "intact: 3 events, head seq 3" in said


@pytest.mark.parametrize("database_url", BACKENDS, indirect=True)
def test_verify_names_an_edited_event(engine: Engine, database_url: str, monkeypatch: pytest.MonkeyPatch,
                                      capsys: pytest.CaptureFixture[str]) -> None:
    append(engine, "a", "b", "c", "d")
    (_, _), (edited, _), *_ = ids(engine)
    with engine.begin() as connection:
        connection.execute(text("UPDATE event SET subject = 'rewritten' WHERE id = :id"), {"id": edited})
    code, said = verify(database_url, monkeypatch, capsys)
    assert code == 1
    assert f"changed: event #{edited} (seq 2, test.written, rewritten) was changed" in said
    assert said.count("\n  changed:") == 1  # its successors are not blamed


@pytest.mark.parametrize("database_url", BACKENDS, indirect=True)
def test_verify_names_an_event_edited_with_its_hash_recomputed(engine: Engine) -> None:
    from bot.chain import digest

    append(engine, "a", "b", "c")
    (_, _), (edited, _), (after, _) = ids(engine)
    with engine.begin() as connection:
        prev = connection.execute(text("SELECT prev_hash FROM event WHERE id = :id"), {"id": edited}).scalar()
        forged = digest(2, T0 + timedelta(seconds=1), "system", "test.written", "forged", {"n": 1, "text": "b"}, prev)
        connection.execute(text("UPDATE event SET subject = 'forged', hash = :h WHERE id = :id"),
                           {"h": forged, "id": edited})
    _, breaks = check(engine)
    assert [(b.finding, b.event_id, b.reason) for b in breaks] == [("changed", edited, "relinked")]
    assert breaks[0].values["id"] == after


@pytest.mark.parametrize("database_url", BACKENDS, indirect=True)
def test_verify_names_a_deleted_event(engine: Engine, database_url: str, monkeypatch: pytest.MonkeyPatch,
                                      capsys: pytest.CaptureFixture[str]) -> None:
    append(engine, "a", "b", "c", "d")
    (first, _), (deleted, _), (third, _), _ = ids(engine)
    with engine.begin() as connection:
        connection.execute(text("DELETE FROM event WHERE id = :id"), {"id": deleted})
    code, said = verify(database_url, monkeypatch, capsys)
    assert code == 1
    assert f"removed: seq 2–2 removed, between event #{first} (seq 1) and event #{third} (seq 3)" in said


@pytest.mark.parametrize("database_url", BACKENDS, indirect=True)
def test_verify_names_an_inserted_event(engine: Engine, database_url: str, monkeypatch: pytest.MonkeyPatch,
                                        capsys: pytest.CaptureFixture[str]) -> None:
    append(engine, "a", "b")
    with engine.begin() as connection:
        connection.execute(text("INSERT INTO event (at, actor, kind, subject, data) "
                                "VALUES (:at, 'mallory', 'test.written', 'slipped in', '{}')"),
                           {"at": datetime(2027, 1, 11, 8, 30)})  # noqa: DTZ001 - as written by hand
        inserted = connection.execute(text("SELECT max(id) FROM event")).scalar()
    code, said = verify(database_url, monkeypatch, capsys)
    assert code == 1
    assert f"inserted: event #{inserted} (test.written, slipped in) is not in the chain" in said


@pytest.mark.parametrize("database_url", BACKENDS, indirect=True)
def test_verify_names_an_event_inserted_into_the_chain_out_of_order(engine: Engine) -> None:
    from bot.chain import digest

    append(engine, "a", "b", "c")
    (_, _), (second, _), (third, _) = ids(engine)
    # Moved up and a row slipped in at seq 3, properly hashed on top of seq 2: its id gives it away, and the
    # moved event no longer follows its predecessor.
    with engine.begin() as connection:
        connection.execute(text("UPDATE event SET seq = 4 WHERE id = :id"), {"id": third})
        prev = connection.execute(text("SELECT hash FROM event WHERE id = :id"), {"id": second}).scalar()
        at = T0 + timedelta(seconds=5)
        own = digest(3, at, "mallory", "test.written", "slipped in", {}, prev)
        connection.execute(text("INSERT INTO event (at, actor, kind, subject, data, seq, prev_hash, hash) "
                                "VALUES (:at, 'mallory', 'test.written', 'slipped in', '{}', 3, :p, :h)"),
                           {"at": at.astimezone(UTC).replace(tzinfo=None) if engine.dialect.name == "sqlite"
                            else at, "p": prev, "h": own})
        inserted = connection.execute(text("SELECT max(id) FROM event")).scalar()
    _, breaks = check(engine)
    assert breaks[0].finding == "inserted" and breaks[0].event_id == inserted and breaks[0].seq == 3
    assert breaks[0].values["id"] == third


@pytest.mark.parametrize("database_url", BACKENDS, indirect=True)
def test_events_removed_at_the_end_show_against_the_head_written_out(engine: Engine, database_url: str,
                                                                     tmp_path: Path,
                                                                     monkeypatch: pytest.MonkeyPatch,
                                                                     capsys: pytest.CaptureFixture[str]) -> None:
    append(engine, "a", "b", "c")
    head, _ = check(engine)
    heads = tmp_path / "heads.txt"
    heads.write_text(f"2027-01-11T09:00:00+01:00 seq={head.seq} hash={head.hash}\n", encoding="utf-8")
    assert verify(database_url, monkeypatch, capsys, "--head", str(heads))[0] == 0
    with engine.begin() as connection:
        connection.execute(text("DELETE FROM event WHERE seq = 3"))
    code, said = verify(database_url, monkeypatch, capsys, "--head", str(heads))
    assert code == 1
    assert "the chain ends at seq 2, but its head was written out at seq 3" in said


def test_an_empty_log_is_an_intact_chain() -> None:
    assert walk([]) == (ChainHead(0, GENESIS), [])


def test_the_migration_chains_the_events_already_stored(tmp_path: Path) -> None:
    from alembic import command

    from storage.db import alembic_config

    engine = make_engine(f"sqlite:///{tmp_path / 'old.db'}")
    config = alembic_config()
    with engine.begin() as connection:
        config.attributes["connection"] = connection
        command.upgrade(config, "0011")
        for i in range(3):
            connection.execute(text("INSERT INTO event (at, actor, kind, subject, data) VALUES "
                                    "(:at, 'system', 'old.event', :s, :d)"),
                               {"at": datetime(2026, 12, 1, 8, i, 0, 123456), "s": f"old {i}",  # noqa: DTZ001
                                "d": '{"\\u00e5": [1, 2.5, "x"]}'})
    migrate(engine)
    append(engine, "new")
    head, breaks = check(engine)
    engine.dispose()
    assert breaks == []
    assert head.seq == 4


def test_the_head_is_written_out_once_a_period_to_the_file_and_the_channel(
        model, sessions, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    from bot.app import Samverkan

    clock = ManualClock(datetime(2027, 3, 27, 23, 30, tzinfo=STOCKHOLM))
    chat = RecordingChat()
    heads = tmp_path / "heads.txt"

    def unit_of_work(read_only: bool = False) -> SqlUnitOfWork:
        return SqlUnitOfWork(sessions)

    core = Samverkan(model, unit_of_work, clock, chat, lang="en",
                     chain_head=HeadTarget(heads, "#samverkan-revision", 24))
    with unit_of_work() as uow:
        uow.events.record(Event(clock.now(), "system", "test.written", "x"))
        uow.commit()
        head = uow.events.head()  # what the duty finds (its own "done" is written after)
    core.plan()
    core.plan()
    core.runner.sweep()
    core.plan()
    core.runner.sweep()
    lines = heads.read_text(encoding="utf-8").splitlines()
    assert len(lines) == 1
    assert last_head(lines[0]) == head
    posted = [said for channel, said in chat.posts if channel == "#samverkan-revision"]
    assert len(posted) == 1 and last_head(posted[0]) == head
    # The next day (across the change to summer time) once more.
    clock.set(datetime(2027, 3, 28, 0, 5, tzinfo=STOCKHOLM))
    core.plan()
    core.runner.sweep()
    assert len(heads.read_text(encoding="utf-8").splitlines()) == 2
    with unit_of_work() as uow:
        assert len([k for k in uow.duties.pending_keys("") if k.startswith(HEAD)]) == 0


@pytest.mark.parametrize("database_url", BACKENDS, indirect=True)
def test_data_that_json_changes_on_the_way_in_still_verifies(engine: Engine) -> None:
    with SqlUnitOfWork(session_factory(engine)) as uow:
        uow.events.record(Event(T0, "system", "test.written", "x", {"minutes": {2: 60, 10: 240}, "pair": (1, "å")}))
        uow.commit()
    assert check(engine)[1] == []
