"""Teams on a par with Slack (issue 21), over signed HTTP against the fake Bot Connector and Graph: rotas from Entra
ID groups, the war room's timeline from reactions, and a person's Home as a card kept current in their personal
chat. (The scenarios both platforms share are in test_platforms.py.)"""

from __future__ import annotations

import pytest

from bot.chat import RoomRefused
from tests.test_platforms import WAR_ROOM, eventually, plain
from tests.test_teams_graph import graph  # noqa: F401 - the fixture
from tests.test_teams_http import teams  # noqa: F401 - the fixture

pytestmark = [pytest.mark.slow, pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)]

# The Service Desk's on-duty rota: the model's `teams_usergroup` of servicedesk-jour.
ROTA = "5d0e0a11-0000-4000-8000-0000000050d1"
NIGHT = "5d0e0a11-0000-4000-8000-0000000050d2"  # a group nested in it


# -- rotas from Entra ID groups -------------------------------------------------------------------------------------
def test_a_member_of_the_rota_group_acts_as_the_entry(teams) -> None:  # type: ignore[no-untyped-def]  # noqa: F811
    fake = teams.fake
    on_duty = fake.add_user("jour.anna@supplier.example")
    nested = fake.add_user("jour.bo@supplier.example")
    fake.groups[ROTA] = [on_duty, NIGHT]
    fake.groups[NIGHT] = [nested]
    assert plain(teams.app.ask(on_duty, "samverkan whoami")).startswith("Du är Service Desk jour")
    assert plain(teams.app.ask(nested, "samverkan whoami")).startswith("Du är Service Desk jour")  # nested
    outsider = fake.add_user("someone@supplier.example")
    assert not plain(teams.app.ask(outsider, "samverkan whoami")).startswith("Du är Service Desk jour")


def test_a_rota_groups_current_members_are_invited_to_a_war_room(teams) -> None:  # type: ignore[no-untyped-def]  # noqa: F811
    fake = teams.fake
    before, after, nested = (fake.add_user(f"jour.{n}@supplier.example") for n in ("dag", "kvall", "natt"))
    fake.groups[ROTA] = [before]
    assert plain(teams.app.ask(before, "samverkan whoami")).startswith("Du är Service Desk jour")  # kept now
    fake.groups[ROTA] = [after, NIGHT]  # the shift handover, minutes before the declaration
    fake.groups[NIGHT] = [nested]
    assert "är deklarerad" in teams.ask("eva.lind", 'incident declare "WLAN nere på Södermalm" wlan 1')
    chat = eventually(lambda: teams.room_id(WAR_ROOM))
    assert chat
    assert eventually(lambda: {after, nested} <= fake.members.get(chat, set())), fake.members.get(chat)
    assert before not in fake.members[chat]


def test_a_groups_members_are_read_transitively_page_by_page_and_kept(graph) -> None:  # type: ignore[no-untyped-def]  # noqa: F811
    chat, fake, _ = graph
    users = [fake.add_user(f"r{n}@edu.stockholm.example") for n in range(5)]
    fake.groups[ROTA] = [users[0], users[1], NIGHT]
    fake.groups[NIGHT] = [*users[2:], ROTA]  # nested, and back again: each member once
    chat.graph.group_page = 2

    def reads() -> int:
        return sum(1 for _, path in fake.requests if path.startswith("/graph/groups/"))

    assert sorted(chat.usergroup_members(ROTA)) == sorted(users)
    assert reads() == 3  # five users, two a page
    fake.groups[ROTA] = [users[0]]
    assert sorted(chat.usergroup_members(ROTA)) == sorted(users)  # kept for cache_seconds
    assert reads() == 3
    assert chat.usergroup_members(ROTA, fresh=True) == [users[0]]  # a war room's assembly reads it fresh
    assert chat.usergroup_members(ROTA) == [users[0]]  # and what is kept is the fresh answer
    assert chat.usergroup_members("5d0e0a11-0000-4000-8000-0000000050ff", fresh=True) == []  # no such group


def test_without_group_member_read_all_a_war_room_is_refused_and_nobody_is_recognised(graph) -> None:  # type: ignore[no-untyped-def]  # noqa: F811
    chat, fake, _ = graph
    fake.groups[ROTA] = [fake.add_user("r@edu.stockholm.example")]
    fake.granted.discard("GroupMember.Read.All")
    with pytest.raises(RoomRefused) as refused:
        chat.usergroup_members(ROTA, fresh=True)
    assert refused.value.detail == "GroupMember.Read.All"
    assert chat.usergroup_members(ROTA) == []


# -- the timeline from reactions ------------------------------------------------------------------------------------
def war_room(side) -> tuple[int, str]:  # type: ignore[no-untyped-def]
    """A war room declared and ready (its brief posted in its chat, where Samverkan is installed)."""
    assert "är deklarerad" in side.ask("eva.lind", 'incident declare "WLAN nere på Södermalm" wlan 1')
    chat = eventually(lambda: side.room_id(WAR_ROOM))
    assert chat and eventually(lambda: side.fake.to(chat))
    with side.core.unit_of_work(read_only=True) as uow:
        [incident] = uow.incidents.open_incidents()
    return incident.id, chat


def pinned(side, incident: int) -> list[str]:  # type: ignore[no-untyped-def]
    with side.core.unit_of_work(read_only=True) as uow:
        return [e.text for e in uow.incidents.timeline(incident) if e.kind == "pinned"]


def settled(side) -> None:  # type: ignore[no-untyped-def]
    """Everything the endpoint handed to the process's workers is done (no fixed wait)."""
    side.app.runtime.work.shutdown(wait=True)


def test_a_like_in_a_war_room_puts_the_message_in_the_timeline_once(teams) -> None:  # type: ignore[no-untyped-def]  # noqa: F811
    fake = teams.fake
    incident, chat = war_room(teams)
    said = fake.say_in_chat(chat, teams.user("johan.ek"), "<p>Switchen i <b>Hornstull</b> &amp; B4 startas om</p>")
    other = fake.say_in_chat(chat, teams.user("johan.ek"), "<p>Kaffe?</p>")
    reacted = fake.reaction(teams.user("eva.lind"), chat, said)
    for activity in (reacted, reacted, fake.reaction(teams.user("noc"), chat, said)):  # redelivered, and again
        assert teams.app.send(activity).status_code == 200
    assert teams.app.send(fake.reaction(teams.user("eva.lind"), chat, other, "heart")).status_code == 200
    assert eventually(lambda: pinned(teams, incident))
    settled(teams)
    assert pinned(teams, incident) == ["Switchen i Hornstull & B4 startas om"]  # once, and not the heart's


def test_the_brief_names_the_teams_reaction(teams) -> None:  # type: ignore[no-untyped-def]  # noqa: F811
    _, chat = war_room(teams)
    brief = plain(teams.fake.to(chat)[0].text)
    assert "👍 (like)" in brief and ":pushpin:" not in brief


def test_a_reaction_outside_a_war_room_or_without_the_chats_consent(teams, graph) -> None:  # type: ignore[no-untyped-def]  # noqa: F811
    chat_port, fake, _ = graph
    incident, chat = war_room(teams)
    said = fake.say_in_chat(chat, teams.user("johan.ek"), "Ström tillbaka")
    assert chat_port.message_text(chat, said) == "Ström tillbaka"
    assert chat_port.message_text(chat, "no-such-message") is None
    fake.chats[chat]["rsc"].discard("ChatMessage.Read.Chat")  # Graph refuses without the chat's consent
    assert chat_port.message_text(chat, said) is None
    assert teams.app.send(fake.reaction(teams.user("eva.lind"), chat, said)).status_code == 200
    assert teams.app.send(fake.reaction(teams.user("eva.lind"), "19:elsewhere@thread.v2", said)).status_code == 200
    assert eventually(lambda: pinned(teams, incident))
    settled(teams)
    assert pinned(teams, incident) == [""]  # marked, though its text could not be read


# -- a person's Home ------------------------------------------------------------------------------------------------
def home_posts(side, key: str) -> list:  # type: ignore[no-untyped-def,type-arg]
    """The Home cards posted (not updated) in the person's personal chat."""
    return [s for s in side.fake.to(side.fake.personal_of(side.user(key))) if s.activity.get("summary") == "Samverkan"]


def card_text(sent) -> str:  # type: ignore[no-untyped-def]
    """What a card says, as a person reads it: its TextBlocks, Markdown's escapes shown as the characters."""
    import re

    texts = [block["text"] for attachment in sent.activity.get("attachments") or []
             for block in attachment["content"]["body"] if block.get("type") == "TextBlock"]
    return re.sub(r"\\(.)", r"\1", "\n".join(texts)).replace("**", "")


def test_home_is_a_card_in_the_personal_chat_kept_current_in_place(teams) -> None:  # type: ignore[no-untyped-def]  # noqa: F811
    fake = teams.fake
    teams.ask("eva.lind", "disagreement open supplier Vem betalar för utbytta laddare")
    assert "kortet Hem" in plain(teams.ask("johan.ek", "home"))
    [card] = eventually(lambda: home_posts(teams, "johan.ek"))
    shown = card_text(card)
    assert "Johan Ek" in shown and "D-1" in shown and "Vem betalar för utbytta laddare" in shown
    assert "A-1" not in shown
    teams.ask("per.strand", "hem")  # not a party to D-1: it is not on his Home
    [other] = eventually(lambda: home_posts(teams, "per.strand"))
    assert "D-1" not in card_text(other)

    before = len(fake.updates)
    answer = teams.ask("eva.lind", f"forum action kontraktsforum {teams.mention('johan.ek')} 2027-01-14 Vitesunderlag")
    assert "A-1" in plain(answer)
    updated = eventually(lambda: [u for u in fake.updates[before:] if u.id == card.id and "A-1" in card_text(u)])
    assert updated and "Vitesunderlag" in card_text(updated[-1])
    assert len(home_posts(teams, "johan.ek")) == 1  # the same activity, updated: no second card
    assert "A-1" not in card_text(home_posts(teams, "per.strand")[0])  # not his action


def test_a_home_card_the_person_deleted_is_posted_anew(teams) -> None:  # type: ignore[no-untyped-def]  # noqa: F811
    fake = teams.fake
    teams.ask("johan.ek", "home")
    [card] = eventually(lambda: home_posts(teams, "johan.ek"))
    with fake._cond:
        fake.sent.remove(card)  # deleted in Teams: the Connector answers an update with 404
    teams.ask("johan.ek", "home")
    [again] = eventually(lambda: home_posts(teams, "johan.ek"))
    assert again.id != card.id and "Johan Ek" in card_text(again)


def test_typed_text_on_the_home_card_is_not_markdown(teams) -> None:  # type: ignore[no-untyped-def]  # noqa: F811
    teams.ask("eva.lind", "disagreement open supplier [Klicka här](https://evil.example) **viktigt**")
    teams.ask("johan.ek", "home")
    [card] = eventually(lambda: home_posts(teams, "johan.ek"))
    blocks = "\n".join(b["text"] for a in card.activity["attachments"] for b in a["content"]["body"]
                       if b.get("type") == "TextBlock")
    assert "](https://evil.example)" not in blocks and "\\[Klicka här\\]" in blocks and "\\*\\*viktigt" in blocks


def test_a_like_on_the_bots_own_message_in_a_war_room_puts_it_in_the_timeline(teams) -> None:  # type: ignore[no-untyped-def]  # noqa: F811
    """What Microsoft documents the event for: a reaction to a message the bot sent (an update, the brief)."""
    incident, chat = war_room(teams)
    teams.ask("eva.lind", "incident update MI-1 Reservlänk uppe i hus B")
    update = eventually(lambda: [s for s in teams.fake.to(chat) if "Reservlänk uppe" in s.text])
    assert update
    assert teams.app.send(teams.fake.reaction(teams.user("johan.ek"), chat, update[0].id)).status_code == 200
    [entry] = eventually(lambda: pinned(teams, incident))
    assert "Reservlänk uppe i hus B" in entry and "<" not in entry


def test_a_rota_group_added_to_the_model_reaches_an_existing_directory(teams) -> None:  # type: ignore[no-untyped-def]  # noqa: F811
    """A deployment moving to Teams names the rota's Entra ID group in the model: the entry the directory already
    has gets it at the next start, without undoing anything made in chat."""
    from bot.directory.seed import seed_directory

    core = teams.core
    with core.unit_of_work() as uow:
        person = uow.directory.by_key("servicedesk-jour")
        assert person is not None and person.group == ROTA
        from dataclasses import replace

        uow.directory.save(replace(person, group=None))  # as a database from before the model named it
        uow.commit()
    with core.unit_of_work() as uow:
        seed_directory(uow, core.model, core.clock.now())
        uow.commit()
    with core.unit_of_work(read_only=True) as uow:
        assert uow.directory.by_key("servicedesk-jour").group == ROTA  # type: ignore[union-attr]
        assert uow.directory.by_usergroup(ROTA) is not None
