"""Request and response bodies of the staff API (`ThingPublic` out, `ThingCreate` in)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime
from decimal import Decimal
from typing import Annotated, Any, Generic, TypeVar

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, field_validator, model_validator

from guardianes.conversations.bounds import MAX_YEAR, MIN_YEAR, year_in_range
from guardianes.domain.enums import GuardianRole, StaffTokenRole
from guardianes.services.broadcasts import BroadcastProgress
from guardianes.services.delivery import ChannelName
from guardianes.services.reminders import InvalidScheduleError, check_message_key
from guardianes.storage.repositories.pagination import PageRows

MAX_TEXT = 4000  # under WhatsApp's 4096-character body limit, Telegram allows 4096 too

T = TypeVar("T")
MAX_ID = 2**63 - 1  # BIGINT: a larger number must be a 422, not an overflow in the driver
RowId = Annotated[int, Field(ge=1, le=MAX_ID)]
# PostgreSQL text cannot hold NUL; refusing it here keeps both databases alike and answers 422.
NO_NUL = r"^[^\x00]*$"
SERVICE_CODE = r"^[a-z][a-z0-9_]{0,63}$"


def _without_nul(value: str) -> str:
    if "\x00" in value:
        raise ValueError("must not contain a NUL character")
    return value


Text = Annotated[str, AfterValidator(_without_nul)]


def _convertible(value: datetime) -> datetime:
    if not year_in_range(value):
        raise ValueError(f"year must be between {MIN_YEAR} and {MAX_YEAR}")
    return value


# A moment staff type: year 1 or 9999 would overflow when moved between time zones.
Moment = Annotated[datetime, AfterValidator(_convertible)]


def _plausible_day(value: date) -> date:
    if not MIN_YEAR <= value.year <= MAX_YEAR:
        raise ValueError(f"year must be between {MIN_YEAR} and {MAX_YEAR}")
    return value


Day = Annotated[date, AfterValidator(_plausible_day)]


class Page(BaseModel, Generic[T]):
    """One page of a list and the total the filters match."""

    items: list[T]
    total: int
    limit: int
    offset: int


def page_of(
    rows: PageRows[Any], convert: Callable[[Any], T], *, limit: int, offset: int
) -> Page[T]:
    """A repository's page of rows as the API's page of public records."""
    return Page(
        items=[convert(row) for row in rows.items], total=rows.total, limit=limit, offset=offset
    )


class Orm(BaseModel):
    """Built from ORM rows."""

    model_config = ConfigDict(from_attributes=True)


class CityPublic(BaseModel):
    """A city the deployment serves, with the names its guardians read."""

    id: int
    name: str
    programme_name: str
    office_name: str
    privacy_owner: str
    privacy_contact: str


class GuardianPublic(Orm):
    """A guardian as staff see them (no platform ids or addresses)."""

    id: int
    channel: str
    display_name: str
    colonia_id: int | None
    role: str
    status: str
    locale: str
    training_date: date | None
    created_at: datetime
    last_inbound_at: datetime | None


class GuardianRoleUpdate(BaseModel):
    """The role to give a guardian."""

    role: GuardianRole


class ColoniaPublic(Orm):
    """A colonia."""

    id: int
    name: str
    training_date: date | None
    has_geometry: bool = False


class ColoniaUpdate(BaseModel):
    """What staff may change on a colonia."""

    training_date: Day | None


class SpacePublic(Orm):
    """A public space (geometry in `spaces.geojson`)."""

    id: int
    layer_id: int
    name: str
    kind: str
    source_code: str | None
    description: str | None
    colonia_id: int | None
    centroid_lat: float
    centroid_lon: float


class CompanyPublic(Orm):
    """A contractor."""

    id: int
    name: str
    rfc: str | None
    constitution_date: date | None


class ContractPublic(Orm):
    """A procurement contract, its IMCO risk indicators and OCP red flags (OCDS history too)."""

    id: int
    period: str | None
    agency: str | None
    process_number: str | None
    contract_number: str | None
    contract_date: date | None
    amount: Decimal | None
    object: str | None
    procedure_type: str | None
    company_id: int | None
    risk_favoritism: float | None
    risk_directed_tender: float | None
    risk_split_contracts: float | None
    risk_overpricing: float | None
    risk_short_deadlines: float | None
    risk_collusion: float | None
    risk_shell_company: float | None
    flag_single_bidder: bool | None = None
    flag_direct_award: bool | None = None
    flag_short_tender: bool | None = None
    flag_value_increase: bool | None = None
    value_increase_pct: float | None = None
    ocid: str | None = None
    ocds_history: dict[str, Any] | None = None


class MediaPublic(Orm):
    """A photo of a submission; fetch it at `url` with the same token."""

    id: int
    question: str
    mime_type: str
    size: int
    caption: str | None = None
    url: str = ""
    deleted_at: datetime | None = None  # by retention or erasure: the url answers 410


class SubmissionPublic(Orm):
    """A finished surveillance card; `guardian_id` is None once its author erased their data."""

    id: int
    guardian_id: int | None
    form_id: str | None = None
    card_definition_id: int
    channel: str
    answers: dict[str, Any]
    latitude: float | None
    longitude: float | None
    public_space_id: int | None
    contract_id: int | None
    colonia_id: int | None
    responsible_name: str | None
    started_at: datetime
    completed_at: datetime
    media: list[MediaPublic] = []


class QuizAttemptPublic(Orm):
    """A scored quiz."""

    id: int
    guardian_id: int
    form_id: str
    form_version: str
    phase: str
    score: int
    max_score: int
    completed_at: datetime


class VisitCreate(BaseModel):
    """A visit to announce; a time without offset is local (GUARDIANES_TIMEZONE)."""

    colonia_id: RowId
    place: Text = Field(min_length=1, max_length=300)
    starts_at: Moment
    description: Text = Field(default="", max_length=MAX_TEXT)
    reminder_hour: int = Field(default=18, ge=0, le=23)


class VisitPublic(Orm):
    """A visit."""

    id: int
    colonia_id: int
    place: str
    starts_at: datetime
    description: str
    created_by: str | None
    cancelled_at: datetime | None
    broadcast_id: int | None = None
    reminder_id: int | None = None
    # On creation: when the day-before reminder fires; null when that hour had already passed.
    reminder_at: datetime | None = None


class BroadcastCreate(BaseModel):
    """A message to the guardians matching the filters."""

    text: Text = Field(min_length=1, max_length=MAX_TEXT)
    colonia_id: RowId | None = None
    role: GuardianRole | None = None
    channel: ChannelName | None = None


class BroadcastProgressPublic(BaseModel):
    """Deliveries by status; the final report once `status` is done."""

    total: int
    pending: int
    queued: int
    sent: int
    failed: int
    unreachable: int

    @classmethod
    def of(cls, report: BroadcastProgress) -> BroadcastProgressPublic:
        """From the service's progress."""
        return cls(
            total=report.total,
            pending=report.pending,
            queued=report.queued,
            sent=report.sent,
            failed=report.failed,
            unreachable=report.unreachable,
        )


class BroadcastPublic(Orm):
    """A broadcast and, in single views, its progress."""

    id: int
    kind: str
    text: str
    colonia_id: int | None
    role_filter: str | None
    channel_filter: str | None
    visit_id: int | None
    status: str
    created_by: str | None
    created_at: datetime
    finished_at: datetime | None
    progress: BroadcastProgressPublic | None = None


class ReminderCreate(BaseModel):
    """A recurring reminder: CronTrigger fields in GUARDIANES_TIMEZONE.

    Example: `{"day_of_week": "mon", "hour": 10}`, or `{"day": "1st mon", "hour": 10}`.
    """

    name: Text = Field(min_length=1, max_length=200)
    cron: dict[str, Any]
    colonia_id: RowId | None = None
    guardian_id: RowId | None = None
    message_key: str = "reminders.fill_card"
    text: Text | None = Field(default=None, max_length=MAX_TEXT)
    active: bool = True

    @field_validator("message_key")
    @classmethod
    def _known_key(cls, key: str) -> str:
        return _reminder_key(key)


class ReminderUpdate(BaseModel):
    """Changes to a reminder; omitted fields stay, only the optional ones may be null."""

    name: Text | None = Field(default=None, min_length=1, max_length=200)
    cron: dict[str, Any] | None = None
    colonia_id: RowId | None = None
    guardian_id: RowId | None = None
    message_key: str | None = None
    text: Text | None = Field(default=None, max_length=MAX_TEXT)
    active: bool | None = None

    @field_validator("message_key")
    @classmethod
    def _known_key(cls, key: str | None) -> str | None:
        return None if key is None else _reminder_key(key)

    @model_validator(mode="after")
    def _required_not_null(self) -> ReminderUpdate:
        nulls = sorted(
            name
            for name in ("name", "cron", "message_key", "active")
            if name in self.model_fields_set and getattr(self, name) is None
        )
        if nulls:
            raise ValueError(f"{', '.join(nulls)} cannot be null")
        return self


def _reminder_key(key: str) -> str:
    """A message key reminders may use (the service's rule, reported as a validation error)."""
    try:
        check_message_key(key)
    except InvalidScheduleError as error:
        raise ValueError(str(error)) from error
    return key


class ReminderPublic(Orm):
    """A reminder."""

    id: int
    kind: str
    name: str
    colonia_id: int | None
    guardian_id: int | None
    visit_id: int | None
    cron: dict[str, Any]
    message_key: str
    text: str | None
    active: bool
    next_run_at: datetime | None


class TokenCreate(BaseModel):
    """A new staff token."""

    name: Text = Field(min_length=1, max_length=200)
    role: StaffTokenRole


class TokenPublic(Orm):
    """A staff token (never its value)."""

    id: int
    name: str
    role: str
    created_at: datetime
    revoked_at: datetime | None
    last_used_at: datetime | None


class TokenCreated(TokenPublic):
    """A token just made: `token` is shown this once."""

    token: str


class LayerPublic(Orm):
    """An imported map layer (one row of the import history)."""

    id: int
    file_name: str
    title: str | None
    service_code: str
    year: int | None
    contract_number: str | None
    responsible_name: str | None
    created_at: datetime
    updated_at: datetime


class ImportResultPublic(BaseModel):
    """Counts of one imported file."""

    label: str
    created: int
    updated: int
    unchanged: int
    skipped: int
    problems: list[str]
