"""Filling a form: every question type, skip logic, constraints, navigation, finishing."""

from __future__ import annotations

from guardianes.conversations.context import SaveSubmission
from guardianes.conversations.messages import Command, InboundKind, PromptKind

from .conftest import PARK_POINT, answer_until_zona, form_chat, form_file, photo


def answer_until_fotos(chat):
    answer_until_zona(chat)
    chat.press("Norte")
    chat.press("Parque Norte Uno")
    chat.text("2")  # problemas: Pasto alto only -> the garbage group stays hidden
    chat.location(PARK_POINT)


def test_form_starts_with_its_title_and_note_then_the_first_question(types_chat):
    texts = [p.text for p in types_chat.steps[-1].prompts]
    assert texts[0] == "📝 Prueba de tipos"
    assert texts[1] == "Bienvenida"
    assert texts[2] == "Nombre del lugar\nComo aparece en el letrero"


def test_required_text_cannot_be_skipped_and_shows_the_required_message(types_chat):
    step = types_chat.command(Command.SKIP)
    assert step.prompts[0].text == "Falta el nombre"
    assert step.prompts[-1].text.startswith("Nombre del lugar")


def test_optional_question_offers_a_skip_button(types_chat):
    step = types_chat.text("Parque Lerdo")
    assert step.prompts[-1].skip_label == "Omitir"
    types_chat.press("Omitir")
    assert types_chat.last.text == "Metros"


def test_integer_rejects_words_and_asks_again(types_chat):
    types_chat.text("Parque Lerdo")
    step = types_chat.text("cuarenta")
    assert "número entero" in step.prompts[0].text
    assert step.prompts[-1].text == "Años del parque"


def test_constraint_failure_shows_the_forms_message_and_the_same_question(types_chat):
    types_chat.text("Parque Lerdo")
    step = types_chat.text("500")
    assert step.prompts[0].text == "Entre 0 y 200"
    assert step.prompts[-1].text == "Años del parque"


def test_decimal_accepts_a_comma(types_chat):
    types_chat.text("Parque Lerdo")
    types_chat.text("40")
    types_chat.text("12,5")
    assert types_chat.state["form"]["answers"]["metros"] == 12.5


def test_date_buttons_and_typed_dates(types_chat):
    types_chat.text("Parque Lerdo")
    types_chat.text("40")
    types_chat.text("3")
    step = types_chat.text("05/11/2026")
    assert types_chat.state["form"]["answers"]["fecha"] == "2026-11-05"
    assert step.prompts[-1].text == "Zona"


def test_future_date_fails_the_today_constraint(types_chat):
    types_chat.text("Parque Lerdo")
    types_chat.text("40")
    types_chat.text("3")
    step = types_chat.text("2027-01-01")
    assert step.prompts[0].text == "No puede ser futura"


def test_unreadable_date_is_explained(types_chat):
    types_chat.text("Parque Lerdo")
    types_chat.text("40")
    types_chat.text("3")
    step = types_chat.text("el martes")
    assert "DD/MM/AAAA" in step.prompts[0].text


def test_choice_filter_shows_only_the_parks_of_the_chosen_zone(types_chat):
    answer_until_zona(types_chat)
    types_chat.press("Sur")
    assert [c.label for c in types_chat.last.choices] == ["Parque Sur"]


def test_a_typed_number_answers_the_nth_choice(types_chat):
    answer_until_zona(types_chat)
    types_chat.text("2")
    assert types_chat.state["form"]["answers"]["zona"] == "sur"


def test_a_typed_label_is_matched_without_case_or_accents(types_chat):
    answer_until_zona(types_chat)
    types_chat.text("NORTE")
    types_chat.text("parque norte dos")
    assert types_chat.state["form"]["answers"]["parque"] == "p2"


def test_choice_payloads_are_short_and_name_the_question(types_chat):
    answer_until_zona(types_chat)
    payloads = [c.payload for c in types_chat.last.choices]
    assert all(len(p.encode()) <= 60 for p in payloads)
    assert len({p.split(":")[0] for p in payloads}) == 1


def test_a_stale_button_is_answered_politely_and_the_question_repeated(types_chat):
    answer_until_zona(types_chat)
    zona_step = types_chat.steps[-1]
    types_chat.press("Norte")
    step = types_chat.press("Sur", zona_step)
    assert "pregunta anterior" in step.prompts[0].text
    assert step.prompts[-1].text == "Parque"
    assert types_chat.state["form"]["answers"]["zona"] == "norte"


def test_multi_select_toggles_refresh_the_prompt_until_done(types_chat):
    answer_until_zona(types_chat)
    types_chat.press("Norte")
    types_chat.press("Parque Norte Uno")
    step = types_chat.press("Pasto alto")
    prompt = step.prompts[-1]
    assert prompt.refresh and prompt.multiple
    assert prompt.selected == (types_chat.payload("Pasto alto"),)
    types_chat.press("Juegos rotos")
    types_chat.press("Pasto alto")  # toggles it off again
    types_chat.press("Juegos rotos")  # and this one off
    types_chat.press("Basura")
    types_chat.press("Listo")
    assert types_chat.state["form"]["answers"]["problemas"] == ["basura"]


def test_multi_select_accepts_typed_numbers(types_chat):
    answer_until_zona(types_chat)
    types_chat.press("Norte")
    types_chat.press("Parque Norte Uno")
    types_chat.text("1, 3")
    assert types_chat.state["form"]["answers"]["problemas"] == ["basura", "juegos"]


def test_multi_select_constraint_counts_the_selection(types_chat):
    answer_until_zona(types_chat)
    types_chat.press("Norte")
    types_chat.press("Parque Norte Uno")
    step = types_chat.text("1,2,3")
    assert step.prompts[0].text == "Máximo dos"


def test_group_relevance_asks_its_questions_only_when_true(types_chat):
    answer_until_zona(types_chat)
    types_chat.press("Norte")
    types_chat.press("Parque Norte Uno")
    step = types_chat.text("1")
    assert step.prompts[-1].text == "Bolsas de basura"


def test_group_relevance_skips_its_questions_when_false(types_chat):
    answer_until_zona(types_chat)
    types_chat.press("Norte")
    types_chat.press("Parque Norte Uno")
    step = types_chat.text("2")
    assert step.prompts[-1].kind is PromptKind.LOCATION


def test_geopoint_wants_a_location_not_a_photo(types_chat):
    answer_until_zona(types_chat)
    types_chat.press("Norte")
    types_chat.press("Parque Norte Uno")
    types_chat.text("2")
    step = types_chat.photos(photo(1))
    assert "ubicación" in step.prompts[0].text
    assert step.prompts[-1].kind is PromptKind.LOCATION


def test_geopoint_accepts_typed_coordinates(types_chat):
    answer_until_zona(types_chat)
    types_chat.press("Norte")
    types_chat.press("Parque Norte Uno")
    types_chat.text("2")
    types_chat.text("28.63, -106.08")
    assert types_chat.state["form"]["answers"]["lugar"] == {
        "latitude": 28.63,
        "longitude": -106.08,
    }


def test_photos_accumulate_with_one_confirmation_per_message(types_chat):
    answer_until_fotos(types_chat)
    assert types_chat.last.kind is PromptKind.PHOTO and types_chat.last.max_photos == 3
    step = types_chat.photos(photo(1), photo(2))
    assert len(step.prompts) == 1
    assert "2 de 3" in step.prompts[0].text
    types_chat.press("Listo")
    assert len(types_chat.state["form"]["answers"]["fotos"]) == 2


def test_photos_stop_at_the_limit_and_move_on(types_chat):
    answer_until_fotos(types_chat)
    types_chat.photos(photo(1))
    step = types_chat.photos(photo(2), photo(3), photo(4))
    assert "hasta 3 fotos" in step.prompts[0].text
    assert len(types_chat.state["form"]["answers"]["fotos"]) == 3
    assert step.prompts[-1].text == "Solo español"


def test_text_where_photos_are_expected_is_explained(types_chat):
    answer_until_fotos(types_chat)
    step = types_chat.text("no tengo cámara")
    assert "fotos" in step.prompts[0].text
    assert step.prompts[-1].kind is PromptKind.PHOTO


def test_a_sticker_gets_a_clear_reply_and_the_same_question(types_chat):
    step = types_chat.send(InboundKind.UNSUPPORTED)
    assert "No puedo leer" in step.prompts[0].text
    assert step.prompts[-1].text.startswith("Nombre del lugar")


def test_finishing_saves_the_submission_with_calculations_and_photos(types_chat):
    answer_until_fotos(types_chat)
    types_chat.photos(photo(1))
    types_chat.text("listo")
    step = types_chat.text("fin del recorrido")
    (submission,) = step.effects
    assert isinstance(submission, SaveSubmission)
    assert submission.form_id == "prueba_tipos" and submission.form_version == "3"
    assert submission.answers["doble"] == 80
    assert submission.answers["fotos"] == [photo(1).path]
    assert submission.photos == (photo(1),)
    assert submission.location is not None
    assert submission.started_at == submission.completed_at == types_chat.now
    assert "bolsas" not in submission.answers
    assert types_chat.last.text == "¿Qué quieres hacer?"
    assert "form" not in types_chat.state


def test_back_returns_to_the_previous_question(types_chat):
    types_chat.text("Parque Lerdo")
    step = types_chat.text("atrás")
    assert step.prompts[-1].text.startswith("Nombre del lugar")
    types_chat.text("Otro")
    assert types_chat.state["form"]["answers"]["nombre"] == "Otro"


def test_back_on_the_first_question_says_so(types_chat):
    step = types_chat.command(Command.BACK)
    assert "primera pregunta" in step.prompts[0].text


def test_changing_an_answer_after_back_drops_answers_that_became_irrelevant(types_chat):
    answer_until_zona(types_chat)
    types_chat.press("Norte")
    types_chat.press("Parque Norte Uno")
    types_chat.text("1")
    types_chat.text("4")  # bolsas
    types_chat.command(Command.BACK)  # back to bolsas
    types_chat.command(Command.BACK)  # back to problemas
    types_chat.text("2")
    assert "bolsas" not in types_chat.state["form"]["answers"]


def test_cancel_leaves_the_form_without_saving(types_chat):
    types_chat.text("Parque Lerdo")
    step = types_chat.text("/cancelar")
    assert step.effects == []
    assert "no se guardó nada" in step.prompts[0].text
    assert types_chat.last.text == "¿Qué quieres hacer?"


def test_help_explains_the_commands_and_repeats_the_question(types_chat):
    step = types_chat.text("ayuda")
    assert "atrás" in step.prompts[0].text
    assert step.prompts[-1].text.startswith("Nombre del lugar")


def test_labels_follow_the_guardians_language_with_fallback(gazetteer, guardian):
    from dataclasses import replace

    chat = form_chat(form_file("all_types.md"), gazetteer, replace(guardian, locale="en"))
    assert chat.last.text == "Place name\nComo aparece en el letrero"  # hint: Spanish only
    chat.text("x")
    step = chat.text("-1")
    assert step.prompts[0].text == "Between 0 and 200"


def test_state_resumes_from_json_after_a_restart(types_chat):
    types_chat.text("Parque Lerdo")
    saved = types_chat.state
    types_chat.state = dict(saved)  # what the database gives back
    step = types_chat.text("41")
    assert step.prompts[-1].text == "Metros"


def test_a_form_replaced_mid_conversation_sends_the_guardian_to_the_menu(types_chat):
    types_chat.state["form"]["version"] = "old"
    step = types_chat.text("Parque Lerdo")
    assert "se actualizó" in step.prompts[0].text
    assert types_chat.last.text == "¿Qué quieres hacer?"
