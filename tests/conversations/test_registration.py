"""First contact: language, privacy notice, consent, name, colonia, then the menu."""

from __future__ import annotations

import json

from guardianes.conversations.context import RegisterGuardian
from guardianes.conversations.messages import Command, InboundKind, PromptKind

from .conftest import PARK_POINT


def register_until_colonia(chat):
    chat.text("hola")
    chat.press("Español")
    chat.press("Sí, acepto")
    return chat.text("Ana")


def test_first_contact_greets_and_asks_the_language(newcomer):
    step = newcomer.text("hola")
    assert "Guardianes" in step.prompts[0].text
    assert [c.label for c in step.prompts[-1].choices] == ["Español", "English"]
    assert step.effects == []


def test_privacy_notice_is_shown_in_the_chosen_language_with_its_version(newcomer):
    newcomer.text("hola")
    step = newcomer.press("English")
    assert "PRIVACY NOTICE" in step.prompts[0].text
    assert "2026-11" in step.prompts[0].text
    assert [c.label for c in step.prompts[-1].choices] == ["Yes, I accept", "I don't accept"]


def test_declining_consent_forgets_everything_and_stores_nothing(newcomer):
    newcomer.text("hola")
    newcomer.press("Español")
    step = newcomer.press("No acepto")
    assert step.state is None
    assert step.effects == []
    assert step.prompts[-1].kind is PromptKind.DONE


def test_cancel_during_registration_also_forgets_everything(newcomer):
    newcomer.text("hola")
    newcomer.press("Español")
    step = newcomer.text("cancelar")
    assert step.state is None and step.effects == []


def test_name_can_be_taken_from_the_platform_profile(newcomer):
    newcomer.text("hola")
    newcomer.press("Español")
    newcomer.press("Sí, acepto")
    newcomer.press("Ana López")
    newcomer.text("Centro")
    (effect,) = newcomer.effects
    assert effect.display_name == "Ana López"


def test_exact_colonia_registers_the_guardian_and_shows_the_menu(newcomer):
    register_until_colonia(newcomer)
    step = newcomer.text("centro")
    assert step.effects == [
        RegisterGuardian(
            display_name="Ana",
            locale="es",
            colonia_id=1,
            consent_version="2026-11",
            consented_at=newcomer.now,
            city_id=1,  # the only city
        )
    ]
    assert newcomer.last.text == "¿Qué quieres hacer?"


def test_misspelled_colonia_offers_the_best_matches(newcomer):
    register_until_colonia(newcomer)
    step = newcomer.text("vila juares")
    labels = [c.label for c in step.prompts[-1].choices]
    assert labels[0] == "Villa Juárez"
    assert "Ninguna, escribir otra" in labels
    assert step.effects == []
    newcomer.press("Villa Juárez")
    assert newcomer.effects[0].colonia_id == 5


def test_a_fragment_offers_every_colonia_containing_it(newcomer):
    register_until_colonia(newcomer)
    newcomer.text("villa")
    labels = [c.label for c in newcomer.last.choices]
    assert {"Villa Juárez", "Villa Nueva"} <= set(labels)


def test_colonia_matches_can_be_answered_by_number(newcomer):
    register_until_colonia(newcomer)
    newcomer.text("villa")
    first = newcomer.last.choices[0].label
    newcomer.text("1")
    (effect,) = newcomer.effects
    assert effect.colonia_id == {"Villa Juárez": 5, "Villa Nueva": 6}[first]


def test_unknown_colonia_asks_again(newcomer):
    register_until_colonia(newcomer)
    step = newcomer.text("zzzzqqq")
    assert "No encontré" in step.prompts[0].text
    assert newcomer.state["step"] == "colonia"


def test_shared_location_finds_the_colonia_to_confirm(newcomer):
    register_until_colonia(newcomer)
    step = newcomer.location(PARK_POINT)
    assert "Centro" in step.prompts[-1].text
    newcomer.press("Centro")
    assert newcomer.effects[0].colonia_id == 1


def test_colonia_may_be_skipped(newcomer):
    register_until_colonia(newcomer)
    newcomer.press("Prefiero no decir")
    assert newcomer.effects[0].colonia_id is None


def test_english_registration_speaks_english(newcomer):
    newcomer.language_code = "en-US"
    newcomer.text("hi")
    newcomer.press("English")
    newcomer.press("Yes, I accept")
    newcomer.text("Bob")
    step = newcomer.text("Centro")
    assert step.effects[0].locale == "en"
    assert newcomer.last.text == "What would you like to do?"


def test_menu_commands_wait_until_registration_is_done(newcomer):
    newcomer.text("hola")
    step = newcomer.command(Command.MENU)
    assert "registro" in step.prompts[0].text
    assert newcomer.state["step"] == "reg.language"


def test_stickers_during_registration_get_a_polite_reply(newcomer):
    newcomer.text("hola")
    step = newcomer.send(InboundKind.UNSUPPORTED)
    assert "No puedo leer" in step.prompts[0].text
    assert newcomer.state["step"] == "reg.language"


def test_registration_state_is_plain_json(newcomer):
    register_until_colonia(newcomer)
    assert json.loads(json.dumps(newcomer.state)) == newcomer.state
