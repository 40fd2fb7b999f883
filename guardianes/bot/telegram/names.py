"""The Telegram names the app needs without aiogram: its channel, state attribute and error.

aiogram's types weigh about 130 MiB once imported; the plugin, the webhook route and the
readiness check import this module instead, so a service with Telegram off never loads them.
"""

from __future__ import annotations

from guardianes.services.delivery import ChannelName

CHANNEL = ChannelName.TELEGRAM.value
STATE_ATTRIBUTE = "telegram_transport"


class MediaFailedError(Exception):
    """A photo could not be downloaded or stored; `retryable` says whether to try again later."""

    def __init__(self, detail: str, *, retryable: bool) -> None:
        super().__init__(detail)
        self.retryable = retryable
