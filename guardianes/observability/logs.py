"""Logging: human-readable lines or JSON lines, tagged with the request or update id, redacted.

Every record goes through one handler on the root logger (uvicorn's loggers propagate to
it), so the same rules cover the access log, library logs and ours:

- a context filter adds the HTTP request id and the platform update id of the work under way;
- the formatter redacts what must never reach a log: query-string values whose name says
  token, secret, key, password, signature or auth (WhatsApp's `hub.verify_token` in the
  webhook handshake), `Authorization` and `Bearer` values, Telegram bot tokens in API URLs,
  and the literal value of every configured secret (settings' `SecretStr` fields and the
  database password), wherever it appears, tracebacks included.
"""

from __future__ import annotations

import json
import logging
import re
import sys
from collections.abc import Iterable
from datetime import UTC, datetime
from typing import Any, Literal

from pydantic import SecretStr
from sqlalchemy.engine import make_url

from guardianes.config import Settings
from guardianes.observability.context import request_id, update_id

LogFormat = Literal["text", "json"]
MASK = "***"
HUMAN_FORMAT = "%(asctime)s %(levelname)s %(name)s%(context)s: %(message)s"
# Shorter configured "secrets" would mask ordinary words; such a secret is no secret anyway.
MIN_SECRET_LENGTH = 4

_SENSITIVE_NAME = re.compile(r"token|secret|key|passw|pwd|signature|sig$|auth|hash", re.I)
_QUERY_PARAMETER = re.compile(r"(?P<lead>[?&;](?P<name>[^=&;\s\"'#?]+)=)(?P<value>[^&;\s\"'#]*)")
_BEARER = re.compile(r"(?i)\b(bearer\s+)[^\s\"',;]+")
_AUTHORIZATION = re.compile(r"(?i)(\bauthorization[\"']?\s*[:=]\s*[\"']?)[^\"'\r\n,}]+")
_TELEGRAM_TOKEN = re.compile(r"(?<![0-9])\d{5,}:[A-Za-z0-9_-]{30,}")


class Redactor:
    """Masks secrets in a piece of log text."""

    def __init__(self, secrets: Iterable[str] = ()) -> None:
        # Longest first, so a secret containing another is masked whole.
        self.secrets = sorted(
            {s for s in secrets if len(s) >= MIN_SECRET_LENGTH}, key=len, reverse=True
        )

    def __call__(self, text: str) -> str:
        """`text` with every secret it holds replaced by `***`."""
        for secret in self.secrets:
            if secret in text:
                text = text.replace(secret, MASK)
        text = _QUERY_PARAMETER.sub(_mask_sensitive_parameter, text)
        text = _AUTHORIZATION.sub(rf"\g<1>{MASK}", text)
        text = _BEARER.sub(rf"\g<1>{MASK}", text)
        return _TELEGRAM_TOKEN.sub(MASK, text)


def _mask_sensitive_parameter(match: re.Match[str]) -> str:
    if not match["value"] or not _SENSITIVE_NAME.search(match["name"]):
        return match[0]
    return f"{match['lead']}{MASK}"


def secret_values(settings: Settings) -> list[str]:
    """Every configured secret: `SecretStr` settings and the database URL's password."""
    values = []
    for name in type(settings).model_fields:
        value = getattr(settings, name)
        if isinstance(value, SecretStr) and value.get_secret_value():
            values.append(value.get_secret_value())
    password = make_url(settings.database_url).password
    if password:
        values.append(str(password))
    return values


class ContextFilter(logging.Filter):
    """Adds `request_id`, `update_id` and a printable `context` to every record."""

    def filter(self, record: logging.LogRecord) -> bool:
        """Never drops a record; only annotates it."""
        request = request_id.get()
        update = update_id.get()
        record.request_id = request
        record.update_id = update
        parts = [f"request={request}"] if request else []
        if update:
            parts.append(f"update={update}")
        record.context = f" [{' '.join(parts)}]" if parts else ""
        return True


class RedactingFormatter(logging.Formatter):
    """The human-readable line, redacted (message, arguments and traceback alike)."""

    def __init__(self, redactor: Redactor) -> None:
        super().__init__(HUMAN_FORMAT)
        self.redactor = redactor

    def format(self, record: logging.LogRecord) -> str:
        """Format as usual, then mask secrets in the whole text."""
        if not hasattr(record, "context"):
            record.context = ""
        return self.redactor(super().format(record))


class JsonFormatter(logging.Formatter):
    """One JSON object per line: time, level, logger, message, ids, exception; redacted."""

    def __init__(self, redactor: Redactor) -> None:
        super().__init__()
        self.redactor = redactor

    def format(self, record: logging.LogRecord) -> str:
        """The record as one JSON line."""
        entry: dict[str, Any] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(),
            "level": record.levelname,
            "logger": record.name,
            "message": self.redactor(record.getMessage()),
        }
        for field in ("request_id", "update_id"):
            value = getattr(record, field, None)
            if value:
                entry[field] = value
        if record.exc_info:
            entry["exception"] = self.redactor(self.formatException(record.exc_info))
        elif record.exc_text:
            entry["exception"] = self.redactor(record.exc_text)
        if record.stack_info:
            entry["stack"] = self.redactor(self.formatStack(record.stack_info))
        return json.dumps(entry, ensure_ascii=False)


def build_handler(
    log_format: LogFormat, secrets: Iterable[str] = (), stream: Any = None
) -> logging.Handler:
    """A stream handler (stderr by default) with the context filter and redaction."""
    handler = logging.StreamHandler(stream if stream is not None else sys.stderr)
    redactor = Redactor(secrets)
    formatter = JsonFormatter(redactor) if log_format == "json" else RedactingFormatter(redactor)
    handler.setFormatter(formatter)
    handler.addFilter(ContextFilter())
    return handler


def configure_logging(settings: Settings, stream: Any = None) -> logging.Handler:
    """Send every log record (ours, uvicorn's, libraries') through one redacting handler."""
    handler = build_handler(settings.log_format, secret_values(settings), stream)
    root = logging.getLogger()
    for existing in list(root.handlers):
        root.removeHandler(existing)
    root.addHandler(handler)
    root.setLevel(settings.log_level.upper())
    for name in ("uvicorn", "uvicorn.error", "uvicorn.access"):
        library_logger = logging.getLogger(name)
        library_logger.handlers.clear()
        library_logger.propagate = True
    return handler
