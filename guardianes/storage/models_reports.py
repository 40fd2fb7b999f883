"""Reports area: the durable e-mail outbox that carries evidence reports to directorates."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from guardianes.domain.enums import EmailKind, EmailStatus
from guardianes.storage.base import Base, BigId
from guardianes.storage.types import enum_text, utcnow


class EvidenceEmail(Base):
    """One e-mail with its evidence report, written in the transaction that asked for it."""

    __tablename__ = "evidence_emails"
    __table_args__ = (Index("ix_evidence_emails_due", "status", "next_attempt_at"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    directorate_id: Mapped[int | None] = mapped_column(
        ForeignKey("directorates.id", ondelete="SET NULL"), index=True
    )
    recipient: Mapped[str] = mapped_column(String(300))
    subject: Mapped[str] = mapped_column(String(500))
    discrepancy_ids: Mapped[list[Any]] = mapped_column(default=list)
    kind: Mapped[EmailKind] = mapped_column(
        enum_text(EmailKind, 20), default=EmailKind.NOTIFICATION
    )
    locale: Mapped[str] = mapped_column(String(10), default="es")
    status: Mapped[EmailStatus] = mapped_column(
        enum_text(EmailStatus, 20), default=EmailStatus.QUEUED
    )
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(default=utcnow)
    claimed_until: Mapped[datetime | None] = mapped_column(default=None)
    last_error: Mapped[str | None] = mapped_column(Text, default=None)
    requested_by: Mapped[str | None] = mapped_column(String(200), default=None)
    sent_at: Mapped[datetime | None] = mapped_column(default=None)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
