"""What the outbox needs of a channel: the `Channel` protocol, send outcomes, pacing, policy.

Channel plugins (`guardianes.bot.<channel>`) implement these; the outbox sender and the
services that queue messages use them without importing any channel.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Protocol, runtime_checkable

from guardianes.conversations.messages import Prompt


class ChannelName(StrEnum):
    """Channels Guardianes speaks on."""

    TELEGRAM = "telegram"
    WHATSAPP = "whatsapp"
    WEBCHAT = "webchat"
    CONSOLE = "console"


class FailureKind(StrEnum):
    """How the outbox should react to a failed send."""

    RETRY = "retry"  # network error, timeout, 5xx: back off exponentially and retry
    RATE_LIMITED = "rate_limited"  # wait `retry_after` seconds, then retry
    UNREACHABLE = "unreachable"  # the person blocked the bot / number undeliverable
    OUTSIDE_WINDOW = "outside_window"  # WhatsApp 131047: resend as an approved template
    PERMANENT = "permanent"  # the request itself is wrong: do not retry


class SendFailedError(Exception):
    """A send did not go through; `kind` tells the outbox what to do next."""

    def __init__(self, kind: FailureKind, detail: str, *, retry_after: float | None = None) -> None:
        super().__init__(f"{kind}: {detail}")
        self.kind = kind
        self.detail = detail
        self.retry_after = retry_after


@dataclass(frozen=True, slots=True)
class ShownMessage:
    """What the message a delivery edits shows now, as the outbox recorded it."""

    prompt: Prompt
    locale: str
    keyboard_closed: bool = False  # its keyboard was removed after a press


@dataclass(frozen=True, slots=True)
class Delivery:
    """One outbox row as the channel sees it."""

    outbox_id: int
    address: str  # chat id, WhatsApp id...: where the platform delivers
    prompt: Prompt
    kind: str = "reply"  # reply | broadcast | reminder | visit: picks a template on WhatsApp
    edit_message_id: str | None = None  # replace this earlier message when the channel can
    locale: str = "es"
    as_template: bool = False  # WhatsApp: send the approved template for `kind`
    shown: ShownMessage | None = None  # the edited message's current content, when known


@dataclass(frozen=True, slots=True)
class SendResult:
    """What the platform answered to a successful send."""

    platform_message_id: str | None


@runtime_checkable
class Channel(Protocol):
    """A messaging platform: sends rendered prompts and says how failures should be handled."""

    name: str

    async def send(self, delivery: Delivery) -> SendResult:
        """Render and send one outbox row; raise `SendFailedError` when it does not go through."""
        ...


@dataclass(frozen=True, slots=True)
class PacerSpec:
    """A platform's send caps: `rate` messages per second overall, `per_chat_rate` per chat."""

    key: str  # the shared budget's name: one per bot or number, never shared by two
    rate: float
    per_chat_rate: float | None = None


class DeliveryPolicy(Protocol):
    """What a channel allows for messages the bot starts (broadcasts, reminders, visits)."""

    def needs_template(self, last_inbound_at: datetime | None, now: datetime) -> bool:
        """True when only an approved template may reach a person who last wrote then."""
        ...


class FreeForm:
    """The policy of channels that take any message at any time."""

    def needs_template(self, last_inbound_at: datetime | None, now: datetime) -> bool:
        """Never: every message may be free-form."""
        return False


# Policies of channels whose messages are restricted, by channel name; the composition
# root registers each plugin's policy at start (see `guardianes.runtime.channels`).
delivery_policies: dict[str, DeliveryPolicy] = {}


def policy_for(channel: str) -> DeliveryPolicy:
    """The delivery policy registered for `channel` (free-form when none is)."""
    return delivery_policies.get(channel, FreeForm())
