"""`guardianes forms check` and `guardianes forms list`."""

from __future__ import annotations

from typer.testing import CliRunner

from guardianes.cli.forms import forms_app

from .conftest import form_file, write_form

runner = CliRunner()


def test_check_prints_questions_with_labels_in_each_language():
    result = runner.invoke(forms_app, ["check", str(form_file("all_types.md"))])
    assert result.exit_code == 0
    assert "Place name" in result.output and "Nombre del lugar" in result.output


def test_check_lists_every_refusal_with_rows_and_exits_1(tmp_path):
    path = write_form(
        tmp_path,
        "| survey |\n| | type | name | label |\n| | geotrace | a | A |\n| | geoshape | b | B |\n"
        "| settings |\n| | form_id | version | kind |\n| | f | 1 | card |\n",
    )
    result = runner.invoke(forms_app, ["check", str(path)])
    assert result.exit_code == 1
    assert "row 2" in result.output and "row 3" in result.output


def test_list_honours_the_forms_dir_setting(tmp_path, monkeypatch):
    write_form(
        tmp_path,
        "| survey |\n| | type | name | label |\n| | text | a | A |\n"
        "| settings |\n| | form_id | version | kind |\n| | extra_card | 5 | card |\n",
        "extra.md",
    )
    monkeypatch.setenv("GUARDIANES_FORMS_DIR", str(tmp_path))
    result = runner.invoke(forms_app, ["list"], env={"COLUMNS": "200"})
    assert result.exit_code == 0
    assert "extra_card" in result.output and "tarjeta_parques" in result.output
