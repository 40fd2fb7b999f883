"""A "Report it" link from the public map starts the right card at that space."""

from __future__ import annotations

from guardianes.conversations.context import SaveSubmission
from guardianes.conversations.messages import Command, InboundKind, PromptKind

from .conftest import PARK, PARK_POINT


def _start_with(chat, args: str):
    return chat.send(InboundKind.COMMAND, command=Command.START, command_args=args)


def test_a_telegram_start_payload_starts_the_park_card_without_asking_the_place(chat):
    step = _start_with(chat, f"space_{PARK.space_id}")
    texts = "\n".join(p.text for p in step.prompts)
    assert PARK.name in texts
    assert chat.state is not None and chat.state["step"] == "form"
    assert chat.state["form"]["id"] == "tarjeta_parques"
    assert chat.state["form"]["space"]["id"] == PARK.space_id
    assert all(p.kind is not PromptKind.LOCATION for p in step.prompts)


def test_the_whatsapp_prefilled_text_starts_the_same_card(chat):
    chat.text(f"Quiero reportar {PARK.name} (space_{PARK.space_id})")
    assert chat.state is not None and chat.state["form"]["id"] == "tarjeta_parques"
    assert chat.state["form"]["space"]["id"] == PARK.space_id


def test_the_card_is_saved_with_the_space_and_a_point_inside_it(chat):
    _start_with(chat, f"space_{PARK.space_id}")
    for _ in range(40):
        if any(isinstance(e, SaveSubmission) for e in chat.effects):
            break
        prompt = chat.last
        if prompt.kind is PromptKind.PHOTO:
            chat.text("listo")
        elif prompt.skip_label:
            chat.press(prompt.skip_label)
        elif prompt.choices:
            chat.press(prompt.choices[0].label)
        else:
            chat.text("3")
        assert prompt.kind is not PromptKind.LOCATION
    (saved,) = [e for e in chat.effects if isinstance(e, SaveSubmission)]
    assert saved.space_id == PARK.space_id
    assert saved.location == PARK_POINT


def test_someone_new_registers_first_and_then_gets_the_card_at_that_space(newcomer):
    _start_with(newcomer, f"space_{PARK.space_id}")
    newcomer.press("Español")
    newcomer.press("Sí, acepto")
    newcomer.text("Ana")
    newcomer.text("Centro")
    assert newcomer.state is not None and newcomer.state["step"] == "form"
    assert newcomer.state["form"]["space"]["id"] == PARK.space_id


def test_an_unknown_space_opens_the_menu_as_a_plain_start_does(chat):
    step = _start_with(chat, "space_999999")
    assert chat.state is not None and chat.state["step"] == "menu"
    assert step.prompts[-1].choices


def test_a_token_inside_another_word_is_not_a_space_link(chat):
    chat.command(Command.MENU)
    chat.text("myspace_42")
    assert chat.state is not None and chat.state["step"] == "menu"
