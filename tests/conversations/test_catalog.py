"""The form catalog: shipped forms plus whatever staff drop into the extra folder."""

from __future__ import annotations

from guardianes.conversations.catalog import FormCatalog

from .conftest import write_form

CARD = """| survey |
| | type | name | label |
| | text | a | A |
| settings |
| | form_id | version | kind | service |
| | {form_id} | {version} | card | water |
"""


def test_a_dropped_form_is_loaded_without_code_changes(tmp_path):
    write_form(tmp_path, CARD.format(form_id="tarjeta_agua", version="1"), "agua.md")
    catalog = FormCatalog.load(tmp_path)
    assert catalog.get("tarjeta_agua").service == "water"
    assert catalog.get("tarjeta_parques") is not None


def test_a_broken_dropped_form_is_reported_and_skipped(tmp_path):
    write_form(tmp_path, "| survey |\n| | type | name |\n| | geoshape | a |\n", "roto.md")
    write_form(tmp_path, CARD.format(form_id="bueno", version="1"), "bueno.md")
    catalog = FormCatalog.load(tmp_path)
    assert catalog.get("bueno") is not None
    assert {p.file for p in catalog.problems} == {"roto.md"}


def test_a_dropped_form_replaces_the_shipped_one_with_the_same_id(tmp_path):
    write_form(tmp_path, CARD.format(form_id="tarjeta_parques", version="9"), "parques.md")
    catalog = FormCatalog.load(tmp_path)
    assert catalog.get("tarjeta_parques").version == "9"
    assert catalog.notes


def test_excel_lock_files_and_other_files_are_ignored(tmp_path):
    (tmp_path / "~$parques.xlsx").write_bytes(b"lock")
    (tmp_path / "notes.txt").write_text("hi")
    assert FormCatalog.load(tmp_path).problems == ()


def test_two_dropped_files_with_one_id_keep_the_first(tmp_path):
    write_form(tmp_path, CARD.format(form_id="x", version="1"), "a.md")
    write_form(tmp_path, CARD.format(form_id="x", version="2"), "b.md")
    catalog = FormCatalog.load(tmp_path)
    assert catalog.get("x").version == "1"
    assert [p.file for p in catalog.problems] == ["b.md"]


def test_a_missing_extra_folder_is_fine(tmp_path):
    assert FormCatalog.load(tmp_path / "nope").get("tarjeta_basura") is not None
