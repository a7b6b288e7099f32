"""What is Teams' own, over signed HTTP against the fake Bot Connector and Graph: forms as Adaptive Cards, a card's
buttons through the permission matrix, the acknowledgement before the work, a redelivered activity done once, and
whoever a war room cannot reach listed with the reason. (The scenarios both platforms share are in
test_platforms.py.)"""

from __future__ import annotations

import time
from collections.abc import Iterator
from datetime import timedelta
from urllib.parse import quote

import pytest

from tests.fakes.teams_api import APP_ID
from tests.test_platforms import PEOPLE, TeamsSide, eventually, plain, sweep

pytestmark = [pytest.mark.slow, pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)]


@pytest.fixture
def teams(database_url, clock) -> Iterator[TeamsSide]:  # type: ignore[no-untyped-def]
    from tests.fakes.teams_api import FakeTeams
    from tests.fakes.teams_http import TeamsAppServer

    with FakeTeams() as fake, TeamsAppServer(database_url, fake, clock) as server:
        yield TeamsSide(server)


def cards(teams: TeamsSide, key: str) -> list[dict]:  # type: ignore[type-arg]
    return [a["content"] for s in teams.fake.to(teams.fake.personal_of(teams.user(key)))
            for a in s.activity.get("attachments") or []]


def submit(teams: TeamsSide, key: str, value: dict) -> str:  # type: ignore[type-arg]
    """A press of a card's Action.Submit: the activity Teams sends, and the answer to it."""
    fake = teams.fake
    sent = fake.activity(teams.user(key), "", value=value)
    assert teams.app.send(sent).status_code == 200
    answers = fake.wait(lambda: [s for s in fake.to(fake.personal_of(teams.user(key)))
                                 if s.activity.get("replyToId") == sent["id"]])
    assert answers, f"no answer to {value}"
    return plain(answers[0].text)


def test_declare_alone_opens_the_form_as_a_card_and_its_submission_declares(teams) -> None:  # type: ignore[no-untyped-def]
    fake = teams.fake
    sent = fake.activity(teams.user("eva.lind"), "incident declare")
    assert teams.app.send(sent).status_code == 200
    [card] = fake.wait(lambda: cards(teams, "eva.lind"))
    inputs = {e["id"]: e for e in card["body"] if "id" in e}
    assert set(inputs) == {"title", "services", "severity", "description"}
    assert inputs["services"]["isMultiSelect"]
    assert {"title": "WLAN/LAN/WAN", "value": "wlan"} in inputs["services"]["choices"]
    pressed = fake.execute(teams.user("eva.lind"), card, {"title": "Ingen e-post i skolorna",
                                                         "services": "e-post,wlan", "severity": "2",
                                                         "description": "Outlook"})
    response = teams.app.send(pressed)
    assert response.status_code == 200
    assert response.json()["type"] == "application/vnd.microsoft.card.adaptive"  # the card says it was sent
    answer = fake.wait(lambda: [s for s in fake.to(fake.personal_of(teams.user("eva.lind"))) if "MI-1" in s.text])
    assert answer and "Ingen e-post i skolorna" in answer[0].text
    with teams.core.unit_of_work() as uow:
        [incident] = uow.incidents.open_incidents()
    assert incident.services == ("e-post", "wlan") and incident.severity == 2


def test_a_cards_button_goes_through_the_permission_matrix(teams) -> None:  # type: ignore[no-untyped-def]
    teams.ask("eva.lind", "disagreement open supplier Vem betalar för utbytta laddare")
    teams.ask("johan.ek", "disagreement propose D-1 Staden betalar i år")
    buttons = eventually(lambda: [a for c in cards(teams, "karin.berg") for a in c["actions"]
                                  if a["data"] == {"action": "disagreement.accept", "value": "D-1"}])
    assert buttons
    refused = submit(teams, "per.strand", buttons[0]["data"])  # not a party: told what a missing id is told
    assert refused.startswith('Oenigheten "D-1" finns inte, eller så är du inte part i den.')
    assert submit(teams, "karin.berg", buttons[0]["data"]).startswith("Du har godtagit förslaget i D-1.")


def test_the_ack_comes_before_the_work_and_a_redelivery_is_done_once(teams) -> None:  # type: ignore[no-untyped-def]
    fake = teams.fake
    fake.delay = 2.0  # every Bot Connector call is slow
    sent = fake.activity(teams.user("johan.ek"), "samverkan whoami")
    assert teams.app.send(sent).status_code == 200
    assert not fake.to(fake.personal_of(teams.user("johan.ek")))  # acknowledged before the answer could be sent
    assert teams.app.send(sent).status_code == 200  # the Connector sends it again
    [answer] = fake.wait(lambda: fake.to(fake.personal_of(teams.user("johan.ek"))))
    assert plain(answer.text).startswith("Du är Johan Ek")
    time.sleep(2.5)  # the time a second answer would take to come
    assert len(fake.to(fake.personal_of(teams.user("johan.ek")))) == 1


ROOM = "mi-20270111-wlan-nere-pa-sodermalm"
DECLARE = 'incident declare "WLAN nere på Södermalm" wlan 1'


def test_whoever_the_war_room_cannot_reach_is_listed_with_the_reason(teams) -> None:  # type: ignore[no-untyped-def]
    fake = teams.fake
    fake.users.pop(teams.user("noc"))  # no longer a guest of the City's tenant
    teams.ask("eva.lind", DECLARE)
    [listed] = eventually(lambda: teams.in_channel(ROOM, "Kunde inte bjudas in") if teams.has_room(ROOM) else [])
    assert f"{PEOPLE['noc'].name} (" in listed and "finns inte i Stadens Teams" in listed, listed


def test_a_war_room_is_a_chat_the_bot_is_in_and_no_invitee_joins_the_team(teams) -> None:  # type: ignore[no-untyped-def]
    fake = teams.fake
    teams.ask("eva.lind", DECLARE)
    storingar = fake.channel_named("storingar")
    [announcement] = fake.wait(lambda: [s for s in fake.to(storingar) if "MI-1" in s.text])
    chat = teams.room_id(ROOM)
    assert chat and fake.chats[chat]["chatType"] == "group"
    assert f"https://teams.microsoft.com/l/chat/{quote(chat, safe='')}/0" in announcement.text
    # Owned by the City's service account, Samverkan installed in it with what it may do there consented.
    assert teams.app.settings.teams_war_room_owner in fake.members[chat]
    assert APP_ID in fake.chats[chat]["apps"] and "ChatMessage.Read.Chat" in fake.chats[chat]["rsc"]
    # The brief is posted and pinned; the topic names the incident, reference first.
    [brief] = fake.wait(lambda: [s for s in fake.to(chat) if "Större incident MI-1" in s.text])
    assert fake.wait(lambda: fake.pinned.get(chat)) == [brief.id]
    assert fake.wait(lambda: str(fake.chats[chat]["topic"]).startswith("MI-1"))
    # Guests of other organisations are in it as guests; nobody in it can read a forum channel or #storingar.
    members = eventually(lambda: m if {teams.user("noc"), teams.user("sterik-drift")} <= (m := fake.members[chat])
                         else None)
    assert members, fake.members[chat]
    assert fake.users[teams.user("noc")]["userType"] == "Guest"
    assert not fake.team_members and not [(u, c) for u in members for c in fake.channels if fake.can_read(u, c)]


def test_the_citys_contact_known_only_by_email_is_told(teams) -> None:  # type: ignore[no-untyped-def]
    fake = teams.fake
    teams.ask("karin.berg", DECLARE)  # Eva Lind, the City's contact, has never written to the bot
    assert eventually(lambda: [s for s in fake.to(fake.personal_of(teams.user("eva.lind"))) if "MI-1" in s.text])


def test_a_room_the_bot_cannot_be_installed_in_is_not_opened_and_the_declarer_is_told_why(teams) -> None:  # type: ignore[no-untyped-def]
    fake = teams.fake
    fake.catalog.clear()  # the app package was never uploaded to the tenant's catalogue
    teams.ask("eva.lind", DECLARE)
    [told] = eventually(lambda: [s.text for s in fake.to(fake.personal_of(teams.user("eva.lind")))
                                 if "kan inte öppnas" in s.text])
    assert "appkatalog" in plain(told) and not fake.chats


def test_a_missing_permission_is_named_to_the_declarer(teams, clock) -> None:  # type: ignore[no-untyped-def]
    fake = teams.fake
    fake.granted.discard("TeamsAppInstallation.ReadWriteAndConsentSelfForChat.All")
    teams.ask("eva.lind", DECLARE)
    [told] = eventually(lambda: [s.text for s in fake.to(fake.personal_of(teams.user("eva.lind")))
                                 if "kan inte öppnas" in s.text])
    assert "TeamsAppInstallation.ReadWriteAndConsentSelfForChat.All" in told
    assert len(fake.chats) == 1 and not fake.to(next(iter(fake.chats)))  # the bot posted nothing it could not
    # Granted: the same chat is taken up, the app installed and the room made ready.
    fake.granted.add("TeamsAppInstallation.ReadWriteAndConsentSelfForChat.All")
    clock.set(clock.now() + timedelta(minutes=5))  # past the duty's next try
    sweep(teams)
    assert eventually(lambda: teams.in_channel(ROOM, "Större incident MI-1"), timeout=20)
    assert len(fake.chats) == 1


def test_a_teams_deployment_serves_no_slack_and_answers_its_probes(teams) -> None:  # type: ignore[no-untyped-def]
    http = teams.app.http
    assert http.get("/healthz").json() == {"status": "ok"}
    assert http.get("/readyz").status_code == 200
    assert http.post("/slack/events", content=b"x").status_code == 404
    assert http.get("/api/messages").status_code == 405


def test_an_activity_from_another_tenant_is_refused_and_changes_nothing(teams) -> None:  # type: ignore[no-untyped-def]
    fake = teams.fake
    foreign = fake.activity(teams.user("eva.lind"), "samverkan person remove johan.ek")
    foreign["conversation"]["tenantId"] = "another-organisation"
    foreign["channelData"]["tenant"]["id"] = "another-organisation"
    assert teams.app.send(foreign).status_code == 403
    time.sleep(0.3)  # give a wrongly accepted command the time to run, so the assertions below could fail
    with teams.core.unit_of_work() as uow:
        assert "johan.ek" in uow.directory.keys()
    assert not fake.sent


def test_the_bot_names_teams_where_it_names_the_platform(teams) -> None:  # type: ignore[no-untyped-def]
    assert teams.ask("johan.ek", "samverkan whoami").startswith("Du är Johan Ek · Leverantören · Kundansvarig (A) · "
                                                                 "i Teams")
    assert "Nina Vik" in (listing := teams.ask("eva.lind", "samverkan directory product-supplier"))
    assert "nås via gästinbjudan (nina.vik@devices.example)" in listing and "Slack" not in listing


def test_a_forums_channel_is_found_by_its_name_whatever_its_case(teams, clock) -> None:  # type: ignore[no-untyped-def]
    from datetime import datetime

    from bot.clock import STOCKHOLM

    fake = teams.fake
    fake.channels.pop(fake.channel_named("forum-kontraktsforum"))
    channel = fake.add_channel("Forum-Kontraktsforum")  # as someone named it in Teams
    sweep(teams)
    clock.set(datetime(2027, 1, 12, 10, 0, 30, tzinfo=STOCKHOLM))
    sweep(teams)
    assert [s for s in fake.to(channel) if "Kontraktsforum" in s.text]


# -- the service URL an activity names (issue 17 item 7) ------------------------------------------------------------
class RecordingHost:
    """An "evil host" on loopback, outside TEAMS_SERVICE_URL_HOSTS: answers anything with 200 and records it."""

    def __init__(self) -> None:
        import threading
        from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

        self.requests: list[tuple[str, str, str | None]] = []  # (method, path, Authorization)
        host = self

        class Handler(BaseHTTPRequestHandler):
            def _record(self) -> None:
                host.requests.append((self.command, self.path, self.headers.get("Authorization")))
                body = b'{"id": "1"}'
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = _record

            def log_message(self, *args: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    @property
    def service_url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}/connector/"

    def __enter__(self) -> RecordingHost:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.shutdown()
        self.server.server_close()


def connector_calls(teams: TeamsSide) -> list[tuple[str, str]]:
    """What the bot asked of the fake Bot Connector and Graph (not the signing keys it reads to check a token)."""
    return [(m, p) for m, p in teams.fake.requests if p.startswith(("/connector", "/graph"))]


def remembered(teams: TeamsSide, key: str):  # type: ignore[no-untyped-def]
    with teams.core.unit_of_work(read_only=True) as uow:
        return uow.conversations.get(key)


def test_a_token_that_names_no_service_url_is_refused(teams) -> None:  # type: ignore[no-untyped-def]
    fake = teams.fake
    sent = fake.activity(teams.user("eva.lind"), "samverkan person remove johan.ek")
    assert teams.app.send(sent, token=fake.token(service_url=False)).status_code == 401
    assert remembered(teams, f"user:{teams.user('eva.lind')}") is None
    with teams.core.unit_of_work() as uow:
        assert "johan.ek" in uow.directory.keys()
    assert not fake.sent and connector_calls(teams) == []


def test_a_token_issued_for_another_service_url_is_refused(teams) -> None:  # type: ignore[no-untyped-def]
    fake = teams.fake
    sent = fake.activity(teams.user("eva.lind"), "samverkan whoami")
    for claimed in ("https://elsewhere.example/connector/", f"{fake.base_url}/other/",
                    fake.service_url.replace("127.0.0.1", "localhost")):
        assert teams.app.send(sent, token=fake.token(service_url=claimed)).status_code == 401, claimed
    assert remembered(teams, f"user:{teams.user('eva.lind')}") is None
    assert not fake.sent and connector_calls(teams) == []


def test_a_service_url_outside_the_allow_list_is_never_called(teams) -> None:  # type: ignore[no-untyped-def]
    fake = teams.fake
    with RecordingHost() as evil:
        # A token validly signed for the app, issued for the evil host, with an activity naming that host too.
        for text in ("samverkan whoami", "samverkan person remove johan.ek"):
            sent = fake.activity(teams.user("eva.lind"), text)
            sent["serviceUrl"] = evil.service_url
            assert teams.app.send(sent, token=fake.token(service_url=evil.service_url)).status_code == 401
        # A channel's activity too: nothing of it is remembered as where to post.
        in_channel = fake.activity(teams.user("eva.lind"), "samverkan whoami",
                                   channel=fake.channel_named("storingar"))
        in_channel["serviceUrl"] = evil.service_url
        assert teams.app.send(in_channel, token=fake.token(service_url=evil.service_url)).status_code == 401
        assert evil.requests == []
        assert remembered(teams, f"user:{teams.user('eva.lind')}") is None
        assert remembered(teams, fake.channel_named("storingar")) is None
        sweep(teams)  # a worker's sweep finds nothing to send there either
        # A good activity still works, and is answered through the allowed Connector only.
        assert teams.ask("eva.lind", "samverkan whoami").startswith("Du är Eva Lind")
        sweep(teams)
        assert evil.requests == []
        assert remembered(teams, f"user:{teams.user('eva.lind')}").service_url == fake.service_url
        with teams.core.unit_of_work() as uow:
            assert "johan.ek" in uow.directory.keys()


def test_a_service_url_is_compared_without_its_trailing_slash(teams) -> None:  # type: ignore[no-untyped-def]
    fake = teams.fake
    sent = fake.activity(teams.user("johan.ek"), "samverkan whoami")
    sent["serviceUrl"] = fake.service_url.rstrip("/")  # the token names it with the slash
    assert teams.app.send(sent).status_code == 200
    [answer] = fake.wait(lambda: fake.to(fake.personal_of(teams.user("johan.ek"))))
    assert plain(answer.text).startswith("Du är Johan Ek")


@pytest.mark.parametrize("body", ["[" * 10_000, '{"a":' * 10_000, '{"type": "message", "value": ' + "[" * 5_000])
def test_an_activity_nested_too_deeply_is_a_bad_request_without_a_traceback(teams, caplog, capfd, body: str) -> None:  # type: ignore[no-untyped-def]
    import logging

    caplog.set_level(logging.INFO)
    response = teams.app.http.post("/api/messages", content=body.encode(),
                                   headers={"Authorization": f"Bearer {teams.fake.token()}",
                                            "Content-Type": "application/json"})
    assert response.status_code == 400
    assert "Traceback" not in caplog.text and not [r for r in caplog.records if r.exc_info]
    assert "Traceback" not in capfd.readouterr().err
    assert teams.ask("johan.ek", "samverkan whoami").startswith("Du är Johan Ek")  # and the bot still serves
