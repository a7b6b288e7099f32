"""`/deploy`: planned changes, announced before the coordination sitting that precedes them.

A forum whose model entry says `announcements` requires it (section 8.7 for production deployments, section 8.9
for changes touching the City's administrative side at GSIT 2.0's weekly meeting): a change to a service is on the
agenda of every such forum that covers the service.
"""

from __future__ import annotations

from datetime import datetime

from bot import bounds
from bot.commands import CommandSet, Context, UserError
from bot.forum.announcements import announcing_forums
from bot.forum.calendar import Sitting, next_sitting, previous_sitting
from bot.forum.commands import require_planned
from bot.forum.records import Deployment
from bot.forum.when import at, parse_date, parse_time
from bot.message import Message, join
from bot.model.schema import Forum, Service

deploy = CommandSet("deploy")


def _forums(ctx: Context, service: Service) -> list[Forum]:
    found = announcing_forums(ctx.model, service)
    if not found:
        raise UserError("deploy.no_forum", service=service.name(ctx.t.lang))
    return found


def service_named(ctx: Context) -> Service:
    if len(ctx.args) < 4:
        raise UserError("deploy.usage.announce")
    service = ctx.model.service(ctx.args[0].lower())
    if service is None:
        raise UserError("deploy.unknown_service", word=ctx.args[0],
                        known=", ".join(s.key for s in ctx.model.services))
    ctx.args = ctx.args[1:]
    return service


def deployment_named(ctx: Context) -> Deployment:
    if len(ctx.args) != 1:
        raise UserError("deploy.usage.cancel")
    number = bounds.reference(ctx.args[0], "P")
    found = ctx.uow.forum.deployment(number) if number else None
    if found is None or found.cancelled_at is not None:
        raise UserError("deploy.unknown", word=ctx.args[0])
    return found


@deploy.add("announce", "anmäl", "anmal", subject=service_named)
def announce(ctx: Context, service: Service) -> None:
    person = ctx.require_person()
    when = at(parse_date(ctx.args[0]), parse_time(ctx.args[1]))
    require_planned(ctx, when)
    what = bounds.text(" ".join(ctx.args[2:]), bounds.TEXT)
    forums = _forums(ctx, service)
    now = ctx.clock.now()
    made = ctx.uow.forum.add_deployment(service.key, person.party, when, what, ctx.actor, now)
    ctx.record("deploy.announced", made.ref, service=service.key, at=when.isoformat(), what=what,
               forums=[f.key for f in forums])
    wheres: list[Message] = []
    any_late = False
    for coordination in forums:
        sitting = covering_sitting(ctx, coordination, made.at)
        late = sitting is None or sitting.start < now
        any_late = any_late or late
        # A late one is taken up afterwards at the next coordination sitting.
        agenda_sitting = next_sitting(coordination, now, ctx.uow.forum.changes(coordination.key)) if late else sitting
        wheres.append(ctx.t("deploy.on_agenda", forum=coordination.name(ctx.t.lang),
                            when=ctx.t.when(agenda_sitting.start)) if agenda_sitting else ctx.t("deploy.no_sitting"))
        ctx.post(coordination.channel, lambda t, late=late: t(
            "deploy.posted", ref=made.ref, service=service.name(t.lang), when=t.when(when), what=what,
            by=person.name, late=t("deploy.late_mark") if late else ""))
    ctx.reply(ctx.t("deploy.announced", ref=made.ref, where=join(wheres),
                    late=ctx.t("deploy.late_note") if any_late else ""))


def covering_sitting(ctx: Context, coordination: Forum, when: datetime) -> Sitting | None:
    """The last coordination sitting before the deployment: that is where it must have been announced."""
    return previous_sitting(coordination, when, ctx.uow.forum.changes(coordination.key), horizon_days=60)


@deploy.add("list", "lista")
def list_deployments(ctx: Context) -> None:
    service = ctx.model.service(ctx.args[0].lower()) if ctx.args else None
    if ctx.args and service is None:
        raise UserError("deploy.unknown_service", word=ctx.args[0],
                        known=", ".join(s.key for s in ctx.model.services))
    now = ctx.clock.now()
    found = ctx.uow.forum.deployments(now, None, service.key if service else None)
    if not found:
        ctx.reply(ctx.t("deploy.none"))
        return
    lines = [ctx.t("deploy.list_heading")]
    for item in found:
        named = ctx.model.service(item.service)
        forums = announcing_forums(ctx.model, named) if named else []
        late = any((sitting := covering_sitting(ctx, f, item.at)) is None or item.announced_at > sitting.start
                   for f in forums)
        lines.append(ctx.t("deploy.list_line", ref=item.ref, when=ctx.t.when(item.at), what=item.what,
                           service=named.name(ctx.t.lang) if named else item.service,
                           party=party.name(ctx.t.lang) if (party := ctx.model.party(item.party)) else item.party,
                           late=ctx.t("deploy.late_mark") if late else ""))
    ctx.reply(join(lines))


@deploy.add("cancel", "ställ", "stall", subject=deployment_named)
def cancel_deployment(ctx: Context, found: Deployment) -> None:
    person = ctx.require_person()
    ctx.uow.forum.cancel_deployment(found.id, ctx.clock.now())
    ctx.record("deploy.cancelled", found.ref)
    service = ctx.model.service(found.service)
    for coordination in announcing_forums(ctx.model, service) if service else []:
        ctx.post(coordination.channel, lambda t: t("deploy.cancelled_posted", ref=found.ref, what=found.what,
                                                   by=person.name))
    ctx.reply(ctx.t("deploy.cancelled", ref=found.ref))
