"""When no update has been posted for the severity's interval, the commander is reminded, exactly once per
interval of silence."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from bot.duties import Duty, OnceChat, Outcome, stamp
from bot.incident.people import mention_actor
from bot.incident.records import Incident
from bot.model.schema import MajorIncidents

if TYPE_CHECKING:
    from bot.app import Samverkan

UPDATE_DUE = "incident.update_due"


def update_reminder(mi: MajorIncidents, incident: Incident, now: datetime) -> Duty:
    """The reminder at the end of the interval of silence under way now. The last update and severity are in the
    key, so an update (or a new severity) makes a new reminder and the old one finds itself stale."""
    interval = timedelta(minutes=mi.update_minutes.get(incident.severity, max(mi.update_minutes.values())))
    # The next interval of silence that ends after now.
    n = int((now - incident.last_update_at) / interval) + 1
    due = incident.last_update_at + n * interval
    key = f"{UPDATE_DUE}:{incident.id}:{stamp(incident.last_update_at)}:{incident.severity}:{n}"
    return Duty(key, UPDATE_DUE, due, payload={
        "incident": incident.id, "last": incident.last_update_at.isoformat(), "severity": incident.severity, "n": n})


def plan(core: Samverkan, now: datetime) -> None:
    mi = core.model.major_incidents
    if mi is None:
        return
    with core.unit_of_work() as uow:
        for incident in uow.incidents.open_incidents():
            if incident.state != "open":
                continue
            uow.duties.plan(update_reminder(mi, incident, now))
        uow.commit()


def perform(core: Samverkan, duty: Duty, now: datetime, once: OnceChat) -> Outcome:
    t = core.texts
    with core.unit_of_work() as uow:
        incident = uow.incidents.get(int(duty.payload["incident"]))
        if (incident is None or incident.state != "open" or incident.channel_id is None
                or incident.last_update_at != datetime.fromisoformat(duty.payload["last"])
                or incident.severity != duty.payload["severity"]):
            return "dropped"
        commander = mention_actor(uow, incident.commander, t.text("incident.nobody"))
    minutes = int((now - incident.last_update_at).total_seconds() // 60)
    once.post(incident.channel_id, t("incident.update_overdue", commander=commander, ref=incident.ref,
                                     count=minutes))
    return "done"
