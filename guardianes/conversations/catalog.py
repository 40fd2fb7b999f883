"""The forms the engine can run: the shipped ones plus any staff drop into the extra folder."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

from guardianes.conversations.course import Course
from guardianes.conversations.xlsform import FORM_SUFFIXES, Form, FormError, FormProblem, load_form
from guardianes.domain.enums import FormKind

SHIPPED_FORMS_DIR = Path(__file__).resolve().parent / "forms"


def form_files(folder: Path) -> list[Path]:
    """XLSForm files in a folder, skipping hidden files and Excel's `~$` lock files."""
    if not folder.is_dir():
        return []
    return sorted(
        path
        for path in folder.iterdir()
        if path.is_file()
        and path.suffix.lower() in FORM_SUFFIXES
        and not path.name.startswith((".", "~$"))
    )


@dataclass(frozen=True, slots=True)
class FormCatalog:
    """Loaded forms by id; `problems` lists the dropped files that were refused and skipped."""

    forms: dict[str, Form]
    problems: tuple[FormProblem, ...] = ()
    notes: tuple[str, ...] = field(default=())
    course: Course | None = None  # the training course between the pre and post quiz

    @classmethod
    def of(cls, forms: Iterable[Form]) -> FormCatalog:
        """A catalog of already-loaded forms (tests, tools)."""
        return cls({form.form_id: form for form in forms})

    @classmethod
    def load(cls, extra_dir: Path | None = None, *, shipped_dir: Path | None = None) -> FormCatalog:
        """Shipped forms, then the extra folder's; a later file with the same id replaces."""
        forms: dict[str, Form] = {}
        problems: list[FormProblem] = []
        notes: list[str] = []
        folders = [shipped_dir or SHIPPED_FORMS_DIR]
        if extra_dir is not None:
            folders.append(extra_dir)
        for folder in folders:
            seen_here: dict[str, Path] = {}
            for path in form_files(folder):
                try:
                    form = load_form(path)
                except FormError as error:
                    problems.extend(error.problems)
                    continue
                if form.form_id in seen_here:
                    problems.append(
                        FormProblem(
                            path.name,
                            "settings",
                            None,
                            f"form_id {form.form_id} is already used by"
                            f" {seen_here[form.form_id].name}",
                        )
                    )
                    continue
                seen_here[form.form_id] = path
                if form.form_id in forms:
                    old = forms[form.form_id]
                    notes.append(
                        f"{path.name} (version {form.version}) replaces {Path(old.source).name}"
                        f" (version {old.version})"
                    )
                forms[form.form_id] = form
        return cls(forms, tuple(problems), tuple(notes))

    def get(self, form_id: str) -> Form | None:
        """The form with that id, if installed."""
        return self.forms.get(form_id)

    def cards(self) -> list[Form]:
        """Surveillance cards, in a stable order."""
        return sorted((f for f in self.forms.values() if f.kind is FormKind.CARD), key=_order)

    def quizzes(self) -> list[Form]:
        """Scored quizzes, in a stable order."""
        return sorted((f for f in self.forms.values() if f.kind is FormKind.QUIZ), key=_order)


def _order(form: Form) -> str:
    return form.form_id
