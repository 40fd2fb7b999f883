"""Every status and kind shared by the engine, storage and the services, defined once.

Values are stored in the database: never change one, only add.
"""

from __future__ import annotations

from enum import StrEnum

# ---------------------------------------------------------------- people, places and services


class GuardianRole(StrEnum):
    """guardian < lead (one per colonia, gets reminders) < staff (runs the programme)."""

    GUARDIAN = "guardian"
    LEAD = "lead"
    STAFF = "staff"


# The engine's name for the same roles: what a person may do in a conversation.
Role = GuardianRole


class GuardianStatus(StrEnum):
    """ACTIVE > UNREACHABLE (blocked the bot) | BLOCKED (by staff) | DEACTIVATED."""

    ACTIVE = "active"
    UNREACHABLE = "unreachable"
    BLOCKED = "blocked"
    DEACTIVATED = "deactivated"


class ResponsibleType(StrEnum):
    """Who delivers a service: a contracted company or the municipality itself."""

    CONTRACTOR = "contractor"
    MUNICIPALITY = "municipality"


class ProcedureType(StrEnum):
    """Procurement procedures: public tender, restricted invitation, direct award."""

    LP = "LP"
    IR = "IR"
    AD = "AD"


class FormKind(StrEnum):
    """A card is a surveillance form; a quiz is scored."""

    CARD = "card"
    QUIZ = "quiz"


class QuizPhase(StrEnum):
    """Before training: pre; after it: post."""

    PRE = "pre"
    POST = "post"


class InboundStatus(StrEnum):
    """RECEIVED > PROCESSED | FAILED, or NOTED from the start.

    A RECEIVED event left by a crash, or whose processing met a passing error (the database
    away, a timeout), is processed again: at `next_attempt_at`, with backoff, until
    `attempts` reaches the cap; then it is FAILED with the reason in `error`. NOTED events
    are things people did that get no answer (a reaction, an edit, a deletion, a number
    change, a platform error), kept so they can be counted.
    """

    RECEIVED = "received"
    PROCESSED = "processed"
    FAILED = "failed"
    NOTED = "noted"


class OutboxStatus(StrEnum):
    """QUEUED > SENDING > SENT > DELIVERED > READ, or > FAILED | UNREACHABLE | CANCELLED.

    SENDING rows whose claim expired (a crash or a timeout with unknown outcome) go back to
    QUEUED, so a message is retried rather than lost; a SENT row is never sent again.
    """

    QUEUED = "queued"
    SENDING = "sending"
    SENT = "sent"
    DELIVERED = "delivered"
    READ = "read"
    FAILED = "failed"
    UNREACHABLE = "unreachable"
    CANCELLED = "cancelled"  # never sent: the person erased their data first


class OutboxKind(StrEnum):
    """Why a message is sent: picks the WhatsApp template outside the 24-hour window."""

    REPLY = "reply"
    BROADCAST = "broadcast"
    VISIT = "visit"
    REMINDER = "reminder"
    EVIDENCE = "evidence"  # a discrepancy's news to the guardians of its evidence
    # Remove the inline keyboard of `edit_message_id` (a pressed question): paced like a send.
    CLOSE_KEYBOARD = "close_keyboard"


class BroadcastStatus(StrEnum):
    """PENDING > SENDING > DONE, or > CANCELLED."""

    PENDING = "pending"
    SENDING = "sending"
    DONE = "done"
    CANCELLED = "cancelled"


class DeliveryStatus(StrEnum):
    """PENDING > QUEUED (outbox row made) > SENT | FAILED | UNREACHABLE."""

    PENDING = "pending"
    QUEUED = "queued"
    SENT = "sent"
    FAILED = "failed"
    UNREACHABLE = "unreachable"


class ReminderKind(StrEnum):
    """CRON: recurring (per colonia or lead); VISIT: the day before a visit at a set hour."""

    CRON = "cron"
    VISIT = "visit"


class OccurrenceStatus(StrEnum):
    """PENDING > CLAIMED > SENT, or PENDING > SKIPPED (missed beyond the grace time)."""

    PENDING = "pending"
    CLAIMED = "claimed"
    SENT = "sent"
    SKIPPED = "skipped"


class StaffTokenRole(StrEnum):
    """admin > staff > viewer."""

    ADMIN = "admin"
    STAFF = "staff"
    VIEWER = "viewer"


# ---------------------------------------------------------------- evidence


class ReportedStatus(StrEnum):
    """What the authority says about a service in a period."""

    DONE = "done"
    PARTIAL = "partial"
    NOT_DONE = "not_done"
    NOT_SCHEDULED = "not_scheduled"


class ReportSource(StrEnum):
    """Who reported the status: the municipality itself or the contracted company."""

    MUNICIPALITY = "municipality"
    CONTRACTOR = "contractor"


class DiscrepancyKind(StrEnum):
    """REPORTED_DONE: reported done, found failed. NOT_REPORTED: no status row covers it."""

    REPORTED_DONE = "reported_done"
    NOT_REPORTED = "not_reported"


class DiscrepancyStatus(StrEnum):
    """OPEN > NOTIFIED > ACKNOWLEDGED > RESOLVED | DISMISSED; RESOLVED | DISMISSED > OPEN."""

    OPEN = "open"
    NOTIFIED = "notified"
    ACKNOWLEDGED = "acknowledged"
    RESOLVED = "resolved"
    DISMISSED = "dismissed"


class EvidenceStrength(StrEnum):
    """WEAK: one guardian; MEDIUM: two; STRONG: three or more."""

    WEAK = "weak"
    MEDIUM = "medium"
    STRONG = "strong"


class ConfirmationAnswer(StrEnum):
    """A guardian's answer to "¿Ya quedó?"."""

    YES = "yes"
    NO = "no"


# ---------------------------------------------------------------- evidence e-mails


class EmailStatus(StrEnum):
    """QUEUED > SENDING > SENT, or > FAILED after the last attempt.

    A SENDING row whose claim expired (the process died mid-send) goes back to being due, so
    a report is sent again rather than lost; a FAILED row stays until staff retry it.
    """

    QUEUED = "queued"
    SENDING = "sending"
    SENT = "sent"
    FAILED = "failed"


class EmailKind(StrEnum):
    """NOTIFICATION: one discrepancy; BATCH: several; ESCALATION: overdue, to the head."""

    NOTIFICATION = "notification"
    BATCH = "batch"
    ESCALATION = "escalation"


# ---------------------------------------------------------------- privacy


class ConsentAction(StrEnum):
    """ACCEPTED (at sign-up or a new notice) | DECLINED (a new notice: no cards until accepted)."""

    ACCEPTED = "accepted"
    DECLINED = "declined"


class PrivacyRequestKind(StrEnum):
    """The four ARCO rights: access, rectification, cancellation, opposition."""

    ACCESS = "access"
    RECTIFICATION = "rectification"
    CANCELLATION = "cancellation"
    OPPOSITION = "opposition"


class PrivacyRequestOutcome(StrEnum):
    """DONE, or NOTHING_STORED when the person had no data left (a repeated deletion)."""

    DONE = "done"
    NOTHING_STORED = "nothing_stored"


class PrivacyRequestSource(StrEnum):
    """Who carried the request out: the person in chat, or staff on a written request."""

    CHAT = "chat"
    STAFF = "staff"


# ---------------------------------------------------------------- training and complaints


class ComplaintChannelKind(StrEnum):
    """How the municipality takes a complaint."""

    PHONE = "phone"
    APP = "app"
    WEB = "web"
    OFFICE = "office"
    WHATSAPP = "whatsapp"
    EMAIL = "email"
