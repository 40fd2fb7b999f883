"""Prompts rendered as Bot API calls: keyboards, callback data, splitting."""

from __future__ import annotations

from aiogram.methods import EditMessageText
from aiogram.types import InlineKeyboardMarkup, ReplyKeyboardMarkup, ReplyKeyboardRemove

from guardianes.bot.telegram.render import (
    MAX_CALLBACK_BYTES,
    callback_data,
    decode_callback,
    render,
    render_edit,
    split_text,
    utf16_length,
)
from guardianes.conversations.messages import Choice, Command, Prompt, PromptKind, text_prompt
from guardianes.conversations.text import parse_command_word

CHAT = "5100001"
# 30 accented characters: 60 bytes in UTF-8, the longest payload the engine produces.
LONG_PAYLOAD = "é" * 30
LONG_LABEL = "Parque Ecológico «Ávila Camacho» — área de juegos infantiles y cancha"


def inline(prompt: Prompt, locale: str = "es") -> InlineKeyboardMarkup:
    markup = render(prompt, CHAT, locale)[-1].reply_markup
    assert isinstance(markup, InlineKeyboardMarkup)
    return markup


def all_data(markup: InlineKeyboardMarkup) -> list[str]:
    return [b.callback_data or "" for row in markup.inline_keyboard for b in row]


def test_callback_data_of_a_sixty_byte_accented_payload_fits_and_round_trips() -> None:
    prompt = Prompt(
        kind=PromptKind.CHOICES, text="¿Cuál?", choices=(Choice(LONG_PAYLOAD, LONG_LABEL),)
    )
    [data] = all_data(inline(prompt))
    assert len(data.encode()) <= MAX_CALLBACK_BYTES
    assert decode_callback(data) == (LONG_PAYLOAD, True)


def test_a_payload_over_the_limit_is_cut_at_a_character_boundary() -> None:
    data = callback_data("c:", "ñ" * 40)
    assert len(data.encode()) <= MAX_CALLBACK_BYTES
    assert data == "c:" + "ñ" * 31


def test_single_choice_buttons_answer_the_question_and_skip_is_offered() -> None:
    prompt = Prompt(
        kind=PromptKind.CHOICES,
        text="¿Está limpio?",
        choices=(Choice("si", "Sí"), Choice("no", "No")),
        skip_payload="__skip",
    )
    markup = inline(prompt)
    assert all_data(markup) == ["c:si", "c:no", "c:__skip"]
    assert markup.inline_keyboard[-1][0].text == "Omitir"


def test_multi_select_marks_selected_options_and_adds_the_done_button() -> None:
    prompt = Prompt(
        kind=PromptKind.CHOICES,
        text="¿Qué falta?",
        choices=(Choice("bancas", "Bancas"), Choice("luz", "Luz"), Choice("agua", "Agua")),
        multiple=True,
        selected=("luz",),
        done_payload="__done",
        done_label="Terminé",
    )
    markup = inline(prompt)
    texts = [b.text for row in markup.inline_keyboard for b in row]
    assert texts == ["▫️ Bancas", "✅ Luz", "▫️ Agua", "Terminé"]
    assert all_data(markup) == ["t:bancas", "t:luz", "t:agua", "c:__done"]


def test_a_location_question_asks_for_the_location_with_a_reply_keyboard() -> None:
    prompt = Prompt(kind=PromptKind.LOCATION, text="¿Dónde estás?", skip_payload="__skip")
    [message] = render(prompt, CHAT, "es")
    markup = message.reply_markup
    assert isinstance(markup, ReplyKeyboardMarkup)
    assert markup.keyboard[0][0].request_location is True
    assert markup.one_time_keyboard is True
    skip = markup.keyboard[1][0].text
    assert parse_command_word(skip) == Command.SKIP  # the reply button arrives as a command


def test_a_photo_question_says_how_many_photos_and_offers_done() -> None:
    prompt = Prompt(
        kind=PromptKind.PHOTO, text="Toma fotos del parque", max_photos=3, done_payload="__done"
    )
    [message] = render(prompt, CHAT, "es")
    assert "3 fotos" in message.text
    assert isinstance(message.reply_markup, InlineKeyboardMarkup)
    assert all_data(message.reply_markup) == ["c:__done"]


def test_plain_and_final_messages_remove_any_reply_keyboard() -> None:
    for prompt in (text_prompt("Gracias"), Prompt(kind=PromptKind.DONE, text="¡Listo!")):
        [message] = render(prompt, CHAT, "es")
        assert isinstance(message.reply_markup, ReplyKeyboardRemove)


def test_hints_follow_the_locale() -> None:
    prompt = Prompt(kind=PromptKind.PHOTO, text="Photo please")
    assert "clip" in render(prompt, CHAT, "en")[0].text
    assert "Send the photo" in render(prompt, CHAT, "en")[0].text


def test_long_texts_are_split_under_the_limit_at_word_boundaries() -> None:
    text = " ".join(f"palabra{i}" for i in range(2000))  # about 19,000 characters
    pieces = split_text(text)
    assert len(pieces) > 1
    assert all(utf16_length(p) <= 4096 for p in pieces)
    assert " ".join(pieces).split() == text.split()


def test_emoji_count_double_when_splitting() -> None:
    pieces = split_text("📍" * 3000)  # 3,000 characters but 6,000 UTF-16 units
    assert [utf16_length(p) for p in pieces] == [4096, 1904]


def test_the_keyboard_rides_on_the_last_piece_of_a_long_prompt() -> None:
    prompt = Prompt(
        kind=PromptKind.CHOICES, text="x " * 3000, choices=(Choice("a", "A"), Choice("b", "B"))
    )
    messages = render(prompt, CHAT, "es")
    assert len(messages) == 2
    assert messages[0].reply_markup is None
    assert isinstance(messages[1].reply_markup, InlineKeyboardMarkup)


def test_a_refreshed_prompt_edits_text_and_keyboard_of_the_pressed_message() -> None:
    prompt = Prompt(
        kind=PromptKind.CHOICES,
        text="¿Qué falta?",
        choices=(Choice("luz", "Luz"),),
        multiple=True,
        selected=("luz",),
        done_payload="__done",
        refresh=True,
    )
    edit = render_edit(prompt, CHAT, 42, "es")
    assert isinstance(edit, EditMessageText)
    assert edit.message_id == 42
    assert edit.chat_id == 5100001
    assert edit.text == render(prompt, CHAT, "es")[-1].text
    assert isinstance(edit.reply_markup, InlineKeyboardMarkup)
