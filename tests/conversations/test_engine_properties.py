"""Property tests: random inbound sequences of every kind against every shipped form.

Whatever arrives, in whatever order, the engine never raises, every state it returns
survives JSON, and the conversation is never stuck: "menu" (registered) or "/start"
(newcomer) always brings back a question to answer.
"""

from __future__ import annotations

import json
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from guardianes.conversations import filling
from guardianes.conversations.catalog import FormCatalog
from guardianes.conversations.context import QuizPhase
from guardianes.conversations.messages import (
    Command,
    GeoPoint,
    InboundKind,
    InboundMessage,
    PromptKind,
    StoredMedia,
)
from guardianes.conversations.state import ConversationState
from guardianes.conversations.turn import Turn
from guardianes.conversations.xlsform import FormKind

from .conftest import PARK_POINT, Chat, FakeGazetteer, photo

SHIPPED = FormCatalog.load()
PROPERTIES = settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)

texts = st.one_of(
    st.text(max_size=40),
    st.sampled_from(
        [
            "1",
            "2",
            "3",
            "0",
            "-1",
            "፩",
            "١",
            "²",
            "9" * 400,
            "12,5",
            "1e999",
            "nan",
            "sí",
            "no",
            "listo",
            "omitir",
            "menú",
            "ayuda",
            "/start",
            "/menu",
            "/cancel",
            "/back",
            "/skip",
            "/staff",
            "hoy",
            "ayer",
            "31/02/2026",
            "28.6353, -106.0889",
            "\x00",
            "\ud800",
            "",
        ]
    ),
    st.integers(min_value=-(10**30), max_value=10**30).map(str),
)
points = st.one_of(
    st.just(PARK_POINT),
    st.builds(
        GeoPoint,
        st.floats(min_value=-90, max_value=90, allow_nan=False),
        st.floats(min_value=-180, max_value=180, allow_nan=False),
    ),
)
photo_sets = st.lists(st.integers(min_value=1, max_value=50).map(photo), max_size=4).map(tuple)


def _pressable(chat: Chat) -> list[str]:
    """Payloads of the buttons the latest prompts show (what a person can press)."""
    payloads: list[str] = []
    for prompt in chat.steps[-1].prompts if chat.steps else []:
        payloads.extend(choice.payload for choice in prompt.choices)
        payloads.extend(p for p in (prompt.done_payload, prompt.skip_payload) if p)
    return payloads


def _draw_inbound(data: st.DataObject, chat: Chat) -> dict[str, Any]:
    kind = data.draw(st.sampled_from(list(InboundKind)))
    values: dict[str, Any] = {"kind": kind}
    if kind is InboundKind.TEXT:
        values["text"] = data.draw(texts)
    elif kind is InboundKind.CHOICE:
        shown = _pressable(chat)
        stale = st.text(max_size=20) | st.just("r0:0")
        values["payload"] = data.draw(st.sampled_from(shown) | stale if shown else stale)
        values["text"] = data.draw(st.none() | texts)
    elif kind is InboundKind.LOCATION:
        values["location"] = data.draw(points)
        values["text"] = data.draw(st.none() | texts)
    elif kind is InboundKind.PHOTO:
        values["photos"] = data.draw(photo_sets)  # empty: a photo nobody asked for
        values["text"] = data.draw(st.none() | texts)
    elif kind is InboundKind.COMMAND:
        values["command"] = data.draw(st.none() | st.sampled_from(list(Command)))
        values["text"] = data.draw(st.none() | texts)
    else:
        values["text"] = data.draw(st.none() | texts)
    return values


def _send(chat: Chat, values: dict[str, Any]) -> None:
    kind = values.pop("kind")
    step = chat.send(kind, **values)
    if step.state is not None:
        assert json.loads(json.dumps(step.state)) == step.state


def _start(chat: Chat, form_id: str) -> None:
    """Put the chat at the first question of a form, as the menu would."""
    form = SHIPPED.get(form_id)
    assert form is not None
    chat.command(Command.MENU)
    inbound = InboundMessage(
        channel="test", user_id="u1", external_id="start", kind=InboundKind.TEXT, text="x"
    )
    turn = Turn(ConversationState.from_json(chat.state), inbound, chat.ctx(), chat.catalog)
    phase = QuizPhase.PRE if form.kind is FormKind.QUIZ else None
    filling.start_form(turn, form, phase)
    step = turn.result()
    chat.state = json.loads(json.dumps(step.state))
    chat.steps.append(step)


def _asks_something(chat: Chat) -> bool:
    prompts = chat.steps[-1].prompts
    return bool(prompts) and any(
        p.choices or p.kind in {PromptKind.TEXT, PromptKind.LOCATION, PromptKind.PHOTO}
        for p in prompts
    )


@pytest.mark.parametrize("form_id", sorted(SHIPPED.forms))
@PROPERTIES
@given(data=st.data())
def test_random_inbound_in_a_form_never_raises_and_menu_recovers(
    form_id: str, data: st.DataObject, gazetteer: FakeGazetteer, guardian: Any
) -> None:
    chat = Chat(catalog=SHIPPED, gazetteer=gazetteer, guardian=guardian)
    _start(chat, form_id)
    for _ in range(data.draw(st.integers(min_value=1, max_value=25))):
        _send(chat, _draw_inbound(data, chat))

    chat.command(Command.MENU)

    assert chat.state is not None and chat.state.get("step") == "menu"
    assert _asks_something(chat)


@PROPERTIES
@given(data=st.data())
def test_random_inbound_from_a_newcomer_never_raises_and_start_recovers(
    data: st.DataObject, gazetteer: FakeGazetteer
) -> None:
    chat = Chat(catalog=SHIPPED, gazetteer=gazetteer, guardian=None)
    for _ in range(data.draw(st.integers(min_value=1, max_value=25))):
        _send(chat, _draw_inbound(data, chat))

    chat.command(Command.START)

    assert _asks_something(chat)


@PROPERTIES
@given(data=st.data())
def test_random_inbound_from_the_menu_never_raises_and_menu_recovers(
    data: st.DataObject, gazetteer: FakeGazetteer, staff: Any
) -> None:
    chat = Chat(catalog=SHIPPED, gazetteer=gazetteer, guardian=staff)
    chat.command(Command.MENU)
    for _ in range(data.draw(st.integers(min_value=1, max_value=30))):
        _send(chat, _draw_inbound(data, chat))

    chat.command(Command.MENU)

    assert chat.state is not None and chat.state.get("step") == "menu"
    assert _asks_something(chat)


def test_photo_helper_makes_distinct_media() -> None:
    assert isinstance(photo(1), StoredMedia) and photo(1) != photo(2)
