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
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from bot.directory.people import Person
from bot.domain_events import WorkPlanned
from bot.duties import Duty, OnceChat, Outcome
from bot.i18n import Lang, Texts
from bot.message import Message, from_json, to_json
from bot.native.records import LiveMessage
from bot.ports import UnitOfWork

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


def deliver(core: Samverkan, once: OnceChat, about: str, viewer: str, where: str, direct: bool,
            head: dict[str, Any] | None, lang: Lang, part: str = "", redraw: bool = True) -> str:
    """Posts the message, writes down where it is, freezes the one it supersedes, and (unless the caller does,
    once for several) draws the subject's messages anew: something may have changed while this one was on its way.
    Returns the message's reference."""
    shown = LiveMessage(0, about, viewer, where, "", lang, head, "", core.clock.now())
    with core.unit_of_work(read_only=True) as uow:
        message = compose(core, uow, shown)
    ref = once.direct(where, message, part=part) if direct else once.post(where, message, part=part)
    track(core, about, viewer, where, ref, lang, head, message)
    if redraw:
        refresh(core, about)
    return ref


def track(core: Samverkan, about: str, viewer: str, where: str, ref: str, lang: Lang,
          head: dict[str, Any] | None, message: Message) -> None:
    """Writes down a message to keep current (once, however often it is reported)."""
    if not ref:
        return
    with core.unit_of_work() as uow:
        added = uow.live.add(LiveMessage(0, about, viewer, where, ref, lang, head, digest(message), core.clock.now()))
        if added is not None:
            uow.live.freeze_others(about, viewer, where, added.id)
        uow.commit()


def perform_refresh(core: Samverkan, duty: Duty, now: datetime, once: OnceChat) -> Outcome:
    about = duty.payload["subject"]
    with core.unit_of_work() as uow:
        # Redraws asked for before this one began are covered by it: they were committed, and it reads after.
        for key in uow.duties.pending_keys(f"{REFRESH}:{about}:"):
            uow.duties.unplan(key)
        uow.commit()
    refresh(core, about)
    return "done"


def refresh(core: Samverkan, about: str) -> None:
    now = core.clock.now()
    with core.unit_of_work(read_only=True) as uow:
        drawn = [(message, compose(core, uow, message)) for message in uow.live.unsettled(about)]
    later: datetime | None = None
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
            later = min(later, due) if later else due
            continue
        if not core.chat.update(message.channel, message.ref, shown):
            log.info("%s's message %s in %s is gone; it is no longer kept current", about, message.ref,
                     message.channel)
            _shown(core, message, new, gone=True)
            continue
        _shown(core, message, new)
    if later is not None:
        with core.unit_of_work() as uow:
            if not uow.duties.pending_keys(f"{REFRESH}:{about}:"):
                uow.duties.plan(_refresh_duty(about, later))
            uow.commit()


def _shown(core: Samverkan, message: LiveMessage, new: str, gone: bool = False) -> None:
    with core.unit_of_work() as uow:
        uow.live.shown(message.id, new, settled=message.frozen or gone)
        uow.commit()
