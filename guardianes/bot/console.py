"""The console channel: the same conversation in a terminal (choices numbered, photos by path).

Every line goes through `handle_inbound` like a Telegram update would; replies are outbox
rows that the outbox sender delivers to `ConsoleChannel.send`, which prints them. The
composition root (`guardianes.runtime.console`) builds the runtime and hands the console
the function that delivers due outbox rows.
"""

from __future__ import annotations

import asyncio
import shlex
import uuid
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, ClassVar, Self

from fastapi import APIRouter, FastAPI
from rich.console import Console
from rich.markup import escape

from guardianes.config import Settings
from guardianes.conversations.messages import (
    Choice,
    Command,
    GeoPoint,
    InboundKind,
    InboundMessage,
    Prompt,
    PromptKind,
    StoredMedia,
)
from guardianes.conversations.text import parse_command_word
from guardianes.domain.coordinates import parse_lat_lon
from guardianes.locales import Translator, translator
from guardianes.services.delivery import (
    Channel,
    ChannelName,
    Delivery,
    DeliveryPolicy,
    FreeForm,
    PacerSpec,
    SendResult,
)
from guardianes.services.inbound import handle_inbound
from guardianes.services.intake import has_conversation
from guardianes.services.media import MediaRejectedError, store_media
from guardianes.services.runtime import Runtime

CHANNEL = ChannelName.CONSOLE.value
_IMAGE_SUFFIXES = frozenset({".jpg", ".jpeg", ".png", ".webp", ".gif", ".heic"})

LineReader = Callable[[str], Awaitable[str | None]]
# Delivers the outbox rows due now (the console's replies); returns how many it claimed.
Deliver = Callable[[], Awaitable[int]]


@dataclass(frozen=True, slots=True)
class Option:
    """A numbered answer the console offers for the active prompt."""

    number: int
    choice: Choice
    selected: bool = False


def numbered_options(prompt: Prompt) -> list[Option]:
    """The prompt's choices, then its done and skip buttons, numbered from 1."""
    selected = set(prompt.selected)
    buttons = [Option(0, c, c.payload in selected) for c in prompt.choices]
    if prompt.done_payload:
        buttons.append(Option(0, Choice(prompt.done_payload, prompt.done_label or "OK")))
    if prompt.skip_payload:
        buttons.append(Option(0, Choice(prompt.skip_payload, prompt.skip_label or "—")))
    return [Option(i, b.choice, b.selected) for i, b in enumerate(buttons, start=1)]


def parse_coordinates(text: str) -> GeoPoint | None:
    """A point from "lat, lon" text, or None when it is not two valid coordinates."""
    point = parse_lat_lon(text)
    return None if point is None else GeoPoint(point.latitude, point.longitude)


def _read_named_files(text: str) -> list[tuple[Path, bytes | None]] | None:
    """The files a line names with their bytes (None: missing); None when it names no file."""
    try:
        words = shlex.split(text)
    except ValueError:
        return None
    paths = [Path(word).expanduser() for word in words]
    if not any(p.is_file() or p.suffix.lower() in _IMAGE_SUFFIXES for p in paths):
        return None
    return [(p, p.read_bytes() if p.is_file() else None) for p in paths]


class ConsoleInputError(ValueError):
    """A line the console cannot turn into a message; the text says why."""


@dataclass
class ConsoleChannel:
    """Prints what the bot sends and remembers the question waiting for an answer."""

    console: Console
    name: str = CHANNEL
    active: Delivery | None = None
    locale: str = "es"
    printed: list[int] = field(default_factory=list)
    asked: int = 0  # questions sent since `begin_turn`

    async def send(self, delivery: Delivery) -> SendResult:
        """Print one message; a question becomes the one the next line answers."""
        self.locale = delivery.locale
        self._print(delivery.prompt, translator(delivery.locale))
        if delivery.prompt.kind not in {PromptKind.TEXT, PromptKind.DOCUMENT, PromptKind.IMAGE}:
            self.active = delivery
            self.asked += 1
        self.printed.append(delivery.outbox_id)
        return SendResult(platform_message_id=str(delivery.outbox_id))

    def begin_turn(self) -> None:
        """Start counting the questions the bot asks in answer to one message."""
        self.asked = 0

    def _print(self, prompt: Prompt, t: Translator) -> None:
        self.console.print(f"[bold green]{escape(t('web.console.bot'))}:[/] {escape(prompt.text)}")
        options = numbered_options(prompt)
        for option in options:
            mark = "✓ " if option.selected else ""
            self.console.print(f"  [bold]{option.number}.[/] {mark}{escape(option.choice.label)}")
        if prompt.kind == PromptKind.CHOICES and prompt.multiple and prompt.done_payload:
            done = str(options[-2 if prompt.skip_payload else -1].number)
            self.console.print(f"[dim]{escape(t('web.console.choose_many', done=done))}[/]")
        elif options:
            self.console.print(f"[dim]{escape(t('web.console.choose'))}[/]")
        if prompt.attachment is not None:
            # The terminal shows where the file is; the media folder is on this machine.
            file = t(
                "privacy.console.file",
                name=prompt.attachment.file_name,
                path=prompt.attachment.path,
            )
            self.console.print(f"[dim]{escape(file)}[/]")
        if prompt.kind == PromptKind.LOCATION:
            self.console.print(f"[dim]{escape(t('web.console.location_hint'))}[/]")
        elif prompt.kind == PromptKind.PHOTO:
            hint = t("web.console.photo_hint", max_photos=prompt.max_photos or 1)
            self.console.print(f"[dim]{escape(hint)}[/]")


@dataclass
class ConsoleSession:
    """One person chatting in the terminal: turns lines into messages and sends them."""

    runtime: Runtime
    channel: ConsoleChannel
    user_id: str
    language: str | None = None

    def message(self, kind: InboundKind, **values: Any) -> InboundMessage:
        """A message of this person, answering the active question."""
        source = self.channel.active
        return InboundMessage(
            channel=CHANNEL,
            user_id=self.user_id,
            external_id=str(uuid.uuid4()),
            kind=kind,
            language_code=self.language,
            source_message_id=str(source.outbox_id) if source else None,
            **values,
        )

    async def parse(self, line: str) -> InboundMessage | None:
        """The message a line means for the active question; None for an empty line."""
        text = line.strip()
        if not text:
            return None
        t = translator(self.channel.locale)
        if text.startswith("/") and (command := parse_command_word(text)) is not None:
            args = text.split(maxsplit=1)[1] if " " in text else ""
            return self.message(InboundKind.COMMAND, command=command, command_args=args)
        active = self.channel.active.prompt if self.channel.active else None
        if active is not None and text.isdigit():
            options = {o.number: o for o in numbered_options(active)}
            if options:
                option = options.get(int(text))
                if option is None:
                    raise ConsoleInputError(t("web.console.no_such_option", number=text))
                return self.message(InboundKind.CHOICE, payload=option.choice.payload)
        if active is not None and active.kind == PromptKind.LOCATION:
            point = parse_coordinates(text)
            if point is not None:
                return self.message(InboundKind.LOCATION, location=point)
        if active is not None and active.kind == PromptKind.PHOTO:
            photos = await self._photos(text, t)
            if photos:
                return self.message(InboundKind.PHOTO, photos=photos)
        return self.message(InboundKind.TEXT, text=text)

    async def _photos(self, text: str, t: Translator) -> tuple[StoredMedia, ...]:
        """Photos named by the line's paths; () when the line names no file at all."""
        files = await asyncio.to_thread(_read_named_files, text)
        if files is None:
            return ()  # an ordinary answer, such as "listo"
        settings = self.runtime.settings
        stored = []
        for path, data in files:
            if data is None:
                raise ConsoleInputError(t("web.console.file_not_found", path=str(path)))
            try:
                stored.append(
                    await store_media(settings.media_dir, data, max_bytes=settings.max_photo_bytes)
                )
            except MediaRejectedError as error:
                raise ConsoleInputError(
                    t(f"web.{error.reason}", max_mb=settings.max_photo_bytes // (1024 * 1024))
                ) from error
        return tuple(stored)

    async def submit(self, inbound: InboundMessage, deliver: Deliver) -> None:
        """Process the message and print the replies it produced."""
        self.channel.begin_turn()
        await handle_inbound(self.runtime, inbound)
        await deliver()
        if inbound.kind == InboundKind.CHOICE and not self.channel.asked:
            # The pressed question is answered and the bot asked a typed one: numbers
            # typed now are answers, not options of the old question.
            self.channel.active = None

    async def has_conversation(self) -> bool:
        """True when this person already talked to the bot (no automatic /start then)."""
        return await has_conversation(self.runtime, CHANNEL, self.user_id)


class ConsolePlugin:
    """The terminal chat of `guardianes chat`: started by that command, never by the service."""

    name: ClassVar[str] = CHANNEL
    routers: ClassVar[Sequence[APIRouter]] = ()
    policy: ClassVar[DeliveryPolicy] = FreeForm()

    def __init__(self, console: Console, locale: str = "es") -> None:
        self.console = console
        self.locale = locale

    @classmethod
    def from_settings(cls, settings: Settings) -> Self | None:
        """None: the service has no terminal; `guardianes chat` builds the plugin itself."""
        return None

    @classmethod
    def pacing(cls, settings: Settings) -> PacerSpec | None:
        """None: printing has no cap."""
        return None

    async def start(self, runtime: Runtime, app: FastAPI | None) -> Channel:
        """The channel that prints; lines are read by `run_console`."""
        return ConsoleChannel(self.console, locale=self.locale)

    async def stop(self) -> None:
        """Nothing to stop."""


async def run_console(
    runtime: Runtime,
    channel: ConsoleChannel,
    read_line: LineReader,
    deliver: Deliver,
    *,
    user_id: str,
    language: str | None = None,
) -> None:
    """Chat until the reader returns None (end of input)."""
    console = channel.console
    session = ConsoleSession(runtime, channel, user_id, language)
    t = translator(language)
    console.print(f"[dim]{escape(t('web.console.welcome'))}[/]")
    await deliver()  # replies a previous run left unprinted
    if not await session.has_conversation():
        await session.submit(session.message(InboundKind.COMMAND, command=Command.START), deliver)
    while True:
        line = await read_line(f"{translator(channel.locale)('web.console.prompt')}> ")
        if line is None:
            break
        try:
            inbound = await session.parse(line)
        except ConsoleInputError as error:
            console.print(f"[red]{escape(str(error))}[/]")
            continue
        if inbound is not None:
            await session.submit(inbound, deliver)
    console.print(f"[dim]{escape(translator(channel.locale)('web.console.bye'))}[/]")
