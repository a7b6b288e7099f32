"""The database side: migrations match the models, times come back aware, stores keep what they are given."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy.orm import Session, sessionmaker

from bot.clock import STOCKHOLM
from bot.directory.people import Person
from bot.duties import Duty
from bot.events import Event
from storage.db import HEADS, alembic_config, known_revisions, make_engine, migrate, schema_revisions
from storage.models import Base
from storage.uow import SqlUnitOfWork
from tests.conftest import BACKENDS


@pytest.mark.parametrize("database_url", BACKENDS, indirect=True)
def test_the_migrations_build_exactly_the_models_schema(database_url: str) -> None:
    engine = make_engine(database_url)
    migrate(engine)
    migrate(engine)  # a second start changes nothing
    with engine.connect() as connection:
        differences = compare_metadata(MigrationContext.configure(connection), Base.metadata)
        revisions = schema_revisions(connection)
    engine.dispose()
    assert differences == []
    assert revisions == HEADS


def test_the_written_down_heads_are_the_migration_scripts_heads() -> None:
    # A start skips Alembic when the database is at HEADS: a new migration must move HEADS along with it.
    from alembic.script import ScriptDirectory

    scripts = ScriptDirectory.from_config(alembic_config())
    assert frozenset(scripts.get_heads()) == HEADS
    assert known_revisions() == {script.revision for script in scripts.walk_revisions()}


def test_a_database_behind_the_head_is_brought_up_to_it(tmp_path) -> None:  # type: ignore[no-untyped-def]
    from alembic import command

    engine = make_engine(f"sqlite:///{tmp_path / 'old.db'}")
    config = alembic_config()
    with engine.begin() as connection:
        config.attributes["connection"] = connection
        command.upgrade(config, "0005")
    with engine.connect() as connection:
        assert schema_revisions(connection) == {"0005"}
    migrate(engine)
    with engine.connect() as connection:
        assert schema_revisions(connection) == HEADS
    engine.dispose()


def test_times_come_back_aware_and_in_utc(sessions: sessionmaker[Session]) -> None:
    summer = datetime(2027, 6, 1, 9, 0, tzinfo=STOCKHOLM)
    with SqlUnitOfWork(sessions) as uow:
        uow.events.record(Event(summer, "eva.lind", "test.kind", "subject", {"n": 1}))
        uow.commit()
    with SqlUnitOfWork(sessions) as uow:
        [event] = uow.events.history(subject="subject")
    assert event.at == summer and event.at.utcoffset() == timedelta(0) and event.data == {"n": 1}


def test_naive_times_are_refused(sessions: sessionmaker[Session]) -> None:
    with SqlUnitOfWork(sessions) as uow, pytest.raises(Exception, match="naive datetime"):
        uow.events.record(Event(datetime(2027, 1, 1), "x", "test.kind", "s"))  # noqa: DTZ001
        uow.session.flush()


def test_people_round_trip_with_roles_and_authority(sessions: sessionmaker[Session]) -> None:
    anna = Person("anna.berg", "Anna Berg", "city", frozenset({"samverkan-admin", "avtalstecknare"}),
                  frozenset({"approver"}), "U0ANNA", "anna@stockholm.example")
    with SqlUnitOfWork(sessions) as uow:
        uow.directory.save(anna)
        uow.commit()
    with SqlUnitOfWork(sessions) as uow:
        assert uow.directory.by_email("ANNA@stockholm.example") == anna
        uow.directory.save(anna.without_role("avtalstecknare").without_authority("approver"))
        uow.commit()
    with SqlUnitOfWork(sessions) as uow:
        assert uow.directory.by_account("U0ANNA") == Person("anna.berg", "Anna Berg", "city",
                                                               frozenset({"samverkan-admin"}), frozenset(),
                                                               "U0ANNA", "anna@stockholm.example")


def test_a_duty_is_claimed_once_and_planned_once(sessions: sessionmaker[Session]) -> None:
    now = datetime(2027, 1, 11, 9, 0, tzinfo=timezone.utc)  # noqa: UP017 - any aware zone will do
    with SqlUnitOfWork(sessions) as uow:
        assert uow.duties.plan(Duty("k:1", "kind", now)) is True
        assert uow.duties.plan(Duty("k:1", "kind", now + timedelta(hours=1))) is False
        uow.duties.plan(Duty("k:2", "kind", now + timedelta(hours=1)))
        uow.commit()
    with SqlUnitOfWork(sessions) as uow:
        assert [d.key for d in uow.duties.due(now, 10)] == ["k:1"]
        assert uow.duties.claim("k:1", "a", now) is True
        assert uow.duties.claim("k:1", "b", now) is False
        assert uow.duties.unplan("k:1") is False  # claimed: too late to withdraw
        assert uow.duties.unplan("k:2") is True
        uow.commit()
    with SqlUnitOfWork(sessions) as uow:
        assert uow.duties.due(now + timedelta(days=1), 10) == []
