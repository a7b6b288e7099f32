"""Assembling a war room: a straight line of idempotent steps, each written down with its result, so that a
bot killed half-way finishes the same war room when it runs again instead of opening a second one.

1. the channel (its name recorded before the create call, so a lost answer is found again by name), while who is
   to be invited is looked up (user groups expanded, e-mail addresses looked up), which needs no channel;
2. topic, purpose, the brief (pinned as soon as it is posted), the announcement, the City's direct message,
   the invitations in batches of at most 100 and the Slack Connect invitations - independent, so sent together;
3. what succeeded recorded in one transaction, then the list of whoever could not be reached, posted in the war
   room.

The number of sequential round trips is therefore fixed, whatever the number of invitees: a batch of 100 is one
call, and the batches go out in parallel.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import replace
from datetime import datetime
from typing import TYPE_CHECKING, Any

from bot.chat import INVITE_BATCH, ChatPort, NameTaken, RoomRefused
from bot.clock import STOCKHOLM
from bot.directory.people import slugify
from bot.duties import Duty, OnceChat, Outcome
from bot.i18n import Texts
from bot.incident.people import mention_actor
from bot.incident.records import Incident, Member, MemberState
from bot.incident.roster import city_contacts, reached_through
from bot.incident.timeline import pin_reaction_shown
from bot.message import ChannelLink, Message, join
from bot.native import live
from bot.ports import UnitOfWork

if TYPE_CHECKING:
    from bot.app import Samverkan

log = logging.getLogger(__name__)

ASSEMBLE = "incident.assemble"
ARCHIVE = "incident.archive"
MAX_NAME = 80
# Parallel calls per assembly: enough for the posts, user-group lookups, batches and Slack Connect invitations of
# one wave, so that none waits for a thread (which would add a round trip).
POOL = 32
# How a member is reached: (platform users to invite, e-mail for Slack Connect, why unreachable).
Address = tuple[list[str], str | None, str | None]
# What became of one member's invitation: (state, reason, when they joined).
MemberOutcome = tuple[MemberState, str, datetime | None]


def channel_name(prefix: str, declared_at: datetime, title: str, attempt: int = 1) -> str:
    """mi-<yyyymmdd>-<slug>, lower-case with å/ä/ö transliterated, at most 80 characters with its suffix."""
    base = f"{prefix}-{declared_at.astimezone(STOCKHOLM):%Y%m%d}-"
    tail = f"-{attempt}" if attempt > 1 else ""
    slug = slugify(title)[: MAX_NAME - len(base) - len(tail)].rstrip("-") or "incident"
    return base + slug + tail


def assembly_duty(incident_id: int, round_: int, now: datetime) -> Duty:
    """Round 0 assembles the war room; each later `/incident invite` is a round of its own."""
    return Duty(f"{ASSEMBLE}:{incident_id}:{round_}", ASSEMBLE, now, payload={"incident": incident_id})


def perform_assembly(core: Samverkan, duty: Duty, now: datetime, once: OnceChat) -> Outcome:
    assembly = Assembly(core, once.chat, int(duty.payload["incident"]), once.recovering)
    started = time.perf_counter()
    try:
        assembly.run()
    except RoomRefused as refused:
        # Not slowness: the platform will not open the room until an administrator changes something. The
        # declarer is told what, once; the duty is still tried again, so the room opens once it is fixed.
        assembly.tell_declarer_the_room_is_refused(once, refused)
        raise
    except Exception:
        # Slack failed past its own retries: the duty is tried again within seconds. Whoever declared is told,
        # once, that it is Slack that is slow, and what is still missing, instead of waiting in silence.
        assembly.tell_declarer_what_is_missing(once)
        raise
    core.telemetry.war_room_ready(time.perf_counter() - started)
    return "done"


def archive_duty(incident_id: int, channel: str, now: datetime) -> Duty:
    return Duty(f"{ARCHIVE}:{incident_id}", ARCHIVE, now, payload={"channel": channel})


def perform_archive(core: Samverkan, duty: Duty, now: datetime, once: OnceChat) -> Outcome:
    once.chat.archive(duty.payload["channel"])
    return "done"


class Assembly:
    def __init__(self, core: Samverkan, chat: ChatPort, incident_id: int, recovering: bool) -> None:
        self.core = core
        self.chat = chat
        self.id = incident_id
        self.recovering = recovering
        self.t: Texts = core.texts
        self.mi = core.model.major_incidents
        assert self.mi is not None

    # -- the record ---------------------------------------------------------------------------------------------
    # The record is read and written in as few transactions as the durability of each step allows: every one
    # costs a turn of the database's write lock while the war room's Slack calls wait.
    def _incident(self) -> tuple[Incident, dict[str, dict[str, Any]], Sequence[Member]]:
        """The incident, the steps already done and its members."""
        with self.core.unit_of_work(read_only=True) as uow:
            incident = uow.incidents.get(self.id)
            done = uow.incidents.steps(self.id)
            members = uow.incidents.members(self.id)
        assert incident is not None, f"incident {self.id} vanished"
        return incident, done, members

    def _record(self, step: str, result: dict[str, Any]) -> None:
        with self.core.unit_of_work() as uow:
            uow.incidents.record_step(self.id, step, result, self.core.clock.now())
            uow.commit()

    def tell_declarer_the_room_is_refused(self, once: OnceChat, refused: RoomRefused) -> None:
        try:
            with self.core.unit_of_work(read_only=True) as uow:
                incident = uow.incidents.get(self.id)
                declarer = uow.directory.by_key(incident.declared_by) if incident else None
            if incident is None or declarer is None or not declarer.account:
                return
            reason = self.t.text(f"incident.refused.{refused.code}", detail=refused.detail)
            once.direct(declarer.account, self.t("incident.room_refused", ref=incident.ref, reason=reason),
                        part=f"refused:{refused.code}:{refused.detail}")
        except Exception:
            log.warning("could not tell the declarer of war room %s why it cannot be opened", self.id, exc_info=True)

    def tell_declarer_what_is_missing(self, once: OnceChat) -> None:
        try:
            with self.core.unit_of_work(read_only=True) as uow:
                incident = uow.incidents.get(self.id)
                declarer = uow.directory.by_key(incident.declared_by) if incident else None
                waiting = sum(m.state == "pending" for m in uow.incidents.members(self.id)) if incident else 0
                done = uow.incidents.steps(self.id)
            if incident is None or declarer is None or not declarer.account:
                return
            missing = [self.t.text(f"incident.missing.{step}") for step in ("channel", "brief", "announced")
                       if step not in done]
            if waiting:
                missing.append(self.t.text("incident.missing.invitations", count=waiting))
            once.direct(declarer.account, self.t("incident.slack_slow", ref=incident.ref,
                                                    missing=", ".join(missing) or "–"), part="slow")
        except Exception:
            log.warning("could not tell the declarer of war room %s that Slack is slow", self.id, exc_info=True)

    # -- the steps ----------------------------------------------------------------------------------------------
    def run(self) -> None:
        incident, done, members = self._incident()
        if incident.state == "closed":
            return
        # A channel already recorded means an earlier run got that far: what it may have posted is looked for.
        resumed = self.recovering or incident.channel_id is not None
        with ThreadPoolExecutor(max_workers=POOL, thread_name_prefix=f"mi-{self.id}") as pool:
            # Who is in the user groups, and whose the e-mail addresses are, needs no channel: asked while it is
            # being created, so that the invitations can go out with the first wave.
            lookups = {m.key: pool.submit(self._look_up, m) for m in members
                       if m.state == "pending" and self._address(m) is None}
            seated: list[str] = []
            if incident.channel_id is None and self.chat.seats_at_creation:
                # The room is created with its people in it (a Teams group chat): they are looked up first.
                seated = self._seats(members, lookups)
            opening = pool.submit(self._open_channel, incident, done.get("channel"), seated) \
                if incident.channel_id is None else None
            if opening is not None:
                incident = opening.result()
            channel = incident.channel_id
            assert channel
            with self.core.unit_of_work(read_only=True) as uow:
                members = uow.incidents.members(self.id)
                # The brief with its buttons, as it is kept current in place (bot.native.views).
                brief_text = live.draw(self.core, uow, live.subject("incident", incident.id), None, self.t)
                announcement_text = announcement(uow, incident, self.t)
                # The City's contact is reached by their account, or by their e-mail address when the bot has
                # not met them yet on this platform (as the other notices are).
                city = [(p.account, p.email) for p in city_contacts(uow, self.core.model) if p.account or p.email]
            pending = [m for m in members if m.state == "pending"]
            steps: dict[str, Callable[[], dict[str, Any]]] = {
                "topic": lambda: self._topic(incident),
                "purpose": lambda: self._purpose(incident),
                "brief": lambda: self._post(channel, brief_text, "brief", resumed),
                "announced": lambda: self._post(self.mi.announcement_channel, announcement_text, "announced",  # type: ignore[union-attr]
                                                resumed),
                "city_told": lambda: self._tell_city(city, announcement_text, resumed),
            }
            wave = {name: pool.submit(work) for name, work in steps.items() if name not in done}
            # The brief is pinned as soon as it is posted, without waiting for the rest of its wave.
            if "brief" in wave:
                wave["pinned"] = pool.submit(self._pin_when_posted, channel, wave["brief"])
            elif "pinned" not in done:
                wave["pinned"] = pool.submit(self._pin, channel, done["brief"]["ref"])
            # The invitations need only the channel: they go out while the brief and the announcement do.
            invited = self._invite(pool, channel, pending, lookups)
            self._settle(wave, invited, channel, done, resumed)
        self._keep_brief_current(channel, brief_text)
        from bot.native import home  # the war room's channel shows on its people's Homes

        home.wanted(self.core)

    def _keep_brief_current(self, channel: str, shown: Message) -> None:
        """The pinned brief is edited in place when roles, severity or parties change: its reference is written
        down, and anything that changed while it was being posted is drawn in at once."""
        with self.core.unit_of_work(read_only=True) as uow:
            posted = uow.incidents.steps(self.id).get("brief")
        if posted and posted.get("ref"):
            about = live.subject("incident", self.id)
            live.track(self.core, about, "", channel, posted["ref"], self.t.lang, None, shown)
            live.refresh(self.core, about)

    def _settle(self, wave: dict[str, Future[dict[str, Any]]], invited: Callable[[], dict[str, MemberOutcome]],
                channel: str, done: dict[str, dict[str, Any]], resumed: bool) -> None:
        """Records every step that succeeded and who was invited, in one transaction, then raises the first
        failure: the retry does only the rest. The war room is ready once whoever could not be reached is listed."""
        failure: BaseException | None = None
        results: dict[str, dict[str, Any]] = {}
        for name, future in wave.items():
            try:
                results[name] = future.result()
            except Exception as exc:  # noqa: BLE001 - kept for after the others are recorded
                log.warning("war room %s: step %s failed: %s", self.id, name, exc)
                failure = failure or exc
        outcomes: dict[str, MemberOutcome] = {}
        try:
            outcomes = invited()
        except Exception as exc:  # noqa: BLE001 - the members stay pending, and the retry invites them
            log.warning("war room %s: invitations failed: %s", self.id, exc)
            failure = failure or exc
        listed = set(done.get("unreached", {}).get("keys", []))
        now = self.core.clock.now()
        with self.core.unit_of_work() as uow:
            for name, result in results.items():
                uow.incidents.record_step(self.id, name, result, now)
            uow.incidents.set_members(self.id, outcomes)
            unreached = [m for m in uow.incidents.members(self.id) if m.state == "failed" and m.key not in listed]
            if failure is None and not unreached:
                self._ready(uow, now)
            uow.commit()
        if failure is not None:
            raise failure
        if unreached:
            self._list_unreached(channel, unreached, listed, resumed)
            with self.core.unit_of_work() as uow:
                uow.incidents.record_step(self.id, "unreached", {"keys": sorted(listed | {m.key for m in unreached})},
                                          self.core.clock.now())
                self._ready(uow, self.core.clock.now())
                uow.commit()

    def _ready(self, uow: UnitOfWork, now: datetime) -> None:
        # Read again in this transaction: a command may have changed the incident while Slack was being called.
        current = uow.incidents.get(self.id)
        if current is not None and current.assembled_at is None:
            uow.incidents.save(replace(current, assembled_at=now))

    def _seats(self, members: Sequence[Member], lookups: dict[str, Future[Address]]) -> list[str]:
        """The platform users of the pending members, for a room created with its people in it. A lookup that
        fails leaves its member out of the creation; the invitations that follow try them again."""
        users: list[str] = []
        for member in members:
            if member.state != "pending":
                continue
            try:
                found = self._address(member) or lookups[member.key].result()
                # Someone of another organisation is in the room only as a user of this platform (a guest).
                guest = self.chat.find_user_by_email(found[1]) if found[1] else None
            except Exception:  # noqa: BLE001 - invited (or listed as unreached) after the room is open
                log.warning("war room %s: could not look %s up before opening the room", self.id, member.key)
                continue
            users.extend(u for u in [*found[0], *([guest] if guest else [])] if u not in users)
        return users

    def _open_channel(self, incident: Incident, trying: dict[str, Any] | None,
                      seated: Sequence[str] = ()) -> Incident:
        assert self.mi
        if trying and (found := self.chat.find_channel(trying["name"])):
            # The create call went through before the bot stopped, but its answer was never recorded.
            return self._keep_channel(trying["name"], found)
        for attempt in range(1, 50):
            name = channel_name(self.mi.channel_prefix, incident.declared_at, incident.title, attempt)
            self._record("channel", {"name": name})
            try:
                channel = self.chat.create_channel(name, self.mi.private, seated)
            except NameTaken:
                continue
            return self._keep_channel(name, channel)
        raise RuntimeError(f"no free channel name for incident {incident.id}")

    def _keep_channel(self, name: str, channel: str) -> Incident:
        with self.core.unit_of_work() as uow:
            incident = uow.incidents.get(self.id)
            assert incident
            kept = replace(incident, channel_name=name, channel_id=channel)
            uow.incidents.save(kept)
            uow.commit()
        return kept

    def _topic(self, incident: Incident) -> dict[str, Any]:
        assert incident.channel_id
        topic = self.t.text("incident.topic", ref=incident.ref, severity=incident.severity, title=incident.title)
        self.chat.set_topic(incident.channel_id, topic)
        return {"topic": topic}

    def _purpose(self, incident: Incident) -> dict[str, Any]:
        assert incident.channel_id
        purpose = self.t.text("incident.purpose", ref=incident.ref)
        self.chat.set_purpose(incident.channel_id, purpose)
        return {"purpose": purpose}

    def _post(self, channel: str, text: Message, part: str, resumed: bool) -> dict[str, Any]:
        key = f"{ASSEMBLE}:{self.id}:{part}"
        if resumed and (ref := self.chat.find_posted(channel, key)):
            return {"ref": ref, "channel": channel}
        return {"ref": self.chat.post(channel, text, key=key), "channel": channel}

    def _tell_city(self, contacts: list[tuple[str | None, str | None]], text: Message,
                   resumed: bool) -> dict[str, Any]:
        once = OnceChat(self.chat, f"{ASSEMBLE}:{self.id}:city", resumed)
        told: list[str] = []
        for account, email in contacts:
            user = account or (self.chat.find_user_by_email(email) if email else None)
            if user is None:
                log.warning("war room %s: the City's contact %s is not found on the platform", self.id, email)
                continue
            once.direct(user, text, part=user)
            told.append(user)
        return {"users": told}

    def _pin_when_posted(self, channel: str, brief: Future[dict[str, Any]]) -> dict[str, Any]:
        return self._pin(channel, brief.result()["ref"])

    def _pin(self, channel: str, ref: str) -> dict[str, Any]:
        self.chat.pin(channel, ref)
        return {"ref": ref}

    def _address(self, member: Member) -> Address | None:
        """(platform users to invite, e-mail for Slack Connect, why unreachable), or None when only the platform
        can tell (a user group's members, the user an e-mail address belongs to)."""
        if member.account:
            return [member.account], None, None
        if member.group or (member.email and not member.external):
            return None
        if member.email:
            return [], member.email, None
        return [], None, "no_address"

    def _look_up(self, member: Member) -> Address:
        if member.group:
            # Fresh, not from the directory cache: a rota changed at a shift handover minutes before the
            # declaration must have its current members invited (issue 18, item 8).
            users = self.chat.usergroup_members(member.group, fresh=True)
            return users, None, (None if users else "empty_usergroup")
        assert member.email
        user = self.chat.find_user_by_email(member.email)
        return ([user], None, None) if user else ([], None, "users_not_found")

    def _invite(self, pool: ThreadPoolExecutor, channel: str, pending: list[Member],
                lookups: dict[str, Future[Address]]) -> Callable[[], dict[str, MemberOutcome]]:
        """Sends the invitations now (in parallel with the pin): a person of another organisation at once, the
        members in batches as soon as the user groups and e-mail addresses are looked up (`lookups`, begun
        earlier; whoever joined the roster since is looked up now). Only what needs the platform's answer goes to
        the pool. The returned function waits for the answers and says, per member, how it went."""
        known = {m.key: self._address(m) for m in pending}
        for m in pending:
            if known[m.key] is None and m.key not in lookups:
                lookups[m.key] = pool.submit(self._look_up, m)
        shared = {m.key: pool.submit(self.chat.invite_shared, channel, email)
                  for m in pending if (found := known[m.key]) and (email := found[1])}
        owner: dict[str, str] = {}
        failed: dict[str, list[str]] = {}
        try:
            for member in pending:
                users, _, unreachable = known[member.key] or lookups[member.key].result()
                if unreachable:
                    failed.setdefault(member.key, []).append(unreachable)
                for user in users:
                    owner.setdefault(user, member.key)
        except Exception as exc:  # noqa: BLE001 - Slack could not say who: the members stay pending, for the retry
            lookup_failed = exc

            def not_known() -> dict[str, MemberOutcome]:
                raise lookup_failed

            return not_known
        users = list(owner)
        batches = [pool.submit(self.chat.invite, channel, users[i:i + INVITE_BATCH])
                   for i in range(0, len(users), INVITE_BATCH)]

        def outcome() -> dict[str, MemberOutcome]:
            for batch in batches:
                for user, error in batch.result().items():
                    failed.setdefault(owner.get(user, user), []).append(error)
            for key, refused in shared.items():
                if refused := refused.result():
                    failed.setdefault(key, []).append(refused)
            now = self.core.clock.now()
            outcomes: dict[str, MemberOutcome] = {}
            for member in pending:
                if member.key in failed:
                    outcomes[member.key] = ("failed", ", ".join(sorted(set(failed[member.key]))), None)
                else:
                    # A member or guest is in the channel once invited; someone of another organisation
                    # joins when they accept the Slack Connect invitation (member_joined_channel says when).
                    outcomes[member.key] = ("invited", "", None if member.key in shared else now)
            return outcomes

        return outcome

    def _list_unreached(self, channel: str, unreached: list[Member], listed: set[str], resumed: bool) -> None:
        """Nobody is dropped silently: whoever could not be reached is named in the war room, with the reason."""
        lines = [self.t("incident.unreached_heading")]
        for member in unreached:
            party = self.core.model.party(member.party)
            reasons = ", ".join(self._reason(r) for r in member.reason.split(", "))
            lines.append(self.t("incident.unreached_line", name=member.name,
                                party=party.name(self.t.lang) if party else member.party, reason=reasons))
        self._post(channel, join(lines), f"unreached:{len(listed)}", resumed)

    def _reason(self, code: str) -> str:
        known = {"user_not_found", "users_not_found", "empty_usergroup", "no_address", "user_is_restricted",
                 "not_allowed", "restricted_action", "invalid_email", "user_disabled", "cant_invite", "not_in_tenant"}
        return self.t.text(f"incident.reason.{code}") if code in known else code


# -- what the war room and the stakeholders are told -----------------------------------------------------------
def brief(uow: UnitOfWork, core: Samverkan, incident: Incident, t: Texts, members: Sequence[Member]) -> Message:
    model = core.model
    nobody = t.text("incident.nobody")
    services = ", ".join(s.name(t.lang) for s in map(model.service, incident.services) if s) or nobody
    parties = []
    for key in dict.fromkeys(m.party for m in members):
        party = model.party(key)
        parties.append(party.name(t.lang) if party else key)
    assert model.major_incidents
    # A central supplier is reached through another's service desk (section 2.2): the brief says so.
    routes = [t("incident.reached_through", service=s.name(t.lang), via=", ".join(
        dict.fromkeys(p.name(t.lang) for r in via if (p := model.party(r.party)))))
        for s in map(model.service, incident.services) if s and (via := reached_through(model, s))]
    return t("incident.brief", ref=incident.ref, title=incident.title, services=services,
             severity=incident.severity, description=incident.description or nobody,
             commander=mention_actor(uow, incident.commander, nobody),
             communications=mention_actor(uow, incident.communications, nobody),
             scribe=mention_actor(uow, incident.scribe, nobody), parties=", ".join(parties) or nobody,
             reaction=pin_reaction_shown(model.major_incidents),
             minutes=model.major_incidents.update_minutes.get(incident.severity, 0)) + join(routes)


def announcement(uow: UnitOfWork, incident: Incident, t: Texts) -> Message:
    channel = ChannelLink(incident.channel_id) if incident.channel_id else "–"
    return t("incident.announcement", ref=incident.ref, title=incident.title, severity=incident.severity,
             channel=channel, commander=mention_actor(uow, incident.commander, t.text("incident.nobody")))
