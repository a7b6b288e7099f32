"""Messages kept current in place: a disagreement's notice, a war room's brief, an action in its forum's channel.

Such a message is posted by a duty, which writes its reference (channel and ts) into the database, so that it is
found again after a restart. It is drawn from the subject as it stands: its `head` (what happened, as posted) and a
view of the subject (its state and buttons) that each kind of subject registers in `VIEWS`. When a subject changes,
the use case asks for a redraw (`changed`): a duty, performed after the commit, draws each of the subject's
messages anew and updates those that look different (a hash says so), each at most once a second (Slack's limit for
chat.update); an update that has to wait is left to a follow-up duty at the end of that second. A notice superseded
by a newer one for the same reader is frozen: shown once more as its head alone, without buttons, then left be.
"""

from __future__ import annotations

import hashlib
import json
import logging
import uuid
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from bot.directory.people import Person
from bot.domain_events import WorkPlanned
from bot.duties import Duty, OnceChat, Outcome
from bot.i18n import Lang, Texts
from bot.message import Message, from_json, to_json
from bot.native.records import LiveMessage
from bot.ports import UnitOfWork
from bot.reading import Remembering

if TYPE_CHECKING:
    from bot.app import Samverkan
    from bot.commands import Context, Say

log = logging.getLogger(__name__)

POST = "live.post"
REFRESH = "live.refresh"
# Slack's limit: chat.update on one message at most once a second.
GAP = timedelta(seconds=1)

# (core, uow, the subject's id, who reads it (None in a channel), their catalogue) -> the subject as it stands, or
# None when there is nothing to show of it (it vanished, or the reader may no longer see it).
View = Callable[["Samverkan", UnitOfWork, str, Person | None, Texts], Message | None]
VIEWS: dict[str, View] = {}


def view(kind: str) -> Callable[[View], View]:
    """Registers how a kind of subject ("disagreement", "incident", "action") is shown in its messages."""
    def register(draw: View) -> View:
        VIEWS[kind] = draw
        return draw

    return register


# (uow, the subject's id) -> what its messages are drawn from, as a value to compare: when it is the same after a
# message was written down as when that message was drawn, the message shows the subject as it stands and is not
# drawn again. A kind without one is always drawn again.
Stamp = Callable[[UnitOfWork, str], object]
STAMPS: dict[str, Stamp] = {}


def stamp(kind: str) -> Callable[[Stamp], Stamp]:
    """Registers what a kind of subject's messages are drawn from (see `Stamp`)."""
    def register(read: Stamp) -> Stamp:
        STAMPS[kind] = read
        return read

    return register


def _stamp_of(uow: UnitOfWork, about: str) -> object | None:
    kind, _, ident = about.partition(":")
    found = STAMPS.get(kind)
    return found(uow, ident) if found else None


def subject(kind: str, ident: int | str) -> str:
    return f"{kind}:{ident}"


def digest(message: Message) -> str:
    return hashlib.sha256(json.dumps(to_json(message), sort_keys=True).encode()).hexdigest()


def draw(core: Samverkan, uow: UnitOfWork, about: str, viewer: Person | None, t: Texts) -> Message:
    """The subject as the reader sees it now (its state and buttons); empty when there is nothing to show."""
    kind, _, ident = about.partition(":")
    found = VIEWS.get(kind)
    return (found(core, uow, ident, viewer, t) if found else None) or Message()


def compose(core: Samverkan, uow: UnitOfWork, message: LiveMessage) -> Message:
    head = from_json(message.head) if message.head else Message()
    if message.frozen:
        return head
    viewer = uow.directory.by_key(message.viewer) if message.viewer else None
    return head + draw(core, uow, message.subject, viewer, Texts(message.lang))


# -- asked for by a use case, in its transaction -------------------------------------------------------------------
def notify(ctx: Context, about: str, head: Say, person: Person | None = None, channel: str | None = None) -> None:
    """Posts a message kept current: directly to a person (in their language), or in a channel (in the channels'
    language). Planned in the command's transaction, posted right after its commit (or by the sweep)."""
    if person is not None:
        if not (person.account or person.email):
            return
        t = ctx.texts_of(person)
        to: dict[str, Any] = {"to": "direct", "user": person.account, "email": person.email, "viewer": person.key}
    else:
        assert channel, "a message kept current goes to a person or a channel"
        t = ctx.shared
        to = {"to": "post", "channel": channel, "viewer": ""}
    written = head if isinstance(head, Message) else head(t)
    duty = Duty(f"{POST}:{uuid.uuid4().hex}", POST, ctx.clock.now(),
                payload={"subject": about, "head": to_json(written), "lang": t.lang, **to})
    ctx.uow.duties.plan(duty)
    ctx.emit(WorkPlanned(duty))


def changed(ctx: Context, about: str) -> None:
    """The subject changed: its messages are drawn anew right after the commit."""
    if not ctx.uow.live.unsettled(about):
        return  # nothing posted of it yet; what is being posted is drawn as it stands when it goes out
    duty = _refresh_duty(about, ctx.clock.now())
    ctx.uow.duties.plan(duty)
    ctx.emit(WorkPlanned(duty))


def _refresh_duty(about: str, due: datetime) -> Duty:
    return Duty(f"{REFRESH}:{about}:{uuid.uuid4().hex}", REFRESH, due, payload={"subject": about})


# -- performed -----------------------------------------------------------------------------------------------------
def perform_post(core: Samverkan, duty: Duty, now: datetime, once: OnceChat) -> Outcome:
    p = duty.payload
    where = p.get("user") or p.get("channel") or ""
    if p["to"] == "direct" and not where:
        # Someone of another organisation who has not spoken to the bot: reached by their e-mail address.
        where = once.chat.find_user_by_email(p.get("email") or "") or ""
        if not where:
            return "dropped"
    deliver(core, once, p["subject"], p.get("viewer") or "", where, p["to"] == "direct", p["head"], p["lang"])
    return "done"


@dataclass(frozen=True)
class Notice:
    """One message to post and keep current: to `where` (a user for a direct message, else a channel), said
    through `once`, the performing duty's chat."""

    once: OnceChat
    about: str
    viewer: str
    where: str
    direct: bool
    head: dict[str, Any] | None
    lang: Lang
    part: str = ""


def deliver(core: Samverkan, once: OnceChat, about: str, viewer: str, where: str, direct: bool,
            head: dict[str, Any] | None, lang: Lang, part: str = "", redraw: bool = True) -> str:
    """Posts the message, writes down where it is, freezes the one it supersedes, and (unless the caller does,
    once for several) draws the subject's messages anew: something may have changed while this one was on its way.
    Returns the message's reference."""
    sent = deliver_many(core, [Notice(once, about, viewer, where, direct, head, lang, part)], redraw)[0]
    if isinstance(sent, Exception):
        raise sent
    return sent


def deliver_many(core: Samverkan, notices: Sequence[Notice], redraw: bool = True) -> list[str | Exception]:
    """`deliver` for many at once (a sweep's escalations): drawn in one read, each posted through its own chat,
    written down in one transaction, and their subjects drawn anew together. Returns each one's reference, or the
    exception that kept it from being posted (the others are posted all the same)."""
    now = core.clock.now()
    abouts = sorted({n.about for n in notices})
    with core.unit_of_work(read_only=True) as uow:
        seen = Remembering(uow)
        drawn = [compose(core, seen, LiveMessage(0, n.about, n.viewer, n.where, "", n.lang, n.head, "", now))
                 for n in notices]
        stamps = {about: _stamp_of(seen, about) for about in abouts}
    sent: list[str | Exception] = []
    posted: list[LiveMessage] = []
    for n, message in zip(notices, drawn, strict=True):
        try:
            ref = (n.once.direct(n.where, message, part=n.part) if n.direct
                   else n.once.post(n.where, message, part=n.part))
        except Exception as exc:
            sent.append(exc)
            continue
        sent.append(ref)
        if ref:
            posted.append(LiveMessage(0, n.about, n.viewer, n.where, ref, n.lang, n.head, digest(message), now))
    written = _write_down(core, posted)
    if redraw:
        fresh: dict[str, set[int]] = {}
        for message in written:
            fresh.setdefault(message.subject, set()).add(message.id)
        refresh_many(core, abouts, {about: (stamps[about], fresh.get(about, set())) for about in abouts})
    return sent


def perform_refresh(core: Samverkan, duty: Duty, now: datetime, once: OnceChat) -> Outcome:
    about = duty.payload["subject"]
    with core.unit_of_work() as uow:
        # Redraws asked for before this one began are covered by it: they were committed, and it reads after.
        for key in uow.duties.pending_keys(f"{REFRESH}:{about}:"):
            uow.duties.unplan(key)
        uow.commit()
    refresh(core, about)
    return "done"


def track(core: Samverkan, about: str, viewer: str, where: str, ref: str, lang: Lang,
          head: dict[str, Any] | None, message: Message) -> None:
    """Writes down a message to keep current (once, however often it is reported)."""
    if ref:
        _write_down(core, [LiveMessage(0, about, viewer, where, ref, lang, head, digest(message), core.clock.now())])


def _write_down(core: Samverkan, posted: Sequence[LiveMessage]) -> list[LiveMessage]:
    """Records the posted messages in one transaction, each once, freezing what each supersedes; returns those
    it recorded."""
    if not posted:
        return []
    written = []
    with core.unit_of_work() as uow:
        for message in posted:
            added = uow.live.add(message)
            if added is not None:
                uow.live.freeze_others(message.subject, message.viewer, message.channel, added.id)
                written.append(added)
        uow.commit()
    return written


def refresh(core: Samverkan, about: str) -> None:
    refresh_many(core, [about])


def refresh_many(core: Samverkan, abouts: Sequence[str],
                 drawn_from: Mapping[str, tuple[object | None, set[int]]] | None = None) -> None:
    """Draws the subjects' messages anew, in one read, and updates those that look different. `drawn_from` gives,
    for a subject, what some of its messages (by id) were just drawn from: if the subject still stands so, those
    show it as it is and are not drawn again."""
    now = core.clock.now()
    with core.unit_of_work(read_only=True) as uow:
        seen = Remembering(uow)
        drawn = []
        for about in abouts:
            was, current = (drawn_from or {}).get(about, (None, set()))
            if was is None or _stamp_of(seen, about) != was:
                current = set()
            drawn += [(message, compose(core, seen, message)) for message in uow.live.unsettled(about)
                      if message.id not in current]
    later: dict[str, datetime] = {}
    for message, shown in drawn:
        new = digest(shown)
        if new == message.hash:
            if message.frozen:
                _shown(core, message, new)
            continue
        with core.unit_of_work() as uow:
            free = uow.live.take_slot(message.id, now, now - GAP)
            uow.commit()
        if not free:
            # Updated less than a second ago: the rest of this change waits for the end of that second.
            due = (message.updated_at or now) + GAP
            later[message.subject] = min(later.get(message.subject, due), due)
            continue
        if not core.chat.update(message.channel, message.ref, shown):
            log.info("%s's message %s in %s is gone; it is no longer kept current", message.subject, message.ref,
                     message.channel)
            _shown(core, message, new, gone=True)
            continue
        _shown(core, message, new)
    if later:
        with core.unit_of_work() as uow:
            for about, due in later.items():
                if not uow.duties.pending_keys(f"{REFRESH}:{about}:"):
                    uow.duties.plan(_refresh_duty(about, due))
            uow.commit()


def _shown(core: Samverkan, message: LiveMessage, new: str, gone: bool = False) -> None:
    with core.unit_of_work() as uow:
        uow.live.shown(message.id, new, settled=message.frozen or gone)
        uow.commit()
