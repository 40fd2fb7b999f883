"""Hints name what the person's channel has: no clip 📎 or platform button on the web chat."""

from __future__ import annotations

from guardianes.conversations.messages import PromptKind


def _location_question(chat):
    chat.start_form("tarjeta_parques")
    for _ in range(10):
        if chat.last.kind is PromptKind.LOCATION:
            return chat.last.text
        chat.press(chat.last.choices[0].label)
    raise AssertionError("the park card asked no location")


def test_telegram_and_whatsapp_are_told_to_use_the_clip(chat):
    chat.channel = "telegram"
    assert "📎" in _location_question(chat)


def test_the_web_chat_is_told_to_use_its_map_instead_of_the_clip(chat):
    chat.channel = "webchat"
    text = _location_question(chat)
    assert "📎" not in text and "clip" not in text
    assert "mapa" in text


def test_the_web_chat_asks_the_name_without_a_platform_button(newcomer):
    newcomer.channel = "webchat"
    newcomer.text("hola")
    newcomer.press("Español")
    step = newcomer.press("Sí, acepto")
    text = "\n".join(p.text for p in step.prompts)
    assert "toca el botón" not in text
    assert "Escribe tu nombre" in text


def test_the_web_chat_wording_exists_in_english_too(chat):
    chat.channel = "webchat"
    chat.language_code = "en"
    chat.guardian = None
    chat.text("hi")
    chat.press("English")
    step = chat.press("Yes, I accept")
    assert "Type it below" in "\n".join(p.text for p in step.prompts)
