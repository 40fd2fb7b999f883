"""Asking a form's current question: its text, hint, heading and buttons by type."""

from __future__ import annotations

from datetime import date
from typing import Any

from guardianes.conversations.form_logic import substitute, visible_choices
from guardianes.conversations.form_reading import TYPED_HINTS
from guardianes.conversations.messages import PromptKind
from guardianes.conversations.state import FormProgress, SpaceCandidate
from guardianes.conversations.turn import Turn
from guardianes.conversations.xlsform import Form, Question, QuestionType


def _default_option(turn: Turn, question: Question) -> list[tuple[str, str]]:
    """The `default` as a button: the proposed answer, taken with one tap."""
    if question.default is None:
        return []
    return [("default", turn.t("xlsform.use_default", value=question.default))]


def initial_pending(
    form: Form, question: Question, answers: dict[str, Any], today: date
) -> list[Any]:
    if question.type is not QuestionType.SELECT_MULTIPLE:
        return []
    chosen = set(answers.get(question.name) or [])
    return [str(i) for i, c in visible_choices(form, question, answers, today) if c.name in chosen]


def ask_question(turn: Turn, form: Form, *, refresh: bool = False) -> None:
    """(Re-)ask the current question, or the space confirmation when that is pending."""
    fs = turn.state.form
    assert isinstance(fs, FormProgress)
    if fs.sub == "space":
        ask_space(turn, fs.candidate)
        return
    question = form.questions[fs.pos]
    text = substitute(form, form.text(question.labels, turn.locale), fs.answers, turn.locale)
    text = text or question.name
    hint = substitute(form, form.text(question.hints, turn.locale), fs.answers, turn.locale)
    if hint:
        text += "\n" + hint
    if question.groups and fs.heading != list(question.groups):
        fs.heading = list(question.groups)
        headings = [form.text(form.group_labels.get(g, {}), turn.locale) for g in question.groups]
        heading = " › ".join(h for h in headings if h)
        if heading:
            text = f"▸ {heading}\n{text}"
    scope = f"{form.form_id}@{form.version}#{fs.pos}"
    extras = {} if question.required else {"skip": turn.t("form.skip")}
    if question.type in {QuestionType.SELECT_ONE, QuestionType.SELECT_MULTIPLE}:
        shown = visible_choices(form, question, fs.answers, turn.ctx.now.date())
        options = [(str(i), form.text(c.labels, turn.locale) or c.name) for i, c in shown]
        scope += ":" + ",".join(c.name for _, c in shown)
        multiple = question.type is QuestionType.SELECT_MULTIPLE
        proposed = next(
            (label for (_, label), (_, c) in zip(options, shown, strict=True)
             if c.name == question.default),
            None,
        )  # fmt: skip
        if proposed is not None and not multiple:
            text += "\n" + turn.t("xlsform.proposed", value=proposed)
        if multiple:
            extras["done"] = turn.t("form.done")
            if not refresh:
                text += "\n" + turn.t("form.multiple_hint")
        turn.ask(
            scope=scope,
            text=text,
            options=options,
            extras=extras,
            multiple=multiple,
            selected=list(fs.pending) if multiple else None,
            refresh=refresh,
        )
    elif question.type is QuestionType.DATE:
        turn.ask(
            scope=scope,
            text=text + "\n" + turn.t("form.date_hint"),
            options=[("today", turn.t("form.today")), ("yday", turn.t("form.yesterday"))],
            extras=extras,
        )
    elif question.type is QuestionType.REPEAT:
        rounds = len(fs.answers.get(question.name) or [])
        label = form.text(question.labels, turn.locale) or question.name
        turn.ask(
            scope=f"{scope}:{rounds}",
            text=turn.t("xlsform.repeat_again", label=label, count=rounds),
            options=[
                ("again", turn.t("xlsform.repeat_yes")),
                ("stop", turn.t("xlsform.repeat_no")),
            ],
        )
    elif question.type is QuestionType.ACKNOWLEDGE:
        turn.ask(scope=scope, text=text, options=[("ok", turn.t("xlsform.ok"))], extras=extras)
    elif question.type in TYPED_HINTS:
        hint_key = TYPED_HINTS[question.type]
        values = {"start": question.parameters.get("start", "0"),
                  "end": question.parameters.get("end", "10")}  # fmt: skip
        if question.type is QuestionType.RANK:
            options = [(str(i), form.text(c.labels, turn.locale) or c.name)
                       for i, c in enumerate(question.choices)]  # fmt: skip
            text += "\n" + "\n".join(f"{i + 1}. {label}" for i, (_, label) in enumerate(options))
        turn.ask(
            scope=scope,
            text=text + "\n" + turn.t(hint_key, **values),
            kind=PromptKind.TEXT,
            options=_default_option(turn, question),
            extras=extras,
        )
    elif question.type is QuestionType.GEOPOINT:
        turn.ask(
            scope=scope,
            text=text + "\n" + turn.t("form.location_hint"),
            kind=PromptKind.LOCATION,
            extras=extras,
        )
    elif question.type is QuestionType.IMAGE:
        extras["done"] = turn.t("form.done")
        turn.ask(
            scope=scope,
            text=text + "\n" + turn.t("form.photo_hint", max=question.max_photos),
            kind=PromptKind.PHOTO,
            extras=extras,
            max_photos=question.max_photos,
        )
    else:
        turn.ask(
            scope=scope,
            text=text,
            kind=PromptKind.TEXT,
            options=_default_option(turn, question),
            extras=extras,
        )


def _space_label(candidate: SpaceCandidate) -> str:
    return f"{candidate.name} ({candidate.code})" if candidate.code else candidate.name


def ask_space(turn: Turn, candidate: SpaceCandidate | None) -> None:
    assert candidate is not None  # set with sub == "space"
    if candidate.inside:
        text = turn.t("form.space_confirm_inside", space=_space_label(candidate))
    else:
        text = turn.t(
            "form.space_confirm_near", space=_space_label(candidate), meters=candidate.distance_m
        )
    turn.ask(
        scope=f"space#{candidate.id}",
        text=text,
        options=[
            ("yes", turn.t("form.space_yes")),
            ("other", turn.t("form.space_other")),
            ("none", turn.t("form.space_none")),
        ],
    )


def again(turn: Turn, form: Form, text: str) -> bool:
    """Say why the reply was not taken and ask the same question again (form not finished)."""
    turn.say(text)
    ask_question(turn, form)
    return False
