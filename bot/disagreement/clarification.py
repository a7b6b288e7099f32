"""`/disagreement clarify`: the City ends a question between suppliers by recording the responsibility boundary
("Staden träffar överenskommelse ... om förtydligade ansvarsgränser", section 8.10). The boundaries form a register,
exported with `samverkan export`."""

from __future__ import annotations

from bot.commands import Context, UserError
from bot.disagreement import escalation
from bot.disagreement.commands import _entry, _tell_concerned, _text, disagreement, named
from bot.disagreement.records import Disagreement
from bot.model import parties


@disagreement.add("clarify", "klargör", "klargor", "klargörande",
                  subject=named("disagreement.usage.clarify", still_open=False))
def clarify(ctx: Context, d: Disagreement) -> None:
    boundary = _text(ctx, "disagreement.usage.clarify")
    if not d.led_by:
        # Between the City and a supplier the ladder decides; a party does not clarify its own dispute.
        raise UserError("disagreement.clarify_only_led", ref=d.ref)
    if d.state not in ("open", "settled"):
        raise UserError(f"disagreement.not_open.{d.state}", ref=d.ref)
    person = ctx.require_person()
    made = ctx.uow.disagreements.clarify(d.id, boundary, person.key, ctx.clock.now())
    _entry(ctx, d, "clarified", boundary)
    escalation.withdraw(ctx.uow, d)
    leader = d.led_by
    _tell_concerned(ctx, d, lambda t: t("disagreement.clarified_posted", ref=d.ref, title=d.title, text=boundary,
                                        clarification=made.ref, parties=escalation.parties_text(ctx.model, d, t),
                                        leader=parties.name(ctx.model, leader, t.lang), by=person.name))
    ctx.reply(ctx.t("disagreement.clarified", ref=d.ref, clarification=made.ref, text=boundary))
