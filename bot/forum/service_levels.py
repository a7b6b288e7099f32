"""Leveransuppföljning's decision (section 5.2): "Staden genom Stadens Centrala Beställarorganisation godkänner
eller underkänner formellt uppfyllnaden av föregående månads Servicenivåer och nyckeltal samt reglerar eventuella
Servicekrediter".

Before each sitting the supplier owes the month's delivery report (bot.forum.reports, as every report). The City's
authorised people (the model's `forums[].service_levels`: its central ordering organisation's authorised approvers)
record the formal approval or rejection of a month with `/forum sla <YYYY-MM> approve|reject [credit=<SEK>] <reason>`;
`/forum sla list` and `samverkan export` give the register. A month still undecided `decide_within` working days
after the sitting that follows it up is flagged to them.
"""

from __future__ import annotations

import re
from datetime import date, datetime, timedelta
from typing import TYPE_CHECKING

from bot import bounds
from bot.clock import STOCKHOLM
from bot.commands import Context, UserError
from bot.directory.people import Person
from bot.duties import Duty, OnceChat, Outcome, stamp
from bot.forum.calendar import Sitting, by_forum, is_working_day, sittings
from bot.forum.commands import forum
from bot.forum.records import ServiceLevelDecision, ServiceLevelMonth
from bot.forum.reminders import HORIZON
from bot.forum.seats import representatives, tell
from bot.i18n import Texts
from bot.message import Message, join
from bot.model import parties
from bot.model.schema import Forum, GovernanceModel
from bot.native import language
from bot.ports import UnitOfWork

if TYPE_CHECKING:
    from bot.app import Samverkan

UNDECIDED = "forum.sla_undecided"  # a month's service levels still undecided: the City's deciders are told
PLANNED = "forum.sla_planned"
SINCE = "forum.sla_since"  # when Samverkan began following the decisions: undecided months are counted from then
# How far back a month may be decided (a late decision is still a decision), and how far back the register
# shows the months still undecided.
OLDEST = 24
_MONTH = re.compile(r"^(\d{4})-(\d{2})$")
_CREDIT = re.compile(r"^(credit|kredit)=(.*)$", re.IGNORECASE | re.DOTALL)
_AMOUNT = re.compile(r"^(\d{1,12})(?:kr|sek)?$", re.IGNORECASE)
APPROVE = ("approve", "approved", "godkänn", "godkann", "godkänd", "godkand")
REJECT = ("reject", "rejected", "underkänn", "underkann", "underkänd", "underkand")
LIST = ("list", "lista", "register", "registret")


def deciding_forum(model: GovernanceModel) -> Forum | None:
    return next((f for f in model.calendar if f.service_levels), None)


def month_of(day: date) -> str:
    return f"{day.year:04d}-{day.month:02d}"


def previous_month(day: date) -> str:
    first = day.replace(day=1) - timedelta(days=1)
    return month_of(first)


def followed_up(sitting: Sitting) -> str:
    """The month a sitting follows up: the one before the month it sits in ("föregående månads")."""
    return previous_month(sitting.start.astimezone(STOCKHOLM).date())


def after(instant: datetime, working_days: int) -> datetime:
    """`working_days` working days after the instant (weekends and Swedish public holidays skipped)."""
    wall = instant.astimezone(STOCKHOLM)
    day, left = wall.date(), working_days
    while left:
        day += timedelta(days=1)
        left -= is_working_day(day)
    return datetime.combine(day, wall.time(), tzinfo=STOCKHOLM)


def flag_at(found: Forum, sitting: Sitting) -> datetime:
    assert found.service_levels is not None
    return after(sitting.end, found.service_levels.decide_within)


# -- the command -------------------------------------------------------------------------------------------------
def _month(ctx: Context, word: str) -> str:
    match = _MONTH.match(word)
    if not match or not 1 <= int(match.group(2)) <= 12:
        raise UserError("forum.sla.bad_month", word=word[:40])
    today = ctx.clock.now().astimezone(STOCKHOLM).date()
    current = month_of(today)
    if word >= current:
        raise UserError("forum.sla.not_over", month=word, current=current)
    year, month = int(match.group(1)), int(match.group(2))
    if (today.year - year) * 12 + today.month - month > OLDEST:
        raise UserError("forum.sla.too_old", month=word, months=OLDEST)
    return word


def subject(ctx: Context) -> ServiceLevelMonth:
    found = deciding_forum(ctx.model)
    if found is None:
        raise UserError("forum.sla.none")
    if not ctx.args:
        raise UserError("forum.usage.sla")
    word = ctx.args[0].lower()
    ctx.args = ctx.args[1:]
    if word in LIST:
        return ServiceLevelMonth(found, None)
    return ServiceLevelMonth(found, _month(ctx, word))


def _credit(word: str) -> int:
    amount = _AMOUNT.match(word.replace(" ", "").replace("_", ""))
    if not amount or int(amount.group(1)) <= 0:
        raise UserError("forum.sla.bad_credit", word=word[:40])
    return int(amount.group(1))


def sek(amount: int) -> str:
    return f"{amount:,}".replace(",", " ")


@forum.add("sla", "servicenivåer", "servicenivaer", "servicenivå", "servicenivå", subject=subject)
def sla(ctx: Context, about: ServiceLevelMonth) -> None:
    if about.month is None:
        if ctx.args:
            raise UserError("forum.usage.sla")
        ctx.reply(register(ctx.model, ctx.uow, ctx.t, ctx.clock.now(), about.forum))
        return
    if not ctx.args:
        raise UserError("forum.usage.sla")
    verb = ctx.args[0].lower()
    if verb not in APPROVE + REJECT:
        raise UserError("forum.sla.verb", word=verb[:40])
    approved = verb in APPROVE
    credit: int | None = None
    words = []
    for word in ctx.args[1:]:
        if match := _CREDIT.match(word):
            credit = _credit(match.group(2))
        else:
            words.append(word)
    reason = bounds.text(" ".join(words), bounds.TEXT)
    if not reason:
        raise UserError("forum.sla.reason_needed")
    person = ctx.require_person()
    month, found = about.month, about.forum
    earlier = ctx.uow.forum.service_level_decision(month)
    made = None if earlier else ctx.uow.forum.decide_service_levels(
        month, found.key, approved, credit, reason, person.party, person.key, ctx.clock.now())
    if made is None:
        earlier = earlier or ctx.uow.forum.service_level_decision(month)
        assert earlier is not None
        raise UserError("forum.sla.already", month=month, decision=ctx.t.text(_state(earlier)), by=earlier.by,
                        at=ctx.t.when(earlier.at))
    ctx.record("forum.service_levels_decided", month, forum=found.key, approved=approved, credit_sek=credit,
               reason=reason[:300])
    ctx.post(found.channel, lambda t: t("forum.sla.posted", month=month, decision=t.text(_state(made)),
                                        credit=_credit_text(t, made), by=person.name, reason=reason,
                                        party=parties.name(ctx.model, person.party, t.lang)))
    ctx.reply(ctx.t("forum.sla.recorded", month=month, decision=ctx.t.text(_state(made)),
                    credit=_credit_text(ctx.t, made), forum=found.name(ctx.t.lang)))


def _state(decision: ServiceLevelDecision) -> str:
    return "forum.sla.approved" if decision.approved else "forum.sla.rejected"


def _credit_text(t: Texts, decision: ServiceLevelDecision) -> str:
    return t.text("forum.sla.credit", amount=sek(decision.credit_sek)) if decision.credit_sek else ""


def undecided(model: GovernanceModel, uow: UnitOfWork, found: Forum, now: datetime) -> list[tuple[str, Sitting]]:
    """The months whose follow-up sitting has been held since Samverkan began following them (at most OLDEST
    months back), none decided."""
    decided = {d.month for d in uow.forum.service_level_decisions()}
    since = max(uow.forum.mark(SINCE) or now, now - timedelta(days=31 * OLDEST))
    held = [s for s in sittings(found, since, now, uow.forum.changes(found.key)) if s.held and s.end <= now]
    return [(followed_up(s), s) for s in held if followed_up(s) not in decided]


def register(model: GovernanceModel, uow: UnitOfWork, t: Texts, now: datetime, found: Forum) -> Message:
    decisions = list(uow.forum.service_level_decisions())
    waiting = undecided(model, uow, found, now)
    if not decisions and not waiting:
        return t("forum.sla.empty", forum=found.name(t.lang))
    lines = [t("forum.sla.heading", forum=found.name(t.lang), count=len(decisions))]
    lines.extend(t("forum.sla.line", month=d.month, decision=t.text(_state(d)), credit=_credit_text(t, d),
                   by=d.by, at=t.when(d.at), reason=d.reason) for d in decisions)
    for month, sitting in waiting:
        late = now >= flag_at(found, sitting)
        lines.append(t("forum.sla.waiting_line", month=month, when=t.when(sitting.start),
                       late=t.text("forum.sla.late_mark") if late else ""))
    return join(lines)


# -- flagged when left undecided ---------------------------------------------------------------------------------
def duty_key(month: str, when: datetime) -> str:
    return f"{UNDECIDED}:{month}:{stamp(when)}"


def plan(core: Samverkan, now: datetime) -> None:
    found = deciding_forum(core.model)
    if found is None:
        return
    with core.unit_of_work() as uow:
        since = uow.forum.mark(PLANNED) or now
        if uow.forum.mark(SINCE) is None:
            uow.forum.set_mark(SINCE, now)
        agreed = by_forum(uow.forum.changes()).get(found.key, [])
        wanted: dict[str, Duty] = {}
        # A sitting held up to a month and a half ago may still have its flag ahead of it.
        for sitting in sittings(found, now - timedelta(days=45), now + HORIZON, agreed):
            when = flag_at(found, sitting)
            if sitting.held and when >= since:
                month = followed_up(sitting)
                key = duty_key(month, when)
                wanted[key] = Duty(key, UNDECIDED, when, payload={"month": month, "forum": found.key,
                                                                  "sitting": sitting.start.isoformat()})
        for key in uow.duties.pending_keys(f"{UNDECIDED}:", UNDECIDED):
            if key not in wanted:
                uow.duties.unplan(key)
        uow.duties.plan_many(list(wanted.values()))
        uow.forum.set_mark(PLANNED, now)
        uow.commit()


def deciders(model: GovernanceModel, uow: UnitOfWork, found: Forum) -> list[Person]:
    """Who is told of an undecided month: the people who may decide it, or failing any, the deciding party's
    people at the forum."""
    rule = found.service_levels
    assert rule is not None
    people = list(uow.directory.people(rule.decided_by))
    chosen = [p for p in people if rule.authority in p.authority]
    return chosen or representatives(model, found, rule.decided_by, people, always_someone=True)


def perform_undecided(core: Samverkan, duty: Duty, now: datetime, once: OnceChat) -> Outcome:
    model = core.model
    found = model.sitting_forum(duty.payload["forum"])
    if found is None or found.service_levels is None:
        return "dropped"
    month = duty.payload["month"]
    sitting_start = datetime.fromisoformat(duty.payload["sitting"])
    with core.unit_of_work() as uow:
        if uow.forum.service_level_decision(month) is not None:
            return "dropped"
        told = deciders(model, uow, found)
        texts = language.texts_for(uow, [p.account for p in told], core.lang)
    days = found.service_levels.decide_within

    def flagged(t: Texts) -> Message:
        return t("forum.sla.undecided", month=month, forum=found.name(t.lang), when=t.when(sitting_start),
                 days=days)

    tell(once, found, told, flagged(core.texts), {p.key: flagged(texts[p.account]) for p in told})
    return "done"
