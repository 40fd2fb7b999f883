"""The one place configuration comes from: environment variables or `.env`."""

from __future__ import annotations

from datetime import time
from pathlib import Path

from pydantic import AliasChoices, Field, SecretStr, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

PACKAGE_DIR = Path(__file__).resolve().parent
SHIPPED_FORMS_DIR = PACKAGE_DIR / "conversations" / "forms"


def _env(name: str) -> AliasChoices:
    """Accept both `GUARDIANES_<NAME>` and the platform's customary bare `<NAME>`."""
    return AliasChoices(f"GUARDIANES_{name}", name)


class Settings(BaseSettings):
    """Guardianes settings; every field can be set as `GUARDIANES_<FIELD>`."""

    model_config = SettingsConfigDict(
        env_prefix="GUARDIANES_",
        env_file=".env",
        env_file_encoding="utf-8",
        extra="ignore",
        populate_by_name=True,
    )

    environment: str = "development"
    database_url: str = "sqlite+aiosqlite:///./var/guardianes.db"
    host: str = "127.0.0.1"
    port: int = 8000
    public_url: str = "http://127.0.0.1:8000"
    media_dir: Path = Path("./var/media")
    forms_dir: Path | None = None  # extra forms staff drop in; shipped forms always load
    default_locale: str = "es"
    timezone: str = "America/Chihuahua"
    privacy_notice_version: str = "2026-11"
    log_level: str = "INFO"

    # Media and geography
    max_photo_bytes: int = 10 * 1024 * 1024
    max_space_distance_m: float = 150.0  # nearest public space accepted outside polygons

    # Telegram
    telegram_bot_token: SecretStr | None = Field(
        default=None, validation_alias=_env("TELEGRAM_BOT_TOKEN")
    )
    telegram_api_base: str = Field(
        default="https://api.telegram.org", validation_alias=_env("TELEGRAM_API_BASE")
    )
    telegram_webhook_url: str | None = Field(
        default=None, validation_alias=_env("TELEGRAM_WEBHOOK_URL")
    )
    telegram_webhook_secret: SecretStr | None = Field(
        default=None, validation_alias=_env("TELEGRAM_WEBHOOK_SECRET")
    )
    telegram_rate_per_second: float = 30.0
    telegram_rate_per_chat_per_second: float = 1.0

    # WhatsApp Cloud API
    whatsapp_api_base: str = Field(
        default="https://graph.facebook.com/v23.0", validation_alias=_env("WHATSAPP_API_BASE")
    )
    whatsapp_token: SecretStr | None = Field(default=None, validation_alias=_env("WHATSAPP_TOKEN"))
    whatsapp_phone_number_id: str | None = Field(
        default=None, validation_alias=_env("WHATSAPP_PHONE_NUMBER_ID")
    )
    whatsapp_verify_token: SecretStr | None = Field(
        default=None, validation_alias=_env("WHATSAPP_VERIFY_TOKEN")
    )
    whatsapp_app_secret: SecretStr | None = Field(
        default=None, validation_alias=_env("WHATSAPP_APP_SECRET")
    )
    whatsapp_rate_per_second: float = 80.0
    # Approved templates used outside the 24-hour window, per message kind.
    whatsapp_template_broadcast: str = "guardianes_aviso"
    whatsapp_template_reminder: str = "guardianes_recordatorio"
    whatsapp_template_visit: str = "guardianes_visita"
    whatsapp_template_reply: str = "guardianes_continuar"
    whatsapp_template_language: str = "es_MX"

    # Outbox and scheduler
    outbox_poll_seconds: float = 0.5
    outbox_max_attempts: int = 8
    outbox_stop_grace_seconds: float = 10.0  # on shutdown, time for sends under way to finish
    reminder_grace_seconds: int = 3600
    scheduler_enabled: bool = True

    # Outbox lanes, shared pacing, quiet hours and the crash window (issue 10: delivery)
    # A claimed row is someone else's to send after this long (a crash, a hung send).
    outbox_lease_seconds: float = 30.0
    # A send not answered within this is abandoned and retried (it may have arrived).
    outbox_send_timeout_seconds: float = 10.0
    # Rows one process holds claimed at once, per lane (replies, bulk): what a crash may
    # send twice is at most what was in flight.
    outbox_max_in_flight: int = 16
    # Pace through the database so every process of one bot shares the platform's cap.
    outbox_shared_pacing: bool = True
    # Local window (GUARDIANES_TIMEZONE) in which broadcasts, visit notices and reminders
    # wait, e.g. 21:00 and 08:00; replies are never held. Unset: no quiet hours.
    quiet_hours_start: time | None = None
    quiet_hours_end: time | None = None

    @model_validator(mode="after")
    def _send_timeout_within_lease(self) -> Settings:
        """A send must end before its claim does, or another process would send it too."""
        if self.outbox_send_timeout_seconds >= self.outbox_lease_seconds:
            raise ValueError("outbox_send_timeout_seconds must be shorter than the lease")
        if (self.quiet_hours_start is None) != (self.quiet_hours_end is None):
            raise ValueError("quiet_hours_start and quiet_hours_end go together")
        return self

    @model_validator(mode="after")
    def _refuse_placeholder_secrets(self) -> Settings:
        """Outside development a webhook without its secret is an open door."""
        if self.environment != "development":
            if self.telegram_webhook_url and not self.telegram_webhook_secret:
                raise ValueError("TELEGRAM_WEBHOOK_SECRET is required with TELEGRAM_WEBHOOK_URL")
            if self.whatsapp_token and not self.whatsapp_app_secret:
                raise ValueError("WHATSAPP_APP_SECRET is required with WHATSAPP_TOKEN")
        return self

    @property
    def is_sqlite(self) -> bool:
        """True for the embedded default database."""
        return self.database_url.startswith("sqlite")

    @property
    def telegram_enabled(self) -> bool:
        """Telegram runs only when a bot token is configured."""
        return self.telegram_bot_token is not None

    @property
    def whatsapp_enabled(self) -> bool:
        """WhatsApp runs only when a token and phone number id are configured."""
        return self.whatsapp_token is not None and self.whatsapp_phone_number_id is not None
