"""Rendering prompts within the Cloud API's limits."""

from __future__ import annotations

from guardianes.bot.whatsapp.client import (
    ButtonsMessage,
    ListMessage,
    LocationRequestMessage,
    TextMessage,
)
from guardianes.bot.whatsapp.render import (
    MAX_BUTTON_TITLE,
    MAX_INTERACTIVE_BODY,
    MAX_ROW_DESCRIPTION,
    MAX_ROW_TITLE,
    MAX_TEXT,
    render,
    render_template,
    split_text,
)
from guardianes.conversations.messages import Choice, Prompt, PromptKind


def choices(count: int, label: str = "Opción {n}") -> tuple[Choice, ...]:
    return tuple(Choice(payload=f"c{n}", label=label.format(n=n)) for n in range(1, count + 1))


def ask(count: int, **options) -> Prompt:
    return Prompt(
        kind=PromptKind.CHOICES, text="¿Cómo está el parque?", choices=choices(count), **options
    )


def test_three_short_options_are_reply_buttons():
    [message] = render(ask(3), "es")
    assert isinstance(message, ButtonsMessage)
    assert [b.id for b in message.buttons] == ["c1", "c2", "c3"]
    assert message.body == "¿Cómo está el parque?"


def test_a_skippable_question_gets_a_skip_button():
    prompt = ask(2, skip_payload="skip", skip_label=None)
    [message] = render(prompt, "es")
    assert isinstance(message, ButtonsMessage)
    assert [b.id for b in message.buttons] == ["c1", "c2", "skip"]
    assert message.buttons[-1].title == "Omitir"


def test_ten_options_are_a_list_message():
    [message] = render(ask(10), "es")
    assert isinstance(message, ListMessage)
    assert [r.id for r in message.rows] == [f"c{n}" for n in range(1, 11)]
    assert message.button == "Ver opciones"


def test_three_options_with_a_long_label_become_a_list():
    prompt = Prompt(
        kind=PromptKind.CHOICES,
        text="¿Qué viste?",
        choices=(
            Choice("a", "Sí"),
            Choice("b", "No"),
            Choice("c", "Basura acumulada en la banqueta"),
        ),
    )
    [message] = render(prompt, "es")
    assert isinstance(message, ListMessage)


def test_long_labels_are_cut_into_row_title_and_description():
    label = (
        "Juegos infantiles rotos o peligrosos para las niñas y los niños del parque y sus familias"
    )
    prompt = Prompt(kind=PromptKind.CHOICES, text="¿Qué viste?", choices=choices(4, label))
    [message] = render(prompt, "es")
    assert isinstance(message, ListMessage)
    row = message.rows[0]
    assert len(row.title) <= MAX_ROW_TITLE
    assert row.description is not None
    assert len(row.description) <= MAX_ROW_DESCRIPTION
    assert row.title.endswith("…")


def test_twelve_options_are_a_numbered_text_menu_in_choice_order():
    messages = render(ask(12), "es")
    assert all(isinstance(m, TextMessage) for m in messages)
    text = "\n".join(m.body for m in messages if isinstance(m, TextMessage))
    assert "1. Opción 1" in text
    assert "12. Opción 12" in text
    assert text.index("2. Opción 2") < text.index("11. Opción 11")
    assert "número" in text


def test_numbered_menu_tells_how_to_skip():
    messages = render(ask(12, skip_payload="skip"), "en")
    text = "\n".join(m.body for m in messages if isinstance(m, TextMessage))
    assert "skip" in text


def test_multi_select_is_a_numbered_menu_with_a_done_button():
    prompt = ask(4, multiple=True, selected=("c2",), done_payload="done", done_label="Listo")
    [message] = render(prompt, "es")
    assert isinstance(message, ButtonsMessage)
    assert "1,3" in message.body
    assert "2. Opción 2 ✅" in message.body
    assert "1. Opción 1\n" in message.body
    assert [b.id for b in message.buttons] == ["done"]


def test_button_titles_never_exceed_twenty_characters():
    prompt = ask(2, multiple=True, done_payload="done", done_label="Terminé de elegir mis opciones")
    [message] = render(prompt, "es")
    assert isinstance(message, ButtonsMessage)
    assert all(len(b.title) <= MAX_BUTTON_TITLE for b in message.buttons)


def test_a_long_question_sends_text_first_and_keeps_the_interactive_body_short():
    prompt = Prompt(kind=PromptKind.CHOICES, text="palabra " * 400, choices=choices(2))
    messages = render(prompt, "es")
    assert isinstance(messages[-1], ButtonsMessage)
    assert len(messages[-1].body) <= MAX_INTERACTIVE_BODY
    assert all(isinstance(m, TextMessage) for m in messages[:-1])


def test_location_prompt_is_a_location_request():
    [message] = render(Prompt(kind=PromptKind.LOCATION, text="Comparte la ubicación"), "es")
    assert isinstance(message, LocationRequestMessage)
    assert message.body == "Comparte la ubicación"


def test_photo_prompt_is_a_clear_text_request():
    [message] = render(Prompt(kind=PromptKind.PHOTO, text="Toma una foto del parque"), "es")
    assert isinstance(message, TextMessage)
    assert message.body.startswith("Toma una foto del parque")
    assert "📎" in message.body


def test_photo_prompt_with_done_offers_a_done_button():
    prompt = Prompt(kind=PromptKind.PHOTO, text="Fotos", max_photos=3, done_payload="done")
    [message] = render(prompt, "es")
    assert isinstance(message, ButtonsMessage)
    assert [b.id for b in message.buttons] == ["done"]


def test_long_texts_are_split_under_4096_characters():
    text = ("Una línea de texto bastante larga para el aviso. " * 200).strip()
    messages = render(Prompt(kind=PromptKind.TEXT, text=text), "es")
    assert len(messages) > 1
    assert all(isinstance(m, TextMessage) and len(m.body) <= MAX_TEXT for m in messages)
    assert " ".join(m.body for m in messages if isinstance(m, TextMessage)).split() == text.split()


def test_split_text_cuts_an_unbroken_word():
    assert [len(p) for p in split_text("x" * 10_000)] == [4096, 4096, 1808]


def test_template_carries_the_text_as_one_line_parameter():
    prompt = Prompt(kind=PromptKind.TEXT, text="Visita mañana\n\na las   10")
    message = render_template(prompt, "guardianes_visita", "es_MX")
    assert message.name == "guardianes_visita"
    assert message.body_parameters == ("Visita mañana a las 10",)
