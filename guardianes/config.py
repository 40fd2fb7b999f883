"""The one place configuration comes from: environment variables or `.env`."""

from __future__ import annotations

from datetime import time
from pathlib import Path
from typing import Literal

from pydantic import AliasChoices, Field, SecretStr, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

PACKAGE_DIR = Path(__file__).resolve().parent
SHIPPED_FORMS_DIR = PACKAGE_DIR / "conversations" / "forms"


def _env(name: str) -> AliasChoices:
    """Accept both `GUARDIANES_<NAME>` and the platform's customary bare `<NAME>`."""
    return AliasChoices(f"GUARDIANES_{name}", name)


# Values people paste from examples; a session key like these signs cookies anyone can forge.
_PLACEHOLDERS = ("change", "secret", "example", "placeholder", "xxxx", "1234", "password")
MIN_SESSION_SECRET_CHARS = 32


def _is_placeholder(value: str) -> bool:
    lowered = value.lower()
    return len(value) < MIN_SESSION_SECRET_CHARS or any(p in lowered for p in _PLACEHOLDERS)


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
    # SQLite runs on the event loop's thread (fast for a chatbot's short statements); true
    # puts it on aiosqlite's worker thread, for deployments with long report queries.
    sqlite_threaded: bool = False
    host: str = "127.0.0.1"
    port: int = 8000
    public_url: str = "http://127.0.0.1:8000"
    media_dir: Path = Path("./var/media")
    forms_dir: Path | None = None  # extra forms staff drop in; shipped forms always load
    default_locale: str = "es"
    timezone: str = "America/Chihuahua"
    privacy_notice_version: str = "2026-11-28"  # bump on every change: guardians accept again
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

    # Training (issue 14): the course between the pre and post quiz, and its reminder
    course_dir: Path | None = None  # a course folder; unset: the shipped Chihuahua course
    course_idle_days: int = Field(default=3, ge=1)  # "course in progress, idle N days"
    # Operations (issue 11b): logs, metrics
    log_format: Literal["text", "json"] = "text"  # json: one JSON object per line
    # Who may read /metrics: with a token, whoever sends it as a Bearer; without one,
    # only clients on this machine's loopback that came through no proxy.
    metrics_token: SecretStr | None = None
    # Privacy (issue 11a): photo retention, "my data" export files, the job that enforces both.
    media_retention_days: int = Field(default=365, ge=1)  # photos of cards older than this go
    privacy_export_retention_hours: int = Field(default=24, ge=1)  # "my data" files on disk
    privacy_job_interval_seconds: float = Field(default=3600.0, gt=0)
    # Evidence (issue 9a): discrepancies between cards and the authority's status reports
    discrepancy_deadline_days: int = Field(default=15, ge=1)  # authority's time to resolve
    repeat_window_hours: int = Field(default=72, ge=0)  # same guardian, same failure: a repeat
    photo_reuse_max_distance: int = Field(default=6, ge=0, le=32)  # Hamming bits of a near-copy
    evidence_strong_guardians: int = Field(default=3, ge=2)  # this many guardians: strong
    overdue_check_minutes: int = Field(default=60, ge=1)  # how often overdue ones are flagged

    # Reports (issue 9b): evidence e-mails to directorates, briefings, before/after analysis.
    # SMTP is on when a host and a sender are set; `smtp_tls`: "starttls" (port 587),
    # "tls" (implicit TLS, port 465) or "none" (a relay on a trusted network, tests).
    smtp_host: str | None = None
    smtp_port: int = 587
    smtp_tls: Literal["starttls", "tls", "none"] = "starttls"
    smtp_username: str | None = None
    smtp_password: SecretStr | None = None
    smtp_sender: str | None = None
    smtp_timeout_seconds: float = 30.0
    email_poll_seconds: float = 30.0
    email_max_attempts: int = 8
    email_retry_base_seconds: float = 60.0  # doubles after every failed attempt
    email_retry_max_seconds: float = 6 * 3600.0
    email_claim_seconds: float = 300.0  # a send not recorded by then is tried again
    # Complaints before/after: fewer complaints than this in both windows together say nothing.
    complaints_min_total: int = 10
    # Robustness (issue 10a): body limits, rate limits, inbound retries, media sweep.
    # Request bodies, counted while they stream in (413 past the limit of the route).
    body_limit_bytes: int = 1024 * 1024  # staff API JSON and any route not listed below
    body_limit_webhook_bytes: int = 1024 * 1024  # Telegram and WhatsApp webhooks
    body_limit_chat_bytes: int = 40 * 1024 * 1024  # a web chat post with its photos
    body_limit_import_bytes: int = 64 * 1024 * 1024  # staff file imports (CSV, KML)
    # Messages a person may send per window on any channel, and per network address.
    # (`limits` notation; several windows separated by ";").
    rate_limit_person: str = "30/10 seconds;200/minute"
    rate_limit_address: str = "300/minute"  # web chat requests per client address
    rate_limit_chat_sessions: str = "20/hour"  # new web chat identities per client address
    rate_limit_storage: str = "memory://"  # or redis://host:6379 to share between workers
    # Inbound processing: transient failures retried with backoff, then failed.
    inbound_max_attempts: int = 5
    inbound_retry_base_seconds: float = 2.0
    inbound_retry_max_seconds: float = 300.0
    inbound_sweep_seconds: float = 60.0  # how often stuck or due events are picked up
    inbound_stuck_seconds: float = 120.0  # a received event older than this is stuck
    # Photo files no submission or conversation refers to are removed after this long.
    media_orphan_grace_seconds: int = 24 * 3600
    media_sweep_seconds: float = 3600.0
    # ---- public map (issue 13a) and the staff dashboard's map: /mapa and its "Report it" links
    # Base map tiles ({z}/{x}/{y}); an empty value shows the polygons on a plain background.
    map_tiles_url: str = "https://tile.openstreetmap.org/{z}/{x}/{y}.png"
    map_tiles_attribution: str = (
        '&copy; <a href="https://www.openstreetmap.org/copyright">OpenStreetMap</a>'
    )
    # The bot's Telegram username (without @) and the WhatsApp number people write to
    # (digits with country code): without them the map shows no link for that channel.
    telegram_bot_username: str | None = None
    whatsapp_public_number: str | None = None

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

    # Staff dashboard (issue 13b): the key signing its session cookie. Unset in development:
    # a random key per process (sessions end at restart); outside development it is required
    # (several workers must share it) and must not be a placeholder.
    staff_session_secret: SecretStr | None = None
    staff_session_max_age_seconds: int = 8 * 3600  # a working day, then log in again
    # Cities (issue 15b): the city a single-city deployment serves, and the defaults of every
    # city created by `--city NAME` (each city's row can then be edited).
    city_name: str = "Chihuahua"
    city_state: str | None = "Chihuahua"
    city_country: str = "MX"
    programme_name: str = "Guardianes"
    office_name: str = "la Sindicatura"  # as it reads after "comunícate con", "acudir a"
    privacy_owner: str = "Sindicatura Municipal"
    privacy_contact: str = "el personal del programa, en este mismo chat"

    @model_validator(mode="after")
    def _refuse_placeholder_secrets(self) -> Settings:
        """Outside development a webhook without its secret is an open door."""
        if self.environment != "development":
            if self.telegram_webhook_url and not self.telegram_webhook_secret:
                raise ValueError("TELEGRAM_WEBHOOK_SECRET is required with TELEGRAM_WEBHOOK_URL")
            if self.whatsapp_token and not self.whatsapp_app_secret:
                raise ValueError("WHATSAPP_APP_SECRET is required with WHATSAPP_TOKEN")
            secret = self.staff_session_secret
            if secret is None or _is_placeholder(secret.get_secret_value()):
                raise ValueError(
                    "GUARDIANES_STAFF_SESSION_SECRET must be set to a random value of at"
                    " least 32 characters (e.g. `openssl rand -base64 32`)"
                )
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
    def smtp_enabled(self) -> bool:
        """E-mail to directorates is sent only when an SMTP host and a sender are set."""
        return bool(self.smtp_host) and bool(self.smtp_sender)

    @property
    def whatsapp_enabled(self) -> bool:
        """WhatsApp runs only when a token and phone number id are configured."""
        return self.whatsapp_token is not None and self.whatsapp_phone_number_id is not None
