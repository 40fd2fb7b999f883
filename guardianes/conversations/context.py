"""What the engine may know about the world, handed in by the caller so `advance` stays pure."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, tzinfo
from enum import StrEnum
from typing import Any, Protocol

from guardianes.conversations.messages import GeoPoint, StoredMedia
from guardianes.domain.enums import QuizPhase, Role


class StaffActionKind(StrEnum):
    """What a staff command in chat asks for: two create and send, two only read."""

    BROADCAST = "broadcast"
    VISIT = "visit"
    AUDIENCE = "audience"  # how many guardians a notice would reach
    STATUS = "status"  # delivery progress of the staff member's latest notices


@dataclass(frozen=True, slots=True)
class ColoniaRef:
    """A neighbourhood as the engine sees it."""

    id: int
    name: str


@dataclass(frozen=True, slots=True)
class CityRef:
    """A city the deployment serves, with the names its guardians read."""

    id: int
    name: str
    programme_name: str
    office_name: str
    privacy_owner: str
    privacy_contact: str


@dataclass(frozen=True, slots=True)
class ResponsibleParty:
    """Who must deliver the service at a public space, from imported layers and contracts."""

    name: str  # company or municipal unit
    kind: str  # "contractor" | "municipality"
    service: str  # service type code, e.g. "green_space_maintenance"
    contract_number: str | None = None
    contract_object: str | None = None
    obligations: str | None = None
    directorate: str | None = None
    # The company's record in the municipal contracts data, counted when the gazetteer is
    # built; None for the municipality or a company not found there.
    company_contracts: int | None = None
    company_direct_awards: int | None = None


@dataclass(frozen=True, slots=True)
class SpaceMatch:
    """The public space a point falls in (or the nearest within the configured distance)."""

    space_id: int
    name: str
    code: str | None
    kind: str
    inside: bool
    distance_m: float
    colonia: ColoniaRef | None = None
    responsible: tuple[ResponsibleParty, ...] = ()


@dataclass(frozen=True, slots=True)
class SpacePlace:
    """A public space chosen by id (a "Report it" link): what a card needs to start there."""

    space_id: int
    name: str
    code: str | None
    service: str
    point: GeoPoint  # a point inside the space, answered for the card's location


class Gazetteer(Protocol):
    """Read-only geography: colonias and public spaces, answered from memory."""

    def colonias(self) -> Sequence[ColoniaRef]:
        """Every colonia, sorted by name."""
        ...

    def colonia_at(self, point: GeoPoint) -> ColoniaRef | None:
        """The colonia whose area contains the point."""
        ...

    def space_at(self, point: GeoPoint, *, service: str | None = None) -> SpaceMatch | None:
        """The space containing the point, else the nearest within the configured distance."""
        ...

    def space_by_id(self, space_id: int) -> SpacePlace | None:
        """The space with this id, or None when it does not exist (any more)."""
        ...


@dataclass(frozen=True, slots=True)
class CourseProgress:
    """How far a guardian got in a course (stored, so it survives restarts and days away)."""

    course_id: str
    lesson_id: str | None  # the lesson in progress; None before the first one
    lessons_done: tuple[str, ...] = ()
    completed: bool = False


@dataclass(frozen=True, slots=True)
class QuizScore:
    """A stored quiz score (the pre-test's, to show the gain after the post-test)."""

    score: int
    max_score: int


@dataclass(frozen=True, slots=True)
class ComplaintChannelRef:
    """An official channel where the municipality takes complaints about a service."""

    kind: str  # phone | app | web | office | whatsapp | email
    name: str
    contact: str  # the number, address or link
    service: str | None = None  # None: every service
    hours: str | None = None
    notes: str | None = None
    confirmed: bool = False  # staff checked it; sample data is not


@dataclass(frozen=True, slots=True)
class GuardianProfile:
    """The registered person behind a conversation."""

    id: int
    display_name: str
    locale: str
    role: Role
    colonia: ColoniaRef | None
    training_date: date | None = None  # staff set it per colonia or per guardian
    quiz_phases_done: frozenset[QuizPhase] = frozenset()
    course_progress: CourseProgress | None = None
    pre_quiz: QuizScore | None = None
    consent_version: str | None = None  # the notice version last accepted; None = unknown
    active: bool = True  # False once staff deactivated them: no cards, no quizzes


@dataclass(frozen=True, slots=True)
class EngineContext:
    """Everything `advance` may read besides the state and the inbound message."""

    now: datetime
    default_locale: str
    privacy_notice_version: str
    gazetteer: Gazetteer
    guardian: GuardianProfile | None = None
    extra: dict[str, Any] = field(default_factory=dict)
    # The programme's zone (GUARDIANES_TIMEZONE): dates staff type are local to it. With
    # None the engine refuses only times past in every zone (the staff service re-checks);
    # a naive `now` is taken as local time already.
    timezone: tzinfo | None = None
    complaint_channels: tuple[ComplaintChannelRef, ...] = ()
    # Cities (issue 15b): the guardian's city (the only one in a single-city deployment;
    # None while a newcomer's city is unknown), every city, and each city's gazetteer so
    # registration can look in the city chosen. `gazetteer` is already the guardian's city's.
    city: CityRef | None = None
    cities: tuple[CityRef, ...] = ()
    city_gazetteers: Mapping[int, Gazetteer] = field(default_factory=dict)


# ---- effects: what the caller must persist, in the same transaction as the new state ----


@dataclass(frozen=True, slots=True)
class RegisterGuardian:
    """Create the guardian after explicit consent."""

    display_name: str
    locale: str
    colonia_id: int | None
    consent_version: str
    consented_at: datetime
    city_id: int | None = None  # cities: from the location, the question, or the only city


@dataclass(frozen=True, slots=True)
class UpdateGuardian:
    """Change the guardian's own data (language, colonia, name)."""

    locale: str | None = None
    colonia_id: int | None = None
    display_name: str | None = None


@dataclass(frozen=True, slots=True)
class SaveSubmission:
    """A finished surveillance card."""

    form_id: str
    form_version: str
    answers: dict[str, Any]
    location: GeoPoint | None
    space_id: int | None
    photos: tuple[StoredMedia, ...]
    started_at: datetime
    completed_at: datetime


@dataclass(frozen=True, slots=True)
class SaveQuizAttempt:
    """A finished quiz with its score."""

    form_id: str
    form_version: str
    phase: QuizPhase
    answers: dict[str, Any]
    score: int
    max_score: int
    started_at: datetime
    completed_at: datetime


@dataclass(frozen=True, slots=True)
class StaffAction:
    """A staff command in chat; only the caller can see guardians and deliveries.

    "broadcast" and "visit" create and send; "audience" (answered before the confirmation
    question) and "status" only read and reply. Visit `details`: `place`, `starts_at`
    (ISO 8601, local time) and `description`.
    """

    action: StaffActionKind
    colonia_id: int | None
    text: str
    details: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class SaveCourseProgress:
    """The guardian moved in the course: the lesson now in progress and the lessons done."""

    course_id: str
    lesson_id: str | None
    lessons_done: tuple[str, ...]
    completed: bool
    at: datetime


class ErasureKind(StrEnum):
    """Why a person's data is erased: cancellation («borrar mis datos») or opposition."""

    CANCELLATION = "cancellation"
    OPPOSITION = "opposition"


@dataclass(frozen=True, slots=True)
class RecordConsent:
    """The guardian accepted (or declined) the current privacy notice version."""

    accepted: bool
    notice_version: str
    at: datetime


@dataclass(frozen=True, slots=True)
class RecordMunicipalReport:
    """The guardian says they reported a problem to the municipality ("ya lo reporté").

    `form_id` and `submission_completed_at` name the card that showed the failure (the
    caller finds its submission); both are None when it came from the menu.
    """

    service: str | None
    reported_at: datetime
    form_id: str | None = None
    submission_completed_at: datetime | None = None


@dataclass(frozen=True, slots=True)
class ExportMyData:
    """ARCO access: the caller sends everything stored about the guardian (JSON and photos)."""


@dataclass(frozen=True, slots=True)
class EraseMyData:
    """ARCO cancellation or opposition: the caller deletes the person's data, confirmed."""

    kind: ErasureKind


@dataclass(frozen=True, slots=True)
class AnswerConfirmation:
    """The guardian's answer to "¿Ya quedó?" about a resolved discrepancy: yes or no."""

    confirmation_id: int
    answer: str


@dataclass(frozen=True, slots=True)
class AttachConfirmationPhoto:
    """A new photo sent after answering "no" to "¿Ya quedó?"."""

    confirmation_id: int
    photo: StoredMedia


Effect = (
    RegisterGuardian
    | UpdateGuardian
    | SaveSubmission
    | SaveQuizAttempt
    | StaffAction
    | SaveCourseProgress
    | RecordMunicipalReport
    | RecordConsent
    | ExportMyData
    | EraseMyData
    | AnswerConfirmation
    | AttachConfirmationPhoto
)
