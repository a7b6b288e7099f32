"""Settings from the environment (and a .env file). Nothing is read until `Settings()` is called."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Annotated, Literal

from pydantic import Field, field_validator, model_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

from bot.rate import RateLimit
from samverkan.logs import safe_url
from teams.auth import TEAMS_SERVICE_HOSTS, allowed_service_url, check_service_url_hosts


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
    # The limit per person on commands that write or notify (bot.rate): `BURST/SECONDS`, twenty at once and then
    # one every six seconds by default; incident commands get three times the burst, refilled six times as fast,
    # and the City's oversight is not limited in them. `off` turns it off.
    samverkan_rate_limit: str = "20/6"

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
    # The Bot Connector hosts the bot calls (and accepts activities naming), comma-separated: `host` or `*.domain`
    # over https, `https://host:port` on another port, `http://127.0.0.1:port` for a fake on loopback (teams.auth's
    # service_url_host). Default Microsoft's for Teams: the public cloud and the US government clouds.
    teams_service_url_hosts: Annotated[tuple[str, ...], NoDecode] = TEAMS_SERVICE_HOSTS
    # Which platform this process serves; by default Teams when only Teams is configured, Slack otherwise.
    samverkan_platform: Literal["slack", "teams"] | None = None

    # `GET /metrics` for Prometheus, to a scraper that sends the token as a bearer token; without one, to nobody.
    samverkan_metrics: bool = True
    samverkan_metrics_token: str | None = None
    # "json": one JSON object a line, for a log pipeline.
    samverkan_log_format: Literal["text", "json"] = "text"

    # Where the event log's chain head is written out (README, "A tamper-evident event log"): a file a line is
    # appended to, and/or a channel it is posted in; every so many hours (a divisor of 24, from Stockholm midnight).
    samverkan_chain_head_file: Path | None = None
    samverkan_chain_head_channel: str | None = None
    samverkan_chain_head_every: Literal[1, 2, 3, 4, 6, 8, 12, 24] = 24

    @field_validator("samverkan_rate_limit")
    @classmethod
    def _rate_limit(cls, value: str) -> str:
        if RateLimit.parse(value) is None:
            raise ValueError("write BURST/SECONDS, such as 20/6 (twenty at once, then one every six seconds), or off")
        return value

    @property
    def rate_limit(self) -> RateLimit:
        return RateLimit.parse(self.samverkan_rate_limit) or RateLimit()

    @field_validator("teams_service_url_hosts", mode="before")
    @classmethod
    def _comma_separated(cls, value: object) -> object:
        if isinstance(value, str):
            value = value.split(",")
        if isinstance(value, list | tuple):
            return check_service_url_hosts(str(v) for v in value)
        return value

    @model_validator(mode="after")
    def _service_url_allowed(self) -> Settings:
        # The default Connector is called with the bot's own token, so it too must be one the bot trusts.
        if not allowed_service_url(self.teams_service_url, self.teams_service_url_hosts):
            raise ValueError(f"TEAMS_SERVICE_URL {safe_url(self.teams_service_url)} is not on a host "
                             "TEAMS_SERVICE_URL_HOSTS allows (https, or http only where an entry names a loopback "
                             "host and port)")
        return self

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
