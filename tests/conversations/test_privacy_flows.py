"""The ARCO rights and consent in the engine: what a guardian types and what the caller must do."""

from __future__ import annotations

from dataclasses import replace

import pytest

from guardianes.conversations.context import (
    EraseMyData,
    ErasureKind,
    ExportMyData,
    RecordConsent,
    RegisterGuardian,
    UpdateGuardian,
)
from guardianes.conversations.messages import Command, PromptKind
from tests.conversations.conftest import Chat


@pytest.mark.parametrize("word", ["mis datos", "/misdatos", "Mis Datos", "my data", "/mydata"])
def test_my_data_typed_on_any_channel_sends_the_export_and_offers_corrections(
    chat: Chat, word: str
) -> None:
    chat.command(Command.MENU)
    step = chat.text(word)
    assert step.effects == [ExportMyData()]
    labels = [c.label for c in chat.last.choices]
    assert {"Cambiar idioma", "Cambiar colonia", "Cambiar nombre", "Borrar mis datos"} <= set(
        labels
    )


def test_the_my_data_menu_item_sends_the_export_too(chat: Chat) -> None:
    chat.command(Command.MENU)
    step = chat.press("Mis datos")
    assert step.effects == [ExportMyData()]


def test_correcting_the_name_from_my_data_is_an_update_effect(chat: Chat) -> None:
    chat.text("mis datos")
    chat.press("Cambiar nombre")
    step = chat.text("Ana María López")
    assert step.effects == [UpdateGuardian(display_name="Ana María López")]


@pytest.mark.parametrize(
    ("word", "kind"),
    [
        ("borrar mis datos", ErasureKind.CANCELLATION),
        ("/borrarmisdatos", ErasureKind.CANCELLATION),
        ("delete my data", ErasureKind.CANCELLATION),
        ("no quiero que usen mis datos", ErasureKind.OPPOSITION),
        ("STOP", ErasureKind.OPPOSITION),
    ],
)
def test_erasure_is_asked_to_confirm_then_erases_and_forgets_the_conversation(
    chat: Chat, word: str, kind: ErasureKind
) -> None:
    chat.command(Command.MENU)
    asking = chat.text(word)
    assert asking.effects == []
    assert "no se puede deshacer" in chat.texts()
    done = chat.press("Sí, borrar todo")
    assert done.effects == [EraseMyData(kind=kind)]
    assert done.state is None
    assert done.prompts[-1].kind is PromptKind.DONE


def test_keeping_the_data_at_the_confirmation_changes_nothing(chat: Chat) -> None:
    chat.text("borrar mis datos")
    step = chat.press("No, conservarlos")
    assert step.effects == []
    assert "no borramos nada" in chat.texts()
    assert step.state is not None and step.state["step"] == "menu"


def test_erasure_asked_in_the_middle_of_a_card_drops_the_card(chat: Chat) -> None:
    chat.start_form("tarjeta_parques")
    chat.text("borrar mis datos")
    assert "Cancelaste la tarjeta" in chat.texts()
    assert chat.state is not None and "form" not in chat.state


def test_someone_not_registered_is_told_nothing_is_stored(newcomer: Chat) -> None:
    newcomer.text("hola")
    step = newcomer.text("borrar mis datos")
    assert step.state is None
    assert step.effects == []
    assert "No tenemos ningún dato tuyo" in newcomer.texts()


def test_registration_carries_the_notice_version_and_time(newcomer: Chat) -> None:
    newcomer.text("hola")
    newcomer.press("Español")
    newcomer.press("Sí, acepto")
    newcomer.text("Ana")
    step = newcomer.press("Prefiero no decir")
    [effect] = step.effects
    assert isinstance(effect, RegisterGuardian)
    assert effect.consent_version == "2026-11"
    assert effect.consented_at == newcomer.now


def test_a_new_notice_version_is_shown_and_accepted_before_the_next_card(chat: Chat) -> None:
    assert chat.guardian is not None
    chat.guardian = replace(chat.guardian, consent_version="2025-01")
    chat.command(Command.MENU)
    chat.press("Llenar")
    assert "Actualizamos nuestro aviso de privacidad" in chat.texts()
    assert "AVISO DE PRIVACIDAD" in chat.texts()
    step = chat.press("Sí, acepto")
    assert step.effects == [RecordConsent(accepted=True, notice_version="2026-11", at=chat.now)]
    assert step.state is not None and step.state["step"] == "cards"


def test_a_new_notice_declined_keeps_cards_closed_and_offers_deletion(chat: Chat) -> None:
    assert chat.guardian is not None
    chat.guardian = replace(chat.guardian, consent_version="2025-01")
    chat.command(Command.MENU)
    chat.press("Cuestionario")
    step = chat.press("No acepto")
    assert step.effects == [RecordConsent(accepted=False, notice_version="2026-11", at=chat.now)]
    assert [c.label for c in chat.last.choices] == ["Borrar mis datos", "Volver al menú"]
    chat.press("Volver al menú")
    chat.press("Llenar")
    assert "Actualizamos nuestro aviso de privacidad" in chat.texts()


def test_a_guardian_under_the_current_notice_is_not_asked_again(chat: Chat) -> None:
    assert chat.guardian is not None
    chat.guardian = replace(chat.guardian, consent_version="2026-11")
    chat.command(Command.MENU)
    step = chat.press("Llenar")
    assert step.state is not None and step.state["step"] == "cards"


def test_a_deactivated_guardian_is_told_politely_and_gets_no_menu(chat: Chat) -> None:
    assert chat.guardian is not None
    chat.guardian = replace(chat.guardian, active=False)
    for step in (chat.text("hola"), chat.command(Command.MENU), chat.text("1")):
        assert "desactivada" in "\n".join(p.text for p in step.prompts)
        assert all(not p.choices for p in step.prompts)
        assert step.effects == []


def test_a_deactivated_guardian_may_still_get_and_erase_their_data(chat: Chat) -> None:
    assert chat.guardian is not None
    chat.guardian = replace(chat.guardian, active=False)
    assert chat.text("mis datos").effects == [ExportMyData()]
    chat.text("borrar mis datos")
    assert chat.press("Sí, borrar todo").effects == [EraseMyData(kind=ErasureKind.CANCELLATION)]


def test_help_names_the_privacy_commands(chat: Chat) -> None:
    chat.command(Command.MENU)
    chat.command(Command.HELP)
    assert "«mis datos»" in chat.texts()
    assert "«borrar mis datos»" in chat.texts()
