"""Which forums a planned change must be announced to (sections 8.7 and 8.9), read from the model."""

from __future__ import annotations

from bot.model.schema import Forum, GovernanceModel, Service


def announcing_forums(model: GovernanceModel, service: Service) -> list[Forum]:
    """The forums where changes to the service must be announced before they are made. `deployment_forum` is the
    older way of naming one forum that takes every service's."""
    found = [f for f in model.calendar if f.convenes and f.announces(service)]
    legacy = model.sitting_forum(model.deployment_forum or "")
    if legacy is not None and legacy.key not in {f.key for f in found}:
        found.insert(0, legacy)
    return found
