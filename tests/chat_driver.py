"""Drive a conversation through the real inbound pipeline, reading replies from the outbox."""

from __future__ import annotations

import itertools
import unicodedata
from dataclasses import dataclass, field

from sqlalchemy import select

from guardianes.conversations.messages import (
    Command,
    GeoPoint,
    InboundKind,
    InboundMessage,
    Prompt,
    PromptKind,
    StoredMedia,
)
from guardianes.services.inbound import handle_inbound
from guardianes.services.runtime import Runtime
from guardianes.storage.models import OutboxMessage

_counter = itertools.count(1)


def _fold(text: str) -> str:
    decomposed = unicodedata.normalize("NFKD", text.casefold())
    return "".join(c for c in decomposed if not unicodedata.combining(c))


@dataclass
class ChatDriver:
    """One person talking to the bot on one channel, without a platform in between."""

    runtime: Runtime
    user_id: str = "guardian-1"
    channel: str = "webchat"
    seen_outbox_id: int = 0
    replies: list[Prompt] = field(default_factory=list)

    async def send(self, kind: InboundKind, **values: object) -> list[Prompt]:
        """Send one message and return the prompts it produced."""
        inbound = InboundMessage(
            channel=self.channel,
            user_id=self.user_id,
            external_id=f"{self.user_id}-{next(_counter)}",
            kind=kind,
            **values,  # type: ignore[arg-type]
        )
        await handle_inbound(self.runtime, inbound)
        return await self.new_replies()

    async def new_replies(self) -> list[Prompt]:
        """Prompts queued for this person since the last call."""
        async with self.runtime.sessions() as session:
            rows = (
                await session.execute(
                    select(OutboxMessage)
                    .where(
                        OutboxMessage.channel == self.channel,
                        OutboxMessage.address == self.user_id,
                        OutboxMessage.id > self.seen_outbox_id,
                    )
                    .order_by(OutboxMessage.id)
                )
            ).scalars()
            prompts = []
            for row in rows:
                self.seen_outbox_id = row.id
                prompts.append(Prompt.from_json(row.payload))
        self.replies.extend(prompts)
        return prompts

    async def text(self, text: str) -> list[Prompt]:
        """Type a text."""
        return await self.send(InboundKind.TEXT, text=text)

    async def command(self, command: Command) -> list[Prompt]:
        """Send a command."""
        return await self.send(InboundKind.COMMAND, command=command)

    async def location(self, latitude: float, longitude: float) -> list[Prompt]:
        """Share a location."""
        return await self.send(InboundKind.LOCATION, location=GeoPoint(latitude, longitude))

    async def photos(self, *photos: StoredMedia) -> list[Prompt]:
        """Send photos already stored by the media store."""
        return await self.send(InboundKind.PHOTO, photos=tuple(photos))

    def last_question(self) -> Prompt:
        """The latest prompt (the question now on screen)."""
        for prompt in reversed(self.replies):
            if prompt.kind is not PromptKind.DONE:
                return prompt
        raise AssertionError("no question asked yet")

    def payload_for(self, label: str) -> str:
        """The payload of the last question's choice whose label contains `label`."""
        prompt = self.last_question()
        wanted = _fold(label)
        for choice in prompt.choices:
            if wanted in _fold(choice.label):
                return choice.payload
        for special_label, payload in (
            (prompt.done_label, prompt.done_payload),
            (prompt.skip_label, prompt.skip_payload),
        ):
            if special_label and payload and wanted in _fold(special_label):
                return payload
        labels = [c.label for c in prompt.choices]
        raise AssertionError(f"no choice like {label!r} in {labels} ({prompt.text!r})")

    async def press(self, label: str) -> list[Prompt]:
        """Press the button whose label contains `label`."""
        return await self.send(InboundKind.CHOICE, payload=self.payload_for(label))

    def all_text(self, prompts: list[Prompt] | None = None) -> str:
        """Every prompt's text, joined, for assertions."""
        return "\n".join(p.text for p in (prompts if prompts is not None else self.replies))
