"""Escalation by the sweep: each step once, whatever happens to the processes doing it."""

from __future__ import annotations

import io
import re
import threading
import uuid
from collections.abc import Callable
from datetime import datetime, timedelta

import pytest

from bot.chat import Command
from bot.clock import STOCKHOLM, ManualClock
from bot.disagreement.escalation import duty_key
from bot.message import Message
from samverkan.console import open_console
from samverkan.settings import Settings
from samverkan.wiring import build
from tests.conftest import Dialogue
from tests.fakes.recording_chat import RecordingChat

SERVICE_FORUM = "#forum-tjansteforum-digitala-enheter"
OVERARCHING = "#forum-overgripande-tjansteforum"
# The service forum sits Tuesday 12 January 09:00–10:00; two days' grace: it moves up on the 14th at 10:00.
PAST_DEADLINE = datetime(2027, 1, 14, 10, 1, tzinfo=STOCKHOLM)


def opened(talk: Dialogue, title: str = "Vem betalar för laddarna") -> str:
    return talk.say("eva.lind", f"/disagreement open supplier {title}").split("*")[1]


def escalations(talk: Dialogue, ref: str) -> int:
    with talk.core.unit_of_work() as uow:
        return sum(e.kind == "escalated" for e in uow.disagreements.history(int(ref[2:])))


def level(talk: Dialogue, ref: str) -> int:
    with talk.core.unit_of_work() as uow:
        found = uow.disagreements.get(int(ref[2:]))
    assert found
    return found.level


class Killed(BaseException):
    """What kill -9 looks like from inside: nothing after it runs, no `except Exception` catches it."""


class Crashing(RecordingChat):
    """Slack as seen by a process that dies at its n-th message: what it managed to say stays said."""

    def __init__(self, shared: RecordingChat, die_at: int, death: type[BaseException]) -> None:
        super().__init__()
        self.shared = shared
        self.die_at = die_at
        self.death = death
        self.said = 0

    def direct(self, user_id: str, message: Message, key: str | None = None) -> str:
        self.said += 1
        if self.said >= self.die_at:
            raise self.death("killed")
        return self.shared.direct(user_id, message, key)

    def find_posted(self, channel_or_user: str, key: str) -> str | None:
        return self.shared.find_posted(channel_or_user, key)


def told_about(talk: Dialogue, ref: str) -> list[str]:
    assert not any(ref in text for _, text in talk.chat.posts), "a disagreement was posted in a channel"
    return [user for user, text in talk.chat.directs if ref in text]


def test_nothing_moves_before_the_deadline_and_once_after(dialogue: Dialogue, clock: ManualClock) -> None:
    ref = opened(dialogue)
    clock.set(PAST_DEADLINE - timedelta(minutes=2))
    assert dialogue.core.tick() == 0 and level(dialogue, ref) == 1
    clock.set(PAST_DEADLINE)
    dialogue.core.tick()
    dialogue.core.tick()  # planning again and sweeping again change nothing
    assert level(dialogue, ref) == 2 and escalations(dialogue, ref) == 1
    assert told_about(dialogue, ref).count("U02ALIHASN") == 1  # the overarching forum's technical account manager


@pytest.mark.parametrize("death", [ConnectionError, Killed], ids=["slack-fails", "kill-9"])
@pytest.mark.parametrize("die_at", [1, 3], ids=["first-message", "third-message"])
def test_a_runner_that_dies_mid_way_is_finished_by_another_without_posting_twice(
        dialogue: Dialogue, clock: ManualClock, die_at: int, death: type[BaseException]) -> None:
    ref = opened(dialogue)
    before = len(told_about(dialogue, ref))
    clock.set(PAST_DEADLINE)
    dying = dialogue.core.duty_runner(Crashing(dialogue.chat, die_at, death), worker="dies",
                                      lease=timedelta(minutes=2))
    if death is Killed:
        with pytest.raises(Killed):
            dying.sweep()  # it moved the disagreement and committed, then was killed while telling
    else:
        assert dying.sweep() == 0  # it moved the disagreement, then failed while telling
    assert level(dialogue, ref) == 2
    with dialogue.core.unit_of_work() as uow:
        state = uow.duties.state(duty_key(int(ref[2:]), 1))  # type: ignore[attr-defined]
    survivor = dialogue.core.duty_runner(dialogue.chat, worker="survives", lease=timedelta(minutes=2))
    if death is Killed:
        assert state == "claimed"
        assert survivor.sweep() == 0  # within the lease the dead process's claim is respected
        clock.advance(timedelta(minutes=3))
    else:
        assert state == "pending"  # given back at once, to be tried again within seconds
        clock.advance(timedelta(seconds=2))
    assert survivor.sweep() == 1
    told = told_about(dialogue, ref)[before:]
    assert sorted(told) == sorted({"U01KARINBG", "U02ALIHASN", "U02JOHANEK", "U01EVALIND"})  # each once
    assert level(dialogue, ref) == 2 and escalations(dialogue, ref) == 1


@pytest.mark.parametrize("death", [ConnectionError, Killed], ids=["slack-fails", "kill-9"])
def test_a_batch_stopped_half_way_is_finished_by_another_telling_each_person_once(
        dialogue: Dialogue, clock: ManualClock, death: type[BaseException]) -> None:
    # The sweep escalates the three together (one claim, one transaction), then tells each one's people in turn:
    # it stops at the sixth message, the first disagreement told, the second half told, the third not at all.
    refs = [opened(dialogue, f"Fråga {n}") for n in range(3)]
    before = {ref: len(told_about(dialogue, ref)) for ref in refs}
    clock.set(PAST_DEADLINE)
    dying = dialogue.core.duty_runner(Crashing(dialogue.chat, 6, death), worker="dies", lease=timedelta(minutes=2))
    if death is Killed:
        with pytest.raises(Killed):
            dying.sweep()
    else:
        assert dying.sweep() == 1  # the first is done; the others are given back, to be tried again in seconds
    assert [level(dialogue, ref) for ref in refs] == [2, 2, 2]  # all moved, in the one transaction
    survivor = dialogue.core.duty_runner(dialogue.chat, worker="survives", lease=timedelta(minutes=2))
    clock.advance(timedelta(minutes=3) if death is Killed else timedelta(seconds=2))
    assert survivor.sweep() == (3 if death is Killed else 2)
    for ref in refs:
        told = told_about(dialogue, ref)[before[ref]:]
        assert sorted(told) == sorted({"U01KARINBG", "U02ALIHASN", "U02JOHANEK", "U01EVALIND"}), ref  # each once
        assert level(dialogue, ref) == 2 and escalations(dialogue, ref) == 1


class Meanwhile(RecordingChat):
    """Slack as seen by a process that takes its time: at its first message, another process sweeps."""

    def __init__(self, shared: RecordingChat, meanwhile: Callable[[], None]) -> None:
        super().__init__()
        self.shared = shared
        self.meanwhile: Callable[[], None] | None = meanwhile

    def direct(self, user_id: str, message: Message, key: str | None = None) -> str:
        if self.meanwhile is not None:
            meanwhile, self.meanwhile = self.meanwhile, None
            meanwhile()
        return self.shared.direct(user_id, message, key)

    def find_posted(self, channel_or_user: str, key: str) -> str | None:
        return self.shared.find_posted(channel_or_user, key)


def test_a_batch_is_claimed_a_part_at_a_time_and_another_process_takes_the_parts_not_yet_begun(
        dialogue: Dialogue, clock: ManualClock) -> None:
    refs = [opened(dialogue, f"Fråga {n}") for n in range(4)]
    before = {ref: len(told_about(dialogue, ref)) for ref in refs}
    clock.set(PAST_DEADLINE)
    other = dialogue.core.duty_runner(dialogue.chat, worker="other")
    other.part = 2
    done: list[int] = []
    slow = dialogue.core.duty_runner(Meanwhile(dialogue.chat, lambda: done.append(other.sweep())), worker="slow")
    slow.part = 2
    done.append(slow.sweep())
    assert done == [2, 2]  # while the first telling its part, the other took the second
    for ref in refs:
        assert len(told_about(dialogue, ref)) - before[ref] == 4 and escalations(dialogue, ref) == 1


def test_a_person_escalating_withdraws_the_sweeps_step(dialogue: Dialogue, clock: ManualClock) -> None:
    ref = opened(dialogue)
    clock.set(PAST_DEADLINE)
    dialogue.say("johan.ek", f"/disagreement escalate {ref} Vi kommer inte överens")
    dialogue.core.tick()
    assert level(dialogue, ref) == 2 and escalations(dialogue, ref) == 1


def test_a_moved_sitting_gives_the_level_its_chance(dialogue: Dialogue, clock: ManualClock) -> None:
    ref = opened(dialogue)
    # The chair moves Tuesday's sitting to Friday: the deadline follows it.
    dialogue.say("eva.lind", "/forum move tjansteforum-digitala-enheter 2027-01-12 2027-01-15 09:00")
    clock.set(PAST_DEADLINE)
    dialogue.core.tick()
    assert level(dialogue, ref) == 1
    clock.set(datetime(2027, 1, 17, 10, 1, tzinfo=STOCKHOLM))
    dialogue.core.tick()
    assert level(dialogue, ref) == 2 and escalations(dialogue, ref) == 1


@pytest.mark.postgres
def test_two_processes_on_one_database_escalate_each_disagreement_once(postgres, clock: ManualClock) -> None:  # type: ignore[no-untyped-def]
    name = f"t_{uuid.uuid4().hex[:12]}"
    url = postgres.create_database(name)
    # Forty questions opened by one person at once: the escalation is tested, not their pace (bot.rate).
    runtimes = [build(Settings(database_url=url, samverkan_lang="sv", samverkan_rate_limit="off"), clock,
                      lambda _: RecordingChat()) for _ in range(2)]
    try:
        first = runtimes[0].core
        for n in range(40):
            first.handle(Command(name="disagreement", text=f"open supplier Fråga {n}", user_id="U01EVALIND",
                                 channel_id="C1", received_at=clock.now()))
        clock.set(PAST_DEADLINE)
        chats = [RecordingChat(), RecordingChat()]
        start = threading.Barrier(2)
        done: list[int] = []

        def sweep(i: int) -> None:
            runner = runtimes[i].core.duty_runner(chats[i], worker=f"process-{i}")
            start.wait()
            done.append(runner.sweep())

        threads = [threading.Thread(target=sweep, args=(i,)) for i in range(2)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=60)
        assert sum(done) == 40
        # Told directly, once each: the lead supplier's account manager must attend the overarching forum.
        told = [user for chat_ in chats for user, _ in chat_.directs if user == "U02JOHANEK"]
        assert len(told) == 40
        with first.unit_of_work() as uow:
            every = uow.disagreements.every()
            assert {d.level for d in every} == {2}
            assert sum(e.kind == "escalated" for e in uow.disagreements.every_entry()) == 40
    finally:
        for runtime in runtimes:
            runtime.close()
        postgres.drop_database(name)


# -- the console, as a person would try it -----------------------------------------------------------------------
@pytest.mark.parametrize("database_url", ["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)],
                         indirect=True)
def test_in_the_console_it_climbs_rung_by_rung_until_both_parties_accept(database_url: str,
                                                                        clock: ManualClock) -> None:
    out = io.StringIO()
    console = open_console(Settings(database_url=database_url, samverkan_lang="sv"), clock, out)
    runtime = console.runtime

    def said(*lines: str) -> str:
        start = out.tell()
        for line in lines:
            console.say(line)
        return out.getvalue()[start:]

    try:
        opening = said("/as eva.lind", "/disagreement open supplier Vem betalar för utbytta laddare")
        assert "registrerad som *D-1*" in opening
        assert "Oenighet D-1: Vem betalar" in said("/forum agenda tjansteforum-digitala-enheter")
        # Each step up is told to whoever must attend the new level, directly; never in the forum's channel.
        climb = [("2027-01-14 10:01", "Ali Hassan", "overgripande-tjansteforum",
                  "nivå 3 av 5: *Övergripande tjänsteforum*"),
                 ("2027-04-19 15:01", "Johan Ek", "kontraktsforum", "nivå 4 av 5: *Kontraktsforum*"),
                 ("2027-07-25 12:01", "Lars Holm", "affarsforum", "nivå 5 av 5: *Affärsforum*")]
        for when, attendee, forum, heading in climb:
            moved = said(f"/clock {when}")
            assert f"[DM → {attendee}] Samverkan: *D-1 Vem betalar för utbytta laddare*" in moved
            assert heading in moved
            posts = [said for said in re.split(r"\n(?=\[)", moved) if said.startswith("[#")]
            assert not any("D-1" in post for post in posts)  # the reminders posted there name no dispute
            assert "Oenighet D-1: Vem betalar" in said(f"/forum agenda {forum}")
            assert "Oenighet D-1" not in said("/forum agenda tjansteforum-digitala-enheter")
        # Only its parties (and the City's oversight) see it.
        assert 'Oenigheten "D-1" finns inte' in said("/as Per Strand", "/disagreement show D-1")
        assert "D-1" not in said("/disagreement list all")
        # At Affärsforum the City answers through its contract signatory, the Director of Education (5.2): not
        # through any authorised approver.
        settled = said("/as johan.ek", "/disagreement propose D-1 Staden betalar, leverantören byter",
                       "/disagreement accept D-1", "/as karin.berg", "/disagreement accept D-1")
        assert "Du kan inte ta ställning till förslaget i D-1" in settled
        settled = said("/as lars.holm", "/disagreement accept D-1")
        assert "D-1 är avgjord: Staden betalar, leverantören byter" in settled
        after = said("/clock 2027-12-31 12:00", "/disagreement show D-1")
        assert "formell tvist" not in after.lower()
        assert "Avgjord vid Affärsforum" in after
        assert after.count("eskalerad till") == 3
    finally:
        runtime.close()


def test_the_store_moves_a_disagreement_only_from_where_it_still_is(dialogue: Dialogue, clock: ManualClock) -> None:
    ref = opened(dialogue)
    with dialogue.core.unit_of_work() as uow:
        d = uow.disagreements.get(int(ref[2:]))
        assert d is not None
        assert uow.disagreements.move(d.id, 1, 2, "overgripande-tjansteforum", clock.now(), None) is True
        # The sweep (or a second person) that read it at level 1 loses: nothing is moved twice.
        assert uow.disagreements.move(d.id, 1, 2, "overgripande-tjansteforum", clock.now(), None) is False
        uow.commit()
    assert level(dialogue, ref) == 2
