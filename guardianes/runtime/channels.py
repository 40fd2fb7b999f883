"""Starting the registered channel plugins: channels, pacing and policies into the runtime."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable

from fastapi import APIRouter, FastAPI

from guardianes.bot.registry import PLUGINS
from guardianes.services.delivery import delivery_policies
from guardianes.services.runtime import Runtime

logger = logging.getLogger(__name__)

Stopper = Callable[[], Awaitable[None]]


def channel_routers() -> list[APIRouter]:
    """Every plugin's inbound routes (each answers 404 while its channel is off)."""
    return [router for plugin in PLUGINS for router in plugin.routers]


def register_policies() -> None:
    """Make every channel's delivery policy known to the services that queue messages."""
    delivery_policies.update({plugin.name: plugin.policy for plugin in PLUGINS})


async def start_channels(runtime: Runtime, app: FastAPI | None) -> list[Stopper]:
    """Start every configured plugin; their stoppers, in start order."""
    register_policies()
    stoppers: list[Stopper] = []
    for plugin_type in PLUGINS:
        plugin = plugin_type.from_settings(runtime.settings)
        if plugin is None:
            continue
        runtime.channels[plugin.name] = await plugin.start(runtime, app)
        spec = plugin.pacing(runtime.settings)
        if spec is not None:
            runtime.pacing[plugin.name] = spec
        stoppers.append(plugin.stop)
    return stoppers
