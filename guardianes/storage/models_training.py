"""Training and complaints: course progress, the complaint-channel directory, and the
guardians' "ya lo reporté" to the municipality."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Boolean, ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from guardianes.domain.enums import ComplaintChannelKind
from guardianes.storage.base import Base, BigId, Timestamped, city_fk
from guardianes.storage.types import enum_text, utcnow


class CourseProgressRow(Base):
    """One guardian's place in one course: the lesson in progress and the lessons done.

    Lifecycle: started (lesson_id set) > completed (completed_at set, lesson_id None).
    `last_activity_at` drives the "course in progress, idle N days" reminder.
    """

    __tablename__ = "course_progress"
    __table_args__ = (
        UniqueConstraint("guardian_id", "course_id"),
        Index("ix_course_progress_idle", "completed_at", "last_activity_at"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    guardian_id: Mapped[int] = mapped_column(ForeignKey("guardians.id", ondelete="CASCADE"))
    course_id: Mapped[str] = mapped_column(String(60))
    lesson_id: Mapped[str | None] = mapped_column(String(60))
    lessons_done: Mapped[list[Any]] = mapped_column(JSON, default=list)
    started_at: Mapped[datetime] = mapped_column(default=utcnow)
    last_activity_at: Mapped[datetime] = mapped_column(default=utcnow)
    completed_at: Mapped[datetime | None] = mapped_column(default=None)


class ComplaintChannel(Timestamped, Base):
    """An official channel of one city for complaints about a service (or all of them)."""

    __tablename__ = "complaint_channels"
    __table_args__ = (UniqueConstraint("city_id", "service_code", "kind", "name"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    city_id: Mapped[int] = city_fk()  # each municipality has its own offices and numbers
    # No foreign key: a channel may name a service before any layer of it is imported.
    service_code: Mapped[str | None] = mapped_column(String(64), index=True)
    kind: Mapped[ComplaintChannelKind] = mapped_column(enum_text(ComplaintChannelKind, 20))
    name: Mapped[str] = mapped_column(String(200))
    contact: Mapped[str] = mapped_column(String(500))
    hours: Mapped[str | None] = mapped_column(String(200))
    notes: Mapped[str | None] = mapped_column(Text)
    confirmed: Mapped[bool] = mapped_column(Boolean, default=False)
    active: Mapped[bool] = mapped_column(Boolean, default=True)


class MunicipalReport(Base):
    """A guardian's "ya lo reporté": a problem reported to the municipality's own channels."""

    __tablename__ = "municipal_reports"
    __table_args__ = (Index("ix_municipal_reports_colonia_service", "colonia_id", "service_code"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    # NULL once the guardian erased their data: the report still counts, anonymously.
    guardian_id: Mapped[int | None] = mapped_column(ForeignKey("guardians.id", ondelete="SET NULL"))
    submission_id: Mapped[int | None] = mapped_column(
        ForeignKey("submissions.id", ondelete="SET NULL")
    )
    service_code: Mapped[str | None] = mapped_column(String(64))
    colonia_id: Mapped[int | None] = mapped_column(ForeignKey("colonias.id", ondelete="SET NULL"))
    reported_at: Mapped[datetime] = mapped_column(index=True)
