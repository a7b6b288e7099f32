"""The Teams side built from the settings: the chat port and the endpoint, sharing one HTTP client per process."""

from __future__ import annotations

from concurrent.futures import Executor

import httpx

from bot.app import Samverkan
from bot.chat import ChatPort
from bot.clock import Clock
from bot.ports import UnitOfWorkFactory
from bot.telemetry import SILENT, Telemetry
from samverkan.settings import Settings
from teams.auth import ClientCredentials, InboundVerifier
from teams.chat import TeamsChat, TeamsConfig
from teams.endpoint import Handoff, messages_endpoint

CONNECTOR_SCOPE = "https://api.botframework.com/.default"
GRAPH_SCOPE = "https://graph.microsoft.com/.default"


def _http() -> httpx.Client:
    # Bounded: a call that hangs is a duty retried later, not a thread lost.
    return httpx.Client(timeout=httpx.Timeout(10.0, connect=5.0), limits=httpx.Limits(max_connections=64))


def _required(settings: Settings) -> tuple[str, str, str]:
    if not (settings.teams_app_id and settings.teams_app_password and settings.teams_tenant_id):
        raise ValueError("Teams needs TEAMS_APP_ID, TEAMS_APP_PASSWORD and TEAMS_TENANT_ID")
    return settings.teams_app_id, settings.teams_app_password, settings.teams_tenant_id


def chat(settings: Settings, unit_of_work: UnitOfWorkFactory, clock: Clock) -> ChatPort:
    app_id, password, tenant = _required(settings)
    http = _http()
    config = TeamsConfig(app_id, tenant, settings.teams_team_id or "", settings.teams_graph_url,
                         settings.teams_service_url, settings.teams_war_room_owner, settings.teams_catalogue_app_id,
                         tuple(settings.teams_service_url_hosts))
    return TeamsChat(config, unit_of_work, http,
                     ClientCredentials(settings.teams_login_url, tenant, app_id, password, CONNECTOR_SCOPE, http),
                     ClientCredentials(settings.teams_login_url, tenant, app_id, password, GRAPH_SCOPE, http),
                     now=clock.now, cache_seconds=settings.samverkan_directory_cache)


def endpoint(settings: Settings, core: Samverkan, handoff: Handoff, telemetry: Telemetry = SILENT,  # type: ignore[no-untyped-def]
             work: Executor | None = None):
    app_id, _, tenant = _required(settings)
    verifier = InboundVerifier(app_id, settings.teams_openid_metadata, settings.teams_token_issuer, _http())
    return messages_endpoint(core, verifier, app_id, handoff, telemetry, tenant, settings.teams_service_url_hosts,
                             work)
