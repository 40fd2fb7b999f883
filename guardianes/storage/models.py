"""SQLAlchemy models: the whole Guardianes data model.

Statuses and kinds are the `StrEnum`s of `guardianes.domain.enums` (each docstring draws its
lifecycle), stored as their plain values: see `storage.types.enum_text`.
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    Date,
    ForeignKey,
    Index,
    Integer,
    Numeric,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from guardianes.domain.enums import (
    BroadcastStatus,
    DeliveryStatus,
    FormKind,
    GuardianRole,
    GuardianStatus,
    InboundStatus,
    OccurrenceStatus,
    OutboxKind,
    OutboxStatus,
    QuizPhase,
    ReminderKind,
    ResponsibleType,
    StaffTokenRole,
)

# The other model modules register their tables on `Base.metadata` when imported: importing
# this module therefore loads the whole schema (Alembic and the test fixtures rely on it).
from guardianes.storage import (  # noqa: F401
    models_cities,
    models_evidence,
    models_pacing,
    models_privacy,
    models_reports,
    models_training,
    models_webchat,
    models_whatsapp,
)
from guardianes.storage.base import Base, BigId, Timestamped, city_fk
from guardianes.storage.types import enum_text, utcnow

# ---------------------------------------------------------------- geography and services


class Colonia(Timestamped, Base):
    """A neighbourhood; geometry is optional (many cities publish only names)."""

    __tablename__ = "colonias"
    __table_args__ = (UniqueConstraint("city_id", "normalized_name"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    city_id: Mapped[int] = city_fk()
    name: Mapped[str] = mapped_column(String(200))
    normalized_name: Mapped[str] = mapped_column(String(200))
    geometry_geojson: Mapped[dict[str, Any] | None] = mapped_column(JSON, default=None)
    training_date: Mapped[date | None] = mapped_column(Date, default=None)


class ServiceType(Base):
    """A public service guardians check (extensible: add rows, no code change)."""

    __tablename__ = "service_types"

    code: Mapped[str] = mapped_column(String(64), primary_key=True)
    name_es: Mapped[str] = mapped_column(String(200))
    name_en: Mapped[str] = mapped_column(String(200))


class Directorate(Timestamped, Base):
    """A municipal unit responsible for a service, notified of discrepancies."""

    __tablename__ = "directorates"
    __table_args__ = (UniqueConstraint("city_id", "name"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    city_id: Mapped[int] = city_fk()
    name: Mapped[str] = mapped_column(String(300))
    service_code: Mapped[str | None] = mapped_column(ForeignKey("service_types.code"))
    notification_email: Mapped[str | None] = mapped_column(String(300))
    notification_address: Mapped[str | None] = mapped_column(Text)
    # evidence: who heads it (escalations go there) and how to reach the office.
    head_name: Mapped[str | None] = mapped_column(String(300), default=None)
    head_email: Mapped[str | None] = mapped_column(String(300), default=None)
    phone: Mapped[str | None] = mapped_column(String(60), default=None)


class Layer(Timestamped, Base):
    """One imported map file (service area): service, year, contract, responsible party."""

    __tablename__ = "layers"
    __table_args__ = (UniqueConstraint("city_id", "file_name"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    city_id: Mapped[int] = city_fk()
    file_name: Mapped[str] = mapped_column(String(300))
    document_name: Mapped[str | None] = mapped_column(String(300))
    title: Mapped[str | None] = mapped_column(String(500))
    service_code: Mapped[str] = mapped_column(ForeignKey("service_types.code"))
    year: Mapped[int | None] = mapped_column(Integer)
    contract_number: Mapped[str | None] = mapped_column(String(100))
    responsible_name: Mapped[str | None] = mapped_column(String(300))
    responsible_type: Mapped[ResponsibleType] = mapped_column(
        enum_text(ResponsibleType, 20), default=ResponsibleType.MUNICIPALITY
    )
    directorate_id: Mapped[int | None] = mapped_column(ForeignKey("directorates.id"))


class PublicSpace(Timestamped, Base):
    """A park, plaza, median, route area or site, with its geometry as GeoJSON."""

    __tablename__ = "public_spaces"
    __table_args__ = (UniqueConstraint("layer_id", "placemark_key"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    layer_id: Mapped[int] = mapped_column(ForeignKey("layers.id", ondelete="CASCADE"), index=True)
    placemark_key: Mapped[str] = mapped_column(String(300))  # stable id inside its file
    source_code: Mapped[str | None] = mapped_column(String(100), index=True)
    name: Mapped[str] = mapped_column(String(500))
    kind: Mapped[str] = mapped_column(String(50))  # park, route_area, site, ...
    description: Mapped[str | None] = mapped_column(Text)
    geometry_geojson: Mapped[dict[str, Any]] = mapped_column(JSON)
    centroid_lat: Mapped[float]
    centroid_lon: Mapped[float]
    min_lat: Mapped[float]
    min_lon: Mapped[float]
    max_lat: Mapped[float]
    max_lon: Mapped[float]
    colonia_id: Mapped[int | None] = mapped_column(ForeignKey("colonias.id"), index=True)

    layer: Mapped[Layer] = relationship(lazy="raise")


# ---------------------------------------------------------------- procurement


class Company(Timestamped, Base):
    """A contractor; de-duplicated by RFC, or by normalised name when RFC is missing."""

    __tablename__ = "companies"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    name: Mapped[str] = mapped_column(String(500))
    normalized_name: Mapped[str] = mapped_column(String(500), index=True)
    rfc: Mapped[str | None] = mapped_column(String(20), unique=True)
    constitution_date: Mapped[date | None] = mapped_column(Date)


class Contract(Timestamped, Base):
    """A municipal procurement contract with its IMCO corruption-risk indicators."""

    __tablename__ = "contracts"
    __table_args__ = (UniqueConstraint("city_id", "natural_key"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    city_id: Mapped[int] = city_fk()
    natural_key: Mapped[str] = mapped_column(String(600))
    period: Mapped[str | None] = mapped_column(String(100))
    agency: Mapped[str | None] = mapped_column(String(300))
    process_number: Mapped[str | None] = mapped_column(String(500), index=True)
    contract_number: Mapped[str | None] = mapped_column(String(200), index=True)
    contract_date: Mapped[date | None] = mapped_column(Date)
    amount: Mapped[Decimal | None] = mapped_column(Numeric(18, 2))
    object: Mapped[str | None] = mapped_column(Text)
    subject: Mapped[str | None] = mapped_column(String(200))
    procedure_type: Mapped[str | None] = mapped_column(String(10))
    company_id: Mapped[int | None] = mapped_column(ForeignKey("companies.id"), index=True)
    call_date: Mapped[date | None] = mapped_column(Date)
    bases_date: Mapped[date | None] = mapped_column(Date)
    proposals_date: Mapped[date | None] = mapped_column(Date)
    start_date: Mapped[date | None] = mapped_column(Date)
    clarification_date: Mapped[date | None] = mapped_column(Date)
    opening_date: Mapped[date | None] = mapped_column(Date)
    ruling_date: Mapped[date | None] = mapped_column(Date)
    bidders_count: Mapped[int | None] = mapped_column(Integer)
    solvent_bidders_count: Mapped[int | None] = mapped_column(Integer)
    bidders: Mapped[str | None] = mapped_column(Text)
    budgeted_amount: Mapped[Decimal | None] = mapped_column(Numeric(18, 2))
    funding_source: Mapped[str | None] = mapped_column(String(300))
    settlement_date: Mapped[date | None] = mapped_column(Date)
    settlement_amount: Mapped[Decimal | None] = mapped_column(Numeric(18, 2))
    exception_basis: Mapped[str | None] = mapped_column(Text)
    exception_amount: Mapped[Decimal | None] = mapped_column(Numeric(18, 2))
    risk_favoritism: Mapped[float | None]
    risk_directed_tender: Mapped[float | None]
    risk_split_contracts: Mapped[float | None]
    risk_overpricing: Mapped[float | None]
    risk_short_deadlines: Mapped[float | None]
    risk_collusion: Mapped[float | None]
    risk_shell_company: Mapped[float | None]
    obligations: Mapped[str | None] = mapped_column(Text)
    # OCP red flags (issue 15): True/False, None when the data does not say.
    flag_single_bidder: Mapped[bool | None]
    flag_direct_award: Mapped[bool | None]
    flag_short_tender: Mapped[bool | None]
    flag_value_increase: Mapped[bool | None]
    value_increase_pct: Mapped[float | None]
    ocid: Mapped[str | None] = mapped_column(String(200), index=True)
    # Every OCDS release merged into this row (date, tags, values) and explicit amendments.
    ocds_history: Mapped[dict[str, Any] | None] = mapped_column(JSON)

    company: Mapped[Company | None] = relationship(lazy="raise")


class ComplaintCount(Timestamped, Base):
    """Citizen complaints about a service in a colonia for a day or a month."""

    __tablename__ = "complaint_counts"
    __table_args__ = (
        UniqueConstraint("colonia_id", "service_code", "period_start", "granularity"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    colonia_id: Mapped[int] = mapped_column(ForeignKey("colonias.id"), index=True)
    service_code: Mapped[str] = mapped_column(ForeignKey("service_types.code"))
    period_start: Mapped[date] = mapped_column(Date)
    granularity: Mapped[str] = mapped_column(String(10))  # day | month
    count: Mapped[int] = mapped_column(Integer)


# ---------------------------------------------------------------- people and conversations


class Guardian(Timestamped, Base):
    """A registered person on one channel (exists only after explicit consent)."""

    __tablename__ = "guardians"
    __table_args__ = (UniqueConstraint("channel", "channel_user_id"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    channel: Mapped[str] = mapped_column(String(20))
    channel_user_id: Mapped[str] = mapped_column(String(200))
    address: Mapped[str] = mapped_column(String(200))  # where the platform delivers replies
    display_name: Mapped[str] = mapped_column(String(200))
    phone: Mapped[str | None] = mapped_column(String(40))
    colonia_id: Mapped[int | None] = mapped_column(ForeignKey("colonias.id"), index=True)
    # cities: None until known (the only city then); set from the colonia or a question.
    city_id: Mapped[int | None] = mapped_column(ForeignKey("cities.id"), index=True, default=None)
    role: Mapped[GuardianRole] = mapped_column(
        enum_text(GuardianRole, 20), default=GuardianRole.GUARDIAN
    )
    locale: Mapped[str] = mapped_column(String(10), default="es")
    consent_at: Mapped[datetime]
    privacy_notice_version: Mapped[str] = mapped_column(String(40))
    status: Mapped[GuardianStatus] = mapped_column(
        enum_text(GuardianStatus, 20), default=GuardianStatus.ACTIVE
    )
    training_date: Mapped[date | None] = mapped_column(Date, default=None)
    last_inbound_at: Mapped[datetime | None] = mapped_column(default=None)

    colonia: Mapped[Colonia | None] = relationship(lazy="raise")


class ConversationState(Base):
    """Where one person is in a conversation; written after every message."""

    __tablename__ = "conversation_states"
    __table_args__ = (UniqueConstraint("channel", "channel_user_id"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    channel: Mapped[str] = mapped_column(String(20))
    channel_user_id: Mapped[str] = mapped_column(String(200))
    guardian_id: Mapped[int | None] = mapped_column(ForeignKey("guardians.id", ondelete="CASCADE"))
    state: Mapped[dict[str, Any]] = mapped_column(JSON)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)


class CardDefinition(Timestamped, Base):
    """A form (card or quiz) by id and version, so old answers stay readable."""

    __tablename__ = "card_definitions"
    __table_args__ = (UniqueConstraint("form_id", "version"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    form_id: Mapped[str] = mapped_column(String(100))
    version: Mapped[str] = mapped_column(String(50))
    kind: Mapped[FormKind] = mapped_column(enum_text(FormKind, 10), default=FormKind.CARD)
    title: Mapped[str] = mapped_column(String(300))
    service_code: Mapped[str | None] = mapped_column(String(64))
    source_file: Mapped[str | None] = mapped_column(String(500))
    questions: Mapped[list[Any]] = mapped_column(JSON, default=list)


class Submission(Base):
    """A finished surveillance card: answers, location, matched space and contract, photos.

    `guardian_id` is None once the guardian erased their data: the card still counts as
    public evidence, anonymously (its photos are deleted, see `SubmissionMedia`).
    """

    __tablename__ = "submissions"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    guardian_id: Mapped[int | None] = mapped_column(ForeignKey("guardians.id"), index=True)
    card_definition_id: Mapped[int] = mapped_column(ForeignKey("card_definitions.id"), index=True)
    channel: Mapped[str] = mapped_column(String(20))
    answers: Mapped[dict[str, Any]] = mapped_column(JSON)
    latitude: Mapped[float | None]
    longitude: Mapped[float | None]
    public_space_id: Mapped[int | None] = mapped_column(ForeignKey("public_spaces.id"), index=True)
    contract_id: Mapped[int | None] = mapped_column(ForeignKey("contracts.id"), index=True)
    colonia_id: Mapped[int | None] = mapped_column(ForeignKey("colonias.id"), index=True)
    responsible_name: Mapped[str | None] = mapped_column(String(300))
    started_at: Mapped[datetime]
    completed_at: Mapped[datetime] = mapped_column(index=True)

    media: Mapped[list[SubmissionMedia]] = relationship(
        lazy="selectin", order_by="SubmissionMedia.position", cascade="all, delete-orphan"
    )
    card_definition: Mapped[CardDefinition] = relationship(lazy="raise")


class SubmissionMedia(Base):
    """A photo of a submission: a content-addressed file under the media directory.

    STORED > DELETED (`deleted_at` set, the file removed): by the retention job after
    GUARDIANES_MEDIA_RETENTION_DAYS, or when the guardian erases their data.
    """

    __tablename__ = "submission_media"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    submission_id: Mapped[int] = mapped_column(
        ForeignKey("submissions.id", ondelete="CASCADE"), index=True
    )
    question: Mapped[str] = mapped_column(String(100))
    position: Mapped[int] = mapped_column(Integer)
    path: Mapped[str] = mapped_column(String(300))
    sha256: Mapped[str] = mapped_column(String(64))
    mime_type: Mapped[str] = mapped_column(String(50))
    size: Mapped[int] = mapped_column(Integer)
    deleted_at: Mapped[datetime | None] = mapped_column(default=None, index=True)
    deletion_reason: Mapped[str | None] = mapped_column(String(20), default=None)
    # evidence: a 64-bit perceptual hash (hex) and the earlier photo it nearly copies, if any.
    perceptual_hash: Mapped[str | None] = mapped_column(String(16), index=True, default=None)
    reused_media_id: Mapped[int | None] = mapped_column(
        ForeignKey("submission_media.id", ondelete="SET NULL"), default=None
    )
    caption: Mapped[str | None] = mapped_column(Text, default=None)  # sent with the photo


class QuizAttempt(Base):
    """A scored training quiz; one pre and one post per guardian and quiz."""

    __tablename__ = "quiz_attempts"
    __table_args__ = (UniqueConstraint("guardian_id", "form_id", "phase"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    guardian_id: Mapped[int] = mapped_column(ForeignKey("guardians.id"), index=True)
    form_id: Mapped[str] = mapped_column(String(100))
    form_version: Mapped[str] = mapped_column(String(50))
    phase: Mapped[QuizPhase] = mapped_column(enum_text(QuizPhase, 10))
    answers: Mapped[dict[str, Any]] = mapped_column(JSON)
    score: Mapped[int] = mapped_column(Integer)
    max_score: Mapped[int] = mapped_column(Integer)
    started_at: Mapped[datetime]
    completed_at: Mapped[datetime]


# ---------------------------------------------------------------- staff operations


class Visit(Timestamped, Base):
    """A visit of comptroller staff to a colonia, announced to its guardians."""

    __tablename__ = "visits"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    colonia_id: Mapped[int] = mapped_column(ForeignKey("colonias.id"), index=True)
    place: Mapped[str] = mapped_column(String(300))
    starts_at: Mapped[datetime]
    description: Mapped[str] = mapped_column(Text, default="")
    created_by: Mapped[str | None] = mapped_column(String(200))
    cancelled_at: Mapped[datetime | None] = mapped_column(default=None)


class Broadcast(Timestamped, Base):
    """A message to many guardians, one delivery row per recipient."""

    __tablename__ = "broadcasts"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    kind: Mapped[OutboxKind] = mapped_column(
        enum_text(OutboxKind, 20), default=OutboxKind.BROADCAST
    )
    text: Mapped[str] = mapped_column(Text)
    colonia_id: Mapped[int | None] = mapped_column(ForeignKey("colonias.id"))
    role_filter: Mapped[str | None] = mapped_column(String(20))
    channel_filter: Mapped[str | None] = mapped_column(String(20))
    visit_id: Mapped[int | None] = mapped_column(ForeignKey("visits.id"))
    status: Mapped[BroadcastStatus] = mapped_column(
        enum_text(BroadcastStatus, 20), default=BroadcastStatus.PENDING
    )
    created_by: Mapped[str | None] = mapped_column(String(200))
    finished_at: Mapped[datetime | None] = mapped_column(default=None)


class BroadcastDelivery(Base):
    """One recipient of a broadcast; created before sending, claimed and sent once."""

    __tablename__ = "broadcast_deliveries"
    __table_args__ = (
        UniqueConstraint("broadcast_id", "guardian_id"),
        Index("ix_broadcast_deliveries_status", "broadcast_id", "status"),
        # The sender carries each outbox row's outcome back to its delivery by this key.
        Index("ix_broadcast_deliveries_outbox_id", "outbox_id"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    broadcast_id: Mapped[int] = mapped_column(ForeignKey("broadcasts.id", ondelete="CASCADE"))
    guardian_id: Mapped[int] = mapped_column(ForeignKey("guardians.id"))
    status: Mapped[DeliveryStatus] = mapped_column(
        enum_text(DeliveryStatus, 20), default=DeliveryStatus.PENDING
    )
    outbox_id: Mapped[int | None] = mapped_column(ForeignKey("outbox_messages.id"))
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)


class Reminder(Timestamped, Base):
    """A schedule: cron-like per colonia or lead, or the day before a visit at a set hour."""

    __tablename__ = "reminders"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    kind: Mapped[ReminderKind] = mapped_column(
        enum_text(ReminderKind, 10), default=ReminderKind.CRON
    )
    name: Mapped[str] = mapped_column(String(200))
    colonia_id: Mapped[int | None] = mapped_column(ForeignKey("colonias.id"))
    guardian_id: Mapped[int | None] = mapped_column(ForeignKey("guardians.id"))
    visit_id: Mapped[int | None] = mapped_column(ForeignKey("visits.id"))
    # APScheduler CronTrigger fields, e.g. {"day_of_week": "mon", "hour": 10, "minute": 0}.
    cron: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    message_key: Mapped[str] = mapped_column(String(100), default="reminders.fill_card")
    text: Mapped[str | None] = mapped_column(Text)  # staff text overrides the catalog text
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    next_run_at: Mapped[datetime | None] = mapped_column(default=None, index=True)


class ReminderOccurrence(Base):
    """One send of a reminder to one person at one time; the unique key forbids a second."""

    __tablename__ = "reminder_occurrences"
    __table_args__ = (UniqueConstraint("reminder_id", "guardian_id", "scheduled_for"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    reminder_id: Mapped[int] = mapped_column(ForeignKey("reminders.id", ondelete="CASCADE"))
    guardian_id: Mapped[int] = mapped_column(ForeignKey("guardians.id"))
    scheduled_for: Mapped[datetime]
    status: Mapped[OccurrenceStatus] = mapped_column(
        enum_text(OccurrenceStatus, 20), default=OccurrenceStatus.PENDING, index=True
    )
    claimed_by: Mapped[str | None] = mapped_column(String(100))
    outbox_id: Mapped[int | None] = mapped_column(ForeignKey("outbox_messages.id"))
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)


class StaffToken(Base):
    """An API token for staff; only its SHA-256 is stored."""

    __tablename__ = "staff_tokens"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    role: Mapped[StaffTokenRole] = mapped_column(enum_text(StaffTokenRole, 10))
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    revoked_at: Mapped[datetime | None] = mapped_column(default=None)
    last_used_at: Mapped[datetime | None] = mapped_column(default=None)


# ---------------------------------------------------------------- messaging plumbing


class InboundEvent(Base):
    """An update received from a platform; UNIQUE(channel, external_id) makes redelivery a no-op.

    `payload` holds the neutral message until processed, then is cleared: nothing of a person
    who declines consent is kept.
    """

    __tablename__ = "inbound_events"
    __table_args__ = (UniqueConstraint("channel", "external_id"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    channel: Mapped[str] = mapped_column(String(20))
    external_id: Mapped[str] = mapped_column(String(200))
    status: Mapped[InboundStatus] = mapped_column(
        enum_text(InboundStatus, 20), default=InboundStatus.RECEIVED, index=True
    )
    # "channel:user id" while unprocessed, so one person's events run in stored order.
    conversation_key: Mapped[str | None] = mapped_column(String(250), default=None, index=True)
    payload: Mapped[dict[str, Any] | None] = mapped_column(JSON, default=None)
    received_at: Mapped[datetime] = mapped_column(default=utcnow)
    processed_at: Mapped[datetime | None] = mapped_column(default=None)
    error: Mapped[str | None] = mapped_column(Text, default=None)
    # What the platform sent: "message", or for NOTED events "reaction", "edit", "revoke",
    # "system", "error", "unreadable" (an update the platform library could not read).
    kind: Mapped[str] = mapped_column(String(30), default="message", server_default="message")
    attempts: Mapped[int] = mapped_column(default=0, server_default="0")
    next_attempt_at: Mapped[datetime | None] = mapped_column(default=None, index=True)


class OutboxMessage(Base):
    """A message to send, written in the same transaction as the change that caused it."""

    __tablename__ = "outbox_messages"
    __table_args__ = (
        Index("ix_outbox_messages_due", "status", "next_attempt_at"),
        Index("ix_outbox_messages_chat", "channel", "address", "id"),
        # Claims per lane: replies are found among queued broadcast rows by kind.
        Index("ix_outbox_messages_lane_due", "kind", "status", "next_attempt_at"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    channel: Mapped[str] = mapped_column(String(20))
    address: Mapped[str] = mapped_column(String(200))
    guardian_id: Mapped[int | None] = mapped_column(
        ForeignKey("guardians.id", ondelete="SET NULL"), index=True
    )
    kind: Mapped[OutboxKind] = mapped_column(enum_text(OutboxKind, 20), default=OutboxKind.REPLY)
    locale: Mapped[str] = mapped_column(String(10), default="es")
    payload: Mapped[dict[str, Any]] = mapped_column(JSON)
    as_template: Mapped[bool] = mapped_column(Boolean, default=False)
    edit_message_id: Mapped[str | None] = mapped_column(String(100))
    status: Mapped[OutboxStatus] = mapped_column(
        enum_text(OutboxStatus, 20), default=OutboxStatus.QUEUED
    )
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(default=utcnow)
    claimed_by: Mapped[str | None] = mapped_column(String(100))
    claimed_until: Mapped[datetime | None] = mapped_column(default=None)
    platform_message_id: Mapped[str | None] = mapped_column(String(200), index=True)
    last_error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    sent_at: Mapped[datetime | None] = mapped_column(default=None)
    status_at: Mapped[datetime | None] = mapped_column(default=None)
