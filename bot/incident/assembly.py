"""Assembling a war room: a straight line of idempotent steps, each written down with its result, so that a
bot killed half-way finishes the same war room when it runs again instead of opening a second one.

1. the channel (its name recorded before the create call, so a lost answer is found again by name);
2. topic, purpose, the brief (pinned as soon as it is posted), the announcement, the City's direct message,
   and who is to be invited (user groups expanded, e-mail addresses looked up) - independent, so sent
   together; as soon as the addresses are known, invitations in batches of at most 100 and Slack Connect
   invitations, in parallel;
3. the list of whoever could not be reached, posted in the war room.

The number of sequential round trips is therefore fixed, whatever the number of invitees: a batch of 100 is one
call, and the batches go out in parallel.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import replace
from datetime import datetime
from typing import TYPE_CHECKING, Any

from bot.chat import INVITE_BATCH, ChatPort, NameTaken
from bot.clock import STOCKHOLM
from bot.directory.people import slugify
from bot.duties import Duty, OnceChat, Outcome
from bot.i18n import Texts
from bot.incident.people import mention_actor
from bot.incident.records import Incident, Member
from bot.incident.roster import city_contacts, reached_through
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
    try:
        assembly.run()
    except Exception:
        # Slack failed past its own retries: the duty is tried again within seconds. Whoever declared is told,
        # once, that it is Slack that is slow, and what is still missing, instead of waiting in silence.
        assembly.tell_declarer_what_is_missing(once)
        raise
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
    def _incident(self) -> Incident:
        with self.core.unit_of_work() as uow:
            incident = uow.incidents.get(self.id)
        assert incident is not None, f"incident {self.id} vanished"
        return incident

    def _done(self, step: str) -> dict[str, Any] | None:
        with self.core.unit_of_work() as uow:
            return uow.incidents.step(self.id, step)

    def _record(self, step: str, result: dict[str, Any]) -> None:
        with self.core.unit_of_work() as uow:
            uow.incidents.record_step(self.id, step, result, self.core.clock.now())
            uow.commit()

    def tell_declarer_what_is_missing(self, once: OnceChat) -> None:
        try:
            with self.core.unit_of_work() as uow:
                incident = uow.incidents.get(self.id)
                declarer = uow.directory.by_key(incident.declared_by) if incident else None
                waiting = sum(m.state == "pending" for m in uow.incidents.members(self.id)) if incident else 0
            if incident is None or declarer is None or not declarer.slack_user:
                return
            missing = [self.t.text(f"incident.missing.{step}") for step in ("channel", "brief", "announced")
                       if self._done(step) is None]
            if waiting:
                missing.append(self.t.text("incident.missing.invitations", count=waiting))
            once.direct(declarer.slack_user, self.t("incident.slack_slow", ref=incident.ref,
                                                    missing=", ".join(missing) or "–"), part="slow")
        except Exception:
            log.warning("could not tell the declarer of war room %s that Slack is slow", self.id, exc_info=True)

    # -- the steps ----------------------------------------------------------------------------------------------
    def run(self) -> None:
        incident = self._incident()
        if incident.state == "closed":
            return
        # A channel already recorded means an earlier run got that far: what it may have posted is looked for.
        resumed = self.recovering or incident.channel_id is not None
        with ThreadPoolExecutor(max_workers=POOL, thread_name_prefix=f"mi-{self.id}") as pool:
            if incident.channel_id is None:
                self._open_channel(incident)
                incident = self._incident()
            channel = incident.channel_id
            assert channel
            with self.core.unit_of_work() as uow:
                pending = [m for m in uow.incidents.members(self.id) if m.state == "pending"]
                # The brief with its buttons, as it is kept current in place (bot.native.views).
                brief_text = live.draw(self.core, uow, live.subject("incident", incident.id), None, self.t)
                announcement_text = announcement(uow, incident, self.t)
                city = [p.slack_user for p in city_contacts(uow, self.core.model) if p.slack_user]
            steps: dict[str, Callable[[], dict[str, Any]]] = {
                "topic": lambda: self._topic(incident),
                "purpose": lambda: self._purpose(incident),
                "brief": lambda: self._post(channel, brief_text, "brief", resumed),
                "announced": lambda: self._post(self.mi.announcement_channel, announcement_text, "announced",  # type: ignore[union-attr]
                                                resumed),
                "city_told": lambda: self._tell_city(city, announcement_text, resumed),
            }
            wave = {name: pool.submit(work) for name, work in steps.items() if self._done(name) is None}
            addresses = {m.key: pool.submit(self._addresses, m) for m in pending}
            # The invitations need only the channel: they go out while the brief and the announcement do.
            invited = self._invite(pool, channel, pending, addresses)
            # The brief is pinned as soon as it is posted, without waiting for the rest of its wave.
            if "brief" in wave:
                wave["pinned"] = pool.submit(self._pin_when_posted, channel, wave["brief"])
            elif (brief_step := self._done("brief")) and self._done("pinned") is None:
                wave["pinned"] = pool.submit(self._pin, channel, brief_step["ref"])
            self._settle(wave)
            self._keep_brief_current(channel, brief_text)
            invited()
            self._list_unreached(channel, resumed)
        if incident.assembled_at is None:
            with self.core.unit_of_work() as uow:
                ready = uow.incidents.get(self.id)
                assert ready
                uow.incidents.save(replace(ready, assembled_at=self.core.clock.now()))
                uow.commit()
            from bot.native import home  # the war room's channel shows on its people's Homes

            home.wanted(self.core)

    def _keep_brief_current(self, channel: str, shown: Message) -> None:
        """The pinned brief is edited in place when roles, severity or parties change: its reference is written
        down, and anything that changed while it was being posted is drawn in at once."""
        posted = self._done("brief")
        if posted and posted.get("ref"):
            about = live.subject("incident", self.id)
            live.track(self.core, about, "", channel, posted["ref"], self.t.lang, None, shown)
            live.refresh(self.core, about)

    def _settle(self, wave: dict[str, Future[dict[str, Any]]]) -> None:
        """Records every step that succeeded, then raises the first failure: the retry does only the rest."""
        failure: BaseException | None = None
        for name, future in wave.items():
            try:
                self._record(name, future.result())
            except Exception as exc:  # noqa: BLE001 - kept for after the others are recorded
                log.warning("war room %s: step %s failed: %s", self.id, name, exc)
                failure = failure or exc
        if failure is not None:
            raise failure

    def _open_channel(self, incident: Incident) -> None:
        assert self.mi
        trying = self._done("channel")
        if trying and (found := self.chat.find_channel(trying["name"])):
            # The create call went through before the bot stopped, but its answer was never recorded.
            self._keep_channel(trying["name"], found)
            return
        for attempt in range(1, 50):
            name = channel_name(self.mi.channel_prefix, incident.declared_at, incident.title, attempt)
            self._record("channel", {"name": name})
            try:
                channel = self.chat.create_channel(name, self.mi.private)
            except NameTaken:
                continue
            self._keep_channel(name, channel)
            return
        raise RuntimeError(f"no free channel name for incident {incident.id}")

    def _keep_channel(self, name: str, channel: str) -> None:
        with self.core.unit_of_work() as uow:
            incident = uow.incidents.get(self.id)
            assert incident
            uow.incidents.save(replace(incident, channel_name=name, channel_id=channel))
            uow.commit()

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

    def _tell_city(self, users: list[str], text: Message, resumed: bool) -> dict[str, Any]:
        once = OnceChat(self.chat, f"{ASSEMBLE}:{self.id}:city", resumed)
        for user in users:
            once.direct(user, text, part=user)
        return {"users": users}

    def _pin_when_posted(self, channel: str, brief: Future[dict[str, Any]]) -> dict[str, Any]:
        return self._pin(channel, brief.result()["ref"])

    def _pin(self, channel: str, ref: str) -> dict[str, Any]:
        self.chat.pin(channel, ref)
        return {"ref": ref}

    def _addresses(self, member: Member) -> tuple[list[str], str | None, str | None]:
        """(platform users to invite, e-mail for Slack Connect, why unreachable)."""
        if member.slack_user:
            return [member.slack_user], None, None
        if member.slack_usergroup:
            users = self.chat.usergroup_members(member.slack_usergroup)
            return users, None, (None if users else "empty_usergroup")
        if member.email and member.external:
            return [], member.email, None
        if member.email:
            user = self.chat.find_user_by_email(member.email)
            return ([user], None, None) if user else ([], None, "users_not_found")
        return [], None, "no_address"

    def _invite(self, pool: ThreadPoolExecutor, channel: str, pending: list[Member],
                addresses: dict[str, Future[tuple[list[str], str | None, str | None]]]) -> Callable[[], None]:
        """Sends the invitations now (in parallel with the pin); the returned function records the outcome."""
        owner: dict[str, str] = {}
        failed: dict[str, list[str]] = {}
        shared: dict[str, Future[str | None]] = {}
        for member in pending:
            users, email, unreachable = addresses[member.key].result()
            if unreachable:
                failed.setdefault(member.key, []).append(unreachable)
            for user in users:
                owner.setdefault(user, member.key)
            if email:
                shared[member.key] = pool.submit(self.chat.invite_shared, channel, email)
        users = list(owner)
        batches = [pool.submit(self.chat.invite, channel, users[i:i + INVITE_BATCH])
                   for i in range(0, len(users), INVITE_BATCH)]

        def record() -> None:
            for batch in batches:
                for user, error in batch.result().items():
                    failed.setdefault(owner.get(user, user), []).append(error)
            for key, refused in shared.items():
                if refused := refused.result():
                    failed.setdefault(key, []).append(refused)
            now = self.core.clock.now()
            with self.core.unit_of_work() as uow:
                for member in pending:
                    if member.key in failed:
                        reason = ", ".join(sorted(set(failed[member.key])))
                        uow.incidents.set_member(self.id, member.key, "failed", reason, None)
                    else:
                        # A member or guest is in the channel once invited; someone of another organisation
                        # joins when they accept the Slack Connect invitation (member_joined_channel says when).
                        joined = None if member.key in shared else now
                        uow.incidents.set_member(self.id, member.key, "invited", "", joined)
                uow.commit()

        return record

    def _list_unreached(self, channel: str, resumed: bool) -> None:
        """Nobody is dropped silently: whoever could not be reached is named in the war room, with the reason."""
        listed = set((self._done("unreached") or {}).get("keys", []))
        with self.core.unit_of_work() as uow:
            unreached = [m for m in uow.incidents.members(self.id) if m.state == "failed" and m.key not in listed]
        if not unreached:
            return
        lines = [self.t("incident.unreached_heading")]
        for member in unreached:
            party = self.core.model.party(member.party)
            reasons = ", ".join(self._reason(r) for r in member.reason.split(", "))
            lines.append(self.t("incident.unreached_line", name=member.name,
                                party=party.name(self.t.lang) if party else member.party, reason=reasons))
        self._post(channel, join(lines), f"unreached:{len(listed)}", resumed)
        self._record("unreached", {"keys": sorted(listed | {m.key for m in unreached})})

    def _reason(self, code: str) -> str:
        known = {"user_not_found", "users_not_found", "empty_usergroup", "no_address", "user_is_restricted",
                 "not_allowed", "restricted_action", "invalid_email", "user_disabled", "cant_invite"}
        return self.t.text(f"incident.reason.{code}") if code in known else code


# -- what the war room and the stakeholders are told -----------------------------------------------------------
def brief(uow: UnitOfWork, core: Samverkan, incident: Incident, t: Texts) -> Message:
    model = core.model
    nobody = t.text("incident.nobody")
    services = ", ".join(s.name(t.lang) for s in map(model.service, incident.services) if s) or nobody
    parties = []
    for key in dict.fromkeys(m.party for m in uow.incidents.members(incident.id)):
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
             reaction=model.major_incidents.pin_reaction,
             minutes=model.major_incidents.update_minutes.get(incident.severity, 0)) + join(routes)


def announcement(uow: UnitOfWork, incident: Incident, t: Texts) -> Message:
    channel = ChannelLink(incident.channel_id) if incident.channel_id else "–"
    return t("incident.announcement", ref=incident.ref, title=incident.title, severity=incident.severity,
             channel=channel, commander=mention_actor(uow, incident.commander, t.text("incident.nobody")))
