"""Fixtures for the conversation engine: a fake gazetteer, contexts, and a chat driver."""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime
from itertools import count
from pathlib import Path
from typing import Any

import pytest

from bench.xlsform_driver import Action, next_action
from guardianes.conversations.catalog import FormCatalog
from guardianes.conversations.context import (
    CityRef,
    ColoniaRef,
    EngineContext,
    GuardianProfile,
    ResponsibleParty,
    SaveSubmission,
    SpaceMatch,
    SpacePlace,
)
from guardianes.conversations.engine import Outcome, advance
from guardianes.conversations.messages import (
    Command,
    GeoPoint,
    InboundKind,
    InboundMessage,
    Prompt,
    StoredMedia,
)
from guardianes.conversations.xlsform import Form, load_form
from guardianes.domain.enums import Role

NOW = datetime(2026, 11, 20, 10, 30)
PARK_POINT = GeoPoint(28.6353, -106.0889)
FAR_POINT = GeoPoint(10.0, 10.0)
CENTRO = ColoniaRef(1, "Centro")
COLONIAS = (
    ColoniaRef(2, "Altavista"),
    CENTRO,
    ColoniaRef(3, "Cerro de la Cruz"),
    ColoniaRef(4, "Santa Rosa"),
    ColoniaRef(5, "Villa Juárez"),
    ColoniaRef(6, "Villa Nueva"),
)
PARK = SpaceMatch(
    space_id=42,
    name="Parque Lerdo",
    code="PQ-001",
    kind="park",
    inside=True,
    distance_m=0.0,
    colonia=CENTRO,
    responsible=(
        ResponsibleParty(
            name="Jardines del Norte SA de CV",
            kind="contractor",
            service="green_space_maintenance",
            contract_number="MCH-OP-2026-014",
            contract_object="Mantenimiento de áreas verdes",
            obligations="Poda cada 15 días; riego 3 veces por semana",
        ),
        ResponsibleParty(
            name="Dirección de Alumbrado Público",
            kind="municipality",
            service="street_lighting",
        ),
    ),
)


@dataclass
class FakeGazetteer:
    """In-memory geography: one park at PARK_POINT in Centro; nothing elsewhere."""

    colonia_list: Sequence[ColoniaRef] = COLONIAS
    queries: list[tuple[GeoPoint, str | None]] = field(default_factory=list)

    def colonias(self) -> Sequence[ColoniaRef]:
        return self.colonia_list

    def colonia_at(self, point: GeoPoint) -> ColoniaRef | None:
        return CENTRO if point == PARK_POINT else None

    def space_at(self, point: GeoPoint, *, service: str | None = None) -> SpaceMatch | None:
        self.queries.append((point, service))
        return PARK if point == PARK_POINT else None

    def space_by_id(self, space_id: int) -> SpacePlace | None:
        if space_id != PARK.space_id:
            return None
        return SpacePlace(
            PARK.space_id, PARK.name, PARK.code, "green_space_maintenance", PARK_POINT
        )


@pytest.fixture
def gazetteer() -> FakeGazetteer:
    return FakeGazetteer()


@pytest.fixture
def guardian() -> GuardianProfile:
    return GuardianProfile(
        id=7, display_name="Ana", locale="es", role=Role.GUARDIAN, colonia=CENTRO
    )


@pytest.fixture
def staff(guardian: GuardianProfile) -> GuardianProfile:
    return replace(guardian, id=1, display_name="Lupita", role=Role.STAFF)


@pytest.fixture(scope="session")
def shipped() -> FormCatalog:
    return FormCatalog.load()


FORMS_DIR = Path(__file__).parent / "forms"


def form_file(name: str) -> Path:
    """A test form under tests/conversations/forms."""
    return FORMS_DIR / name


def write_form(tmp_path: Path, text: str, name: str = "form.md") -> Path:
    """Write a Markdown XLSForm to a temporary file."""
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def photo(n: int) -> StoredMedia:
    """A stored photo with a distinct hash."""
    digest = f"{n:064x}"
    return StoredMedia(
        sha256=digest, mime_type="image/jpeg", size=1000 + n, path=f"ab/{digest}.jpg"
    )


# The engine's tests run as the one city the shipped course and texts were written for.
CHIHUAHUA = CityRef(
    id=1,
    name="Chihuahua",
    programme_name="Guardianes",
    office_name="la Sindicatura",
    privacy_owner="Sindicatura Municipal",
    privacy_contact="el personal del programa, en este mismo chat",
)
_ids = count(1)


@dataclass
class Chat:
    """Drives the engine like a channel adapter would, persisting state as JSON in between."""

    catalog: FormCatalog
    gazetteer: FakeGazetteer
    guardian: GuardianProfile | None = None
    state: dict[str, Any] | None = None
    now: datetime = NOW
    language_code: str | None = "es-MX"
    display_name: str | None = "Ana López"
    channel: str = "test"
    steps: list[Outcome] = field(default_factory=list)

    def ctx(self) -> EngineContext:
        return EngineContext(
            now=self.now,
            default_locale="es",
            privacy_notice_version="2026-11",
            gazetteer=self.gazetteer,
            guardian=self.guardian,
            city=CHIHUAHUA,
        )

    def send(self, kind: InboundKind, **values: Any) -> Outcome:
        inbound = InboundMessage(
            channel=self.channel,
            user_id="u1",
            external_id=str(next(_ids)),
            kind=kind,
            display_name=self.display_name,
            language_code=self.language_code,
            **values,
        )
        step = advance(self.state, inbound, self.ctx(), self.catalog)
        # Round-trip through JSON: the caller stores exactly this between messages.
        self.state = None if step.state is None else json.loads(json.dumps(step.state))
        for prompt in step.prompts:
            assert Prompt.from_json(json.loads(json.dumps(prompt.to_json()))) == prompt
        self.steps.append(step)
        return step

    def text(self, text: str) -> Outcome:
        return self.send(InboundKind.TEXT, text=text)

    def command(self, command: Command) -> Outcome:
        return self.send(InboundKind.COMMAND, command=command)

    def location(self, point: GeoPoint) -> Outcome:
        return self.send(InboundKind.LOCATION, location=point)

    def photos(self, *photos: StoredMedia) -> Outcome:
        return self.send(InboundKind.PHOTO, photos=photos)

    def press(self, label: str, step: Outcome | None = None) -> Outcome:
        """Press the button whose label starts with `label` in the last prompt offering it."""
        payload = self.payload(label, step)
        return self.send(InboundKind.CHOICE, payload=payload)

    def payload(self, label: str, step: Outcome | None = None) -> str:
        step = step or self.steps[-1]
        for prompt in reversed(step.prompts):
            for choice in prompt.choices:
                if choice.label.startswith(label):
                    return choice.payload
            if prompt.done_label and prompt.done_label.startswith(label):
                assert prompt.done_payload
                return prompt.done_payload
            if prompt.skip_label and prompt.skip_label.startswith(label):
                assert prompt.skip_payload
                return prompt.skip_payload
        raise AssertionError(f"no button {label!r} in {[p.text for p in step.prompts]}")

    @property
    def last(self) -> Prompt:
        return self.steps[-1].prompts[-1]

    def texts(self) -> str:
        """Every text of the last step, joined, for `in` assertions."""
        return "\n".join(p.text for p in self.steps[-1].prompts)

    @property
    def effects(self) -> list[Any]:
        return self.steps[-1].effects

    def start_form(self, form_id: str) -> Outcome:
        """From anywhere, open the menu and start a card."""
        self.command(Command.MENU)
        self.press("Llenar")
        form = self.catalog.get(form_id)
        assert form is not None
        return self.press(form.localized_title("es"))


@pytest.fixture
def chat(shipped: FormCatalog, gazetteer: FakeGazetteer, guardian: GuardianProfile) -> Chat:
    return Chat(catalog=shipped, gazetteer=gazetteer, guardian=guardian)


@pytest.fixture
def newcomer(shipped: FormCatalog, gazetteer: FakeGazetteer) -> Chat:
    return Chat(catalog=shipped, gazetteer=gazetteer, guardian=None)


def catalog_of(*forms: Form) -> FormCatalog:
    return FormCatalog.of(forms)


def form_chat(form_path: Path, gazetteer: FakeGazetteer, guardian: GuardianProfile) -> Chat:
    """A registered guardian's chat whose only card is the given form, already started."""
    form = load_form(form_path)
    chat = Chat(catalog=catalog_of(form), gazetteer=gazetteer, guardian=guardian)
    chat.command(Command.MENU)
    chat.text("1")  # numbered reply: the first menu entry, whatever the language
    chat.text("1")  # the only card
    return chat


@pytest.fixture
def types_chat(gazetteer: FakeGazetteer, guardian: GuardianProfile) -> Chat:
    """A chat filling all_types.md, the form with every question type."""
    return form_chat(form_file("all_types.md"), gazetteer, guardian)


def answer_until_zona(chat: Chat) -> None:
    """Answer all_types.md up to its `zona` question."""
    chat.text("Parque Lerdo")
    chat.text("40")
    chat.text("12,5")
    chat.press("Hoy")


# ---- answering any form as a careful guardian (bench.xlsform_driver decides) ----

MAX_MESSAGES = 400
PHOTO = StoredMedia(sha256="a" * 64, mime_type="image/jpeg", size=10, path="aa/a.jpg")


def fill(chat: Chat, path: Path) -> SaveSubmission:
    """Answer every question of the only card until it is saved; the submission."""
    form = load_form(path)
    chat.command(Command.MENU)
    chat.text("1")  # the first menu entry: fill a card
    chat.text("1")  # the only card
    asked: dict[tuple[int, int], int] = {}
    for _ in range(MAX_MESSAGES):
        saved = [e for e in chat.effects if isinstance(e, SaveSubmission)]
        if saved:
            return saved[0]
        assert chat.state is not None and chat.state.get("step") == "form", chat.texts()
        fs = chat.state["form"]
        key = (fs["pos"], len(fs["answers"].get(form.questions[fs["pos"]].name) or []))
        attempt = asked.get(key, 0)
        asked[key] = attempt + 1
        prompt = chat.steps[-1].prompts[-1] if chat.steps[-1].prompts else None
        send(chat, next_action(form, fs, prompt, attempt))
    raise AssertionError(f"{path.name} did not end within {MAX_MESSAGES} messages")


def send(chat: Chat, action: Action) -> None:
    """Send what `bench.xlsform_driver` decided, as the guardian would."""
    if action.kind == "press":
        chat.send(InboundKind.CHOICE, payload=action.value)
    elif action.kind == "text":
        chat.text(action.value)
    elif action.kind == "location":
        chat.location(GeoPoint(latitude=28.6353, longitude=-106.0889))
    elif action.kind == "photo":
        chat.photos(PHOTO)
    elif action.kind == "done":
        chat.text("listo")
    else:
        chat.command(Command.SKIP)
