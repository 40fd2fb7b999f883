"""`guardianes course check`: the shipped course passes; a broken lesson fails with its line."""

from __future__ import annotations

import shutil

from typer.testing import CliRunner

from guardianes.cli.course import course_app
from guardianes.conversations.course import DEFAULT_COURSE_DIR

runner = CliRunner()


def test_the_shipped_course_passes_the_check():
    result = runner.invoke(course_app, ["check"], env={"COLUMNS": "200"})
    assert result.exit_code == 0, result.output
    assert "donde-quejarse" in result.output


def test_a_broken_lesson_fails_the_check_with_file_and_line(tmp_path):
    folder = tmp_path / "curso"
    shutil.copytree(DEFAULT_COURSE_DIR, folder)
    path = folder / "02-gobierno-municipal.es.md"
    path.write_text(path.read_text(encoding="utf-8").replace("title:", "titulo:", 1))
    result = runner.invoke(course_app, ["check", str(folder)], env={"COLUMNS": "200"})
    assert result.exit_code == 1
    assert "02-gobierno-municipal.es.md, line 4: the key 'titulo' is not supported" in result.output
