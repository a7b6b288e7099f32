"""What issue 8 found, each as a test: nobody acts beyond their authority, nobody reads another party's business."""

from __future__ import annotations

import pytest

from bot.app import Samverkan
from bot.model import ModelError, load_model_text
from bot.model.loader import shipped_model_path
from tests.conftest import Dialogue
from tests.fakes.slack_http import SlackAppServer

PER, NOC, NINA, SDJOUR, LENA = "U0PERSTRAND", "U0NOC", "U0NINA", "U02SDJOUR1", "U0LENA"


@pytest.fixture
def talk(dialogue: Dialogue) -> Dialogue:
    dialogue.chat.emails.update({PER: "per.strand@skolplattform.example", NOC: "noc@netops.example",
                                 NINA: "nina.vik@devices.example"})
    dialogue.chat.usergroups["S02SDJOUR"] = [SDJOUR]
    return dialogue


def declared(talk: Dialogue, who: str = "eva.lind", line: str = '"WLAN nere" wlan 1') -> str:
    """The new incident's reference: ids come from the database, which PostgreSQL does not roll back."""
    return talk.say(who, f"/incident declare {line}").split()[0]


def opened(talk: Dialogue, who: str, line: str) -> str:
    return talk.say(who, f"/disagreement open {line}").split("*")[1]


def refused(core: Samverkan) -> list[tuple[str, str]]:
    with core.unit_of_work() as uow:
        return [(e.actor, e.data["command"]) for e in uow.events.history(kind_prefix="permission.refused")]


def test_someone_outside_the_directory_cannot_join_a_war_room_or_see_one(talk: Dialogue) -> None:
    mi = declared(talk)
    room = next(iter(talk.chat.channels.values()))
    answer = talk.say("U0STRANGER", f"/incident invite {mi} @user:U0STRANGER")
    assert answer.startswith("Du finns inte i Samverkans katalog")
    assert "U0STRANGER" not in talk.chat.members[room]
    assert talk.say("U0STRANGER", "/incident list").startswith("Du finns inte i Samverkans katalog")
    assert talk.say("U0STRANGER", f"/incident role {mi} incidentledare @user:U0STRANGER").startswith("Du finns inte")
    assert ("user:U0STRANGER", "/incident invite") in refused(talk.core)


def test_a_war_room_is_listed_only_to_its_parties_and_the_city(talk: Dialogue) -> None:
    mi = declared(talk)
    assert talk.say(PER, "/incident list") == "Inga öppna större incidenter."  # the school platform is not in it
    assert mi in talk.say(NOC, "/incident list")  # network operations is
    assert mi in talk.say("lars.holm", "/incident list")  # the City sees them all
    # Named by a party not in it, it does not exist; and the refusal is in the event log.
    assert talk.say(PER, f"/incident update {mi} Hej") == talk.say(PER, "/incident update MI-99999 Hej").replace(
        "MI-99999", mi)
    assert ("per.strand", "/incident update") in refused(talk.core)


def test_only_the_war_rooms_leads_change_it_though_its_parties_report(talk: Dialogue) -> None:
    mi = declared(talk)
    assert talk.say(NOC, f"/incident update {mi} Vi felsöker").startswith(f"Lägesrapporten för {mi}")
    for act in ("role {} incidentledare noc", "severity {} 3", "resolve {} Klart", "invite {} per.strand"):
        assert talk.say(NOC, f"/incident {act.format(mi)}").startswith(f"Bara incidentledaren för {mi}"), act
    assert talk.say("johan.ek", f"/incident severity {mi} 2").startswith("Bara incidentledaren")
    # The Service Desk's on-duty rota leads the war room: a member of its user group is recognised as the rota.
    assert talk.say(SDJOUR, f"/incident severity {mi} 2").startswith(f"*{mi}* – WLAN nere: allvarlighetsgraden")


def test_the_service_desks_rota_is_recognised_and_may_declare(talk: Dialogue) -> None:
    assert talk.say(SDJOUR, "/samverkan whoami").startswith("Du är *Service Desk jour* · Leverantören")
    assert "är deklarerad" in talk.say(SDJOUR, '/incident declare "Skrivarna står" service-desk 3')
    # A supplier's account manager without the role is told whom to turn to instead.
    assert talk.say(PER, '/incident declare "Inloggning nere" skolplattformen 2').startswith(
        "En större incident deklareras av Leverantörens Service Desk")


def test_answering_a_proposal_takes_authority_and_only_a_party_has_it(talk: Dialogue) -> None:
    d = opened(talk, "johan.ek", "school-platform Gränsdragning för inloggning")
    talk.say("johan.ek", f"/disagreement propose {d} Leverantören äger inloggningen")
    talk.say("johan.ek", f"/disagreement accept {d}")
    # The City leads the suppliers' question and sees it, but cannot wipe a party's acceptance.
    assert talk.say("lars.holm", f"/disagreement reject {d} Nej").startswith("Du kan inte ta ställning")
    assert "godtaget av: Leverantören" in talk.say("eva.lind", f"/disagreement show {d}")
    # A supplier that is not a party cannot even see it.
    hidden = talk.say(NINA, f"/disagreement escalate {d} Nu")
    assert hidden.startswith(f'Oenigheten "{d}" finns inte')
    assert talk.say(NINA, f"/disagreement propose {d} X") == hidden
    assert ("nina.vik", "/disagreement escalate") in refused(talk.core)


def test_two_other_suppliers_dispute_is_theirs_alone(talk: Dialogue) -> None:
    # Slack knows the address: network operations' account manager is told although silent so far.
    talk.chat.emails[LENA] = "lena.dahl@netops.example"
    d = opened(talk, PER, "network-ops Vem felsöker inloggning via WLAN")
    assert not any(d in text for _, text in talk.chat.posts)  # no forum channel reads it
    told = {user for user, text in talk.chat.directs if d in text}
    assert LENA in told and "U02JOHANEK" not in told
    assert d not in talk.say("johan.ek", "/forum agenda samverkansforum")  # the lead supplier sits there
    assert talk.say("johan.ek", f"/disagreement show {d}").startswith(f'Oenigheten "{d}" finns inte')
    assert d in talk.say("eva.lind", "/forum agenda samverkansforum")  # the City leads it


def test_only_the_citys_people_can_be_administrators(talk: Dialogue) -> None:
    assert talk.say("eva.lind", "/samverkan role add johan.ek samverkan-admin").startswith(
        "Johan Ek tillhör inte staden")
    assert talk.say("johan.ek", "/samverkan person add city kalle@x.example Kalle").startswith(
        "Bara Samverkans administratörer")
    broken = shipped_model_path().read_text(encoding="utf-8").replace(
        "roles: [kundansvarig], slack_user: U02JOHANEK",
        "roles: [kundansvarig, samverkan-admin], slack_user: U02JOHANEK")
    with pytest.raises(ModelError) as caught:
        load_model_text(broken, "m.yaml")
    assert "johan.ek\" kan inte vara administratör" in caught.value.explain("sv")


def test_people_outside_the_directory_learn_nothing(talk: Dialogue) -> None:
    for line in ("/samverkan directory", "/deploy list", "/forum list", "/disagreement list"):
        assert talk.say("U0STRANGER", line).startswith("Du finns inte i Samverkans katalog"), line
    assert talk.say("U0STRANGER", "/samverkan whoami").startswith("Du finns inte i Samverkans katalog än")
    assert "Forumkalendern" in talk.say("U0STRANGER", "/forum help")


@pytest.mark.slow
@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_a_change_in_the_user_group_takes_effect(database_url: str, fake_slack, clock) -> None:  # type: ignore[no-untyped-def]
    fake_slack.usergroups["S02SDJOUR"] = [SDJOUR]
    # Membership is kept for SAMVERKAN_DIRECTORY_CACHE seconds (below, the expiry itself); none here.
    with SlackAppServer(database_url, fake_slack, clock, samverkan_directory_cache=0) as slack_app:
        assert slack_app.ask("/samverkan", "whoami", SDJOUR).startswith("Du är *Service Desk jour*")
        fake_slack.usergroups["S02SDJOUR"] = []  # taken off the rota
        assert slack_app.ask("/samverkan", "whoami", SDJOUR).startswith("Du finns inte i Samverkans katalog än")


def test_user_group_membership_is_cached_until_it_expires() -> None:
    from slack_sdk import WebClient

    from handlers.slack_chat import SlackChat
    from tests.fakes.slack_api import FakeSlack

    with FakeSlack() as fake:
        fake.usergroups["S1"] = ["U1"]
        now = [0.0]
        chat = SlackChat(WebClient(base_url=fake.base_url, token="xoxb-t"), cache_seconds=60, now=lambda: now[0])
        assert chat.usergroup_members("S1") == ["U1"]
        fake.usergroups["S1"] = ["U2"]
        assert chat.usergroup_members("S1") == ["U1"]  # within the expiry, Slack is not asked again
        now[0] = 61.0
        assert chat.usergroup_members("S1") == ["U2"]
        assert len(fake.calls_to("usergroups.users.list")) == 2
        fake.usergroups["S1"] = ["U3"]
        assert chat.usergroup_members("S1", fresh=True) == ["U3"]  # a war room asks Slack itself
        assert chat.usergroup_members("S1") == ["U3"]  # and the cache now holds the current members
        assert len(fake.calls_to("usergroups.users.list")) == 3
