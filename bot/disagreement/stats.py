"""`/disagreement stats`: the figures the contract forum follows up, over what the asker may see."""

from __future__ import annotations

from collections import Counter, defaultdict
from statistics import median
from typing import TYPE_CHECKING

from bot.disagreement.records import Disagreement
from bot.message import Message, join, line

if TYPE_CHECKING:
    from bot.commands import Context


def figures(ctx: Context, scope: str | None) -> Message:
    t = ctx.t
    model = ctx.model
    everything = ctx.uow.disagreements.every(scope)
    if not everything:
        return t("disagreement.stats.empty")
    by_id = {d.id: d for d in everything}
    entries = ctx.uow.disagreements.every_entry(scope)

    def forum_name(key: str) -> str:
        forum = model.sitting_forum(key) or model.forum(key)
        return forum.name(t.lang) if forum else key

    def party_name(key: str) -> str:
        party = model.party(key)
        return party.name(t.lang) if party else key

    lines = [t("disagreement.stats.heading", total=len(everything),
               open=sum(d.is_open for d in everything))]
    open_at: dict[str, Counter[str]] = defaultdict(Counter)
    for d in everything:
        if d.is_open:
            for party in d.parties:
                open_at[d.forum][party] += 1
    lines.append(t("disagreement.stats.open_heading"))
    for forum, parties in sorted(open_at.items()):
        ranked = sorted(parties.items(), key=lambda item: (-item[1], party_name(item[0])))
        lines.append(line(f"{forum_name(forum)}: " + ", ".join(f"{party_name(p)} {n}" for p, n in ranked),
                          bullet=True))
    days: dict[str, list[float]] = defaultdict(list)
    for d in everything:
        if d.settled_at:
            days[d.forum].append((d.settled_at - d.opened_at).total_seconds() / 86400)
    lines.append(t("disagreement.stats.settle_heading"))
    lines.extend(t("disagreement.stats.settle_line", forum=forum_name(f), days=f"{median(v):.1f}", count=len(v))
                 for f, v in sorted(days.items()))
    escalations: Counter[str] = Counter()
    manual: Counter[str] = Counter()
    started: dict[int, int] = {}
    for entry in entries:
        if entry.kind == "opened":
            started[entry.disagreement] = entry.level
        if entry.kind in ("escalated", "exhausted") and entry.disagreement in by_id:
            for party in by_id[entry.disagreement].parties:
                escalations[party] += 1
            if entry.party:
                manual[entry.party] += 1
    lines.append(t("disagreement.stats.escalations_heading"))
    lines.extend(t("disagreement.stats.escalation_line", party=party_name(p), count=n, manual=manual[p])
                 for p, n in sorted(escalations.items(), key=lambda item: (-item[1], party_name(item[0]))))
    # What the contract forum follows up: every question that has climbed, and every formal dispute.
    climbed = [d for d in everything
               if d.state in ("exhausted", "formal") or (d.is_open and d.level > started.get(d.id, d.level))]
    lines.append(t("disagreement.stats.follow_up_heading", count=len(climbed)))
    lines.extend(_follow_up(ctx, d, forum_name) for d in sorted(climbed, key=lambda d: d.opened_at))
    # Formal dispute resolution invoked (5.4): by which party, when.
    invoked = [e for e in entries if e.kind == "formal" and e.disagreement in by_id]
    if invoked:
        lines.append(t("disagreement.stats.formal_heading", count=len(invoked)))
        lines.extend(t("disagreement.stats.formal_line", ref=by_id[e.disagreement].ref,
                       title=by_id[e.disagreement].title, party=party_name(e.party), when=t.when(e.at))
                     for e in invoked)
    return join(lines)


def _follow_up(ctx: Context, d: Disagreement, forum_name) -> Message:  # type: ignore[no-untyped-def]
    age = (ctx.clock.now() - d.opened_at).days
    return ctx.t("disagreement.stats.follow_up_line", ref=d.ref, title=d.title, forum=forum_name(d.forum),
                 state=ctx.t(f"disagreement.list.{d.state}", forum=forum_name(d.forum)), days=age)
