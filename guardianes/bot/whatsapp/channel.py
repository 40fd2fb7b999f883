"""`WhatsAppChannel`: the outbox's way to send a prompt over the WhatsApp Cloud API."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass

from guardianes.bot.whatsapp.client import (
    DocumentMessage,
    ImageMessage,
    OutgoingMessage,
    Recipient,
    TextMessage,
    WhatsAppClient,
)
from guardianes.bot.whatsapp.render import render, render_template, split_text
from guardianes.config import Settings
from guardianes.conversations.messages import PromptKind
from guardianes.services.delivery import (
    ChannelName,
    Delivery,
    FailureKind,
    SendFailedError,
    SendResult,
)
from guardianes.services.privacy import media_file

MAX_CAPTION = 1024  # characters of a document or image caption


def template_name(settings: Settings, kind: str) -> str:
    """The approved template configured for a message kind (reply, broadcast, reminder, visit)."""
    names = {
        "broadcast": settings.whatsapp_template_broadcast,
        "reminder": settings.whatsapp_template_reminder,
        "visit": settings.whatsapp_template_visit,
        "reply": settings.whatsapp_template_reply,
    }
    return names.get(kind, settings.whatsapp_template_reply)


@dataclass
class WhatsAppChannel:
    """Renders prompts and sends them; failures surface as `SendFailedError` for the outbox.

    OUTSIDE_WINDOW (131047) is raised as is: the outbox resends the row as a template.
    """

    client: WhatsAppClient
    settings: Settings
    name: str = ChannelName.WHATSAPP.value

    def messages_for(self, delivery: Delivery) -> list[OutgoingMessage]:
        """What one outbox row becomes on WhatsApp."""
        if delivery.as_template:
            if not delivery.prompt.text.strip():
                return []  # a bare "done" has nothing worth a paid template
            name = template_name(self.settings, delivery.kind)
            language = self.settings.whatsapp_template_language
            return [render_template(delivery.prompt, name, language)]
        return render(delivery.prompt, delivery.locale)

    async def attachment_messages(self, delivery: Delivery) -> list[OutgoingMessage]:
        """Upload the prompt's file and the document or image message(s) that show it."""
        prompt = delivery.prompt
        attachment = prompt.attachment
        assert attachment is not None
        path = media_file(self.settings.media_dir, attachment.path)
        if path is None or not path.is_file():
            # Deleted since it was queued (retention, erasure): sending again cannot help.
            raise SendFailedError(FailureKind.PERMANENT, f"file {attachment.path} is gone")
        data = await asyncio.to_thread(path.read_bytes)
        media_id = await self.client.upload_media(
            data, mime_type=attachment.mime_type, filename=attachment.file_name
        )
        caption: str | None = prompt.text.strip() or None
        before: list[OutgoingMessage] = []
        if caption is not None and len(caption) > MAX_CAPTION:
            before = [TextMessage(piece) for piece in split_text(caption)]
            caption = None
        if prompt.kind is PromptKind.IMAGE:
            return [*before, ImageMessage(media_id, caption)]
        return [*before, DocumentMessage(media_id, attachment.file_name, caption)]

    async def send(self, delivery: Delivery) -> SendResult:
        """Send the row's messages in order; the last one's id is the row's platform id."""
        recipient = Recipient.from_address(delivery.address)
        message_id: str | None = None
        if delivery.prompt.attachment is not None and not delivery.as_template:
            messages = await self.attachment_messages(delivery)
        else:
            messages = self.messages_for(delivery)
        # WhatsApp cannot edit a sent message: a refreshed prompt is simply sent again.
        for message in messages:
            message_id = await self.client.send(recipient, message)
        return SendResult(platform_message_id=message_id)
