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
ROTA_GROUP = next(p.teams_usergroup for p in MODEL.people if p.key == "servicedesk-jour")


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

    # -- issue 21: the Home, a rota group, the timeline from reactions -------------------------------------------
    def home(self, key: str) -> str:
        """What the person's Home shows now (their Home tab)."""
        view = self.fake.homes.get(self.user(key)) or {}
        return plain("\n".join(str((b.get("text") or {}).get("text") or "") + " ".join(
            str(e.get("text") or "") for e in b.get("elements") or [] if isinstance(e, dict))
            for b in view.get("blocks") or []))

    def homes_shown(self, key: str) -> int:
        """How many Home messages the person has: a Home tab is one, whatever was published to it."""
        return 1 if self.user(key) in self.fake.homes else 0

    def rota_user(self, n: int) -> str:
        return f"U02SDNEW{n}"

    def set_rota(self, users: list[str]) -> None:
        self.fake.usergroups["S02SDJOUR"] = list(users)

    def ask_as(self, user: str, line: str) -> str:
        command, _, text = line.partition(" ")
        return plain(self.app.ask(f"/{command}", text, user))

    def room_users(self, name: str) -> set[str]:
        return set(self.fake.members.get(self.fake.channel_named(name), set()))

    def say_in_room(self, name: str, key: str, text: str) -> str:
        return self.fake.say(self.fake.channel_named(name), self.user(key), text)

    def react(self, key: str, name: str, ref: str, pin: bool = True, again: str | None = None) -> str:
        """A reaction to a message in the war room (the model's pin reaction, or another); `again` redelivers the
        delivery of that id. Returns the delivery's id."""
        import json

        from tests.fakes.slack_http import signed_headers

        event_id = again or f"Ev{time.monotonic_ns()}"
        body = json.dumps({"token": "legacy", "team_id": "T1", "api_app_id": "A1", "type": "event_callback",
                           "event_id": event_id, "event_time": int(time.time()),
                           "event": {"type": "reaction_added", "user": self.user(key),
                                     "reaction": MODEL.major_incidents.pin_reaction if pin else "eyes",
                                     "item": {"type": "message", "channel": self.fake.channel_named(name), "ts": ref},
                                     "event_ts": f"{time.time():.6f}"}})
        headers = {**signed_headers(body), "Content-Type": "application/json"}
        assert self.app.http.post("/slack/events", content=body, headers=headers).status_code == 200
        return event_id

    def settled(self) -> None:
        """What the web process handed to its workers (a reaction) is done: no fixed wait."""
        self.app.runtime.work.shutdown(wait=True)


class TeamsSide:
    name = "teams"

    def __init__(self, app) -> None:  # type: ignore[no-untyped-def]
        self.app = app
        self.fake = app.fake
        self.core = app.runtime.core
        # People of other organisations are guests of the City's tenant, found by their mail, not their UPN.
        self.ids = {k: self.fake.add_user(p.email, guest=p.external) for k, p in PEOPLE.items() if p.email}
        self._mentioned: dict[str, str] = {}
        self._reactions: dict[str, dict] = {}  # type: ignore[type-arg]
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

    # -- issue 21: the Home, a rota group, the timeline from reactions -------------------------------------------
    def _homes(self, key: str) -> list:  # type: ignore[type-arg]
        return [s for s in self.fake.to(self.fake.personal_of(self.user(key)))
                if s.activity.get("summary") == "Samverkan"]

    def home(self, key: str) -> str:
        """What the person's Home card in their personal chat shows now (updated in place)."""
        found = self._homes(key)
        if not found:
            return ""
        texts = [block["text"] for attachment in found[-1].activity.get("attachments") or []
                 for block in attachment["content"]["body"] if block.get("type") == "TextBlock"]
        return re.sub(r"\\(.)", r"\1", "\n".join(texts)).replace("**", "")

    def homes_shown(self, key: str) -> int:
        """How many Home cards were posted in the person's chat (updates are not new cards)."""
        return len(self._homes(key))

    def rota_user(self, n: int) -> str:
        return self.fake.add_user(f"jour{n}@supplier.example")

    def set_rota(self, users: list[str]) -> None:
        self.fake.groups[ROTA_GROUP] = list(users)

    def ask_as(self, user: str, line: str) -> str:
        return plain(self.app.ask(user, line))

    def room_users(self, name: str) -> set[str]:
        chat = self.room_id(name)
        return set(self.fake.members.get(chat, set())) if chat else set()

    def say_in_room(self, name: str, key: str, text: str) -> str:
        chat = self.room_id(name)
        assert chat
        return self.fake.say_in_chat(chat, self.user(key), html.escape(text))

    def react(self, key: str, name: str, ref: str, pin: bool = True, again: str | None = None) -> str:
        """A reaction to a message in the war room's chat (the model's Teams reaction, or another); `again`
        sends the activity of that id once more, as the Connector redelivers. Returns the activity's id."""
        chat = self.room_id(name)
        assert chat
        sent = self._reactions.get(again or "") or self.fake.reaction(
            self.user(key), chat, ref, MODEL.major_incidents.teams_pin_reaction if pin else "heart")
        self._reactions[sent["id"]] = sent
        assert self.app.send(sent).status_code == 200
        return str(sent["id"])

    def settled(self) -> None:
        """What the endpoint handed to the process's workers (a reaction) is done: no fixed wait."""
        self.app.runtime.work.shutdown(wait=True)


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


# -- issue 21: Teams on a par with Slack ----------------------------------------------------------------------------
def test_a_persons_home_shows_what_they_may_see_and_follows_a_change(side) -> None:  # type: ignore[no-untyped-def]
    side.ask("eva.lind", "disagreement open supplier Vem betalar för utbytta laddare")
    side.ask("johan.ek", "samverkan home")
    assert eventually(lambda: "D-1" in side.home("johan.ek"))
    assert "A-1" not in side.home("johan.ek")
    side.ask("per.strand", "samverkan home")
    assert eventually(lambda: side.home("per.strand"))
    assert "D-1" not in side.home("per.strand")  # not a party to it
    side.ask("johan.ek", "samverkan whoami")  # Teams learns who Johan's mentions stand for when he speaks
    side.ask("eva.lind", f"forum action kontraktsforum {side.mention('johan.ek')} 2027-01-14 Vitesunderlag")
    assert eventually(lambda: "A-1" in side.home("johan.ek") and "Vitesunderlag" in side.home("johan.ek"))
    assert side.homes_shown("johan.ek") == 1  # kept current in place
    assert "A-1" not in side.home("per.strand")


def test_a_rota_groups_current_members_act_for_it_and_are_invited(side) -> None:  # type: ignore[no-untyped-def]
    before, after = side.rota_user(1), side.rota_user(2)
    side.set_rota([before])
    assert side.ask_as(before, "samverkan whoami").startswith("Du är Service Desk jour")  # its membership kept
    side.set_rota([after])  # the shift handover, minutes before the declaration
    assert "är deklarerad" in side.ask("eva.lind", 'incident declare "WLAN nere på Södermalm" wlan 1')
    assert eventually(lambda: side.has_room(WAR_ROOM) and after in side.room_users(WAR_ROOM))
    assert before not in side.room_users(WAR_ROOM)


def test_a_reaction_puts_a_war_room_message_in_the_timeline_once(side) -> None:  # type: ignore[no-untyped-def]
    assert "är deklarerad" in side.ask("eva.lind", 'incident declare "WLAN nere på Södermalm" wlan 1')
    assert eventually(lambda: side.in_channel(WAR_ROOM, "Större incident MI-1") if side.has_room(WAR_ROOM) else [])
    said = side.say_in_room(WAR_ROOM, "johan.ek", "Switchen i Hornstull startas om")
    other = side.say_in_room(WAR_ROOM, "johan.ek", "Kaffe?")
    first = side.react("eva.lind", WAR_ROOM, said)
    side.react("eva.lind", WAR_ROOM, said, again=first)  # delivered again
    side.react("eva.lind", WAR_ROOM, other, pin=False)  # another reaction: not the timeline's

    def pinned() -> list[str]:
        with side.core.unit_of_work(read_only=True) as uow:
            [incident] = uow.incidents.open_incidents()
            return [e.text for e in uow.incidents.timeline(incident.id) if e.kind == "pinned"]

    assert eventually(pinned)
    side.settled()
    assert pinned() == ["Switchen i Hornstull startas om"]
