"""Evidence e-mails to directorates through a durable outbox, sent over SMTP with retries.

`queue_notification` writes one `evidence_emails` row per directorate in the caller's
transaction; `queue_escalations` does the same, once, for discrepancies past their deadline,
to the directorate's head. `EmailDispatcher.run_once` claims due rows, renders the report
(HTML body and PDF attachment), sends it with aiosmtplib and records the outcome: a sent
notification moves its discrepancies to `notified` through the evidence service; a failed
send is retried with exponential backoff and, after `email_max_attempts`, kept as FAILED
(listed by the API, retried on request) — never dropped.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from email.message import EmailMessage
from email.utils import formatdate, make_msgid
from pathlib import Path
from typing import Protocol

import aiosmtplib
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from guardianes.config import Settings
from guardianes.domain.enums import DiscrepancyStatus, EmailKind, EmailStatus
from guardianes.domain.timezone import zone
from guardianes.locales import translator
from guardianes.services.evidence import change_status
from guardianes.services.reports.evidence_pdf import evidence_report_pdf
from guardianes.services.reports.evidence_report import (
    EvidenceReport,
    build_evidence_report,
    evidence_report_html,
    label,
)
from guardianes.storage.db import unit_of_work
from guardianes.storage.models import Directorate
from guardianes.storage.models_evidence import Discrepancy
from guardianes.storage.models_reports import EvidenceEmail
from guardianes.storage.repositories import evidence as evidence_repo
from guardianes.storage.repositories import evidence_emails as repo
from guardianes.storage.repositories import reports as reports_repo
from guardianes.storage.types import utcnow

logger = logging.getLogger(__name__)

CLAIM_BATCH = 20
SYSTEM_ACTOR = "system"
# Statuses a directorate can still be told about; resolved or dismissed ones are closed.
NOTIFIABLE = frozenset(
    {DiscrepancyStatus.OPEN, DiscrepancyStatus.NOTIFIED, DiscrepancyStatus.ACKNOWLEDGED}
)


class NotificationError(ValueError):
    """The discrepancies cannot be notified; `problems` says why, per discrepancy."""

    def __init__(self, problems: list[str]) -> None:
        super().__init__("; ".join(problems))
        self.problems = problems


@dataclass(frozen=True, slots=True)
class OutgoingEmail:
    """A rendered e-mail: what the SMTP client is handed."""

    message: EmailMessage
    recipient: str


class EmailTransport(Protocol):
    """Sends one message; raises on any failure (the outbox retries)."""

    async def send(self, email: OutgoingEmail) -> None:
        """Deliver the message to the SMTP server."""
        ...


@dataclass(frozen=True, slots=True)
class SmtpTransport:
    """aiosmtplib with the host, port, TLS mode and credentials of the settings."""

    settings: Settings

    async def send(self, email: OutgoingEmail) -> None:
        """Open a connection, send, close: reports are few, a pool would only go stale."""
        s = self.settings
        password = s.smtp_password.get_secret_value() if s.smtp_password else None
        await aiosmtplib.send(
            email.message,
            recipients=[email.recipient],
            hostname=s.smtp_host,
            port=s.smtp_port,
            username=s.smtp_username or None,
            password=password if s.smtp_username else None,
            use_tls=s.smtp_tls == "tls",
            start_tls=s.smtp_tls == "starttls",
            timeout=s.smtp_timeout_seconds,
        )


# ---------------------------------------------------------------- queueing


def _recipient(directorate: Directorate | None, kind: EmailKind) -> str | None:
    if directorate is None:
        return None
    if kind is EmailKind.ESCALATION:
        # The head answers for overdue work; without a head's address the directorate's own
        # address still reaches someone who can act.
        return directorate.head_email or directorate.notification_email
    return directorate.notification_email


async def queue_notification(
    session: AsyncSession,
    discrepancy_ids: Sequence[int],
    *,
    requested_by: str | None,
    now: datetime | None = None,
    locale: str = "es",
) -> list[EvidenceEmail]:
    """Queue the evidence e-mail of these discrepancies, one per directorate (all or nothing)."""
    moment = now or utcnow()
    ids = list(dict.fromkeys(discrepancy_ids))
    found = await reports_repo.discrepancies_by_ids(session, ids)
    directorates = await reports_repo.directorates_by_id(session)
    problems = [f"discrepancy {i} not found" for i in ids if i not in {d.id for d in found}]
    groups: dict[int, list[Discrepancy]] = {}
    for d in found:
        directorate = directorates.get(d.directorate_id or -1)
        if d.status not in NOTIFIABLE:
            problems.append(f"discrepancy {d.id} is {d.status}")
        elif directorate is None:
            problems.append(f"discrepancy {d.id} has no directorate in charge")
        elif not directorate.notification_email:
            problems.append(f"directorate '{directorate.name}' has no notification e-mail")
        else:
            groups.setdefault(directorate.id, []).append(d)
    if problems:
        raise NotificationError(problems)
    kind_of = {True: EmailKind.NOTIFICATION, False: EmailKind.BATCH}
    emails = []
    for directorate_id, items in groups.items():
        kind = kind_of[len(items) == 1]
        directorate = directorates[directorate_id]
        emails.append(
            await repo.add_email(
                session,
                EvidenceEmail(
                    directorate_id=directorate_id,
                    recipient=_recipient(directorate, kind) or "",
                    subject=await _subject(session, items, kind, directorate, locale),
                    discrepancy_ids=[d.id for d in items],
                    kind=kind,
                    locale=locale,
                    status=EmailStatus.QUEUED,
                    next_attempt_at=moment,
                    requested_by=requested_by,
                    created_at=moment,
                ),
            )
        )
    return emails


async def queue_escalations(
    session: AsyncSession, *, now: datetime | None = None, locale: str = "es"
) -> list[EvidenceEmail]:
    """Queue one escalation per directorate for overdue discrepancies never escalated."""
    moment = now or utcnow()
    overdue = await reports_repo.overdue_unescalated(session, moment)
    directorates = await reports_repo.directorates_by_id(session)
    groups: dict[int, list[Discrepancy]] = {}
    for d in overdue:
        directorate = directorates.get(d.directorate_id or -1)
        if _recipient(directorate, EmailKind.ESCALATION) is None or directorate is None:
            # Left unescalated: it is escalated once the directorate gets an address.
            continue
        groups.setdefault(directorate.id, []).append(d)
    emails = []
    for directorate_id, items in groups.items():
        directorate = directorates[directorate_id]
        for d in items:
            d.escalated_at = moment
        emails.append(
            await repo.add_email(
                session,
                EvidenceEmail(
                    directorate_id=directorate_id,
                    recipient=_recipient(directorate, EmailKind.ESCALATION) or "",
                    subject=await _subject(
                        session, items, EmailKind.ESCALATION, directorate, locale
                    ),
                    discrepancy_ids=[d.id for d in items],
                    kind=EmailKind.ESCALATION,
                    locale=locale,
                    status=EmailStatus.QUEUED,
                    next_attempt_at=moment,
                    requested_by=SYSTEM_ACTOR,
                    created_at=moment,
                ),
            )
        )
    await session.flush()
    return emails


async def _subject(
    session: AsyncSession,
    items: list[Discrepancy],
    kind: EmailKind,
    directorate: Directorate,
    locale: str,
) -> str:
    t = translator(locale)
    if kind is EmailKind.ESCALATION:
        return t("reports.email.subject_escalation", count=len(items), directorate=directorate.name)
    if kind is EmailKind.BATCH:
        return t("reports.email.subject_batch", count=len(items))
    d = items[0]
    spaces = await reports_repo.spaces_with_layers(session, space_ids=[d.public_space_id])
    space = spaces[0].space.name if spaces else str(d.public_space_id)
    subject = t(
        "reports.email.subject_one",
        obligation=label(t, f"evidence.obligation.{d.obligation}", d.obligation),
        space=space,
        company=d.responsible_name or "-",
    )
    return subject[:500]


async def retry_failed(session: AsyncSession, email_id: int, now: datetime | None = None) -> bool:
    """Put a FAILED e-mail back in the queue; False when it is not failed."""
    return await repo.requeue(session, [email_id], now or utcnow()) == 1


# ---------------------------------------------------------------- sending


def render_email(
    email: EvidenceEmail, report: EvidenceReport, *, sender: str, pdf: bytes, html: str
) -> OutgoingEmail:
    """The MIME message: a plain-text summary, the HTML report and the PDF attached."""
    t = translator(email.locale)
    lines = "\n".join(
        t(
            "reports.email.line",
            id=s.id,
            obligation=s.obligation,
            space=s.space_name,
            company=s.company or s.responsible or "-",
            contract=s.contract_number or "-",
            guardians=s.guardian_count,
            due=s.due or "-",
        )
        for s in report.sections
    )
    if email.kind == EmailKind.ESCALATION:
        body = t("reports.email.body_escalation", directorate=report.directorate or "", lines=lines)
    else:
        body = t("reports.email.body", count=len(report.sections), lines=lines)
    message = EmailMessage()
    message["From"] = sender
    message["To"] = email.recipient
    message["Subject"] = email.subject
    message["Date"] = formatdate(localtime=False)
    message["Message-ID"] = make_msgid(idstring=f"evidence-{email.id}")
    message.set_content(body)
    message.add_alternative(html, subtype="html")
    ids = "-".join(str(i) for i in email.discrepancy_ids[:5])
    message.add_attachment(
        pdf, maintype="application", subtype="pdf", filename=f"evidencia-{ids}.pdf"
    )
    return OutgoingEmail(message=message, recipient=email.recipient)


@dataclass
class SendReport:
    """What one pass of the dispatcher did."""

    sent: list[int] = field(default_factory=list)
    retried: list[int] = field(default_factory=list)
    failed: list[int] = field(default_factory=list)


def retry_delay(settings: Settings, attempts: int) -> timedelta:
    """Exponential backoff: base, 2×base, 4×base… capped at `email_retry_max_seconds`."""
    seconds = settings.email_retry_base_seconds * (2 ** max(attempts - 1, 0))
    return timedelta(seconds=min(seconds, settings.email_retry_max_seconds))


class EmailDispatcher:
    """Claims due evidence e-mails, renders and sends them, records every outcome."""

    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        settings: Settings,
        *,
        transport: EmailTransport | None = None,
    ) -> None:
        self.sessions = sessions
        self.settings = settings
        self.transport = transport or SmtpTransport(settings)
        self.timezone = zone(settings.timezone)

    async def escalate(self, now: datetime | None = None) -> int:
        """Queue escalations of overdue discrepancies; returns how many e-mails."""
        async with unit_of_work(self.sessions) as session:
            return len(await queue_escalations(session, now=now or utcnow()))

    async def run_once(self, now: datetime | None = None) -> SendReport:
        """Send every e-mail due at `now`, batch by batch."""
        report = SendReport()
        while True:
            moment = now or utcnow()
            async with unit_of_work(self.sessions) as session:
                claimed = await repo.claim_due(
                    session,
                    now=moment,
                    lease=timedelta(seconds=self.settings.email_claim_seconds),
                    limit=CLAIM_BATCH,
                )
            for email in claimed:
                await self._send_one(email, report, now)
            if len(claimed) < CLAIM_BATCH:
                return report

    async def _send_one(
        self, email: EvidenceEmail, report: SendReport, now: datetime | None
    ) -> None:
        try:
            outgoing = await self._render(email, now)
            await self.transport.send(outgoing)
        except Exception as error:  # any failure is recorded and retried, never lost
            await self._record_failure(email.id, error, now)
            logger.warning("evidence e-mail %s not sent: %s", email.id, error)
            attempts_left = email.attempts < self.settings.email_max_attempts
            (report.retried if attempts_left else report.failed).append(email.id)
            return
        await self._record_sent(email.id, now)
        report.sent.append(email.id)

    async def _render(self, email: EvidenceEmail, now: datetime | None) -> OutgoingEmail:
        async with unit_of_work(self.sessions) as session:
            evidence = await build_evidence_report(
                session,
                [int(i) for i in email.discrepancy_ids],
                media_dir=Path(self.settings.media_dir),
                timezone=self.timezone,
                now=now or utcnow(),
                locale=email.locale,
            )
        if not evidence.sections:
            raise LookupError("none of its discrepancies exists any more")
        return render_email(
            email,
            evidence,
            sender=self.settings.smtp_sender or "",
            pdf=evidence_report_pdf(evidence),
            html=evidence_report_html(evidence),
        )

    async def _record_sent(self, email_id: int, now: datetime | None) -> None:
        moment = now or utcnow()
        async with unit_of_work(self.sessions) as session:
            email = await repo.get_email(session, email_id)
            if email is None:
                return
            repo.mark_sent(email, moment)
            if email.kind == EmailKind.ESCALATION:
                return
            for discrepancy_id in email.discrepancy_ids:
                discrepancy = await evidence_repo.get_discrepancy(session, int(discrepancy_id))
                # Only an open one moves: a re-sent report must not rewind a later status.
                if discrepancy is not None and discrepancy.status == DiscrepancyStatus.OPEN:
                    await change_status(
                        session,
                        discrepancy.id,
                        DiscrepancyStatus.NOTIFIED,
                        actor=SYSTEM_ACTOR,
                        note=f"e-mail #{email.id} to {email.recipient}",
                    )

    async def _record_failure(self, email_id: int, error: Exception, now: datetime | None) -> None:
        moment = now or utcnow()
        async with unit_of_work(self.sessions) as session:
            email = await repo.get_email(session, email_id)
            if email is None:
                return
            retry_at = (
                moment + retry_delay(self.settings, email.attempts)
                if email.attempts < self.settings.email_max_attempts
                else None
            )
            repo.mark_failed_attempt(
                email, f"{type(error).__name__}: {error}", retry_at=retry_at, now=moment
            )
