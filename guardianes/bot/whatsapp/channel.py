"""`WhatsAppChannel`: the outbox's way to send a prompt over the WhatsApp Cloud API."""

from __future__ import annotations

from dataclasses import dataclass

from guardianes.bot.channel import ChannelName, Delivery, SendResult
from guardianes.bot.whatsapp.client import OutgoingMessage, Recipient, WhatsAppClient
from guardianes.bot.whatsapp.render import render, render_template
from guardianes.config import Settings


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

    async def send(self, delivery: Delivery) -> SendResult:
        """Send the row's messages in order; the last one's id is the row's platform id."""
        recipient = Recipient.from_address(delivery.address)
        message_id: str | None = None
        # WhatsApp cannot edit a sent message: a refreshed prompt is simply sent again.
        for message in self.messages_for(delivery):
            message_id = await self.client.send(recipient, message)
        return SendResult(platform_message_id=message_id)
