"""`card_reports_failure`: which finished cards report a failure of the service."""

from __future__ import annotations

from guardianes.conversations.complaints import card_reports_failure, failing_questions
from guardianes.conversations.xlsform import load_form

from .conftest import write_form

GOOD_PARK = {
    "poda": "si",
    "riego": "bien",
    "basura": "nada",
    "arboles_problema": "no",
    "juegos": "bien",
    "equipo_deportivo": "regular",
    "bancas": "bien",
    "alumbrado": "bien",
    "luminarias_apagadas": 0,
}


def test_a_park_in_good_shape_reports_no_failure(shipped):
    assert not card_reports_failure(shipped.get("tarjeta_parques"), GOOD_PARK)


def test_uncut_grass_and_dirty_ground_are_failures_of_the_park(shipped):
    answers = {**GOOD_PARK, "poda": "no", "basura": "mucha"}
    assert failing_questions(shipped.get("tarjeta_parques"), answers) == ["poda", "basura"]


def test_failures_are_the_obligations_the_card_tags(shipped):
    # Park lamps are street lighting, not an obligation of the park's contract: the same
    # tags decide evidence and the "where to complain" hint, so both agree.
    answers = {**GOOD_PARK, "luminarias_apagadas": 2}
    assert failing_questions(shipped.get("tarjeta_parques"), answers) == []


def test_a_missed_collection_day_is_a_failure(shipped):
    form = shipped.get("tarjeta_basura")
    assert card_reports_failure(form, {"dias_cumplidos": "no", "tiradero": "no"})
    assert not card_reports_failure(form, {"dias_cumplidos": "si", "tiradero": "no"})


def test_lamps_out_are_a_lighting_failure(shipped):
    form = shipped.get("tarjeta_alumbrado")
    assert card_reports_failure(form, {"lamparas_apagadas": 3, "postes_danados": 0})
    assert not card_reports_failure(form, {"lamparas_apagadas": 0, "postes_danados": 0})


def test_a_staff_form_can_tag_its_failing_choices(tmp_path):
    path = write_form(
        tmp_path,
        """
| survey |
| | type | name | label |
| | select_one estado | banqueta | ¿Cómo está la banqueta? |
| choices |
| | list_name | name | label | failure |
| | estado | bien | Bien | |
| | estado | rota | Rota | yes |
| settings |
| | form_id | version | kind |
| | banquetas | 1 | card |
""",
    )
    form = load_form(path)
    assert card_reports_failure(form, {"banqueta": "rota"})
    assert not card_reports_failure(form, {"banqueta": "bien"})
