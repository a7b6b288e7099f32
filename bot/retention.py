"""The daily retention duty (issue 22): people removed from the directory longer ago than the model's retention for
directory people (`records.retention.directory_person`, days) are pseudonymised as `samverkan erase` does, keeping
what cases under hold or within their retention must keep; then every case past its retention and not on hold has
the people it names pseudonymised in its own rows and events. The records themselves are never deleted: the City's
disposal decisions decide that, outside Samverkan.

One duty a Stockholm day, at 03:00; performing it twice finds nothing left to do (an erasure replaces the
removal's subject with the pseudonym, and a case's erasure event names the case), so each is done exactly once.
"""

from __future__ import annotations

from datetime import datetime, time, timedelta
from typing import TYPE_CHECKING

from bot.clock import STOCKHOLM, local
from bot.duties import Duty, OnceChat, Outcome

if TYPE_CHECKING:
    from bot.app import Samverkan

RETENTION = "records.retention"
ACTOR = "system:retention"
# In the night, Stockholm time, when nobody is in a war room.
AT = time(3, 0)


def next_run(now: datetime) -> datetime:
    here = local(now)
    due = datetime.combine(here.date(), AT, STOCKHOLM)
    return due if due > here else datetime.combine(here.date() + timedelta(days=1), AT, STOCKHOLM)


def plan(core: Samverkan, now: datetime) -> None:
    kept = core.model.records.retention
    if (kept.directory_person, kept.incident, kept.disagreement) == (None, None, None):
        return
    due = next_run(now)
    key = f"{RETENTION}:{due.date().isoformat()}"
    with core.unit_of_work(read_only=True) as uow:
        if uow.duties.get(key) is not None:
            return
    with core.unit_of_work() as uow:
        uow.duties.plan(Duty(key, RETENTION, due))
        uow.commit()


def perform(core: Samverkan, duty: Duty, now: datetime, once: OnceChat) -> Outcome:
    sweep(core, now)
    return "done"


def sweep(core: Samverkan, now: datetime) -> list[str]:
    """Pseudonymises each person due, then each case due, one transaction each; returns the pseudonyms of the
    people and the references of the cases."""
    with core.unit_of_work(read_only=True) as uow:
        due = uow.erasure.removed_due(core.model, now)
    done = []
    for key in due:
        with core.unit_of_work() as uow:
            if key not in uow.erasure.removed_due(core.model, now):
                continue  # another process did it meanwhile
            outcome = uow.erasure.erase(key, core.model, now, ACTOR, reason="retention")
            uow.commit()
        if outcome is not None:
            done.append(outcome.pseudonym)
    with core.unit_of_work(read_only=True) as uow:
        cases = uow.erasure.cases_due(core.model, now)
    for ref in cases:
        with core.unit_of_work() as uow:
            if ref not in uow.erasure.cases_due(core.model, now):
                continue
            uow.erasure.erase_case(ref, core.model, now, ACTOR)
            uow.commit()
        done.append(ref)
    return done
