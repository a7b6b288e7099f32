"""Input the supplier owes the City apart from the forums' sittings (section 4.6, "Säkerställa transparens").

- At fixed times of the year (the model's `underlag`): underlag for the City-wide IT reporting per tertial (April,
  August, year-end) and for the annual IT accounts. Each due time is written down once (a U-number) by the planner;
  the supplier's Kundansvarig is reminded before it, and one missing at its due time is flagged to the City.
- At short notice (the model's `short_notice`): the City's central ordering organisation asks with
  `/forum request <date> [time] <what>`; the Kundansvarig is told at once, reminded when three quarters of the time
  has passed, and a late one is flagged to whoever asked.

Either is delivered with `/forum deliver <U-nr> <link or text>`; `/forum underlag` lists what is owed and delivered.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import date, datetime, timedelta
from typing import TYPE_CHECKING

from bot import bounds
from bot.clock import STOCKHOLM
from bot.commands import Context, Hidden, UserError
from bot.directory.people import Person
from bot.duties import Duty, OnceChat, Outcome, stamp
from bot.forum.calendar import is_working_day
from bot.forum.commands import forum
from bot.forum.records import Underlag, UnderlagRegister
from bot.forum.reminders import HORIZON
from bot.forum.reports import as_delivered, before, content
from bot.forum.when import at, local_date, parse_date, parse_time
from bot.i18n import Texts
from bot.message import Message, join
from bot.model import parties
from bot.model.schema import GovernanceModel, ShortNotice
from bot.model.schema import Underlag as Owed
from bot.native import language
from bot.ports import UnitOfWork

if TYPE_CHECKING:
    from bot.app import Samverkan

DUE = "forum.underlag_due"  # the owner's Kundansvarig is reminded
LATE = "forum.underlag_late"  # the City is told it did not come
PLANNED = "forum.underlag_planned"
SHOWN = timedelta(days=365)  # how long a delivered one stays in `/forum underlag`


def entry(model: GovernanceModel, item: Underlag) -> Owed | None:
    return next((o for o in model.underlag if o.key == item.key), None) if item.key else None


def receiver(model: GovernanceModel, item: Underlag) -> str:
    """The party the underlag is for: the model entry's, or the one that asks at short notice."""
    owed = entry(model, item)
    if owed is not None:
        return owed.to
    return model.short_notice.requested_by if model.short_notice else ""


def owner_roles(model: GovernanceModel, item: Underlag) -> list[str]:
    owed = entry(model, item)
    if owed is not None:
        return owed.roles
    return model.short_notice.roles if model.short_notice else []


# -- when --------------------------------------------------------------------------------------------------------
def due_times(owed: Owed, start: datetime, end: datetime) -> list[datetime]:
    """The entry's due times between start and end: each MM-DD at its time, the working day before when that day
    is none (input for a report is owed before it, not after)."""
    found = []
    for year in range(start.astimezone(STOCKHOLM).year, end.astimezone(STOCKHOLM).year + 1):
        for day in owed.due:
            month, dom = map(int, day.split("-"))
            try:
                when = date(year, month, dom)
            except ValueError:  # 02-30 and the like: the month's last day
                when = date(year, month + 1, 1) - timedelta(days=1) if month < 12 else date(year, 12, 31)
            while not is_working_day(when):
                when -= timedelta(days=1)
            instant = at(when, owed.time)
            if start <= instant <= end:
                found.append(instant)
    return sorted(found)


def remind_at(model: GovernanceModel, item: Underlag) -> datetime:
    owed = entry(model, item)
    if owed is not None:
        return before(item.due, owed.remind)
    # At short notice: when three quarters of the time given has passed.
    return item.requested_at + (item.due - item.requested_at) * 3 / 4


def duty_keys(model: GovernanceModel, item: Underlag) -> list[Duty]:
    payload = {"id": item.id}
    return [Duty(f"{DUE}:{item.id}:{stamp(remind_at(model, item))}", DUE, remind_at(model, item), not_after=item.due,
                 payload=payload),
            Duty(f"{LATE}:{item.id}:{stamp(item.due)}", LATE, item.due, payload=payload)]


def plan(core: Samverkan, now: datetime) -> None:
    model = core.model
    if not model.underlag:
        return
    with core.unit_of_work() as uow:
        since = uow.forum.mark(PLANNED) or now
        known = {(i.key, i.due): i for i in uow.forum.every_underlag() if i.key}
        wanted: list[Duty] = []
        for owed in model.underlag:
            for due in due_times(owed, now, now + HORIZON):
                item = known.get((owed.key, due)) or uow.forum.add_underlag(
                    owed.key, owed.name(model.language), owed.owner, due, None, now)
                if item is None:  # another process wrote it down a moment ago: it plans its duties too
                    continue
                if item.delivered_at is None:
                    wanted.extend(d for d in duty_keys(model, item) if d.due >= since)
        uow.duties.plan_many(wanted)
        uow.forum.set_mark(PLANNED, now)
        uow.commit()


# -- who is told -------------------------------------------------------------------------------------------------
def owners(model: GovernanceModel, uow: UnitOfWork, item: Underlag) -> list[Person]:
    """The owner party's people who deliver it: holders of the roles the model names (the Kundansvarig), else all
    its people."""
    people = list(uow.directory.people(item.owner))
    roles = set(owner_roles(model, item))
    return [p for p in people if p.roles & roles] or people


def receivers(model: GovernanceModel, uow: UnitOfWork, item: Underlag) -> list[Person]:
    """Who hears of it on the City's side: whoever asked; for a fixed-time one, the receiving party's people with
    authority (its authorised approvers and orderers), else all its people."""
    if item.requested_by:
        asker = uow.directory.by_key(item.requested_by)
        return [asker] if asker else []
    people = list(uow.directory.people(receiver(model, item)))
    return [p for p in people if p.authority & {"orderer", "approver"}] or people


def _direct(once: OnceChat, people: Sequence[Person], written: dict[str, Message]) -> None:
    for person in people:
        user = person.account or (once.chat.find_user_by_email(person.email) if person.email else None)
        if user:
            once.direct(user, written[person.key], part=person.key)


def _still_owed(core: Samverkan, uow: UnitOfWork, duty: Duty) -> Underlag | None:
    item = uow.forum.underlag(int(duty.payload["id"]))
    if item is None or item.delivered_at is not None:
        return None
    if duty.key not in {d.key for d in duty_keys(core.model, item)}:
        return None
    return item


def _tell(core: Samverkan, once: OnceChat, duty: Duty, who, key: str) -> Outcome:  # type: ignore[no-untyped-def]
    model = core.model
    with core.unit_of_work() as uow:
        item = _still_owed(core, uow, duty)
        if item is None:
            return "dropped"
        told: list[Person] = who(model, uow, item)
        texts = language.texts_for(uow, [p.account for p in told], core.lang)
        asker = uow.directory.by_key(item.requested_by) if item.requested_by else None

    def write(t: Texts) -> Message:
        return t(key, ref=item.ref, title=item.title, due=t.when(item.due),
                 owner=parties.name(model, item.owner, t.lang), by=asker.name if asker else "")

    _direct(once, told, {p.key: write(texts[p.account]) for p in told})
    return "done"


def perform_due(core: Samverkan, duty: Duty, now: datetime, once: OnceChat) -> Outcome:
    return _tell(core, once, duty, owners, "forum.underlag.due_soon")


def perform_late(core: Samverkan, duty: Duty, now: datetime, once: OnceChat) -> Outcome:
    return _tell(core, once, duty, receivers, "forum.underlag.late")


# -- asking at short notice -----------------------------------------------------------------------------------------
def short_notice(ctx: Context) -> ShortNotice:
    if ctx.model.short_notice is None:
        raise UserError("forum.underlag.no_short_notice")
    return ctx.model.short_notice


@forum.add("request", "begär", "begar", "beställ", "bestall", subject=short_notice)
def request(ctx: Context, rule: ShortNotice) -> None:
    if len(ctx.args) < 2:
        raise UserError("forum.usage.request")
    day = local_date(ctx.clock.now())
    due_day = parse_date(ctx.args[0])
    words = ctx.args[1:]
    clock_time = parse_time("12:00")
    if words and ":" in words[0]:
        clock_time = parse_time(words[0])
        words = words[1:]
    what = bounds.text(" ".join(words), bounds.TEXT)
    if not what:
        raise UserError("forum.usage.request")
    now = ctx.clock.now()
    if due_day < day:
        raise UserError("forum.in_the_past", when=ctx.args[0])
    if not bounds.around(due_day, day):
        raise UserError("forum.too_far_ahead", when=ctx.args[0])
    due = at(due_day, clock_time)
    if due <= now:
        raise UserError("forum.in_the_past", when=ctx.t.when(due))
    if not bounds.ahead(due, now):
        raise UserError("forum.too_far_ahead", when=ctx.t.when(due))
    person = ctx.require_person()
    item = ctx.uow.forum.add_underlag(None, what, rule.owner, due, person.key, now)
    assert item is not None  # only a model entry's due times are unique
    ctx.uow.duties.plan_many(duty_keys(ctx.model, item))
    ctx.record("forum.underlag_requested", item.ref, owner=rule.owner, due=due.isoformat(), text=what[:300])
    told = owners(ctx.model, ctx.uow, item)
    for someone in told:
        ctx.direct(someone, lambda t: t("forum.underlag.requested_posted", ref=item.ref, title=what,
                                        due=t.when(due), by=person.name,
                                        party=parties.name(ctx.model, person.party, t.lang)))
    names = ", ".join(p.name for p in told) or ctx.t.text("forum.underlag.nobody")
    ctx.reply(ctx.t("forum.underlag.requested", ref=item.ref, due=ctx.t.when(due),
                    owner=parties.name(ctx.model, rule.owner, ctx.t.lang), told=names))


# -- delivering -----------------------------------------------------------------------------------------------------
def named(ctx: Context) -> Underlag:
    if not ctx.args:
        raise UserError("forum.usage.deliver")
    word = ctx.args[0]
    number = bounds.reference(word, "U")
    item = ctx.uow.forum.underlag(number, lock=True) if number else None
    if item is None:
        raise UserError("forum.underlag.not_found", word=word[:40])
    person = ctx.person
    if person is None or person.party not in {item.owner, receiver(ctx.model, item)}:
        raise Hidden("forum.underlag.not_found", word=word[:40])
    ctx.args = ctx.args[1:]
    return item


@forum.add("deliver", "leverera", "lämna", "lamna", subject=named)
def deliver(ctx: Context, item: Underlag) -> None:
    text = as_delivered(bounds.text(" ".join(ctx.args), bounds.TEXT))
    if not text:
        raise UserError("forum.usage.deliver")
    if item.delivered_at is not None:
        raise UserError("forum.underlag.already", ref=item.ref, at=ctx.t.when(item.delivered_at))
    person = ctx.require_person()
    now = ctx.clock.now()
    if not ctx.uow.forum.deliver_underlag(item.id, text, person.key, now):
        raise UserError("forum.underlag.already", ref=item.ref, at=ctx.t.when(now))
    for duty in duty_keys(ctx.model, item):
        ctx.uow.duties.unplan(duty.key)
    late = now > item.due
    ctx.record("forum.underlag_delivered", item.ref, late=late, text=text[:300])
    for someone in receivers(ctx.model, ctx.uow, item):
        ctx.direct(someone, lambda t: t("forum.underlag.delivered_posted", ref=item.ref, title=item.title,
                                        by=person.name, content=content(text),
                                        late=t("forum.underlag.late_mark") if late else ""))
    ctx.reply(ctx.t("forum.underlag.delivered", ref=item.ref, title=item.title,
                    late=ctx.t("forum.underlag.late_mark") if late else ""))


# -- the list -------------------------------------------------------------------------------------------------------
def register_of(ctx: Context) -> UnderlagRegister:
    model = ctx.model
    if model.short_notice:
        return UnderlagRegister(model.short_notice.owner, model.short_notice.requested_by)
    if model.underlag:
        return UnderlagRegister(model.underlag[0].owner, model.underlag[0].to)
    raise UserError("forum.underlag.no_short_notice")


@forum.add("underlag", "rapporter", subject=register_of)
def list_underlag(ctx: Context, register: UnderlagRegister) -> None:
    if ctx.args:
        raise UserError("forum.usage.underlag")
    now = ctx.clock.now()
    ctx.reply(listing(ctx.model, ctx.uow.forum.every_underlag(), ctx.t, now))


def listing(model: GovernanceModel, items: Iterable[Underlag], t: Texts, now: datetime) -> Message:
    shown = [i for i in items if i.delivered_at is None or now - i.delivered_at <= SHOWN]
    if not shown:
        return t("forum.underlag.empty")
    lines = [t("forum.underlag.heading", count=len(shown))]
    for item in shown:
        kind = t.text("forum.underlag.asked", by=item.requested_by) if item.requested_by else t.text(
            "forum.underlag.yearly")
        if item.delivered_at is not None:
            state = t.text("forum.underlag.state_delivered", at=t.when(item.delivered_at),
                           by=item.delivered_by or "") + (t.text("forum.underlag.late_mark")
                                                          if item.delivered_at > item.due else "")
        elif now >= item.due:
            state = t.text("forum.underlag.state_late")
        else:
            state = t.text("forum.underlag.state_owed")
        lines.append(t("forum.underlag.line", ref=item.ref, title=item.title, due=t.when(item.due), kind=kind,
                       state=state, owner=parties.name(model, item.owner, t.lang)))
    return join(lines)
