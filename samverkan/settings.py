"""Settings from the environment (and a .env file). Nothing is read until `Settings()` is called."""

from __future__ import annotations

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
    # Threads that do the work after Slack has been acknowledged.
    samverkan_workers: int = Field(default=8, ge=1, le=64)
    # How often duties (reminders, war-room assemblies to finish) are looked at, and how long a claimed duty is
    # left to the process that claimed it before another one takes it over (it died).
    samverkan_tick_seconds: float = Field(default=15, gt=0, le=3600)
    samverkan_duty_lease_seconds: float = Field(default=120, gt=0, le=3600)

    @property
    def slack_configured(self) -> bool:
        return bool(self.slack_bot_token and (self.slack_app_token or self.slack_signing_secret))
