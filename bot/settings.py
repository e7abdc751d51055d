"""Deployment settings, read from the environment (``HOTLINE_*``) by pydantic-settings.

Secrets (the bot token) live only here, never in the TOML config file.
"""

from __future__ import annotations

import re
from functools import lru_cache
from pathlib import Path

from pydantic import Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

OFFICIAL_BOT_API = "https://api.telegram.org"
DEFAULT_DATABASE_URL = "sqlite:///hotline.sqlite3"

# Telegram tokens look like "123456789:AA…"; be lenient about the secret half so that self-hosted
# and test Bot API servers with their own tokens still work.
_TOKEN = re.compile(r"^\d{1,20}:[A-Za-z0-9_-]{1,100}$")


class SettingsError(ValueError):
    """A setting is missing or malformed; the message is one line for the operator."""


class Settings(BaseSettings):
    """Everything that differs between deployments and is not hotline policy."""

    model_config = SettingsConfigDict(env_prefix="HOTLINE_", extra="ignore")

    bot_token: SecretStr | None = Field(default=None, description="token from @BotFather")
    telegram_api: str = Field(default=OFFICIAL_BOT_API, description="Bot API server base URL")
    database_url: str = Field(default=DEFAULT_DATABASE_URL, description="SQLAlchemy URL")
    config: Path | None = Field(default=None, description="hotline TOML config file")
    log_level: str = Field(default="INFO")
    instance: str | None = Field(
        default=None, description="name of this bot process in the outbox (default host:pid)"
    )
    delivery_journal: Path = Field(
        default=Path("hotline-delivery.journal"),
        description="where this process notes each message Telegram accepted (bot.sent_journal)",
    )

    webhook_url: str | None = Field(
        default=None, description="public https URL for Telegram's webhook (else long polling)"
    )
    listen: str | None = Field(
        default=None,
        description="HOST:PORT of the HTTP server (webhook, /healthz, /metrics); "
        "0.0.0.0:8080 in webhook mode when unset",
    )
    webhook_secret: SecretStr | None = Field(
        default=None,
        description="webhook secret token (default: one made and kept in the database)",
    )

    public_url: str | None = Field(
        default=None,
        description="where people reach the bot's web server (the desk's sign-in links), "
        "e.g. https://hotline.example.gov.cn",
    )

    @field_validator("public_url")
    @classmethod
    def _public_url(cls, value: str | None) -> str | None:
        if value is None or not value.strip():
            return None
        value = value.strip().rstrip("/")
        if not value.startswith(("http://", "https://")):
            raise ValueError("HOTLINE_PUBLIC_URL must be an http(s) URL")
        return value

    @field_validator("telegram_api")
    @classmethod
    def _strip_slash(cls, value: str) -> str:
        value = value.strip().rstrip("/")
        if not value.startswith(("http://", "https://")):
            raise ValueError("HOTLINE_TELEGRAM_API must be an http(s) URL")
        return value

    def require_token(self) -> str:
        """The bot token, or a one-line SettingsError saying what is wrong with it."""
        if self.bot_token is None or not self.bot_token.get_secret_value().strip():
            raise SettingsError(
                "HOTLINE_BOT_TOKEN is not set: get a token from @BotFather and export it"
            )
        token = self.bot_token.get_secret_value().strip()
        if not _TOKEN.match(token):
            raise SettingsError(
                "HOTLINE_BOT_TOKEN is malformed: expected digits, a colon and the secret, "
                "like 123456789:AAE…"
            )
        return token


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """The process-wide settings, read once."""
    return Settings()
