"""The Teams adapter against the fake Graph, call by call: guests found by their mail, a batch's throttled
requests sent again after their own Retry-After, chat creations kept under Graph's limit, and names cut with the
war room's reference kept."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest

from teams.auth import ClientCredentials
from teams.chat import TeamsChat, TeamsConfig
from teams.war_rooms import MAX_TOPIC, Pace
from tests.fakes.teams_api import APP_ID, TEAM, TENANT, FakeTeams
from tests.test_teams_http import teams  # noqa: F401 - the fixture

pytestmark = [pytest.mark.slow, pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)]


@pytest.fixture
def graph(teams) -> Iterator[tuple[TeamsChat, FakeTeams, list[float]]]:  # type: ignore[no-untyped-def]  # noqa: F811
    fake: FakeTeams = teams.fake
    slept: list[float] = []
    owner = teams.app.settings.teams_war_room_owner
    with httpx.Client(timeout=10) as http:
        def credentials(scope: str) -> ClientCredentials:
            return ClientCredentials(f"{fake.base_url}/login", TENANT, APP_ID, "pw", scope, http)

        chat = TeamsChat(TeamsConfig(APP_ID, TENANT, TEAM, f"{fake.base_url}/graph", fake.service_url, owner,
                                     service_hosts=(fake.base_url,)),
                         teams.core.unit_of_work, http, credentials("connector"), credentials("graph"),
                         sleep=slept.append)
        yield chat, fake, slept


def test_a_guest_is_found_by_mail_and_by_other_mails_not_by_their_upn(graph) -> None:  # type: ignore[no-untyped-def]
    chat, fake, _ = graph
    guest = fake.add_user("kim@partner.example", guest=True)
    other = fake.add_user("jo@partner.example", guest=True, other_mails=("jo.alias@partner.example",))
    assert fake.users[guest]["userPrincipalName"] != "kim@partner.example"
    assert chat.find_user_by_email("kim@partner.example") == guest
    assert chat.find_user_by_email("jo.alias@partner.example") == other
    assert chat.find_user_by_email("nobody@partner.example") is None


def test_a_batchs_throttled_requests_wait_their_own_retry_after(graph) -> None:  # type: ignore[no-untyped-def]
    chat, fake, slept = graph
    people = [fake.add_user(f"p{n}@edu.stockholm.example") for n in range(25)]
    room = chat.create_channel("mi-20270111-batch", True, people[:2])
    fake.throttle_batch = 3  # Graph answers three requests inside the next batch with 429 and Retry-After 0.2
    assert chat.invite(room, people) == {}
    assert fake.members[room] >= set(people) and 0.2 in slept


def test_chat_creations_are_paced_under_graphs_limit(graph) -> None:  # type: ignore[no-untyped-def]
    chat, fake, _ = graph
    moments = iter(float(n) / 100 for n in range(10_000))
    slept: list[float] = []
    pace = Pace(20, 10.0, lambda: next(moments), slept.append)
    for _ in range(21):
        pace.wait()
    assert slept and slept[0] > 9  # the 21st waits until the first of the 20 is ten seconds old


def test_graphs_429_on_creation_is_waited_out_for_its_retry_after(graph) -> None:  # type: ignore[no-untyped-def]
    chat, fake, slept = graph
    people = [fake.add_user(f"q{n}@edu.stockholm.example") for n in range(2)]
    import time
    fake.creations = [time.monotonic()] * 20  # another process of the bot created twenty chats just now

    def later(seconds: float) -> None:
        slept.append(seconds)
        fake.creations.clear()

    chat.graph.sleep = later
    room = chat.create_channel("mi-20270111-throttled", True, people)
    assert room in fake.chats and 1.0 in slept


def test_a_long_title_is_cut_with_the_reference_kept(graph) -> None:  # type: ignore[no-untyped-def]
    chat, fake, _ = graph
    people = [fake.add_user(f"r{n}@edu.stockholm.example") for n in range(2)]
    room = chat.create_channel("mi-20270111-x", True, people)
    chat.set_topic(room, "MI-7 · " + "å" * 600)
    topic = fake.chats[room]["topic"]
    assert topic.startswith("MI-7 · ") and len(topic) <= MAX_TOPIC
