"""XLSForm `audio` questions answered with a voice note (InboundKind.AUDIO)."""

from __future__ import annotations

from dataclasses import replace

import pytest

from guardianes.conversations.context import SaveSubmission
from guardianes.conversations.filling import expects_audio
from guardianes.conversations.messages import InboundKind, StoredMedia

from .conftest import Chat, form_chat, form_file, photo


def voice_note() -> StoredMedia:
    return replace(photo(9), mime_type="audio/ogg", path="cd/nota.ogg")


@pytest.fixture
def voice_chat(gazetteer, guardian) -> Chat:
    return form_chat(form_file("voice_note.md"), gazetteer, guardian)


def test_an_audio_question_asks_for_a_voice_note(voice_chat: Chat) -> None:
    assert "Manda una nota de voz." in voice_chat.last.text
    assert expects_audio(voice_chat.state, voice_chat.catalog)


def test_a_voice_note_answers_it_and_is_stored_like_a_photo(voice_chat: Chat) -> None:
    voice_chat.send(InboundKind.AUDIO, photos=(voice_note(),))
    assert voice_chat.last.text == "¿Dónde?"
    step = voice_chat.text("En la esquina")
    [saved] = [e for e in step.effects if isinstance(e, SaveSubmission)]
    assert saved.answers["nota"] == ["cd/nota.ogg"]
    assert saved.photos == (voice_note(),)


def test_text_instead_of_a_voice_note_is_asked_again_politely(voice_chat: Chat) -> None:
    step = voice_chat.text("había una fuga")
    assert step.prompts[0].text == "Esta pregunta se contesta con una nota de voz."
    assert "Cuéntanos qué viste" in step.prompts[-1].text
    assert voice_chat.state is not None and "nota" not in voice_chat.state["form"]["answers"]


def test_a_voice_note_where_none_is_asked_is_answered_politely(chat: Chat) -> None:
    chat.text("hola")
    step = chat.send(InboundKind.AUDIO, photos=(voice_note(),))
    assert step.prompts[0].text.startswith("No puedo leer ese tipo de mensaje")
    assert chat.state is not None and chat.state["step"] == "menu"
    assert not expects_audio(chat.state, chat.catalog)


def test_a_voice_note_to_a_typed_question_is_answered_politely(voice_chat: Chat) -> None:
    voice_chat.send(InboundKind.AUDIO, photos=(voice_note(),))
    step = voice_chat.send(InboundKind.AUDIO, photos=(voice_note(),))
    assert step.prompts[0].text.startswith("No puedo leer ese tipo de mensaje")
    assert step.prompts[-1].text == "¿Dónde?"
