"""Course folders: the shipped Chihuahua course loads; a broken lesson is refused with file
and line."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from guardianes.conversations.course import (
    DEFAULT_COURSE_DIR,
    MAX_SCREEN_CHARS,
    CourseError,
    load_course,
)

COURSE_TOML = """id = "demo"
quiz = "cuestionario_capacitacion"

[title]
es = "Curso demo"
en = "Demo course"
"""


def lesson(lesson_id: str = "uno", order: int = 1, title: str = "Uno", body: str = "Hola.") -> str:
    return f"---\nid: {lesson_id}\norder: {order}\ntitle: {title}\ntopic: tema\n---\n{body}\n"


@pytest.fixture
def course_dir(tmp_path: Path) -> Path:
    folder = tmp_path / "demo"
    folder.mkdir()
    (folder / "course.toml").write_text(COURSE_TOML, encoding="utf-8")
    (folder / "01-uno.es.md").write_text(lesson(body="Uno.\n---\nDos."), encoding="utf-8")
    (folder / "01-uno.en.md").write_text(lesson(title="One", body="One.\n---\nTwo."), "utf-8")
    return folder


def problems_of(folder: Path) -> list[str]:
    with pytest.raises(CourseError) as caught:
        load_course(folder)
    return [str(p) for p in caught.value.problems]


def test_the_shipped_chihuahua_course_has_six_lessons_in_both_languages():
    course = load_course(DEFAULT_COURSE_DIR)
    assert course.quiz_form_id == "cuestionario_capacitacion"
    assert [lesson.topic for lesson in course.lessons] == [
        "sindicatura",
        "gobierno",
        "compras",
        "contratos",
        "servicios",
        "quejas",
    ]
    for item in course.lessons:
        assert 1 <= len(item.screens_in("es")) == len(item.screens_in("en")) <= 6
        assert item.title("en") != item.title("es")


def test_markdown_emphasis_is_dropped_from_screens():
    course = load_course(DEFAULT_COURSE_DIR)
    text = "\n".join(s for item in course.lessons for s in item.screens_in("es"))
    assert "**" not in text and "Licitación pública" in text


def test_a_lesson_body_is_split_into_screens_by_dashes(course_dir):
    (only,) = load_course(course_dir).lessons
    assert only.screens_in("es") == ("Uno.", "Dos.")
    assert only.screens_in("en") == ("One.", "Two.")


def test_a_missing_front_matter_key_is_refused_with_file_and_line(course_dir):
    (course_dir / "01-uno.es.md").write_text(
        "---\nid: uno\norder: 1\ntitle: Uno\ntopik: tema\n---\nHola.\n", encoding="utf-8"
    )
    problems = problems_of(course_dir)
    assert "01-uno.es.md, line 5: the key 'topik' is not supported" in problems
    assert any(p.startswith("01-uno.es.md") and "'topic' is required" in p for p in problems)


def test_a_screen_too_long_is_refused_at_its_first_line(course_dir):
    long_screen = "palabra " * (MAX_SCREEN_CHARS // 7)
    (course_dir / "01-uno.es.md").write_text(lesson(body=f"Corta.\n---\n{long_screen}"), "utf-8")
    (problem,) = problems_of(course_dir)
    assert problem.startswith("01-uno.es.md, line 9: screen of ")
    assert "split it with a line '---'" in problem


def test_a_lesson_missing_its_english_file_is_refused(course_dir):
    (course_dir / "01-uno.en.md").unlink()
    assert problems_of(course_dir) == ["01-uno.en.md: this language of the lesson is missing"]


def test_languages_that_disagree_on_the_order_are_refused(course_dir):
    (course_dir / "01-uno.en.md").write_text(lesson(order=2, title="One"), encoding="utf-8")
    (problem,) = problems_of(course_dir)
    assert problem.startswith("01-uno.en.md, line 3: 'order' differs from 01-uno.es.md")


def test_two_lessons_with_the_same_order_are_refused(course_dir):
    (course_dir / "02-dos.es.md").write_text(lesson("dos", 1, "Dos"), encoding="utf-8")
    (course_dir / "02-dos.en.md").write_text(lesson("dos", 1, "Two"), encoding="utf-8")
    (problem,) = problems_of(course_dir)
    assert problem == "02-dos.es.md, line 3: order 1 is also the order of 'uno'"


def test_a_missing_image_is_refused_on_its_line(course_dir):
    for name in ("01-uno.es.md", "01-uno.en.md"):
        text = (course_dir / name).read_text(encoding="utf-8")
        (course_dir / name).write_text(text.replace("topic: tema\n", "topic: tema\nimage: x.png\n"))
    problems = problems_of(course_dir)
    assert problems == ["01-uno.es.md, line 6: the image x.png is not in the course folder"]


def test_an_unclosed_front_matter_is_refused(course_dir):
    (course_dir / "01-uno.es.md").write_text("---\nid: uno\norder: 1\n", encoding="utf-8")
    assert "01-uno.es.md, line 1: the front matter is not closed by a line '---'" in problems_of(
        course_dir
    )


def test_a_course_toml_without_quiz_is_refused(course_dir):
    (course_dir / "course.toml").write_text(
        COURSE_TOML.replace('quiz = "cuestionario_capacitacion"\n', "")
    )
    assert problems_of(course_dir) == [
        "course.toml: quiz (the form id of the pre/post quiz) is required"
    ]


def test_a_copy_of_the_shipped_course_with_one_broken_lesson_is_refused(tmp_path):
    folder = tmp_path / "chihuahua"
    shutil.copytree(DEFAULT_COURSE_DIR, folder)
    path = folder / "03-como-compra.en.md"
    path.write_text(path.read_text(encoding="utf-8").replace("order: 3", "order: three"))
    problems = problems_of(folder)
    assert (
        "03-como-compra.en.md, line 3: 'order' differs from 03-como-compra.es.md ('three' vs '3')"
        in problems
    )
