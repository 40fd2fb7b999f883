"""The web chat's copy of what a guardian sent, so their page shows it again.

Inbound events drop their payload once processed (no message text kept beyond processing),
so the web chat keeps its own short record: only for registered guardians (nothing before
consent), read only with the browser's cookie, deleted with the person's data.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from guardianes.storage.base import Base, BigId
from guardianes.storage.types import utcnow


class WebChatOwnMessage(Base):
    """One thing a guardian sent from the web chat, as their page shows it."""

    __tablename__ = "webchat_own_messages"
    __table_args__ = (UniqueConstraint("user_id", "client_id"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    user_id: Mapped[str] = mapped_column(String(64), index=True)  # the browser's chat id
    client_id: Mapped[str] = mapped_column(String(64))  # the page's id of its post
    after_reply: Mapped[int] = mapped_column(BigInteger, default=0)  # newest reply before it
    kind: Mapped[str] = mapped_column(String(20))
    text: Mapped[str | None] = mapped_column(Text, default=None)
    payload: Mapped[str | None] = mapped_column(String(200), default=None)
    source_message_id: Mapped[str | None] = mapped_column(String(40), default=None)
    photos: Mapped[int] = mapped_column(default=0)
    latitude: Mapped[float | None] = mapped_column(default=None)
    longitude: Mapped[float | None] = mapped_column(default=None)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
