"""The legal clocks of a classified major incident (see bot/incident/legal.py): their deadlines, the duties that
remind of them and flag them missed, and how they are shown. Apart from the commands, so that the close report
(bot/incident/report.py) can show them.

An hour is an elapsed hour, as the law counts it (NIS2 art. 23(4): "within 24 hours of becoming aware"); a month is
a calendar month in Stockholm time.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

from dateutil.relativedelta import relativedelta

from bot.clock import STOCKHOLM, local
from bot.duties import Duty, stamp
from bot.i18n import Texts
from bot.incident.records import Incident
from bot.message import Message, join
from bot.model.schema import LegalRegime, LegalReport, MajorIncidents
from bot.ports import UnitOfWork

if TYPE_CHECKING:
    from bot.app import Samverkan

REMIND = "incident.legal_reminder"
MISSED = "incident.legal_missed"
PREFIX = "legal:"


@dataclass(frozen=True)
class ReportClock:
    regime: LegalRegime
    report: LegalReport
    deadline: datetime
    reported: dict[str, Any] | None  # {"reference", "at", "by"} once made

    @property
    def reported_at(self) -> datetime | None:
        return datetime.fromisoformat(self.reported["at"]) if self.reported else None


def deadline(base: datetime, report: LegalReport) -> datetime:
    """Elapsed hours, or calendar months in Stockholm time."""
    if report.hours is not None:
        # In UTC: Python adds a timedelta to a zoned datetime on the wall clock, which across a change of time
        # would be an hour off.
        return base.astimezone(UTC) + timedelta(hours=report.hours)
    assert report.months is not None
    here = local(base) + relativedelta(months=report.months)  # wall-clock arithmetic in Stockholm
    return here.replace(tzinfo=None).replace(tzinfo=STOCKHOLM).astimezone(UTC)  # that day's offset


def classifications(steps: dict[str, dict[str, Any]]) -> dict[str, dict[str, Any]]:
    """The regimes the war room is classified under: key -> {"aware", "by", "at"}."""
    return {name.removeprefix(PREFIX): result for name, result in steps.items()
            if name.startswith(PREFIX) and name.count(":") == 1}


def clocks(mi: MajorIncidents, steps: dict[str, dict[str, Any]]) -> list[ReportClock]:
    found = []
    for key, given in classifications(steps).items():
        regime = mi.regime(key)
        if regime is None:
            continue
        aware = datetime.fromisoformat(given["aware"])
        made: dict[str, ReportClock] = {}
        for report in regime.reports:
            base = aware
            if report.after is not None and report.after in made:
                earlier = made[report.after]
                base = earlier.reported_at or earlier.deadline
            clock = ReportClock(regime, report, deadline(base, report), steps.get(f"{PREFIX}{key}:{report.key}"))
            made[report.key] = clock
            found.append(clock)
    return found


def duties(incident: Incident, clock: ReportClock, now: datetime) -> list[Duty]:
    """The reminders before a report's deadline and the flag at it; the deadline is in their keys, so a deadline
    that moves (the report it counts from was made) gets duties of its own, and the old ones find themselves
    stale."""
    if clock.reported is not None:
        return []
    name = f"{incident.id}:{clock.regime.key}:{clock.report.key}:{stamp(clock.deadline)}"
    payload = {"incident": incident.id, "regime": clock.regime.key, "report": clock.report.key,
               "deadline": clock.deadline.isoformat()}
    planned = [Duty(f"{MISSED}:{name}", MISSED, clock.deadline, payload=payload)]
    if clock.deadline > now:
        for hours in clock.report.remind_hours:
            at = clock.deadline - timedelta(hours=hours)
            if at > now - timedelta(hours=hours):  # not for a reminder whose time went by long before
                planned.append(Duty(f"{REMIND}:{name}:{hours}h", REMIND, max(at, now), not_after=clock.deadline,
                                    payload={**payload, "hours": hours}))
    return planned


def plan_for(uow: UnitOfWork, mi: MajorIncidents, incident: Incident, now: datetime) -> None:
    for clock in clocks(mi, uow.incidents.steps(incident.id)):
        uow.duties.plan_many(duties(incident, clock, now))


def plan(core: Samverkan, now: datetime) -> None:
    """A planner: the duties of every open war room's clocks (planned at once by the commands; this catches up)."""
    mi = core.model.major_incidents
    if mi is None or not mi.legal:
        return
    with core.unit_of_work() as uow:
        for found in uow.incidents.open_incidents():
            plan_for(uow, mi, found, now)
        uow.commit()


def clock_lines(t: Texts, clocks_: list[ReportClock], now: datetime) -> list[Message]:
    lines = []
    for clock in clocks_:
        values = {"report": clock.report.name(t.lang), "recipient": clock.report.recipient(t.lang),
                  "deadline": t.when(clock.deadline), "key": clock.report.key}
        if clock.reported is not None:
            lines.append(t("incident.legal.clock_reported", **values, at=t.when(clock.reported_at),  # type: ignore[arg-type]
                           reference=clock.reported["reference"]))
        elif clock.deadline <= now:
            lines.append(t("incident.legal.clock_missed", **values))
        else:
            lines.append(t("incident.legal.clock_due", **values))
    return lines


def shown(uow: UnitOfWork, mi: MajorIncidents, found: Incident, t: Texts, now: datetime) -> Message | None:
    """What the war room and the close report show of the legal clocks; None when it is not classified."""
    steps = uow.incidents.steps(found.id)
    given = classifications(steps)
    if not given:
        return None
    lines = []
    every = clocks(mi, steps)
    for key, classified in given.items():
        regime = mi.regime(key)
        if regime is None:
            continue
        lines.append(t("incident.legal.regime", name=regime.name(t.lang),
                       aware=t.when(datetime.fromisoformat(classified["aware"]))))
        lines += clock_lines(t, [c for c in every if c.regime.key == key], now)
    return join(lines)
