"""WhatsApp identities: one stable user id per person, whatever identifiers a payload carries.

Since 2026 the Cloud API identifies people by a business-scoped user id (BSUID, e.g.
`MX.13491208655302741918`) as well as, or instead of, their phone number (`wa_id`). A person
first seen with only one of them and later with both must stay the same guardian, so each
row links the identifiers it has seen to the `user_id` chosen the first time (the wa_id when
known, else the BSUID). That `user_id` never changes: it is `Guardian.channel_user_id`.
"""

from __future__ import annotations

from sqlalchemy import String
from sqlalchemy.orm import Mapped, mapped_column

from guardianes.storage.base import Base, BigId, Timestamped


class WhatsAppIdentity(Timestamped, Base):
    """The identifiers seen for one WhatsApp user and the stable user id they map to."""

    __tablename__ = "whatsapp_identities"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    user_id: Mapped[str] = mapped_column(String(200), unique=True)
    wa_id: Mapped[str | None] = mapped_column(String(40), unique=True, default=None)
    bsuid: Mapped[str | None] = mapped_column(String(200), unique=True, default=None)
