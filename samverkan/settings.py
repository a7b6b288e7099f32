"""Settings from the environment (and a .env file). Nothing is read until `Settings()` is called."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Literal

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_file=".env", extra="ignore")

    slack_bot_token: str | None = None
    slack_signing_secret: str | None = None
    slack_app_token: str | None = None
    slack_api_url: str = "https://slack.com/api/"
    samverkan_host: str = "0.0.0.0"
    port: int = Field(default=3000, ge=1, le=65535)
    database_url: str = "sqlite:///samverkan.db"
    samverkan_model: Path | None = None
    samverkan_lang: Literal["sv", "en"] | None = None
    # `samverkan run`'s processes that do the work after Slack has been acknowledged, and the threads in each.
    # Default: 1 on SQLite, whose one writer at a time makes a second worker mostly wait; on PostgreSQL one for each
    # two cores, the rest left to the web process and the database (on 2 cores a second worker slowed the
    # acknowledgements by a third and answered no sooner: benchmarks/README.md).
    samverkan_worker_processes: int | None = Field(default=None, ge=1, le=16)
    samverkan_workers: int = Field(default=8, ge=1, le=64)
    # How much the workers yield the cores to the web process (nice(2) increment): acknowledgements are due
    # within 3 s, answers may come a moment later. 0 treats both alike.
    samverkan_worker_niceness: int = Field(default=5, ge=0, le=19)
    # Seconds after which a duty whose claim is no longer being renewed is taken over by another process: a live
    # process renews its claims every third of this, so it only has to outlast a stalled or dead process's silence
    # (see the README's "Exactly once").
    samverkan_claim_lease: float = Field(default=15, ge=1)
    # Seconds a user's e-mail address and a user group's members are kept before Slack is asked again: how long a
    # change in a user group (the Service Desk's rota) takes to take effect.
    samverkan_directory_cache: float = Field(default=300, ge=0)

    # Microsoft Teams (see the README's "Running against Microsoft Teams"). The base URLs are settings so that the
    # tests can point them at fakes on 127.0.0.1; the defaults are Microsoft's public cloud.
    teams_app_id: str | None = None
    teams_app_password: str | None = None
    teams_tenant_id: str | None = None
    teams_team_id: str | None = None
    # The Entra object id of the City's person or service account that owns every war room (Graph creates a private
    # channel for an app only with an owner).
    teams_war_room_owner: str | None = None
    # Samverkan's id in the tenant's app catalogue (Teams admin centre, Manage apps, the app's "App ID"). When set,
    # it is not looked up through Graph: Microsoft documents that lookup for signed-in users only.
    teams_catalogue_app_id: str | None = None
    teams_openid_metadata: str = "https://login.botframework.com/v1/.well-known/openidconfiguration"
    teams_token_issuer: str = "https://api.botframework.com"
    teams_login_url: str = "https://login.microsoftonline.com"
    teams_graph_url: str = "https://graph.microsoft.com/v1.0"
    # Where the Bot Connector is reached before Teams has said (each activity brings its own service URL).
    teams_service_url: str = "https://smba.trafficmanager.net/emea/"
    # Which platform this process serves; by default Teams when only Teams is configured, Slack otherwise.
    samverkan_platform: Literal["slack", "teams"] | None = None

    # `GET /metrics` for Prometheus; with a token, a scraper must send it as a bearer token.
    samverkan_metrics: bool = True
    samverkan_metrics_token: str | None = None
    # "json": one JSON object a line, for a log pipeline.
    samverkan_log_format: Literal["text", "json"] = "text"

    # Where the event log's chain head is written out (README, "A tamper-evident event log"): a file a line is
    # appended to, and/or a channel it is posted in; every so many hours (a divisor of 24, from Stockholm midnight).
    samverkan_chain_head_file: Path | None = None
    samverkan_chain_head_channel: str | None = None
    samverkan_chain_head_every: Literal[1, 2, 3, 4, 6, 8, 12, 24] = 24

    @property
    def worker_processes(self) -> int:
        if self.samverkan_worker_processes is not None:
            return self.samverkan_worker_processes
        return 1 if self.database_url.startswith("sqlite") else max(1, (os.cpu_count() or 2) // 2)

    @property
    def teams_configured(self) -> bool:
        return bool(self.teams_app_id and self.teams_app_password and self.teams_tenant_id)

    @property
    def platform(self) -> Literal["slack", "teams"]:
        if self.samverkan_platform is not None:
            return self.samverkan_platform
        return "teams" if self.teams_configured and not self.slack_bot_token else "slack"

    @property
    def slack_configured(self) -> bool:
        return bool(self.slack_bot_token and (self.slack_app_token or self.slack_signing_secret))
