"""Every command, fed generated text by people of every kind: never an internal error, always exactly one answer,
and nothing changed unless the event log says what changed (a refusal changes nothing).

CI runs a short profile; `HYPOTHESIS_PROFILE=long bin/test tests/test_properties.py` runs a long one."""

from __future__ import annotations

import os

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import inspect, text

from bot.app import CAPABILITIES
from tests.conftest import Dialogue

settings.register_profile("ci", max_examples=40, deadline=None,
                          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
settings.register_profile("long", max_examples=2000, deadline=None,
                          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))

# Directory people of several parties, the City's administrator, someone of another organisation, a stranger.
SPEAKERS = ["U01EVALIND", "U01KARINBG", "U02JOHANEK", "U02MARIASD", "U0PERSTRAND", "U0NOBODY"]
WORDS = sorted({word for c in CAPABILITIES for sub in c.subcommands for word in (sub.name, *sub.aliases)})
MEANINGFUL = ["kontraktsforum", "datakommunikation", "tjansteforum-digitala-enheter", "wlan", "service-desk",
              "supplier", "city", "school-platform", "johan.ek", "eva.lind", "D-1", "MI-1", "A-1", "P-1", "B-1",
              "2027-01-19", "2027-02-30", "9999-12-31", "0000-01-01", "10:00", "25:61", "1", "4", "²", "٣",
              "--", '"', "'", "<!channel>", "<@U02JOHANEK>", "<!subteam^S02SDJOUR|@jour>", "sida=2", "nivå=1",
              "tjänst=wlan", "beskrivning=x", "add", "grant", "orderer", "\x00", "\u202e", "ﷺ", "🚨"]
token = st.one_of(st.sampled_from(MEANINGFUL), st.sampled_from(WORDS),
                  st.text(min_size=1, max_size=30).filter(lambda s: s.strip()))
line = st.tuples(st.sampled_from(WORDS + ["help", "?", ""]), st.lists(token, max_size=8)).map(
    lambda parts: " ".join([parts[0], *parts[1]]))
APOLOGY = ("Något gick fel", "Something went wrong")
# Written by any command, whoever sends it: its inbox entry, its events, the sender's language once seen; on Teams
# also where it came from (chat_conversation, on receipt) and the keyed answers delivered there (chat_posted).
LOGGED_ELSEWHERE = {"inbox", "event", "alembic_version", "user_language", "chat_conversation", "chat_posted"}


def state(dialogue: Dialogue) -> dict[str, list[tuple]]:  # type: ignore[type-arg]
    with dialogue.core.unit_of_work() as uow:
        connection = uow.session.connection()  # type: ignore[attr-defined]
        tables = [t for t in inspect(connection).get_table_names() if t not in LOGGED_ELSEWHERE]
        rows = {}
        for table in tables:
            query = f"SELECT * FROM {table}"  # noqa: S608 - names from the schema itself
            if table == "duty":
                query += " WHERE kind != 'chat.deliver'"
            rows[table] = sorted(map(tuple, connection.execute(text(query))), key=repr)
        return rows


def events(dialogue: Dialogue) -> int:
    with dialogue.core.unit_of_work() as uow:
        return sum(1 for e in uow.events.history(limit=100_000) if e.kind != "permission.refused")


def check(dialogue: Dialogue, speaker: str, command: str, words: str) -> None:
    dialogue.chat.emails["U0PERSTRAND"] = "per.strand@skolplattform.example"
    before, logged = state(dialogue), events(dialogue)
    answer = dialogue.say(speaker, f"/{command} {words}")  # exactly one answer, or it fails
    assert answer.strip(), f"/{command} {words!r} answered with nothing"
    assert not answer.startswith(APOLOGY), f"/{command} {words!r} by {speaker}: {answer}"
    if events(dialogue) == logged:
        # Nothing was recorded as done: then nothing was changed either.
        assert state(dialogue) == before, f"/{command} {words!r} by {speaker} changed something unrecorded"


@given(speaker=st.sampled_from(SPEAKERS), words=line)
def test_samverkan(dialogue: Dialogue, speaker: str, words: str) -> None:
    check(dialogue, speaker, "samverkan", words)


@given(speaker=st.sampled_from(SPEAKERS), words=line)
def test_forum(dialogue: Dialogue, speaker: str, words: str) -> None:
    check(dialogue, speaker, "forum", words)


@given(speaker=st.sampled_from(SPEAKERS), words=line)
def test_deploy(dialogue: Dialogue, speaker: str, words: str) -> None:
    check(dialogue, speaker, "deploy", words)


@given(speaker=st.sampled_from(SPEAKERS), words=line)
def test_incident(dialogue: Dialogue, speaker: str, words: str) -> None:
    dialogue.chat.usergroups["S02SDJOUR"] = ["U02SDJOUR1"]
    check(dialogue, speaker, "incident", words)


@given(speaker=st.sampled_from(SPEAKERS), words=line)
def test_disagreement(dialogue: Dialogue, speaker: str, words: str) -> None:
    check(dialogue, speaker, "disagreement", words)
