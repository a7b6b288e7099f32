"""Exactly once on Teams (issue 17, item 6): a keyed post is written down as an intent before the Bot Connector is
called, and a process that takes the duty over from a poster that died after the Connector accepted the message,
but before its answer was written down, reads the conversation back through Graph instead of posting again.

The crash is the Connector accepting the post and keeping its answer (tests.fakes.teams_hold) while the first
runner's call is abandoned; the second runner takes the claim over once the lease has passed, as a live process's
sweep does. The killed-process version, with real `samverkan run` processes, is in test_teams_process.py."""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pytest
from sqlalchemy.orm import Session, sessionmaker

from bot.clock import STOCKHOLM, ManualClock
from bot.duties import Duty, DutyRunner, OnceChat
from bot.message import Line, Mention, Message, Strong, Text
from bot.ports import Posting, UnitOfWorkFactory
from samverkan.settings import Settings
from samverkan.teams_wiring import CONNECTOR_SCOPE, GRAPH_SCOPE
from samverkan.wiring import open_database
from storage.uow import SqlUnitOfWork
from teams.auth import ClientCredentials
from teams.chat import TeamsChat, TeamsConfig
from teams.read_back import digest
from tests.fakes.teams_api import APP_ID, TEAM, TENANT
from tests.fakes.teams_hold import HoldingTeams

LEASE = timedelta(seconds=15)
KEY = "forum.reminder:kontraktsforum:20270119T080000Z:7d"
EVA = "0b8c3a9e-1111-4222-8333-944455556666"
REMINDER = Message((Line((Strong((Text("Påminnelse:"),)), Text(" Kontraktsforum & <Avtal> om 7 dagar"))),
                    Line((Text("Kallade:"), Mention("Eva Lind", user=EVA)), bullet=True)))


@dataclass
class Bench:
    fake: HoldingTeams
    chat: TeamsChat
    unit_of_work: UnitOfWorkFactory
    clock: ManualClock
    channel: str

    def runner(self, worker: str) -> DutyRunner:
        def remind(duty: Duty, now: datetime, once: OnceChat) -> str:
            once.post("#kontraktsforum", REMINDER)
            return "done"

        return DutyRunner(self.unit_of_work, self.chat, {"test.remind": remind}, self.clock,  # type: ignore[dict-item]
                          lease=LEASE, worker=worker)

    def posting(self) -> Posting | None:
        with self.unit_of_work() as uow:
            return uow.conversations.posting(self.channel, KEY)

    def duty(self) -> Duty | None:
        with self.unit_of_work() as uow:
            return uow.duties.get(KEY)

    def crash_mid_post(self) -> threading.Thread:
        """The first runner posts; the Connector accepts the message and keeps its answer, and that runner is never
        heard of again (its call is abandoned, its claim no longer renewed)."""
        with self.unit_of_work() as uow:
            uow.duties.plan(Duty(KEY, "test.remind", self.clock.now()))
            uow.commit()
        self.fake.hold(self.channel)
        first = threading.Thread(target=self.runner("dead").sweep, name="dead-poster", daemon=True)
        first.start()
        assert self.fake.wait(lambda: self.fake.held), "the Connector never received the post"
        self.clock.advance(LEASE + timedelta(seconds=1))
        return first


@pytest.fixture
def bench(tmp_path: Path) -> Iterator[Bench]:
    with HoldingTeams() as fake:
        database = open_database(Settings(database_url=f"sqlite:///{tmp_path / 'once.db'}"))
        http = httpx.Client(timeout=httpx.Timeout(10.0, connect=5.0))

        def credentials(scope: str) -> ClientCredentials:
            return ClientCredentials(f"{fake.base_url}/login", TENANT, APP_ID, "test-password", scope, http)

        config = TeamsConfig(APP_ID, TENANT, TEAM, f"{fake.base_url}/graph", fake.service_url,
                             service_hosts=(fake.base_url,))
        chat = TeamsChat(config, database.unit_of_work, http, credentials(CONNECTOR_SCOPE), credentials(GRAPH_SCOPE))
        try:
            yield Bench(fake, chat, database.unit_of_work, ManualClock(datetime(2027, 1, 12, 9, 0, tzinfo=STOCKHOLM)),
                        fake.add_channel("kontraktsforum"))
        finally:
            fake.release()
            http.close()
            database.engine.dispose()


@pytest.mark.slow
def test_a_post_the_connector_took_before_its_poster_died_is_found_by_reading_the_channel_back(
        bench: Bench, caplog: pytest.LogCaptureFixture) -> None:
    first = bench.crash_mid_post()
    [held] = bench.fake.to(bench.channel)
    intent = bench.posting()
    assert intent is not None and intent.ref is None and intent.digest and intent.sending_since is not None

    caplog.set_level(logging.INFO)
    assert bench.runner("taker-over").sweep() == 1

    assert bench.fake.to(bench.channel) == [held]  # read back, not posted again
    assert ("GET", f"/graph/teams/{TEAM}/channels/19%3Akontraktsforum%40thread.tacv2/messages") in bench.fake.requests
    assert bench.posting() == Posting(held.id, intent.digest, intent.sending_since)  # the ref is written down now
    assert "already posted" in caplog.text
    bench.fake.release()  # the dead poster's answer arrives after all: it changes nothing
    first.join(timeout=30)
    assert bench.fake.to(bench.channel) == [held] and bench.posting().ref == held.id  # type: ignore[union-attr]


@pytest.mark.slow
def test_without_the_rsc_permission_the_duty_waits_instead_of_posting_again(
        bench: Bench, caplog: pytest.LogCaptureFixture) -> None:
    first = bench.crash_mid_post()
    bench.fake.rsc.discard("ChannelMessage.Read.Group")

    assert bench.runner("taker-over").sweep() == 0
    assert len(bench.fake.to(bench.channel)) == 1
    duty = bench.duty()
    assert duty is not None and duty.due > bench.clock.now()  # failed for now, tried later
    [line] = [r for r in caplog.records if r.levelno == logging.ERROR and KEY in r.getMessage()]
    assert "ChannelMessage.Read.Group" in line.getMessage() and "403" in line.getMessage()

    bench.fake.rsc.add("ChannelMessage.Read.Group")  # the team's owner consents
    bench.clock.advance(timedelta(minutes=1))
    assert bench.runner("taker-over").sweep() == 1
    [held] = bench.fake.to(bench.channel)
    assert bench.posting().ref == held.id  # type: ignore[union-attr]
    bench.fake.release()
    first.join(timeout=30)
    assert len(bench.fake.to(bench.channel)) == 1


@pytest.mark.slow
def test_an_intent_the_connector_never_received_is_posted_once(bench: Bench) -> None:
    """The poster died after writing its intent and before its request reached the Connector: nothing in the
    channel has the intent's text, so the taker-over posts it."""
    with bench.unit_of_work() as uow:
        uow.duties.plan(Duty(KEY, "test.remind", bench.clock.now()))
        uow.duties.claim(KEY, "dead", bench.clock.now())
        uow.conversations.record_intent(bench.channel, KEY, digest(_text(REMINDER)), datetime.now(UTC))
        uow.commit()
    bench.fake.sent.append(_sent_earlier(bench))  # the bot's own message with the same text, from before the intent
    bench.clock.advance(LEASE + timedelta(seconds=1))

    assert bench.runner("taker-over").sweep() == 1

    posted = [s for s in bench.fake.to(bench.channel) if s.id != "msg-earlier"]
    assert len(posted) == 1 and bench.posting().ref == posted[0].id  # type: ignore[union-attr]


@pytest.mark.slow
def test_a_personal_chat_is_not_read_back_and_keeps_its_ref_as_before(bench: Bench) -> None:
    eva = bench.fake.add_user("eva.lind@stockholm.example", EVA)
    ref = bench.chat.direct(eva, REMINDER, key=KEY)
    assert bench.chat.find_posted(eva, KEY) == ref
    with bench.unit_of_work() as uow:
        assert uow.conversations.posting(bench.fake.personal_of(eva), KEY) == Posting(ref, None, None)
    assert not [p for _, p in bench.fake.requests if p.endswith("/messages")]


def _text(message: Message) -> str:
    from teams.render import activity

    return str(activity(message)["text"])


def _sent_earlier(bench: Bench):  # type: ignore[no-untyped-def]
    import time

    from teams.render import activity
    from tests.fakes.teams_api import Sent

    return Sent(bench.channel, activity(REMINDER), "msg-earlier", time.monotonic() - 600)


# -- what Teams shows of a message is the same text ---------------------------------------------------------------
def test_the_digest_is_of_the_text_as_graph_gives_it_back() -> None:
    from teams.render import activity

    sent = str(activity(REMINDER)["text"])
    # Teams may give a bot's <br> back as paragraphs, an <at> with its id, a card as an <attachment>, and the
    # entities spelt otherwise.
    graph = ('<p><strong>Påminnelse:</strong> Kontraktsforum &amp; &lt;Avtal&gt; om 7&nbsp;dagar</p>\n'
             '<p>• Kallade:<at id="0">Eva Lind</at></p><attachment id="x"></attachment>')
    assert digest(sent) == digest(graph)
    assert digest(sent) != digest(graph.replace("7", "6"))
    assert digest("Kontraktsforum & <Avtal>", markup=False) == digest(
        "Kontraktsforum &amp; &lt;Avtal&gt;")


@pytest.mark.parametrize("conversation, path", [
    ("19:abc@thread.tacv2", f"/teams/{TEAM}/channels/19%3Aabc%40thread.tacv2/messages?$top=50"),
    ("19:abc@thread.tacv2;messageid=1616", f"/teams/{TEAM}/channels/19%3Aabc%40thread.tacv2/messages?$top=50"),
    ("19:abc@thread.skype", f"/teams/{TEAM}/channels/19%3Aabc%40thread.skype/messages?$top=50"),
    ("19:room@thread.v2", "/chats/19%3Aroom%40thread.v2/messages?$top=50&$orderby=createdDateTime desc"),
    ("19:a_b@unq.gbl.spaces", "/chats/19%3Aa_b%40unq.gbl.spaces/messages?$top=50&$orderby=createdDateTime desc"),
    ("a:personal-eva", None),
])
def test_each_kind_of_conversation_is_read_back_where_graph_lists_it(conversation: str, path: str | None) -> None:
    chat = TeamsChat(TeamsConfig(APP_ID, TENANT, TEAM, "https://graph.example", "https://smba.example"),
                     None, None, None, None)  # type: ignore[arg-type]
    found = chat.read_back.source(conversation)
    assert (found[0] if found else None) == path


# -- the store ------------------------------------------------------------------------------------------------------
def test_an_intent_keeps_its_earliest_time_and_its_ref_once_answered(sessions: sessionmaker[Session]) -> None:
    began = datetime(2027, 1, 12, 8, 0, tzinfo=UTC)
    with SqlUnitOfWork(sessions) as uow:
        store = uow.conversations
        assert store.posting("19:c@thread.tacv2", KEY) is None
        store.record_intent("19:c@thread.tacv2", KEY, "a" * 64, began)
        assert store.posting("19:c@thread.tacv2", KEY) == Posting(None, "a" * 64, began)
        assert store.posted("19:c@thread.tacv2", KEY) is None
        store.record_intent("19:c@thread.tacv2", KEY, "b" * 64, began + timedelta(seconds=30))  # a retry
        assert store.posting("19:c@thread.tacv2", KEY) == Posting(None, "b" * 64, began)
        store.record_posted("19:c@thread.tacv2", KEY, "1616", began + timedelta(seconds=31))
        store.record_posted("19:c@thread.tacv2", KEY, "1717", began + timedelta(seconds=40))  # the first ref stands
        store.record_intent("19:c@thread.tacv2", KEY, "c" * 64, began + timedelta(seconds=50))  # changes nothing
        assert store.posting("19:c@thread.tacv2", KEY) == Posting("1616", "b" * 64, began)
        store.record_posted("a:personal", KEY, "9", began)  # no intent: as before
        assert store.posting("a:personal", KEY) == Posting("9", None, None)
        uow.commit()

