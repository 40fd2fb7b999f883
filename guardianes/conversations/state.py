"""The persisted conversation state, typed, with a versioned JSON loader.

Storage keeps the state as a JSON column; `ConversationState.from_json` reads every version
ever written (version 1: the untyped dict of the first engine) and `to_json` writes the
current one. The step is one member of a flow's `Step` enum (each a `FlowStep`); a stored
step that no loaded flow knows is kept aside in `unknown_step` for the engine to recover.
"""

from __future__ import annotations

import copy
import logging
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from guardianes.conversations.context import ColoniaRef

STATE_VERSION = 2
logger = logging.getLogger(__name__)


class FlowStep(StrEnum):
    """Base of every flow's `Step` enum; values are the step names stored since version 1."""


def parse_step(value: str) -> FlowStep | None:
    """The step of a loaded flow named `value`, or None when no flow knows it."""
    for flow in FlowStep.__subclasses__():
        member = flow._value2member_map_.get(value)
        if member is not None:
            assert isinstance(member, FlowStep)
            return member
    return None


class ColoniaPurpose(StrEnum):
    """What happens once a colonia is chosen."""

    REGISTER = "register"
    UPDATE = "update"
    STAFF = "staff"


@dataclass(slots=True)
class Ask:
    """The question on screen: its ref and option keys, to match the reply to it."""

    ref: str
    keys: list[str] = field(default_factory=list)
    labels: list[str] = field(default_factory=list)
    extras: list[str] = field(default_factory=list)


@dataclass(slots=True)
class SpaceRef:
    """The public space a card is about."""

    id: int
    name: str
    code: str | None = None


@dataclass(slots=True)
class SpaceCandidate:
    """A space matched to a location, waiting for the guardian's confirmation."""

    id: int
    name: str
    code: str | None
    inside: bool
    distance_m: int


@dataclass(slots=True)
class PresetSpace:
    """A space chosen on the map before the card began: answers its location question."""

    id: int
    name: str
    code: str | None
    latitude: float
    longitude: float


@dataclass(slots=True)
class FormProgress:
    """A card or quiz being filled: `pos` indexes `Form.questions`.

    `history` holds the positions answered so far (for "back"); `pending` collects
    multi-select toggles (option keys) or photos (stored media as JSON) before "done";
    `sub == "space"` while the guardian confirms the public space matched to a location.
    """

    id: str
    version: str
    started_at: str
    pos: int = 0
    answers: dict[str, Any] = field(default_factory=dict)
    history: list[int] = field(default_factory=list)
    pending: list[Any] = field(default_factory=list)
    sub: str | None = None
    candidate: SpaceCandidate | None = None
    space: SpaceRef | None = None
    phase: str | None = None
    preset_space: PresetSpace | None = None
    heading: list[str] | None = None

    def to_json(self) -> dict[str, Any]:
        """The JSON of the `form` key."""
        data: dict[str, Any] = {
            "id": self.id,
            "version": self.version,
            "pos": self.pos,
            "answers": self.answers,
            "history": self.history,
            "pending": self.pending,
            "sub": self.sub,
            "candidate": _fields(self.candidate),
            "space": _fields(self.space),
            "started_at": self.started_at,
            "phase": self.phase,
        }
        if self.preset_space is not None:
            data["preset_space"] = _fields(self.preset_space)
        if self.heading is not None:
            data["heading"] = self.heading
        return data

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> FormProgress:
        """Read the `form` key."""
        candidate, space, preset = (
            data.get("candidate"),
            data.get("space"),
            data.get("preset_space"),
        )
        return cls(
            id=str(data["id"]),
            version=str(data["version"]),
            started_at=str(data["started_at"]),
            pos=int(data.get("pos") or 0),
            answers=dict(data.get("answers") or {}),
            history=[int(h) for h in data.get("history") or []],
            pending=list(data.get("pending") or []),
            sub=data.get("sub"),
            candidate=SpaceCandidate(**candidate) if candidate else None,
            space=SpaceRef(**space) if space else None,
            phase=data.get("phase"),
            preset_space=PresetSpace(**preset) if preset else None,
            heading=data.get("heading"),
        )


@dataclass(slots=True)
class Draft:
    """Scratch data of the flow in progress; only the current flow's fields are set."""

    # registration and "my data"
    platform_name: str | None = None
    name: str | None = None
    city_id: int | None = None
    # colonia search, shared by registration, "my data" and staff notices
    colonia_for: ColoniaPurpose | None = None
    candidates: list[ColoniaRef] = field(default_factory=list)
    # privacy
    then: str | None = None  # what a renewed consent opens: "card" or "quiz"
    erase_kind: str | None = None
    # staff notices
    staff_action: str | None = None
    staff_colonia: ColoniaRef | None = None
    staff_place: str | None = None
    staff_when: str | None = None  # ISO local date and time
    staff_text: str | None = None
    # course lessons
    lesson: str | None = None
    screen: int = 0
    review: bool = False
    # complaints
    services: list[str] = field(default_factory=list)
    service: str | None = None
    form_id: str | None = None
    completed_at: str | None = None

    def to_json(self) -> dict[str, Any]:
        """Only the fields set, so a state stays as small as the flow needs."""
        data: dict[str, Any] = {}
        for name in self.__slots__:
            value = getattr(self, name)
            if value in (None, [], 0, False):
                continue
            if isinstance(value, ColoniaRef):
                value = _colonia_json(value)
            elif name == "candidates":
                value = [_colonia_json(c) for c in value]
            data[name] = value
        return data

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Draft:
        """Read the `data` key; keys of flows that no longer exist are dropped."""
        known = {k: v for k, v in data.items() if k in cls.__slots__}
        if len(known) < len(data):
            logger.info("conversation data keys dropped: %s", sorted(set(data) - set(known)))
        purpose = known.pop("colonia_for", None)
        staff_colonia = known.pop("staff_colonia", None)
        candidates = known.pop("candidates", None) or []
        return cls(
            **known,
            colonia_for=ColoniaPurpose(purpose) if purpose else None,
            candidates=[_colonia(c) for c in candidates],
            staff_colonia=_colonia(staff_colonia) if staff_colonia else None,
        )


@dataclass(slots=True)
class ConversationState:
    """One guardian's conversation between two messages."""

    step: FlowStep | None = None
    locale: str | None = None
    consented: str | None = None  # the notice version accepted during this conversation
    ask: Ask | None = None
    data: Draft = field(default_factory=Draft)
    form: FormProgress | None = None
    pending_space: int | None = None  # a "Report it" space waiting for registration to end
    confirmation_photo: int | None = None  # a "¿Ya quedó?" "no" waiting for its photo
    version: int = STATE_VERSION
    unknown_step: str | None = None  # read from storage, known to no loaded flow

    def to_json(self) -> dict[str, Any]:
        """The JSON stored between messages (always the current version)."""
        data: dict[str, Any] = {"v": STATE_VERSION}
        if self.step is not None:
            data["step"] = self.step.value
        elif self.unknown_step is not None:
            data["step"] = self.unknown_step  # read where its flow was not loaded: kept as is
        optional = {
            "locale": self.locale,
            "consented": self.consented,
            "ask": _fields(self.ask),
            "data": self.data.to_json() or None,
            "form": self.form.to_json() if self.form else None,
            "pending_space": self.pending_space,
            "evq_photo": self.confirmation_photo,
        }
        data.update({key: value for key, value in optional.items() if value is not None})
        return data

    @classmethod
    def from_json(cls, stored: dict[str, Any] | None) -> ConversationState:
        """Read a stored state of any version; None or {} is a conversation not begun."""
        if not stored:
            return cls()
        data = copy.deepcopy(stored)  # the caller's dict stays as it was
        version = int(data.get("v", 1))
        if version == 1:
            data = upgrade_v1(data)
        elif version > STATE_VERSION:
            # Written by a newer release (then rolled back): read what this one understands.
            logger.warning("conversation state version %s is newer than %s", version, STATE_VERSION)
        step_name = str(data.get("step") or "")
        step = parse_step(step_name) if step_name else None
        ask, form = data.get("ask"), data.get("form")
        return cls(
            step=step,
            locale=data.get("locale"),
            consented=data.get("consented"),
            ask=Ask(**ask) if ask else None,
            data=Draft.from_json(data.get("data") or {}),
            form=FormProgress.from_json(form) if isinstance(form, dict) else None,
            pending_space=data.get("pending_space"),
            confirmation_photo=data.get("evq_photo"),
            unknown_step=step_name if step_name and step is None else None,
        )


def upgrade_v1(data: dict[str, Any]) -> dict[str, Any]:
    """Version 1 → 2: colonias were `[id, name]` pairs; they are `{"id", "name"}` objects."""
    scratch = data.get("data")
    if isinstance(scratch, dict):
        if scratch.get("candidates"):
            scratch["candidates"] = [_pair_to_colonia(pair) for pair in scratch["candidates"]]
        if scratch.get("staff_colonia"):
            scratch["staff_colonia"] = _pair_to_colonia(scratch["staff_colonia"])
    data["v"] = 2
    return data


def _pair_to_colonia(pair: list[Any]) -> dict[str, Any]:
    colonia_id, name = pair
    return {"id": int(colonia_id), "name": str(name)}


def _colonia(data: dict[str, Any]) -> ColoniaRef:
    return ColoniaRef(id=int(data["id"]), name=str(data["name"]))


def _colonia_json(colonia: ColoniaRef) -> dict[str, Any]:
    return {"id": colonia.id, "name": colonia.name}


def _fields(value: Any) -> dict[str, Any] | None:
    """A slotted dataclass as a plain dict (None stays None)."""
    if value is None:
        return None
    return {name: getattr(value, name) for name in value.__slots__}
