"""`guardianes chat`: a runtime of its own, the console channel, and its outbox sender."""

from __future__ import annotations

from rich.console import Console

from guardianes.bot.console import ConsoleChannel, ConsolePlugin, LineReader, run_console
from guardianes.config import Settings
from guardianes.locales import translator
from guardianes.runtime.bootstrap import build_runtime, load_demo_data_once
from guardianes.scheduler.outbox import OutboxSender
from guardianes.services.runtime import Runtime


async def chat_on_console(
    runtime: Runtime,
    console: Console,
    read_line: LineReader,
    *,
    user_id: str,
    language: str | None = None,
) -> None:
    """Register the console channel and chat; replies are delivered unpaced after each line."""
    plugin = ConsolePlugin(console, locale=translator(language).locale)
    channel = await plugin.start(runtime, None)
    assert isinstance(channel, ConsoleChannel)
    runtime.channels[plugin.name] = channel
    sender = OutboxSender(runtime, pacers={})
    await run_console(
        runtime, channel, read_line, sender.run_until_idle, user_id=user_id, language=language
    )


async def chat_in_terminal(
    settings: Settings,
    *,
    user_id: str,
    language: str | None,
    demo: bool,
    console: Console,
    read_line: LineReader,
) -> None:
    """Build a runtime of its own, chat, and close it."""
    runtime = await build_runtime(settings)
    try:
        if demo:
            await load_demo_data_once(runtime)
        await chat_on_console(runtime, console, read_line, user_id=user_id, language=language)
    finally:
        await runtime.close()
