"""The terminal chat shows where an exported file is and waits for no answer to it."""

from __future__ import annotations

from rich.console import Console

from guardianes.bot.console import ConsoleChannel
from guardianes.conversations.messages import Attachment, Prompt, PromptKind
from guardianes.services.delivery import Delivery


async def test_a_document_prints_its_path_and_asks_nothing(
    console_channel: ConsoleChannel, screen: Console
) -> None:
    prompt = Prompt(
        kind=PromptKind.DOCUMENT,
        text="Aquí está todo lo que guardamos sobre ti",
        attachment=Attachment("exports/7-abc.json", "mis-datos.json", "application/json"),
    )
    await console_channel.send(Delivery(outbox_id=1, address="console", prompt=prompt))
    printed = screen.export_text()
    assert "mis-datos.json" in printed
    assert "exports/7-abc.json" in printed
    assert console_channel.active is None
