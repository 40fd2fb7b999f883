"""pyxform's own example forms run in the engine from first to last question.

Copied from pyxform's test suite (see tests/fixtures/xlsforms/pyxform/README.md): they use
pyxform's older spellings (`select one from LIST or specify other`, `phone number`,
`begin loop over LIST`, `label:English`), which the loader reads as pyxform does.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from guardianes.conversations.context import GuardianProfile
from guardianes.conversations.xlsform import FormError, QuestionType, canonical_type, load_form

from .conftest import Chat, FakeGazetteer, catalog_of, fill

PYXFORM_FORMS = Path(__file__).parents[1] / "fixtures" / "xlsforms" / "pyxform"
REFUSED = "case_insensitivity.csv"
RUNNABLE = sorted(
    p
    for p in PYXFORM_FORMS.iterdir()
    if p.suffix in {".md", ".csv"} and p.name not in {REFUSED, "README.md"}
)


def answers_of(name: str, gazetteer: FakeGazetteer, guardian: GuardianProfile) -> dict:
    path = PYXFORM_FORMS / name
    chat = Chat(catalog=catalog_of(load_form(path)), gazetteer=gazetteer, guardian=guardian)
    return dict(fill(chat, path).answers)


@pytest.mark.parametrize("path", RUNNABLE, ids=lambda p: p.name)
def test_a_pyxform_example_runs_from_first_to_last_question(path, gazetteer, guardian):
    form = load_form(path)
    answers = answers_of(path.name, gazetteer, guardian)
    asked = [q.name for q in form.questions if q.asks and q.type is not QuestionType.TEXT]
    assert all(answers.get(name) not in (None, "", []) for name in asked), answers


@pytest.mark.parametrize(
    ("raw", "canonical"),
    [
        ("select one from sexes or specify other", "select_one sexes or_other"),
        ("select all that apply from toilet_type or other", "select_multiple toilet_type or_other"),
        ("add select one prompt using yes_no", "select_one yes_no"),
        ("select1 yes_no", "select_one yes_no"),
        ("select one from file towns.csv", "select_one_from_file towns.csv"),
        ("phone number", "phone_number"),
        ("begin loop over toilet_type", "begin_loop toilet_type"),
        ("Begin  Group", "begin_group"),
        ("begin looped group", "begin_repeat"),
        ("select_one list", "select_one list"),
    ],
)
def test_pyxform_aliases_are_read_as_the_canonical_type(raw, canonical):
    assert canonical_type(raw) == canonical


def test_a_single_colon_translation_is_a_translation():
    form = load_form(PYXFORM_FORMS / "group.csv")
    assert form.question("family_name").labels == {"en": "What's your family name?"}
    assert not form.warnings


def test_a_phone_number_accepts_digits_only(gazetteer, guardian):
    form = load_form(PYXFORM_FORMS / "group.csv")
    assert form.question("phone_number").type is QuestionType.TEXT
    answers = answers_of("group.csv", gazetteer, guardian)
    assert answers["phone_number"].isdigit()
    assert int(answers["age"]) >= 0


def test_or_specify_other_adds_the_other_choice_and_its_text(gazetteer, guardian):
    form = load_form(PYXFORM_FORMS / "specify_other.md")
    assert [c.name for c in form.question("sex").choices] == ["male", "female", "other"]
    assert answers_of("specify_other.md", gazetteer, guardian)["sex"] == "male"


def test_a_yes_or_no_question_saves_the_choice(gazetteer, guardian):
    assert answers_of("yes_or_no_question.md", gazetteer, guardian)["good_day"] == "yes"


def test_a_loop_asks_its_questions_once_per_choice_with_the_choice_label(gazetteer, guardian):
    form = load_form(PYXFORM_FORMS / "loop.md")
    slab = form.question("loop_toilet_types_pit_latrine_with_slab_number")
    assert slab.labels == {"en": "How many Pit latrine with slab are on the premises?"}
    answers = answers_of("loop.md", gazetteer, guardian)
    counts = [name for name in answers if name.startswith("loop_toilet_types_")]
    assert len(counts) == 4  # three toilet types and "other"
    assert all(str(answers[name]).isdigit() for name in counts)


def test_a_loop_holding_a_group_is_refused_in_one_line(tmp_path):
    path = tmp_path / "nested_loop.md"
    path.write_text(
        """| survey |
| | type | name | label |
| | text | place | Where? |
| | begin loop over kinds | per_kind | |
| | begin group | inner | Inner |
| | integer | number | How many %(label)s? |
| | end group | | |
| | end loop | | |
| choices |
| | list name | name | label |
| | kinds | a | A |
""",
        encoding="utf-8",
    )
    with pytest.raises(FormError) as error:
        load_form(path)
    assert [p.reason for p in error.value.problems] == [
        "begin loop over ... (per_kind) holding a group is not supported: use a repeat"
    ]


def test_the_form_with_osm_entities_and_external_choices_is_refused_with_each_reason():
    with pytest.raises(FormError) as error:
        load_form(PYXFORM_FORMS / REFUSED)
    reasons = [p.reason for p in error.value.problems]
    assert "the 'entities' sheet is not supported" in reasons
    assert "the 'osm' sheet is not supported" in reasons
    assert "the question type 'osm' is not supported" in reasons
    assert "choice_filter uses unknown choice column 'YES_NO'" in reasons


def test_a_loops_relevance_applies_to_every_choice(tmp_path):
    path = tmp_path / "relevant_loop.md"
    path.write_text(
        """| survey |
| | type | name | label | relevant |
| | integer | rooms | Rooms? | |
| | begin loop over kinds | per_kind | | ${rooms} > 0 |
| | integer | number | How many %(label)s? | |
| | end loop | | | |
| choices |
| | list name | name | label |
| | kinds | a | A |
| | kinds | b | B |
""",
        encoding="utf-8",
    )
    form = load_form(path)
    looped = [q for q in form.questions if q.name.startswith("per_kind_")]
    assert [q.name for q in looped] == ["per_kind_a_number", "per_kind_b_number"]
    assert all(len(q.relevant) == 1 for q in looped)
