"""A course: short Markdown lessons staff edit, shown one screen at a time between the quizzes.

A course is a folder:

```
course.toml                 id, quiz (the form id of the pre/post quiz), [title] es/en
01-sindicatura.es.md        one file per lesson and language: <anything>.<lang>.md
01-sindicatura.en.md
sindicatura.png             optional image named by the lesson's front matter
```

Each lesson file starts with front matter between two `---` lines (`id`, `order`, `title`,
`topic`, optional `image`); the body is split into screens by lines holding only `---`.
Every language of a lesson must agree on id, order, topic and image. `load_course` refuses
a course with any problem, listing them all with file and line, like forms are refused.
"""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass, field
from pathlib import Path

from guardianes.locales import SUPPORTED_LOCALES

SHIPPED_COURSES_DIR = Path(__file__).resolve().parent / "courses"
DEFAULT_COURSE_DIR = SHIPPED_COURSES_DIR / "chihuahua"
COURSE_FILE = "course.toml"
SEPARATOR = "---"
MAX_SCREENS = 6  # "a few screens": more belongs in another lesson
# A screen goes out as the body of a message with buttons: WhatsApp caps that body at 1024
# characters, and the progress line is added above it.
MAX_SCREEN_CHARS = 900
MAX_TITLE_CHARS = 80
MAX_IMAGE_BYTES = 5 * 1024 * 1024
IMAGE_SUFFIXES = frozenset({".png", ".jpg", ".jpeg"})
REQUIRED_KEYS = ("id", "order", "title", "topic")
KNOWN_KEYS = frozenset({*REQUIRED_KEYS, "image"})
_LESSON_FILE = re.compile(r"^(?P<stem>.+)\.(?P<lang>[a-z]{2})\.md$")
_IDENTIFIER = re.compile(r"^[a-z0-9][a-z0-9_-]{0,59}$")
_TOML_LINE = re.compile(r"at line (\d+)")
# Staff may write Markdown emphasis; chats receive plain text, so the markers are dropped.
_EMPHASIS = re.compile(r"\*\*(.+?)\*\*|__(.+?)__", re.DOTALL)


@dataclass(frozen=True, slots=True)
class CourseProblem:
    """One reason a course is refused, with the file and line to fix."""

    file: str
    line: int | None
    reason: str

    def __str__(self) -> str:
        where = f"{self.file}, line {self.line}" if self.line else self.file
        return f"{where}: {self.reason}"


class CourseError(Exception):
    """A course the engine refuses, with every problem found."""

    def __init__(self, problems: list[CourseProblem]) -> None:
        super().__init__("\n".join(str(p) for p in problems))
        self.problems = problems


@dataclass(frozen=True, slots=True)
class Lesson:
    """One lesson in every language: its screens and title per language code."""

    id: str
    order: int
    topic: str
    titles: dict[str, str]
    screens: dict[str, tuple[str, ...]]
    image: Path | None = None

    def title(self, locale: str) -> str:
        """The title in the guardian's language, else Spanish."""
        return self.titles.get(locale) or self.titles[SUPPORTED_LOCALES[0]]

    def screens_in(self, locale: str) -> tuple[str, ...]:
        """The screens in the guardian's language, else Spanish."""
        return self.screens.get(locale) or self.screens[SUPPORTED_LOCALES[0]]


@dataclass(frozen=True, slots=True)
class Course:
    """A loaded, checked course: lessons in order and the quiz taken before and after."""

    course_id: str
    quiz_form_id: str
    titles: dict[str, str]
    lessons: tuple[Lesson, ...]
    folder: str = ""
    topics: tuple[str, ...] = field(default=())

    def title(self, locale: str) -> str:
        """The course title in the guardian's language, else Spanish."""
        return self.titles.get(locale) or self.titles[SUPPORTED_LOCALES[0]]

    def index_of(self, lesson_id: str | None) -> int | None:
        """The position of a lesson by id (None when staff removed it)."""
        for index, lesson in enumerate(self.lessons):
            if lesson.id == lesson_id:
                return index
        return None


@dataclass
class _LessonFile:
    path: Path
    language: str
    meta: dict[str, str]
    meta_lines: dict[str, int]
    screens: list[str]


class _Loader:
    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.problems: list[CourseProblem] = []

    def problem(self, path: Path | str, line: int | None, reason: str) -> None:
        name = path.name if isinstance(path, Path) else path
        self.problems.append(CourseProblem(name, line, reason))

    def course_file(self) -> tuple[str, str, dict[str, str]]:
        path = self.folder / COURSE_FILE
        if not path.is_file():
            self.problem(COURSE_FILE, None, "the course needs a course.toml (id, quiz, [title])")
            return "", "", {}
        try:
            data = tomllib.loads(path.read_text(encoding="utf-8"))
        except (tomllib.TOMLDecodeError, UnicodeDecodeError) as error:
            match = _TOML_LINE.search(str(error))
            self.problem(path, int(match.group(1)) if match else None, str(error))
            return "", "", {}
        lines = _toml_key_lines(path)
        course_id = str(data.get("id") or "")
        if not _IDENTIFIER.match(course_id):
            self.problem(path, lines.get("id"), "id must be lowercase letters, digits, - or _")
        quiz = str(data.get("quiz") or "")
        if not quiz:
            self.problem(
                path, lines.get("quiz"), "quiz (the form id of the pre/post quiz) is required"
            )
        titles = data.get("title")
        if not isinstance(titles, dict) or not all(isinstance(v, str) for v in titles.values()):
            self.problem(path, lines.get("title"), "[title] needs one line per language: es = ...")
            titles = {}
        for language in SUPPORTED_LOCALES:
            if not str(titles.get(language) or "").strip():
                self.problem(path, lines.get("title"), f"[title] has no {language} title")
        for key in sorted(set(data) - {"id", "quiz", "title"}):
            self.problem(path, lines.get(key), f"the key '{key}' is not supported")
        return course_id, quiz, {str(k): str(v).strip() for k, v in titles.items()}

    def lesson_file(self, path: Path, language: str) -> _LessonFile | None:
        try:
            lines = path.read_text(encoding="utf-8").splitlines()
        except UnicodeDecodeError:
            self.problem(path, None, "the file is not UTF-8 text")
            return None
        if not lines or lines[0].strip() != SEPARATOR:
            self.problem(path, 1, "a lesson starts with front matter: a line '---'")
            return None
        meta: dict[str, str] = {}
        meta_lines: dict[str, int] = {}
        end = None
        for number, line in enumerate(lines[1:], start=2):
            if line.strip() == SEPARATOR:
                end = number
                break
            if not line.strip() or line.lstrip().startswith("#"):
                continue
            key, colon, value = line.partition(":")
            key = key.strip().lower()
            if not colon or not key:
                self.problem(path, number, f"front matter lines are 'key: value', not {line!r}")
                continue
            if key not in KNOWN_KEYS:
                self.problem(path, number, f"the key '{key}' is not supported")
                continue
            if key in meta:
                self.problem(path, number, f"'{key}' is given twice")
                continue
            meta[key] = value.strip()
            meta_lines[key] = number
        if end is None:
            self.problem(path, 1, "the front matter is not closed by a line '---'")
            return None
        for key in REQUIRED_KEYS:
            if not meta.get(key):
                self.problem(path, meta_lines.get(key, 1), f"'{key}' is required")
        screens = self.screens(path, lines, end)
        return _LessonFile(path, language, meta, meta_lines, screens)

    def screens(self, path: Path, lines: list[str], end: int) -> list[str]:
        screens: list[str] = []
        current: list[str] = []
        start = end + 1

        def close(line_number: int) -> None:
            text = "\n".join(current).strip()
            if not text:
                self.problem(path, line_number, "empty screen (two '---' lines in a row?)")
            elif len(text) > MAX_SCREEN_CHARS:
                self.problem(
                    path,
                    line_number,
                    f"screen of {len(text)} characters; at most {MAX_SCREEN_CHARS}"
                    " (split it with a line '---')",
                )
            screens.append(_EMPHASIS.sub(lambda m: m.group(1) or m.group(2), text))

        for number, line in enumerate(lines[end:], start=end + 1):
            if line.strip() == SEPARATOR:
                close(start)
                current = []
                start = number + 1
            else:
                current.append(line)
        if "\n".join(current).strip() or not screens:
            close(start)
        if len(screens) > MAX_SCREENS:
            self.problem(path, None, f"{len(screens)} screens; a lesson has at most {MAX_SCREENS}")
        return screens

    def lesson(self, stem: str, files: dict[str, _LessonFile]) -> Lesson | None:
        missing = [lang for lang in SUPPORTED_LOCALES if lang not in files]
        for language in missing:
            self.problem(f"{stem}.{language}.md", None, "this language of the lesson is missing")
        if missing:
            return None
        first = files[SUPPORTED_LOCALES[0]]
        lesson_id = first.meta.get("id", "")
        if lesson_id and not _IDENTIFIER.match(lesson_id):
            self.problem(
                first.path,
                first.meta_lines.get("id"),
                "id must be lowercase letters, digits, - or _",
            )
        order_text = first.meta.get("order", "")
        if order_text and not order_text.isdigit():
            self.problem(first.path, first.meta_lines.get("order"), "order must be a whole number")
        for lesson_file in files.values():
            title = lesson_file.meta.get("title", "")
            if len(title) > MAX_TITLE_CHARS:
                self.problem(
                    lesson_file.path,
                    lesson_file.meta_lines.get("title"),
                    f"title longer than {MAX_TITLE_CHARS} characters",
                )
            if lesson_file is first:
                continue
            for key in ("id", "order", "topic", "image"):
                if lesson_file.meta.get(key) != first.meta.get(key):
                    self.problem(
                        lesson_file.path,
                        lesson_file.meta_lines.get(key, 1),
                        f"'{key}' differs from {first.path.name}"
                        f" ({lesson_file.meta.get(key)!r} vs {first.meta.get(key)!r})",
                    )
        image = self.image(first)
        if self.problems or not order_text.isdigit():
            return None
        return Lesson(
            id=lesson_id,
            order=int(order_text),
            topic=first.meta["topic"],
            titles={lang: f.meta["title"] for lang, f in files.items()},
            screens={lang: tuple(f.screens) for lang, f in files.items()},
            image=image,
        )

    def image(self, lesson_file: _LessonFile) -> Path | None:
        name = lesson_file.meta.get("image")
        if not name:
            return None
        line = lesson_file.meta_lines.get("image")
        path = self.folder / name
        if Path(name).name != name:
            self.problem(
                lesson_file.path, line, "the image must sit beside the lesson (no folders)"
            )
        elif path.suffix.lower() not in IMAGE_SUFFIXES:
            self.problem(lesson_file.path, line, "the image must be a .png or .jpg file")
        elif not path.is_file():
            self.problem(lesson_file.path, line, f"the image {name} is not in the course folder")
        elif path.stat().st_size > MAX_IMAGE_BYTES:
            self.problem(lesson_file.path, line, "the image is larger than 5 MB")
        else:
            return path
        return None

    def load(self) -> Course:
        if not self.folder.is_dir():
            raise CourseError([CourseProblem(str(self.folder), None, "not a folder")])
        course_id, quiz, titles = self.course_file()
        grouped: dict[str, dict[str, _LessonFile]] = {}
        for path in sorted(self.folder.iterdir()):
            if path.name.startswith(".") or path.suffix.lower() != ".md":
                continue
            match = _LESSON_FILE.match(path.name)
            if match is None or match.group("lang") not in SUPPORTED_LOCALES:
                languages = " or ".join(f".{lang}.md" for lang in SUPPORTED_LOCALES)
                self.problem(path, None, f"lesson files end in {languages}")
                continue
            parsed = self.lesson_file(path, match.group("lang"))
            if parsed is not None:
                grouped.setdefault(match.group("stem"), {})[parsed.language] = parsed
        lessons = [
            lesson
            for stem, files in sorted(grouped.items())
            if (lesson := self.lesson(stem, files)) is not None
        ]
        if not grouped and not self.problems:
            self.problem(self.folder, None, "the course has no lessons")
        self.check_unique(lessons, grouped)
        if self.problems:
            raise CourseError(self.problems)
        lessons.sort(key=lambda lesson: lesson.order)
        return Course(
            course_id=course_id,
            quiz_form_id=quiz,
            titles=titles,
            lessons=tuple(lessons),
            folder=str(self.folder),
            topics=tuple(dict.fromkeys(lesson.topic for lesson in lessons)),
        )

    def check_unique(
        self, lessons: list[Lesson], grouped: dict[str, dict[str, _LessonFile]]
    ) -> None:
        files_by_id = {
            f.meta.get("id"): f
            for files in grouped.values()
            for f in files.values()
            if f.language == SUPPORTED_LOCALES[0]
        }
        seen_ids: dict[str, int] = {}
        seen_orders: dict[int, str] = {}
        for lesson in lessons:
            source = files_by_id.get(lesson.id)
            if lesson.id in seen_ids:
                self.problem(
                    source.path if source else lesson.id,
                    source.meta_lines.get("id") if source else None,
                    f"the id '{lesson.id}' is used by another lesson",
                )
            if lesson.order in seen_orders:
                self.problem(
                    source.path if source else lesson.id,
                    source.meta_lines.get("order") if source else None,
                    f"order {lesson.order} is also the order of '{seen_orders[lesson.order]}'",
                )
            seen_ids[lesson.id] = lesson.order
            seen_orders[lesson.order] = lesson.id


def _toml_key_lines(path: Path) -> dict[str, int]:
    """The line of each top-level key or table of a small TOML file, for problem reports."""
    lines: dict[str, int] = {}
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        stripped = line.strip()
        if stripped.startswith("[") and stripped.endswith("]"):
            lines.setdefault(stripped.strip("[]").strip(), number)
        elif "=" in stripped and not stripped.startswith("#"):
            lines.setdefault(stripped.split("=", 1)[0].strip(), number)
    return lines


def load_course(folder: Path | str) -> Course:
    """Load and check a course folder, or raise `CourseError` listing every problem."""
    return _Loader(Path(folder)).load()
