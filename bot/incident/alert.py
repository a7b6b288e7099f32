"""`/incident alert`: a supplier that cannot keep an incident from affecting users contacts the City at once for
instructions, short of declaring a major incident (section 8.10: "Visar sig detta inte vara möjligt ska
Leverantören och/eller Stadens Övriga Leverantörer utan dröjsmål kontakta Staden för vidare anvisningar")."""

from __future__ import annotations

from bot import bounds
from bot.commands import Context, UserError
from bot.incident.commands import find_service, incident
from bot.incident.roster import city_contacts
from bot.model import parties
from bot.model.schema import Service


def service_named(ctx: Context) -> Service:
    if ctx.model.major_incidents is None:
        raise UserError("incident.not_configured")
    if len(ctx.args) < 2:
        raise UserError("incident.usage.alert")
    found = find_service(ctx, ctx.args[0])
    if found is None:
        raise UserError("incident.alert_unknown_service", word=ctx.args[0][:40],
                        known=", ".join(s.key for s in ctx.model.services))
    ctx.args = ctx.args[1:]
    return found


@incident.add("alert", "larma", "kontakta", subject=service_named)
def alert(ctx: Context, service: Service) -> None:
    text = bounds.text(" ".join(ctx.args), bounds.LONG_TEXT)
    if not text:
        raise UserError("incident.usage.alert")
    person = ctx.require_person()
    told = [p for p in city_contacts(ctx.uow, ctx.model) if p.key != person.key]
    if not told:
        # Nobody holds the City's contact role: its people with authority, so that the alert reaches someone.
        city = next((p.key for p in ctx.model.parties if p.oversight), "")
        told = [p for p in ctx.uow.directory.people(city) if p.authority & {"orderer", "approver"}]
    ctx.record("incident.alert", service.key, party=person.party, text=text[:300])
    for someone in told:
        ctx.direct(someone, lambda t: t("incident.alert_posted", service=service.name(t.lang), by=person.name,
                                        party=parties.name(ctx.model, person.party, t.lang), text=text))
    ctx.reply(ctx.t("incident.alerted", service=service.name(ctx.t.lang),
                    told=", ".join(p.name for p in told) or ctx.t.text("incident.alert_nobody")))
