"""Every channel the service knows, one line each: adding a channel is its folder plus a line."""

from __future__ import annotations

from guardianes.bot.console import ConsolePlugin
from guardianes.bot.plugin import ChannelPlugin
from guardianes.bot.telegram.plugin import TelegramPlugin
from guardianes.bot.webchat.plugin import WebChatPlugin
from guardianes.bot.whatsapp.plugin import WhatsAppPlugin
from guardianes.config import Settings
from guardianes.services.delivery import PacerSpec

PLUGINS: tuple[type[ChannelPlugin], ...] = (
    WebChatPlugin,
    TelegramPlugin,
    WhatsAppPlugin,
    ConsolePlugin,
)


def channel_pacing(settings: Settings) -> dict[str, PacerSpec]:
    """The send caps of every channel that has them, by channel name."""
    specs = {plugin.name: plugin.pacing(settings) for plugin in PLUGINS}
    return {name: spec for name, spec in specs.items() if spec is not None}
