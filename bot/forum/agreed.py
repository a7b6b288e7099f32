"""Dates "as the Parties agree" (sections 2.1 and 5.2): a moved or cancelled sitting is news for every party that
attends the forum, told directly and not only in the forum's channel; and a cancellation that leaves the forum
longer than its cadence without a sitting is flagged to the City, which may add one (`/forum extra`, 2.1:
"Leverantören har inte rätt att motsätta sig andra mötesforum som Staden finner adekvata")."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta

from bot.commands import Context
from bot.directory.people import Person
from bot.forum.calendar import Sitting, sittings
from bot.forum.seats import representatives
from bot.i18n import Texts
from bot.message import Message
from bot.model import parties
from bot.model.schema import Forum


def _representing(ctx: Context) -> list[str]:
    return ctx.model.ladder.representative_roles if ctx.model.ladder else []


def attending_people(ctx: Context, found: Forum) -> list[Person]:
    """Who speaks for each party the forum seats: holders of the roles it requires of the party, else its
    representatives (a supplier's Kundansvarig, the City's authorised approvers)."""
    told: dict[str, Person] = {}
    for party in parties.seated(ctx.model, found):
        for person in representatives(ctx.model, found, party, ctx.uow.directory.people(party), _representing(ctx),
                                      always_someone=True):
            told.setdefault(person.key, person)
    return list(told.values())


def tell_parties(ctx: Context, found: Forum, text: Callable[[Texts], Message]) -> None:
    """Each attending party's people told directly, in their language; the one who changed it is answered."""
    person = ctx.person
    for someone in attending_people(ctx, found):
        if person is None or someone.key != person.key:
            ctx.direct(someone, text)


def gap_after_cancelling(ctx: Context, found: Forum, cancelled: Sitting) -> timedelta | None:
    """How long the forum goes without a held sitting once `cancelled` is cancelled, when that is longer than its
    cadence (the rule's own interval around the cancelled sitting); None when it is not (another sitting stands in,
    or the forum has no rule to measure by)."""
    if not found.sits:
        return None
    rule = sittings(found, cancelled.original - timedelta(days=400), cancelled.original + timedelta(days=400))
    before = [s for s in rule if s.original < cancelled.original]
    after = [s for s in rule if s.original > cancelled.original]
    if not before or not after:
        return None
    cadence = after[0].original - cancelled.original
    agreed = ctx.uow.forum.changes(found.key)
    held = [s for s in sittings(found, before[-1].original - cadence, after[0].original + cadence * 2, agreed)
            if s.held and s.original != cancelled.original]
    previous = max((s.start for s in held if s.start <= cancelled.start), default=None)
    following = min((s.start for s in held if s.start > cancelled.start), default=None)
    if previous is None or following is None:
        return None
    gap = following - previous
    return gap if gap > cadence + timedelta(days=7) else None


def flag_long_gap(ctx: Context, found: Forum, cancelled: Sitting) -> None:
    """A cancellation that leaves the forum longer than its cadence without a sitting: the City's people with
    authority (its oversight) are told, to agree another date or add a sitting – whoever cancelled it, the City's
    own chair too (Affärsforum once went a year without a sitting and nobody was warned); not the one who did."""
    person = ctx.require_person()
    gap = gap_after_cancelling(ctx, found, cancelled)
    if gap is None:
        return
    city = next((p.key for p in ctx.model.parties if p.oversight), None)
    if city is None:
        return
    people = ctx.uow.directory.people(city)
    told = [p for p in ([p for p in people if p.authority & {"orderer", "approver"}] or list(people))
            if p.key != person.key]
    ctx.record("forum.long_gap", found.key, original=cancelled.original.isoformat(), days=gap.days)
    for someone in told:
        ctx.direct(someone, lambda t: t("forum.agreed.long_gap", forum=found.name(t.lang), when=t.when(cancelled.start),
                                        by=person.name, party=parties.name(ctx.model, person.party, t.lang),
                                        days=gap.days, cadence=found.cadence(t.lang), key=found.key))
