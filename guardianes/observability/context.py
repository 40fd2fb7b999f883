"""The request or update being handled, for log lines (contextvars follow tasks)."""

from __future__ import annotations

import re
import uuid
from contextvars import ContextVar

request_id: ContextVar[str | None] = ContextVar("guardianes_request_id", default=None)
update_id: ContextVar[str | None] = ContextVar("guardianes_update_id", default=None)

# An id a proxy sends is echoed and logged: only short, harmless characters are taken.
_ACCEPTABLE_REQUEST_ID = re.compile(r"[A-Za-z0-9._:-]{1,64}")


def new_request_id(offered: str | None = None) -> str:
    """The id a proxy offered (`X-Request-ID`) when it is sane, else a new random one."""
    if offered and _ACCEPTABLE_REQUEST_ID.fullmatch(offered):
        return offered
    return uuid.uuid4().hex


def set_update(channel: str, external_id: str) -> None:
    """Tag the following log lines of this task with `channel:external_id`.

    For loops handling one update after another; the caller resets `update_id` at the end.
    """
    update_id.set(f"{channel}:{external_id}")
