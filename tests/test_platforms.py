"""The end-to-end scenarios once, on both platforms: signed slash commands to the bolt app against the fake Slack,
and signed Bot Framework activities to `POST /api/messages` against the fake Bot Connector and Graph. Each platform
is a `Side`: how a person says something, and what they and the channels are shown, in plain words."""

from __future__ import annotations

import html
import re
import time
from collections.abc import Iterator
from datetime import datetime, timedelta

import pytest

from bot.clock import STOCKHOLM
from bot.model import load_model
from tests.conftest import BACKENDS

pytestmark = [pytest.mark.slow, pytest.mark.parametrize("database_url", BACKENDS, indirect=True)]

MODEL = load_model()
PEOPLE = {p.key: p for p in MODEL.people}
WAR_ROOM = "mi-20270111-wlan-nere-pa-sodermalm"


def plain(text: str) -> str:
    """What a person reads, whichever markup carried it."""
    text = re.sub(r"<br\s*/?>", "\n", text)
    names = {p.slack_user: p.name for p in PEOPLE.values() if p.slack_user}
    text = re.sub(r"<@([UW][A-Z0-9]+)>", lambda m: names.get(m.group(1), "@"), text)
    text = re.sub(r"<#[A-Z0-9]+>", "#", text)
    text = re.sub(r"<(https?://[^|>]+)\|([^>]*)>", r"\2", text)
    text = re.sub(r"<[^>]+>", "", text)
    return html.unescape(text).replace("*", "")


class SlackSide:
    name = "slack"

    def __init__(self, app) -> None:  # type: ignore[no-untyped-def]
        self.app = app
        self.fake = app.fake
        self.fake.usergroups["S02SDJOUR"] = ["U02SDJOUR1"]
        self.core = app.runtime.core

    def user(self, key: str) -> str:
        return str(PEOPLE[key].slack_user)

    def ask(self, key: str, line: str) -> str:
        command, _, text = line.partition(" ")
        return plain(self.app.ask(f"/{command}", text, self.user(key)))

    def mention(self, key: str) -> str:
        return f"<@{self.user(key)}|{key}>"  # as Slack escapes a mention in a slash command

    def told(self, key: str, containing: str) -> list[str]:
        found = self.fake.posted(f"D{self.user(key)}")
        return [plain(m.get("text") or "") for m in found if containing in plain(m.get("text") or "")]

    def in_channel(self, channel: str, containing: str = "") -> list[str]:
        found = channel if channel.startswith("#") else (self.fake.channel_named(channel) or channel)
        return [plain(m.get("text") or "") for m in self.fake.posted(found)
                if containing in plain(m.get("text") or "")]

    def channels_with(self, containing: str) -> list[str]:
        return [c for c, messages in self.fake.messages.items() if not c.startswith("D")
                and any(containing in plain(m.get("text") or "") for m in messages)]

    def room(self, name: str) -> tuple[bool, set[str]]:
        """Whether the war room is private, and the directory people in it (invited, or asked in as guests)."""
        room = self.fake.channel_named(name)
        by_id = {p.slack_user: k for k, p in PEOPLE.items() if p.slack_user}
        by_mail = {p.email: k for k, p in PEOPLE.items() if p.email}
        keys = {by_id[u] for u in self.fake.members.get(room, set()) if u in by_id}
        keys |= {by_mail[e] for e in self.fake.shared.get(room, set()) if e in by_mail}
        return self.fake.private[room], keys

    def has_room(self, name: str) -> bool:
        return self.fake.channel_named(name) is not None

    def forged(self) -> list[int]:
        from tests.fakes.slack_http import command_body, signed_headers

        body = command_body("/samverkan", "person remove johan.ek", self.user("eva.lind"),
                            response_url=self.fake.response_url())
        attempts = [{"Content-Type": "application/x-www-form-urlencoded"},
                    {**signed_headers(body), "X-Slack-Signature": "v0=" + "0" * 64},
                    signed_headers(body, timestamp=int(time.time()) - 6 * 60),
                    signed_headers(body, secret="not-ours")]
        return [self.app.http.post("/slack/events", content=body, headers=h).status_code for h in attempts]

    def nothing_sent(self) -> bool:
        return self.fake.calls == []


class TeamsSide:
    name = "teams"

    def __init__(self, app) -> None:  # type: ignore[no-untyped-def]
        self.app = app
        self.fake = app.fake
        self.core = app.runtime.core
        # People of other organisations are guests of the City's tenant, found by their mail, not their UPN.
        self.ids = {k: self.fake.add_user(p.email, guest=p.external) for k, p in PEOPLE.items() if p.email}
        self._mentioned: dict[str, str] = {}
        for forum in MODEL.forums:
            if forum.channel:
                self.fake.add_channel(forum.channel.lstrip("#"))
        self.fake.add_channel(MODEL.major_incidents.announcement_channel.lstrip("#"))

    def user(self, key: str) -> str:
        return self.ids[key]

    def ask(self, key: str, line: str) -> str:
        mentions = {m: self._mentioned[m] for m in re.findall(r"<at>[^<]*</at>", line) if m in self._mentioned}
        return plain(self.app.ask(self.user(key), line, mentions=mentions))

    def mention(self, key: str) -> str:
        shown = f"<at>{PEOPLE[key].name}</at>"
        self._mentioned[shown] = self.user(key)
        return shown

    def told(self, key: str, containing: str) -> list[str]:
        found = self.fake.to(self.fake.personal_of(self.user(key)))
        return [plain(s.text) for s in found if containing in plain(s.text)]

    def room_id(self, name: str) -> str | None:
        """The war room's chat, by the name the bot gave it (its topic then says the incident's state)."""
        with self.core.unit_of_work(read_only=True) as uow:
            found = uow.conversations.get(f"#{name}")
        return found.id if found and found.id in self.fake.chats else None

    def in_channel(self, channel: str, containing: str = "") -> list[str]:
        found = self.fake.channel_named(channel.lstrip("#")) or self.room_id(channel.lstrip("#")) or channel
        return [plain(s.text) for s in self.fake.to(found) if containing in plain(s.text)]

    def channels_with(self, containing: str) -> list[str]:
        return sorted({s.conversation for s in self.fake.sent if not s.conversation.startswith("a:")
                       and containing in plain(s.text)})

    def room(self, name: str) -> tuple[bool, set[str]]:
        """A war room is a group chat: only its members read it, and none of them joined the team for it."""
        chat = self.room_id(name)
        assert chat is not None
        by_id = {v: k for k, v in self.ids.items()}
        members = {by_id[u] for u in self.fake.members.get(chat, set()) if u in by_id}
        forums = [c for c in self.fake.channels]
        private = not any(self.fake.can_read(self.user(k), c) for k in members for c in forums)
        return private, members

    def has_room(self, name: str) -> bool:
        return self.room_id(name) is not None

    def forged(self) -> list[int]:
        from tests.fakes.teams_api import OTHER_KEY, WEBCHAT_KEY, WEBCHAT_KID

        activity = self.fake.activity(self.user("eva.lind"), "samverkan person remove johan.ek")
        tokens = ["", "not-a-jwt", self.fake.token(key=OTHER_KEY), self.fake.token(expires_in=-600),
                  self.fake.token(audience="another-app"), self.fake.token(issuer="https://evil.example"),
                  self.fake.token(service_url="https://elsewhere.example/"),
                  self.fake.token(key=WEBCHAT_KEY, kid=WEBCHAT_KID)]  # a key not endorsed for Teams
        return [self.app.send(activity, token=t).status_code for t in tokens]

    def nothing_sent(self) -> bool:
        return not self.fake.sent and not any(p.startswith("/graph") for _, p in self.fake.requests)


@pytest.fixture(scope="session")
def fake_teams_server() -> Iterator:  # type: ignore[type-arg]
    from tests.fakes.teams_api import FakeTeams

    with FakeTeams() as fake:
        yield fake


@pytest.fixture(params=["slack", "teams"])
def side(request, database_url, clock):  # type: ignore[no-untyped-def]
    if request.param == "slack":
        yield SlackSide(request.getfixturevalue("slack_app"))
        return
    from tests.fakes.teams_http import TeamsAppServer

    fake = request.getfixturevalue("fake_teams_server")
    fake.reset()
    with TeamsAppServer(database_url, fake, clock) as server:
        yield TeamsSide(server)


def sweep(side) -> int:  # type: ignore[no-untyped-def]
    core = side.core
    core.plan()
    return core.duty_runner(core.chat, "sweeper", timedelta(minutes=2)).sweep()


def eventually(found, timeout: float = 10.0):  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + timeout
    while not (value := found()) and time.monotonic() < deadline:
        time.sleep(0.02)
    return value


def test_a_person_of_the_city_and_of_the_supplier_use_the_directory(side) -> None:  # type: ignore[no-untyped-def]
    assert side.ask("johan.ek", "samverkan whoami").startswith("Du är Johan Ek · Leverantören")
    assert "Stadens kontakt vid större incident" in side.ask("eva.lind", "samverkan whoami")


def test_a_person_named_by_a_mention_is_the_directorys(side) -> None:  # type: ignore[no-untyped-def]
    side.ask("johan.ek", "samverkan whoami")  # Teams learns who Johan's mentions stand for when he speaks
    answer = side.ask("eva.lind", f"forum action kontraktsforum {side.mention('johan.ek')} 2027-01-14 Vitesunderlag")
    assert answer.startswith("Åtgärden A-1 är registrerad: Johan Ek, klart 2027-01-14."), answer


def test_a_war_room_with_people_of_three_parties(side) -> None:  # type: ignore[no-untyped-def]
    assert "är deklarerad" in side.ask("eva.lind", 'incident declare "WLAN nere på Södermalm" wlan 1')
    assert eventually(lambda: side.in_channel(WAR_ROOM, "Större incident MI-1") if side.has_room(WAR_ROOM) else [])
    assert eventually(lambda: {"eva.lind", "noc", "sterik-drift"} <= side.room(WAR_ROOM)[1]), side.room(WAR_ROOM)
    private, members = side.room(WAR_ROOM)
    assert private
    assert len({PEOPLE[k].party for k in members}) >= 3, members
    assert eventually(lambda: side.in_channel("#storingar", "MI-1"))
    assert eventually(lambda: side.told("eva.lind", "MI-1"))  # the City's contact, directly


def test_a_forum_reminder_is_posted_in_the_forums_channel(side, clock) -> None:  # type: ignore[no-untyped-def]
    sweep(side)
    clock.set(datetime(2027, 1, 12, 10, 0, 30, tzinfo=STOCKHOLM))  # a week before Kontraktsforum's sitting
    assert sweep(side) >= 1
    [reminder] = side.in_channel("#forum-kontraktsforum", "Kontraktsforum")
    assert "19 januari 2027" in reminder and "Johan Ek" in reminder
    sweep(side)
    assert len(side.in_channel("#forum-kontraktsforum", "Kontraktsforum")) == 1  # once


def test_a_disagreement_is_opened_climbs_once_and_is_settled(side, clock) -> None:  # type: ignore[no-untyped-def]
    opened = side.ask("eva.lind", "disagreement open supplier Vem betalar för utbytta laddare")
    assert opened.startswith("Oenigheten är registrerad som D-1")
    assert eventually(lambda: side.told("karin.berg", "D-1 Vem betalar för utbytta laddare"))
    clock.set(datetime(2027, 1, 14, 10, 1, tzinfo=STOCKHOLM))
    assert sweep(side) >= 1
    [moved] = eventually(lambda: side.told("ali.hassan", "nivå 3 av 5"))
    assert "Övergripande tjänsteforum" in moved
    assert "registrerat" in side.ask("johan.ek", "disagreement propose D-1 Staden betalar i år")
    assert "Väntar på" in side.ask("johan.ek", "disagreement accept D-1")
    assert side.ask("karin.berg", "disagreement accept D-1") == "D-1 är avgjord: Staden betalar i år"
    assert eventually(lambda: side.told("ali.hassan", "är avgjord"))  # reached by e-mail on Teams
    assert side.channels_with("D-1") == []  # never in a channel: only its parties see it


def test_forged_requests_are_refused_and_change_nothing(side) -> None:  # type: ignore[no-untyped-def]
    assert set(side.forged()) == {401}
    time.sleep(0.3)  # give a wrongly accepted command the time to run, so the assertions below could fail
    with side.core.unit_of_work() as uow:
        assert "johan.ek" in uow.directory.keys()
    assert side.nothing_sent()


def test_sixty_long_agenda_items_do_not_silence_a_forum(side, clock) -> None:  # type: ignore[no-untyped-def]
    """Issue 18, item 5: sixty items of 2,000 characters at Kontraktsforum. The fakes refuse what the platforms
    refuse (Slack: over 50 blocks, a section over 3,000 characters, text over 40,000; Teams: an activity over
    28 KB); the reminder is posted once all the same, with the first items and the way to the rest."""
    from bot.forum.calendar import next_sitting

    sweep(side)
    core = side.core
    forum = core.model.sitting_forum("kontraktsforum")
    now = core.clock.now()
    with core.unit_of_work() as uow:
        sitting = next_sitting(forum, now, uow.forum.changes(forum.key))
        for n in range(1, 61):
            head = f"Punkt {n:02d} "
            uow.forum.add_agenda_item(forum.key, sitting.original, head + "å" * (2000 - len(head)), "johan.ek", now)
        uow.commit()
    clock.set(datetime(2027, 1, 12, 10, 0, 30, tzinfo=STOCKHOLM))  # a week before the sitting
    assert sweep(side) >= 1
    [reminder] = side.in_channel("#forum-kontraktsforum", "Kontraktsforum")
    assert "1. Punkt 01 åå" in reminder and "Punkt 60" not in reminder
    assert "… och 52 punkter till: hela dagordningen med" in reminder and "/forum agenda kontraktsforum" in reminder
    sweep(side)
    assert len(side.in_channel("#forum-kontraktsforum", "Kontraktsforum")) == 1  # once


def test_an_adapter_cuts_what_would_be_over_the_platforms_limits(side) -> None:  # type: ignore[no-untyped-def]
    """The last line of defence: a message the core did not summarise is cut with a marker, not refused."""
    from bot.message import Button, Line, Message, Text

    huge = Message(tuple(Line((Text(f"Rad {n:02d} " + "x" * 2000),)) for n in range(61)),
                   (Button("Lägg till punkt", "forum.agenda", "kontraktsforum add"),))
    side.core.chat.post("#forum-kontraktsforum", huge)
    [posted] = side.in_channel("#forum-kontraktsforum", "Rad 00")
    assert "avkortat" in posted and "Rad 60" not in posted
