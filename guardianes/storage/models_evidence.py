"""Comptrollership evidence: what the authority reports against what guardians found.

A `ServiceStatusReport` is one row of a status file (the municipality or the contractor says
a service was done, partly done, not done or not scheduled for a space and period). A
`Discrepancy` is one space + service + obligation + period where guardians' cards show a
failure the authority reported done, or that no status row covers; more cards add
`DiscrepancyEvidence`, never more discrepancies. Every status change is kept as a
`DiscrepancyEvent`; when the authority says it is resolved the guardians of its evidence are
asked "¿Ya quedó?" (`GuardianConfirmation`).
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    Date,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from guardianes.domain.enums import (
    ConfirmationAnswer,
    DiscrepancyKind,
    DiscrepancyStatus,
    EvidenceStrength,
    ReportedStatus,
    ReportSource,
    ResponsibleType,
)
from guardianes.storage.base import Base, BigId, Timestamped
from guardianes.storage.types import enum_text, utcnow


class ServiceStatusReport(Timestamped, Base):
    """One row of a municipal/contractor status file; re-importing it updates in place."""

    __tablename__ = "service_status_reports"
    __table_args__ = (
        UniqueConstraint(
            "public_space_id",
            "service_code",
            "obligation",
            "period_start",
            "period_end",
            "source",
            name="uq_service_status_reports_key",  # the generated name passes 63 characters
        ),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    public_space_id: Mapped[int] = mapped_column(
        ForeignKey("public_spaces.id", ondelete="CASCADE"), index=True
    )
    service_code: Mapped[str] = mapped_column(ForeignKey("service_types.code"))
    # Empty string, not NULL, means "every obligation of the service": NULLs would defeat
    # the unique key on both SQLite and PostgreSQL and re-imports would duplicate rows.
    obligation: Mapped[str] = mapped_column(String(40), default="")
    period_start: Mapped[date] = mapped_column(Date)
    period_end: Mapped[date] = mapped_column(Date)
    status: Mapped[ReportedStatus] = mapped_column(enum_text(ReportedStatus, 20))
    source: Mapped[ReportSource] = mapped_column(
        enum_text(ReportSource, 20), default=ReportSource.MUNICIPALITY
    )
    note: Mapped[str | None] = mapped_column(Text, default=None)
    source_file: Mapped[str | None] = mapped_column(String(300), default=None)
    line: Mapped[int | None] = mapped_column(Integer, default=None)


class Discrepancy(Timestamped, Base):
    """A failure guardians found that the authority reported done or did not report."""

    __tablename__ = "discrepancies"
    __table_args__ = (
        UniqueConstraint(
            "public_space_id",
            "service_code",
            "obligation",
            "period_start",
            name="uq_discrepancies_key",  # the generated name passes 63 characters
        ),
        Index("ix_discrepancies_status", "status", "due_at"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    public_space_id: Mapped[int] = mapped_column(
        ForeignKey("public_spaces.id", ondelete="CASCADE"), index=True
    )
    service_code: Mapped[str] = mapped_column(ForeignKey("service_types.code"))
    obligation: Mapped[str] = mapped_column(String(40))
    period_start: Mapped[date] = mapped_column(Date)
    period_end: Mapped[date] = mapped_column(Date)
    kind: Mapped[DiscrepancyKind] = mapped_column(enum_text(DiscrepancyKind, 20))
    status: Mapped[DiscrepancyStatus] = mapped_column(
        enum_text(DiscrepancyStatus, 20), default=DiscrepancyStatus.OPEN
    )
    status_report_id: Mapped[int | None] = mapped_column(
        ForeignKey("service_status_reports.id", ondelete="SET NULL"), default=None
    )
    reported_status: Mapped[ReportedStatus | None] = mapped_column(
        enum_text(ReportedStatus, 20), default=None
    )
    contract_id: Mapped[int | None] = mapped_column(
        ForeignKey("contracts.id"), index=True, default=None
    )
    company_id: Mapped[int | None] = mapped_column(
        ForeignKey("companies.id"), index=True, default=None
    )
    contract_number: Mapped[str | None] = mapped_column(String(200), default=None)
    responsible_name: Mapped[str | None] = mapped_column(String(300), default=None)
    responsible_type: Mapped[ResponsibleType | None] = mapped_column(
        enum_text(ResponsibleType, 20), default=None
    )
    directorate_id: Mapped[int | None] = mapped_column(
        ForeignKey("directorates.id"), index=True, default=None
    )
    colonia_id: Mapped[int | None] = mapped_column(
        ForeignKey("colonias.id"), index=True, default=None
    )
    guardian_count: Mapped[int] = mapped_column(Integer, default=0)
    evidence_count: Mapped[int] = mapped_column(Integer, default=0)
    strength: Mapped[EvidenceStrength] = mapped_column(
        enum_text(EvidenceStrength, 10), default=EvidenceStrength.WEAK
    )
    first_observed_at: Mapped[datetime]
    last_observed_at: Mapped[datetime]
    due_at: Mapped[datetime | None] = mapped_column(default=None)
    notified_at: Mapped[datetime | None] = mapped_column(default=None)
    acknowledged_at: Mapped[datetime | None] = mapped_column(default=None)
    resolved_at: Mapped[datetime | None] = mapped_column(default=None)
    escalated_at: Mapped[datetime | None] = mapped_column(default=None)
    overdue_at: Mapped[datetime | None] = mapped_column(default=None)
    last_note: Mapped[str | None] = mapped_column(Text, default=None)


class DiscrepancyEvidence(Base):
    """One failed answer of one card backing a discrepancy."""

    __tablename__ = "discrepancy_evidence"
    __table_args__ = (UniqueConstraint("discrepancy_id", "submission_id", "question"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    discrepancy_id: Mapped[int] = mapped_column(
        ForeignKey("discrepancies.id", ondelete="CASCADE"), index=True
    )
    submission_id: Mapped[int] = mapped_column(
        ForeignKey("submissions.id", ondelete="CASCADE"), index=True
    )
    # NULL once the guardian erased their data: the card stays as anonymous evidence.
    guardian_id: Mapped[int | None] = mapped_column(
        ForeignKey("guardians.id", ondelete="SET NULL"), index=True
    )
    question: Mapped[str] = mapped_column(String(100))
    answer: Mapped[Any] = mapped_column(JSON)
    # Same guardian, space and service within GUARDIANES_REPEAT_WINDOW_HOURS: kept, not counted.
    is_repeat: Mapped[bool] = mapped_column(Boolean, default=False)
    observed_at: Mapped[datetime]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class DiscrepancyEvent(Base):
    """History: one status change of a discrepancy, by whom, when and why."""

    __tablename__ = "discrepancy_events"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    discrepancy_id: Mapped[int] = mapped_column(
        ForeignKey("discrepancies.id", ondelete="CASCADE"), index=True
    )
    from_status: Mapped[DiscrepancyStatus | None] = mapped_column(enum_text(DiscrepancyStatus, 20))
    to_status: Mapped[DiscrepancyStatus] = mapped_column(enum_text(DiscrepancyStatus, 20))
    actor: Mapped[str] = mapped_column(String(200))
    note: Mapped[str | None] = mapped_column(Text, default=None)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class GuardianConfirmation(Base):
    """ "¿Ya quedó?": a guardian of the evidence asked whether a resolved failure is fixed."""

    __tablename__ = "guardian_confirmations"
    __table_args__ = (Index("ix_guardian_confirmations_pending", "guardian_id", "answer"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    discrepancy_id: Mapped[int] = mapped_column(
        ForeignKey("discrepancies.id", ondelete="CASCADE"), index=True
    )
    guardian_id: Mapped[int] = mapped_column(ForeignKey("guardians.id", ondelete="CASCADE"))
    asked_at: Mapped[datetime] = mapped_column(default=utcnow)
    answer: Mapped[ConfirmationAnswer | None] = mapped_column(
        enum_text(ConfirmationAnswer, 10), default=None
    )
    answered_at: Mapped[datetime | None] = mapped_column(default=None)
    submission_id: Mapped[int | None] = mapped_column(
        ForeignKey("submissions.id", ondelete="SET NULL"), default=None
    )
    media_path: Mapped[str | None] = mapped_column(String(300), default=None)
    media_sha256: Mapped[str | None] = mapped_column(String(64), default=None)
