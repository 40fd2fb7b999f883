"""The stored conversation state: typed, versioned, and readable in every old shape.

`states_v1.json` holds states written by the version-1 engine (main at 6ba6d5e), captured
by scripted conversations: half-way through the park card, and two points of a staff visit
notice (colonias were then stored as `[id, name]` pairs).
"""

from __future__ import annotations

import json
import logging
from pathlib import Path
from typing import Any

import pytest

from guardianes.conversations.catalog import FormCatalog
from guardianes.conversations.context import ColoniaRef, GuardianProfile, SaveSubmission
from guardianes.conversations.engine import Outcome
from guardianes.conversations.flows import dispatch
from guardianes.conversations.state import (
    STATE_VERSION,
    ColoniaPurpose,
    ConversationState,
    FlowStep,
)

from .conftest import Chat, FakeGazetteer, photo

V1_STATES: dict[str, dict[str, Any]] = json.loads(
    (Path(__file__).parent / "states_v1.json").read_text(encoding="utf-8")
)


def resumed(chat: Chat, name: str) -> Chat:
    """The chat as it was stored by the version-1 engine."""
    chat.state = json.loads(json.dumps(V1_STATES[name]))
    return chat


def finish_park_card_from_trees(chat: Chat) -> Outcome:
    """The rest of the park card, from its question on how many trees need care."""
    chat.text("3")
    chat.press("Bien")  # juegos
    chat.press("Regular")  # equipo deportivo
    chat.press("Mal")  # bancas
    chat.press("Bien")  # alumbrado
    chat.text("0")  # luminarias apagadas
    chat.photos(photo(1))
    chat.press("Listo")
    chat.press("2")  # calificación
    return chat.text("Todo en orden")


@pytest.fixture
def staff_chat(shipped: FormCatalog, gazetteer: FakeGazetteer, staff: GuardianProfile) -> Chat:
    return Chat(catalog=shipped, gazetteer=gazetteer, guardian=staff)


def test_a_version_1_card_state_loads_typed() -> None:
    state = ConversationState.from_json(V1_STATES["mid_park_card"])
    assert state.step == "form" and state.unknown_step is None
    assert state.form is not None and state.form.pos == 5
    assert state.form.space is not None and state.form.space.name == "Parque Lerdo"
    assert state.form.answers["poda"] == "si"


def test_a_version_1_card_state_continues_to_the_saved_card(chat: Chat) -> None:
    resumed(chat, "mid_park_card")
    step = finish_park_card_from_trees(chat)
    [saved] = [e for e in step.effects if isinstance(e, SaveSubmission)]
    assert saved.space_id == 42 and saved.answers["poda"] == "si"
    assert 3 in saved.answers.values()


def test_a_version_1_staff_draft_upgrades_colonia_pairs() -> None:
    state = ConversationState.from_json(V1_STATES["staff_visit_when"])
    assert state.data.colonia_for is ColoniaPurpose.STAFF
    assert state.data.staff_colonia == ColoniaRef(5, "Villa Juárez")
    assert state.data.candidates == [ColoniaRef(5, "Villa Juárez"), ColoniaRef(6, "Villa Nueva")]


def test_a_version_1_colonia_pick_is_answered_by_its_old_buttons(staff_chat: Chat) -> None:
    resumed(staff_chat, "staff_colonia_pick")
    staff_chat.text("2")
    assert staff_chat.state is not None and staff_chat.state["step"] == "staff.place"
    assert staff_chat.state["data"]["staff_colonia"] == {"id": 6, "name": "Villa Nueva"}


def test_a_version_1_staff_visit_goes_on_to_its_text(staff_chat: Chat) -> None:
    resumed(staff_chat, "staff_visit_when")
    staff_chat.text("mañana 10:00")
    assert staff_chat.state is not None and staff_chat.state["step"] == "staff.text"
    assert staff_chat.state["v"] == STATE_VERSION


def test_a_state_survives_a_round_trip_unchanged() -> None:
    for stored in V1_STATES.values():
        state = ConversationState.from_json(stored)
        again = ConversationState.from_json(json.loads(json.dumps(state.to_json())))
        assert again == state


def test_loading_leaves_the_stored_dict_untouched() -> None:
    stored = json.loads(json.dumps(V1_STATES["staff_visit_when"]))
    ConversationState.from_json(stored)
    assert stored == V1_STATES["staff_visit_when"]


def test_an_unknown_step_is_logged_and_the_menu_shown_politely(
    chat: Chat, caplog: pytest.LogCaptureFixture
) -> None:
    chat.state = {"v": 1, "step": "lottery.pick", "data": {"ticket": 7}, "locale": "es"}
    with caplog.at_level(logging.WARNING, logger="guardianes.conversations.engine"):
        step = chat.text("hola")
    assert "lottery.pick" in caplog.text
    assert step.prompts[0].text.startswith("Perdón, no pude retomar")
    assert chat.state is not None and chat.state["step"] == "menu"
    assert "data" not in chat.state


def test_an_unknown_step_before_registration_starts_it_again(newcomer: Chat) -> None:
    newcomer.state = {"v": 2, "step": "reg.phone"}
    step = newcomer.text("hola")
    assert step.prompts[0].text.startswith("Perdón, no pude retomar")
    assert newcomer.state is not None and newcomer.state["step"] == "reg.language"


def test_every_step_has_exactly_one_route() -> None:
    steps = [step for flow in FlowStep.__subclasses__() for step in flow]
    assert len({step.value for step in steps}) == len(steps)
    assert set(dispatch.routes()) == set(steps)
    assert {flow.Step for flow in dispatch.flows()} <= set(FlowStep.__subclasses__())
