"""Privacy records under Mexico's LFPDPPP: consent history, the ARCO request log, staff reads.

- `ConsentEvent`: every acceptance and refusal of a privacy notice version, with the time.
  Withdrawing consent is opposition («no quiero que usen mis datos»): the data goes. The
  history is deleted with the person (it is their data too); the ARCO log keeps the fact.
- `PrivacyRequest`: one row per exercise of an ARCO right (access, rectification,
  cancellation, opposition). It holds no personal data: no guardian id, name or address,
  only the kind, the channel, the time, the outcome and anonymous counts.
- `StaffAuditEntry`: every staff API read that returned guardians' personal data: which
  token, which route, whose data (guardian ids, or how many), when.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, ForeignKey, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from guardianes.domain.enums import (
    ConsentAction,
    PrivacyRequestKind,
    PrivacyRequestOutcome,
    PrivacyRequestSource,
)
from guardianes.storage.base import Base, BigId
from guardianes.storage.types import enum_text, utcnow


class ConsentEvent(Base):
    """One acceptance or refusal of a version of the privacy notice."""

    __tablename__ = "consent_events"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    guardian_id: Mapped[int] = mapped_column(
        ForeignKey("guardians.id", ondelete="CASCADE"), index=True
    )
    action: Mapped[ConsentAction] = mapped_column(enum_text(ConsentAction, 20))
    notice_version: Mapped[str] = mapped_column(String(40))
    channel: Mapped[str] = mapped_column(String(20))
    at: Mapped[datetime] = mapped_column(default=utcnow)


class PrivacyRequest(Base):
    """An ARCO request and what came of it; anonymous by design."""

    __tablename__ = "privacy_requests"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    kind: Mapped[PrivacyRequestKind] = mapped_column(enum_text(PrivacyRequestKind, 20), index=True)
    source: Mapped[PrivacyRequestSource] = mapped_column(
        enum_text(PrivacyRequestSource, 10), default=PrivacyRequestSource.CHAT
    )
    channel: Mapped[str | None] = mapped_column(String(20))
    outcome: Mapped[PrivacyRequestOutcome] = mapped_column(
        enum_text(PrivacyRequestOutcome, 20), default=PrivacyRequestOutcome.DONE
    )
    # Anonymous counts, e.g. {"submissions_anonymized": 3, "photos_deleted": 5}.
    counts: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    at: Mapped[datetime] = mapped_column(default=utcnow, index=True)


class StaffAuditEntry(Base):
    """A staff read of personal data through the API."""

    __tablename__ = "staff_audit_log"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    # The token's name is copied: the row must stay readable after the token is revoked.
    token_id: Mapped[int | None] = mapped_column(
        ForeignKey("staff_tokens.id", ondelete="SET NULL"), index=True
    )
    token_name: Mapped[str] = mapped_column(String(200))
    method: Mapped[str] = mapped_column(String(10))
    route: Mapped[str] = mapped_column(String(200))
    subject_guardian_ids: Mapped[list[Any]] = mapped_column(JSON, default=list)
    subject_count: Mapped[int] = mapped_column(Integer)
    at: Mapped[datetime] = mapped_column(default=utcnow, index=True)
